"""Upstream-style console logs (hand-written from the messages quoted in our reference notes) and the
diagnosis each must get: top pattern and the key part of its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.diagnosis import diagnose

LOGS = Path(__file__).parent / "tracebacks"

# file -> (top pattern id, fragments the fix must contain)
EXPECTED = {
    "upstream_output_dims_exit.log": (
        "output-dims-rank",
        ["[-1, 0]", "model.encoder.proj.set_this_output_dimensions"],
    ),
    "upstream_params_not_wrapped_pdb.log": ("params-not-wrapped", ["set_unwrapped_modules_confirmed(True)"]),
    "upstream_not_wrapped_bdbquit.log": ("params-not-wrapped", ["append_parameter_ids_to_track"]),
    "upstream_capacity_success.log": ("capacity-test-succeeded", ["set_testing_dendrite_capacity(False)"]),
    "upstream_unknown_setter.log": ("unknown-setter-ignored", ["set_modules_to_perforate"]),
    "upstream_optimizer_not_rebuilt.log": ("optimizer-not-rebuilt", ["if restructured:", "setup_optimizer"]),
    "upstream_dataparallel.log": ("dataparallel-passed-to-tracker", [".module"]),
    "upstream_tuple_output.log": ("tuple-output-needs-processor", ["MultiOutputProcessor", "'.rnn'"]),
    "upstream_list_tracker.log": ("tracker-never-initialised", ["perforate_model"]),
    "upstream_ddp_rank_ansi.log": ("ddp-unused-parameters", ["find_unused_parameters=True"]),
    "upstream_safetensors_shared.log": (
        "safetensors-shared-tensors",
        ["set_weight_tying_experimental(True)"],
    ),
    "upstream_device_mismatch_crlf.log": ("device-mismatch", ["model.to(device)"]),
    "upstream_chained_state_dict.log": ("state-dict-key-mismatch", ["load_system"]),
    "upstream_legacy_pbvaluetracker.log": ("module-never-initialised", ["append_module_ids_to_track"]),
    "upstream_lr_lock.log": ("lr-search-lock", ["ReduceLROnPlateau"]),
    "upstream_api_drift.log": ("api-version-drift", ["UPA.perforate_model"]),
    "upstream_never_switched.log": ("dendrites-never-added", ["while True"]),
    "upstream_training_complete.log": ("training-complete-normal", ["best_model"]),
    "upstream_configuration_not_confirmed.log": (
        "configuration-not-confirmed",
        ["set_configuration_confirmed(True)"],
    ),
    "upstream_save_name_slash.log": ("save-name-path", ["save_name="]),
    "upstream_amp_no_inf_checks.log": ("amp-scaler-no-inf-checks", ["GradScaler"]),
}


def _read(name: str) -> str:
    return (LOGS / name).read_bytes().decode("utf-8")  # keep CR/LF and escape codes exactly as pasted


def test_every_log_file_has_an_expectation() -> None:
    files = {p.name for p in LOGS.glob("*.log")}
    assert files == set(EXPECTED) | {"unrelated_dataset_missing.log"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_upstream_log_gets_the_right_diagnosis(name: str) -> None:
    pattern_id, fragments = EXPECTED[name]
    result = diagnose(_read(name))
    assert result.recognised
    assert result.top.pattern_id == pattern_id, [(f.pattern_id, f.confidence) for f in result.findings]
    for fragment in fragments:
        assert fragment in result.top.fix, (fragment, result.top.fix)
    assert result.top.excerpt and result.top.excerpt in result.to_text()


def test_success_message_is_reported_as_not_an_error() -> None:
    result = diagnose(_read("upstream_capacity_success.log"))
    assert result.top.severity == "info"
    assert "Not an error" in result.top.cause


def test_pdb_prompt_is_recognised_but_ranked_below_the_message_before_it() -> None:
    ids = [f.pattern_id for f in diagnose(_read("upstream_dataparallel.log")).findings]
    assert ids.index("dataparallel-passed-to-tracker") < ids.index("pdb-prompt")


def test_unrelated_failure_is_not_dressed_up_as_a_diagnosis() -> None:
    result = diagnose(_read("unrelated_dataset_missing.log"))
    assert not result.recognised
    assert result.findings == []
    assert result.exceptions[-1].type == "FileNotFoundError"
    text = result.to_text()
    assert "Not recognised" in text and "perforate_model" in text  # the generic integration checklist
    assert len(result.checklist) >= 5
