"""The library API and the `pai perforate` / `pai check` commands on real files."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.analysis import ScriptError
from mcp_server.cli import run_command

main = functools.partial(run_command, "perforate")
check_main = functools.partial(run_command, "check")
from codemods.perforate import perforate_file, perforate_source, set_capacity_test
from mcp_server import cli as pai_cli

FIXTURES = Path(__file__).parent / "fixtures"
MNIST = (FIXTURES / "mnist_cnn.in.py").read_text()


def test_result_reports_rules_findings_and_a_unified_diff():
    result = perforate_source(MNIST, filename="mnist_cnn.py")
    assert result.changed and result.applied == ["PAI001", "PAI002", "PAI003", "PAI004", "PAI005"]
    assert result.diff.startswith("--- a/mnist_cnn.py\n+++ b/mnist_cnn.py\n")
    assert any(f.code == "PAI005" and f.line == 49 and "returns" in f.message for f in result.warnings)
    compile(result.new_source, "x", "exec")


def test_select_runs_only_the_chosen_rules_and_rejects_unknown_codes():
    result = perforate_source(MNIST, filename="m.py", select="PAI001,PAI003")
    assert result.applied == ["PAI001", "PAI003"]
    assert "UPA.perforate_model(model" in result.new_source and "setup_optimizer" not in result.new_source
    with pytest.raises(ValueError, match="unknown rule code"):
        perforate_source(MNIST, select="PAI999")


def test_save_name_option_is_sanitized():
    result = perforate_source(MNIST, filename="m.py", save_name="my run/1")
    assert 'save_name="my_run_1"' in result.new_source  # '/' and spaces are not allowed by the library


def test_write_is_atomic_keeps_a_backup_and_a_second_run_is_a_noop(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(MNIST)
    result = perforate_file(script, write=True)
    assert result.written and result.backup == f"{script}.orig"
    assert Path(result.backup).read_text() == MNIST
    assert script.read_text() == result.new_source
    assert not list(tmp_path.glob(".train.py.*.tmp"))
    again = perforate_file(script, write=True)
    assert not again.changed and not again.written
    assert Path(result.backup).read_text() == MNIST


def test_capacity_toggle_on_text_and_file(tmp_path):
    integrated = perforate_source(MNIST, filename="m.py").new_source
    off = set_capacity_test(integrated, False)
    assert off.applied == ["PAI007"] and "set_testing_dendrite_capacity(False)" in off.new_source
    assert not set_capacity_test(off.new_source, False).changed
    script = tmp_path / "t.py"
    script.write_text(off.new_source)
    on = set_capacity_test(script, True, write=True, backup=False)
    assert on.written and "set_testing_dendrite_capacity(True)" in script.read_text()
    assert not (tmp_path / "t.py.orig").exists()
    not_integrated = set_capacity_test(MNIST, False)
    assert not not_integrated.changed and any(f.code == "PAI007" and f.severity == "error" for f in not_integrated.findings)


def test_parse_errors_are_clear_errors():
    with pytest.raises(ScriptError, match="syntax|parse"):
        perforate_source("def broken(:\n    pass\n")


def test_cli_diff_exit_status_write_json_and_per_file_errors(tmp_path, capsys):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(MNIST)
    bad.write_text("def broken(:\n")
    assert main([str(good)]) == 1  # changes pending
    out = capsys.readouterr()
    assert out.out.startswith("--- a/") and "PAI005 warning" in out.err
    assert main([str(good), str(bad)]) == 2  # one file could not be processed, the other still reported
    err = capsys.readouterr().err
    assert f"pai perforate: error: {bad}:1: cannot parse" in err
    assert main([str(good), "--write", "--no-backup"]) == 0
    assert not (tmp_path / "good.py.orig").exists()
    assert main([str(good)]) == 0
    capsys.readouterr()
    assert main([str(good), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload[0]["changed"] is False
    assert main([str(good), "--capacity-test", "off", "--write"]) == 0
    assert "set_testing_dendrite_capacity(False)" in good.read_text()
    assert check_main([str(good)]) == 0
    assert check_main([str(FIXTURES / "mnist_cnn.in.py")]) == 1
    assert "PAI106 error" in capsys.readouterr().out


def test_front_door_lists_both_commands_and_runs_them(tmp_path, capsys):
    assert {"perforate", "check"} <= set(pai_cli.COMMANDS)
    script = tmp_path / "s.py"
    script.write_text(MNIST)
    assert pai_cli.main(["perforate", str(script), "--write"]) == 0
    assert pai_cli.main(["check", str(script)]) == 0


def test_libcst_tool_runs_a_rule_from_the_yaml_modules(tmp_path):
    script = tmp_path / "t.py"
    script.write_text((FIXTURES / "transformer_classifier.in.py").read_text())
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(check=False, args=[sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "--hide-progress",
                           "perforate_model.PerforateModel", str(script)], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert 'model = UPA.perforate_model(model, save_name="t_dendritic", maximizing_score=True)' in script.read_text()


def test_the_readme_libcst_command_works_outside_the_checkout(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    command = re.search(r"`(python -m libcst\.tool codemod [^`]+) train\.py`", readme).group(1).split()
    script = tmp_path / "train.py"
    script.write_text(MNIST)
    done = subprocess.run([sys.executable, *command[1:], "--hide-progress", str(script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "from pai_core import globals_perforatedai as GPA" in script.read_text()


def test_rewriting_never_imports_torch():
    code = ("import sys\nfrom codemods.perforate import perforate_source\nfrom codemods.check import check_integration\n"
            f"new = perforate_source({MNIST!r}).new_source\ncheck_integration(new)\n"
            "assert 'torch' not in sys.modules, 'codemods imported torch'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
