"""Pastes as they really arrive (colours, CRLF, torchrun prefixes, chained and huge logs), the script facts,
and the `pai diagnose` command line."""

from __future__ import annotations

import functools
import io
import json
import sys
from pathlib import Path

import pytest

from codemods.diagnosis import Diagnosis, diagnose
from mcp_server.cli import run_command

main = functools.partial(run_command, "diagnose")
from codemods.diagnosis.logtext import MAX_CHARS, clean, parse_exceptions
from codemods.diagnosis.shapes import suggest_output_dimensions

LOGS = Path(__file__).parent / "tracebacks"
NOT_REBUILT = (LOGS / "upstream_optimizer_not_rebuilt.log").read_text()
EPOCH_LINES = (
    "Adding validation score 91.00000000\nChecking PAI switch with mode n, switch mode DOING_HISTORY, "
    "epoch 5, last improved epoch 3, total epochs 5, n: 10, num_cycles: 0\n"
    "Returning False - History and last improved not hit\n"
)

SCRIPT = """\
import torch
from torch import nn
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 8, batch_first=True)
        self.fc = nn.Linear(8, 2)


GPA.pc.set_output_dimensions([-1, -1, 0])
GPA.pc.set_testing_dendrite_capacity(False)
model = UPA.perforate_model(Net(), save_name="run1", maximizing_score=True)
model = nn.DataParallel(model)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
GPA.pai_tracker.set_optimizer_instance(optimizer)
for epoch in range(100):
    score = 0.5
    model, restructured, done = GPA.pai_tracker.add_validation_score(score, model)
    if done:
        break
"""


def test_clean_strips_colours_crlf_rank_prefixes_and_pytest_gutters() -> None:
    raw = '\x1b[31m[rank0]: Traceback (most recent call last):\x1b[0m\r\n[rank0]:   File "t.py", line 3, in <module>\r\nE   ValueError: boom\r\n'
    text, truncated = clean(raw)
    assert (
        text == 'Traceback (most recent call last):\n  File "t.py", line 3, in <module>\nValueError: boom\n'
    )
    assert not truncated


def test_frames_and_message_of_a_traceback_are_parsed() -> None:
    [exc] = parse_exceptions(clean(NOT_REBUILT)[0])
    assert exc.type == "AttributeError"
    assert "param_groups" in exc.message
    assert exc.frames[0][:3] == ("/home/ana/proj/train.py", 88, "<module>")
    assert "add_validation_score" in exc.frames[0][3]


def test_chained_exceptions_rank_the_last_first_but_keep_the_others() -> None:
    result = diagnose((LOGS / "upstream_chained_state_dict.log").read_text())
    assert [e.type for e in result.exceptions] == ["KeyError", "RuntimeError"]
    ids = [f.pattern_id for f in result.findings]
    assert ids[0] == "state-dict-key-mismatch"  # from the exception finally raised
    assert "storage-shape-missing" in ids  # from the first exception of the chain


def test_huge_paste_keeps_the_tail_that_holds_the_exception() -> None:
    text = EPOCH_LINES * 40_000 + NOT_REBUILT
    assert len(text) > 20 * MAX_CHARS
    result = diagnose(text)
    assert result.top.pattern_id == "optimizer-not-rebuilt"
    assert any("only its end was read" in note for note in result.notes)


def test_one_enormous_line_is_handled() -> None:
    result = diagnose(
        "x" * 3_000_000 + "\nAttributeError: 'NoneType' object has no attribute 'param_groups'\n"
    )
    assert result.top.pattern_id == "optimizer-not-rebuilt"


def test_bare_exception_line_without_traceback_header() -> None:
    result = diagnose(
        "RuntimeError: Expected all tensors to be on the same device, but found at least two devices, "
        "cuda:0 and cpu!"
    )
    assert result.top.pattern_id == "device-mismatch"


def test_legacy_camel_case_names_are_recognised() -> None:
    text = "AttributeError: 'pbValueTracker' object has no attribute 'normalPassAverageD'"
    assert diagnose(text).top.pattern_id == "multi-gpu-tracker-settings"


def test_notebook_frames_are_parsed() -> None:
    text = (
        "Traceback (most recent call last):\n  Cell In[7], line 4\n    model(x)\n"
        "  File ~/lib/site-packages/torch/nn/modules/module.py:1775, in Module._wrapped_call_impl(self)\n"
        "AttributeError: 'tuple' object has no attribute 'requires_grad'\n"
    )
    result = diagnose(text)
    assert result.exceptions[-1].frames[0][1] == 4
    assert result.top.pattern_id == "tuple-output-needs-processor"


def test_output_dimension_suggestions_follow_the_layout() -> None:
    assert suggest_output_dimensions([32, 10]) == [-1, 0]
    assert suggest_output_dimensions([32, 7, 64]) == [-1, -1, 0]
    assert suggest_output_dimensions([32, 16, 100], ".conv1") == [-1, 0, -1]
    assert suggest_output_dimensions([8, 16, 5, 5]) == [-1, 0, -1, -1]


