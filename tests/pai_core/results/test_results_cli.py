import functools
"""`pai analyze-results` and `pai compare` end to end, plus finding the folder from a training script."""

import json
import shutil
import subprocess
import sys

import pytest
from results_writer import FIXTURES

from pai_core.results import ResultsError
from pai_core.results.compare import compare_runs
from mcp_server.cli import run_command

analyze_main = functools.partial(run_command, "analyze-results")
compare_main = functools.partial(run_command, "compare")
from pai_core.results.locate import run_folder_from_script, save_name_from_script

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_json_output_round_trips(capsys):
    assert analyze_main([str(FIXTURES / "loss"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["switch_epochs"] == [14, 52, 54]
    assert data["summary"]["direction"] == "minimize"
    assert any(r["change"] == "GPA.pc.set_max_dendrites(1)" for r in data["recommendations"])
    assert {f["code"] for f in data["findings"]} >= {
        "PAI516",  # overfitting
        "PAI507",  # max_dendrites reached
        "PAI512",  # premature switch
    }


def test_text_output_and_plot(tmp_path, capsys):
    plot = tmp_path / "out" / "history.png"
    assert analyze_main([str(FIXTURES / "history"), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "baseline 91.33 -> best 92.67" in out
    assert plot.read_bytes().startswith(PNG_MAGIC) and plot.stat().st_size > 10_000


def test_compare_baseline_and_dendritic_run(tmp_path, capsys):
    # the baseline: the history run's files as they were before its first switch
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    for path in FIXTURES.joinpath("history").glob("up_history_beforeSwitch_0*"):
        shutil.copy(path, baseline / path.name.replace("_beforeSwitch_0", ""))
    plot = tmp_path / "cmp.png"
    assert compare_main([str(baseline), str(FIXTURES / "history"), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "history is better than baseline by 1.333 (+1.5%) with 2.03x the parameters" in out
    assert plot.read_bytes().startswith(PNG_MAGIC)
    comparison = compare_runs([baseline, FIXTURES / "history"])
    assert [r.dendrites for r in comparison.runs] == [0, 1]
    assert comparison.runs[1].params_best == 936 and comparison.runs[0].params_best == 460


def test_compare_warns_about_mixed_metrics():
    comparison = compare_runs([FIXTURES / "history", FIXTURES / "loss", FIXTURES / "testing"])
    assert any("direction" in w for w in comparison.warnings)
    assert any("capacity test" in w for w in comparison.warnings)


def test_compare_needs_two_runs(capsys):
    assert compare_main([str(FIXTURES / "loss")]) == 2
    assert "at least two" in capsys.readouterr().err


SCRIPT = """
import argparse
from perforatedai import utils_perforatedai as UPA
NAME = "from_constant"
parser = argparse.ArgumentParser()
parser.add_argument("--save-name", default="from_argparse")
args = parser.parse_args()
model = UPA.perforate_model(Net(), save_name={value}, maximizing_score=True)
"""


@pytest.mark.parametrize(
    "value, expected",
    [
        ('"literal_run"', "literal_run"),
        ("NAME", "from_constant"),
        ("args.save_name", "from_argparse"),
    ],
)
def test_save_name_from_script(tmp_path, value, expected):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(value=value))
    assert save_name_from_script(script)[0] == expected


def test_dynamic_save_name_asks_for_the_folder(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(value='f"run_{args.seed}"'))
    name, how = save_name_from_script(script)
    assert name is None and "computed at run time" in how
    with pytest.raises(ResultsError, match="Pass the run folder"):
        run_folder_from_script(script)


def test_script_resolves_folder_next_to_it(tmp_path, capsys):
    shutil.copytree(FIXTURES / "history", tmp_path / "up_history")
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(value='"up_history"'))
    assert analyze_main([str(script)]) == 0
    assert "up_history" in capsys.readouterr().out


def test_script_without_perforate_call(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text("print('hello')\n")
    assert analyze_main([str(script)]) == 2
    assert "No perforate_model" in capsys.readouterr().err


def test_script_whose_run_has_not_happened(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(value='"not_run_yet"') + "GPA.pai_tracker.add_validation_score(acc, model)\n")
    assert analyze_main([str(script)]) == 2
    assert "Run the training first" in capsys.readouterr().err


def test_front_door_is_torch_free(tmp_path):
    code = (
        "import sys\n"
        "from mcp_server import cli\n"
        f"assert cli.main(['analyze-results', {str(FIXTURES / 'history')!r}, '--json']) == 0\n"
        "assert 'torch' not in sys.modules, 'analyze-results imported torch'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["dendrites_added"] == 1
