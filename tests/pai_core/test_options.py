"""The option schema (pai_core.options) is the one list of options: PAIConfig, GPA.pc and codemods read it."""
from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from pai_core.config import InertOptionWarning, PAIConfig, pc
from pai_core.errors import UnknownOptionError
from pai_core.options import ALIASES, INERT_OPTIONS, LEGACY_OPTIONS, OPTIONS, explain_option, list_options

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_defaults():
    pc.reset()
    yield
    pc.reset()


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_every_schema_option_is_settable_through_gpa_pc(name):
    value = getattr(PAIConfig(), name)
    getattr(pc, f"set_{name}")(value)
    assert name in pc.manually_set and getattr(pc.config, name) == value


def test_every_setter_of_paiconfig_is_in_the_schema():
    setters = {attr.removeprefix("set_") for attr in dir(pc) if attr.startswith("set_")}
    assert setters == set(PAIConfig.model_fields) == set(OPTIONS)
    assert list(PAIConfig.model_fields) == list(OPTIONS)  # same order: the config JSON and references follow it


def test_defaults_and_descriptions_come_from_the_schema():
    config = PAIConfig()
    for name, option in OPTIONS.items():
        assert PAIConfig.model_fields[name].description == option.description
        if option.runtime is None:
            assert getattr(config, name) == option.default, name
    config.module_names_to_perforate.append("LIFTorch")  # a list default is copied, never shared
    assert "LIFTorch" not in OPTIONS["module_names_to_perforate"].default


@pytest.mark.parametrize("name", sorted(INERT_OPTIONS))
def test_inert_options_are_stored_not_fields(name):
    assert name not in PAIConfig.model_fields
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InertOptionWarning)
        getattr(pc, f"set_{name}")(INERT_OPTIONS[name].default)
    assert pc.config.inert_options[name] == INERT_OPTIONS[name].default


def test_every_older_name_leads_to_a_schema_option():
    assert set(ALIASES.values()) <= set(OPTIONS)
    assert set(LEGACY_OPTIONS.values()) <= set(OPTIONS) | set(INERT_OPTIONS)
    assert {o.upstream for o in OPTIONS.values()} >= {"perforatedai 3.2.9", "pai (not in upstream)"}


@pytest.mark.parametrize(("text", "name"), [("nEpochsToSwitch", "n_epochs_to_switch"),
                                            ("GPA.pc.setMaxDendrites(3)", "max_dendrites"),
                                            ("set_modules_to_convert", "modules_to_perforate"),
                                            ("unwrapped_params_action", "unwrapped_params_action"),
                                            ("pEpochsToSwitch", "p_epochs_to_switch")])
def test_explain_option_reads_the_ways_users_write_it(text, name):
    assert explain_option(text).name == name


def test_explain_unknown_option_names_the_closest():
    with pytest.raises(UnknownOptionError, match="max_dendrites"):
        explain_option("max_dendrite")


def test_list_options_filters_by_name_and_description():
    assert {o.name for o in list_options("SWITCH")} >= {"switch_mode", "n_epochs_to_switch"}
    assert len(list_options()) == len(OPTIONS)


def test_the_schema_and_the_codemods_reading_it_never_import_torch():
    code = ("import sys\nimport pai_core.options\nfrom codemods.diagnosis.options import OPTIONS, correction\n"
            "assert 'unwrapped_params_action' in OPTIONS\n"
            "assert 'torch' not in sys.modules, 'the option schema imported torch'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