def test_script_facts_point_at_lines_and_move_confidence(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    lines = SCRIPT.splitlines()
    validation_line = next(n for n, t in enumerate(lines, 1) if "add_validation_score" in t)
    parallel_line = next(n for n, t in enumerate(lines, 1) if "DataParallel(" in t)
    result = diagnose(
        "TypeError: add_validation_score got a DataParallel wrapper; pass the bare model instead: "
        "`model.module`.",
        script=script,
    )
    top = result.top
    assert top.pattern_id == "dataparallel-passed-to-tracker"
    assert {validation_line, parallel_line} <= {line.line for line in top.lines}
    assert top.evidence  # the script passes the wrapper: confirmed by the facts
    without = diagnose(
        "TypeError: add_validation_score got a DataParallel wrapper; pass the bare model instead: "
        "`model.module`."
    )
    assert top.confidence > without.top.confidence
    assert f"line {validation_line}" in top.fix


def test_tuple_module_class_comes_from_the_script(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    text = (
        'Traceback (most recent call last):\n  File "train.py", line 20, in forward\n    out, _ = self.rnn(x)\n'
        "AttributeError: 'tuple' object has no attribute 'requires_grad'\n"
    )
    result = diagnose(text, script=script)
    assert "['LSTM']" in result.top.fix and "'.rnn'" in result.top.fix


def test_capacity_success_is_ruled_down_when_the_script_already_turned_it_off(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    log = (LOGS / "upstream_capacity_success.log").read_text()
    assert diagnose(log, script=script).top.confidence < diagnose(log).top.confidence


def test_unreadable_script_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the script"):
        diagnose("boom", script=tmp_path / "missing.py")


def test_cli_text_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = LOGS / "upstream_optimizer_not_rebuilt.log"
    assert main([str(log)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Diagnosis: optimizer not rebuilt") and "Fix:" in out
    assert main(["--json", str(log)]) == 0
    parsed = Diagnosis.model_validate(json.loads(capsys.readouterr().out))
    assert parsed.top is not None and parsed.top.pattern_id == "optimizer-not-rebuilt"
    assert main([str(LOGS / "unrelated_dataset_missing.log")]) == 1
    assert "Not recognised" in capsys.readouterr().out
    assert main([str(tmp_path / "nope.log")]) == 2
    assert "not a file" in capsys.readouterr().err
    assert main(["--script", str(tmp_path / "nope.py"), str(log)]) == 2


def test_cli_reads_stdin_and_is_reachable_from_pai(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mcp_server.cli import main as pai

    monkeypatch.setattr(sys, "stdin", io.StringIO(NOT_REBUILT))
    assert pai(["diagnose", "-"]) == 0
    assert "optimizer-not-rebuilt" in capsys.readouterr().out


def test_known_pai_core_error_class_with_new_wording_is_still_recognised() -> None:
    text = (
        'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\n'
        "pai_core.errors.DendriteError: a wording this catalogue has never seen\n"
    )
    result = diagnose(text)
    assert result.top.pattern_id == "module-never-initialised"
    assert (
        result.top.confidence
        < diagnose("DendriteError: module '.fc' never received a gradient").top.confidence
    )


TRACKER_MISSING = (
    'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\n'
    "pai_core.errors.TrackerNotReadyError: No tracker exists yet: call UPA.perforate_model(model, ...) first\n"
)


def test_a_call_only_mentioned_in_text_is_not_taken_as_made(tmp_path: Path) -> None:
    # The facts come from the analysis' resolved calls: a docstring or comment naming perforate_model is no call.
    script = tmp_path / "train.py"
    script.write_text(
        '"""Perforated later with `model = UPA.perforate_model(model)`."""\n'
        "import torch\nfrom torch import nn\nfrom pai_core import globals_perforatedai as GPA\n"
        "from pai_core import utils_perforatedai as UPA\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 2)\n\n\n"
        "model = Net()  # then UPA.perforate_model(model, save_name='x')\n"
        "GPA.pai_tracker.set_optimizer(torch.optim.Adam)\n"
    )
    top = diagnose(TRACKER_MISSING, script=script).top
    assert top.pattern_id == "perforate-model-never-called"
    assert "(line 13: `model = Net()" in top.fix and 13 in [line.line for line in top.lines]


def test_the_main_guard_is_not_a_flag_around_set_optimizer(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import torch\nfrom torch import nn\nfrom pai_core import globals_perforatedai as GPA\n"
        "from pai_core import utils_perforatedai as UPA\n\n"
        'if __name__ == "__main__":\n'
        "    model = UPA.perforate_model(nn.Linear(4, 2), save_name='x')\n"
        "    GPA.pai_tracker.set_optimizer(torch.optim.Adam)\n"
        "    optimizer = GPA.pai_tracker.setup_optimizer(model, {'params': model.parameters(), 'lr': 0.1})\n"
    )
    text = "TypeError: 'NoneType' object is not callable\n  in setup_optimizer\n"
    ids = [f.pattern_id for f in diagnose(text, script=script).findings]
    assert "set-optimizer-under-a-flag" not in ids and ids[0] == "set-optimizer-missing"


def test_a_script_cause_that_does_not_explain_the_crash_ranks_below_it(tmp_path: Path) -> None:
    # The script never calls add_validation_score, but the paste is a shape crash: the crash comes first.
    script = tmp_path / "train.py"
    script.write_text(
        "import torch\nfrom torch import nn\nfrom pai_core import globals_perforatedai as GPA\n"
        "from pai_core import utils_perforatedai as UPA\n\n"
        "model = UPA.perforate_model(nn.Linear(4, 2), save_name='x')\n"
        "GPA.pai_tracker.set_optimizer(torch.optim.Adam)\n"
        "optimizer = GPA.pai_tracker.setup_optimizer(model, {'params': model.parameters(), 'lr': 0.1})\n"
    )
    text = ("pai_core.errors.OutputDimensionsError: Perforated module '.fc' (Linear) returned a tensor of shape "
            "[8, 5, 2] (rank 3), but its output_dimensions [-1, 0] describe rank 2.\n")
    ids = [f.pattern_id for f in diagnose(text, script=script).findings]
    assert ids[0] == "output-dims-rank" and "validation-never-called" in ids[1:]
