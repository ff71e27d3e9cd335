"""Every mapped upstream name behaves as the current-API call it maps to: the 2024 module attributes, the inert
Perforated Backpropagation / dashboard options, option reads, and the tracker / UPA members scripts call."""
from __future__ import annotations

import warnings

import pytest
import torch
from test_training_support import DATA, evaluate, perforate, run_config, train_epoch

from pai_core import globals_perforatedai as GPA
from pai_core import pb_globals as PBG
from pai_core import utils_perforatedai as UPA
from pai_core.config import CONSTANTS, InertOptionWarning, pc
from pai_core.errors import UnknownOptionError
from pai_core.options import INERT_OPTIONS, LEGACY_CONSTANT_NAMES, LEGACY_CONSTANTS, LEGACY_OPTIONS
from pai_core.upstream_names import INITIALIZE, LEGACY_MEMBERS, LEGACY_TRACKER_METHODS, current_keywords


@pytest.fixture(autouse=True)
def _fresh_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pc.reset()
    yield
    pc.reset()


def _other(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2
    if isinstance(value, list):
        return list(value)
    return value


SETTABLE = {k: v for k, v in LEGACY_OPTIONS.items() if v not in INERT_OPTIONS and v != "use_cuda"}


@pytest.mark.parametrize("old", sorted(SETTABLE))
def test_a_2024_attribute_is_the_current_option(old):
    new = SETTABLE[old]
    value = _other(getattr(pc.config, new))
    setattr(PBG, old, value)
    assert getattr(pc.config, new) == value and getattr(PBG, old) == getattr(GPA.pc, new)


def test_2024_lists_are_the_live_option_lists_and_constants_match():
    PBG.moduleNamesToConvert.append("LIFTorch")
    assert pc.get_module_names_to_perforate()[-1] == "LIFTorch"
    names = {"doingSwitchEveryTime": "DOING_SWITCH_EVERY_TIME", "doingHistory": "DOING_HISTORY",
             "doingFixedSwitch": "DOING_FIXED_SWITCH", "doingNoSwitch": "DOING_NO_SWITCH"}
    assert all(LEGACY_CONSTANT_NAMES[old] == new and CONSTANTS[new] == LEGACY_CONSTANTS[old] == getattr(PBG, old)
               for old, new in names.items())


def test_a_misspelt_option_still_raises_with_the_suggestion_and_own_values_are_kept():
    with pytest.raises(UnknownOptionError, match="nEpochsToSwitch"):
        PBG.nEpochToSwitch = 4
    with pytest.raises(UnknownOptionError, match="max_dendrites"):
        GPA.pc.set_max_dendrits(2)
    PBG.saveName = "mine"
    assert PBG.saveName == "mine"


@pytest.mark.parametrize("name", sorted(INERT_OPTIONS))
def test_an_inert_upstream_option_is_stored_and_warned_about_once(name, monkeypatch):
    from pai_core import config as config_module

    monkeypatch.setattr(config_module, "_WARNED_INERT", set())
    with pytest.warns(InertOptionWarning, match="no effect in pai: it belongs to the proprietary"):
        getattr(GPA.pc, f"set_{name}")(INERT_OPTIONS[name].default)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(GPA.pc, f"set_{name}")(7)
    assert getattr(GPA.pc, f"get_{name}")() == 7 == pc.config.inert_options[name] == getattr(GPA.pc, name)


def test_camel_case_inert_setters_of_the_issue_are_accepted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        GPA.pc.set_p_epochs_to_switch(3)
        GPA.pc.set_nodeIndex(2)
        GPA.pc.set_dashboard_url("http://localhost")
    assert pc.config.inert_options == {"p_epochs_to_switch": 3, "node_index": 2, "dashboard_url": "http://localhost"}


def test_plain_option_reads_return_the_value():
    GPA.pc.set_max_dendrites(4)
    assert GPA.pc.max_dendrites == 4 == GPA.pc.get_max_dendrites()
    with pytest.raises(AttributeError, match="max_dendrites"):
        GPA.pc.max_dendrits


def _one_epoch(model, tracker, optimizer, **kwargs):
    train_epoch(model, optimizer)
    return tracker.add_validation_score(evaluate(model, DATA.x_val, DATA.y_val)[0], model, **kwargs)


def test_pb_tracker_returns_the_shapes_of_each_2024_release():
    model, tracker = perforate("shapes", run_config(n_epochs_to_switch=50))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    PBG.pbTracker.setOptimizerInstance(optimizer)
    train_epoch(model, optimizer)
    four = PBG.pbTracker.addValidationScore(evaluate(model, DATA.x_val, DATA.y_val)[0], model, "shapes")
    assert len(four) == 4 and four[0] is model and four[1:] == (True, False, False)
    train_epoch(model, optimizer)
    three = PBG.pbTracker.addValidationScore(0.0, model)
    assert len(three) == 3 and three[1:] == (False, False)
    assert PBG.pbTracker.memberVars["numEpochsRun"] == tracker.state.num_epochs_run == 2
    assert PBG.pbTracker.memberVars["mode"] == "n"


def test_convert_network_then_initialize_attaches_the_tracker_to_that_model():
    from pai_core import pb_utils as PBU
    from pai_core.tracker import tracker_for
    from test_training_support import Net

    PBG.inputDimensions = [-1, 0]
    PBG.moduleNamesToConvert = ["Linear"]
    model = PBU.convertNetwork(Net())
    assert tracker_for(model) is None and len(UPA.get_pai_modules(model)) == 2
    PBG.pbTracker.initialize(doingPB=True, saveName="converted", maximizingScore=False, makingGraphs=False)
    assert tracker_for(model).save_name == "converted" and not tracker_for(model).state.maximizing_score


def test_save_graphs_and_the_before_switch_graph(tmp_path):
    model, tracker = perforate("graphs", run_config(n_epochs_to_switch=50))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    tracker.set_optimizer_instance(optimizer)
    _one_epoch(model, tracker, optimizer)
    png = GPA.pai_tracker.save_graphs("_mine")
    assert png == tmp_path / "graphs" / "graphs_mine.png" and png.stat().st_size > 1000
    assert (tmp_path / "graphs" / "graphs_mineScores.csv").exists()
    _one_epoch(model, tracker, optimizer, force_switch=True)
    assert (tmp_path / "graphs" / "graphs_beforeSwitch_0.png").stat().st_size > 1000


def test_save_net_load_net_and_prepare_final_model_match_the_current_calls():
    model, tracker = perforate("nets", run_config(n_epochs_to_switch=50))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    tracker.set_optimizer_instance(optimizer)
    _one_epoch(model, tracker, optimizer, force_switch=True)
    UPA.save_net(model, "nets", "manual")
    again, again_tracker = perforate("nets_again", run_config(n_epochs_to_switch=50), seed=5)
    again = UPA.load_net(again, "nets", "manual")
    assert again.fc1.num_dendrites == 1
    assert evaluate(again, DATA.x_val, DATA.y_val) == evaluate(model, DATA.x_val, DATA.y_val)
    final = UPA.prepare_final_model(again)
    with torch.no_grad():
        assert torch.allclose(final(DATA.x_val), model.eval()(DATA.x_val), atol=1e-5)


# initializePB / convertNetwork (the early-2024 pair) and addValidationScore (two return shapes) have
# behaviour of their own, tested above
OWN_TESTS = {"initializePB", "convertNetwork", "addValidationScore"}
MEMBERS = sorted((module, name) for module, names in LEGACY_MEMBERS.items() for name in names if name not in OWN_TESTS)


@pytest.mark.parametrize(("module", "name"), MEMBERS, ids=[f"{m}.{n}" for m, n in MEMBERS])
def test_every_2024_member_is_the_current_object_the_table_names(module, name):
    """The table `pai migrate` rewrites by is the one the drop-in modules serve: each 2024 member is today's
    object (or, for a call with 2024 keywords, a thin wrapper around it)."""
    import importlib

    renamed = LEGACY_MEMBERS[module][name]
    current = getattr(importlib.import_module(renamed.module if "." in renamed.module else
                                              f"pai_core.{renamed.module}"), renamed.name)
    old = getattr(importlib.import_module(f"pai_core.{module}"), name)
    assert old is current or getattr(old, "__wrapped__", None) is current


def test_2024_keywords_and_defaults_become_todays():
    assert current_keywords(INITIALIZE, ("net", False), {"saveName": "x"}) == {
        "model": "net", "doing_pai": False, "save_name": "x", "maximizing_score": True}
    assert current_keywords(INITIALIZE, ("net",), {}) == {"model": "net", "save_name": "PB", "maximizing_score": True}
    with pytest.raises(TypeError, match="doingPb"):
        current_keywords(INITIALIZE, ("net",), {"doingPb": True})


@pytest.mark.parametrize("old", sorted(set(LEGACY_TRACKER_METHODS) - OWN_TESTS))
def test_every_2024_tracker_member_is_the_current_one(old):
    model, tracker = perforate("members", run_config(n_epochs_to_switch=50))
    new = LEGACY_TRACKER_METHODS[old].name
    if old == "memberVars":
        assert {k: v for k, v in PBG.pbTracker.memberVars.items() if k in tracker.member_vars} == dict(
            tracker.member_vars)
    else:
        assert getattr(PBG.pbTracker, old) == getattr(tracker, new) == getattr(GPA.pai_tracker, new)
