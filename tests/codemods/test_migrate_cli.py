"""`pai migrate` from the command line and under libcst's own tool: a diff by default, `--write` atomic with a
backup, all or nothing with the exit statuses of `pai perforate`, and no torch import on the way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcp_server.cli.exit_status import FINDINGS, OK, REFUSED

REPO = Path(__file__).resolve().parents[2]
OLD = (REPO / "tests" / "pai_core" / "upstream_scripts" / "api2024" / "save_and_resume.py").read_text()
UNMAPPABLE = 'from perforatedai import pb_globals as PBG\n\nPBG.nEpochsToSwitch = 4\nPBG.metric = "eval_loss"\n'
ENV = dict(os.environ, PYTHONPATH=str(REPO))


def pai(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mcp_server.cli", "migrate", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=120, check=False)


def test_diff_then_write_then_nothing_to_do(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(OLD)
    shown = pai("train.py", cwd=tmp_path)
    assert shown.returncode == FINDINGS and script.read_text() == OLD
    assert shown.stdout.startswith("--- a/train.py") and "+from perforatedai import globals_perforatedai as GPA" in shown.stdout
    written = pai("--write", "train.py", cwd=tmp_path)
    assert written.returncode == OK, written.stderr
    assert "migrated with PAI201" in written.stderr and (tmp_path / "train.py.orig").read_text() == OLD
    assert "UPA.load_system(model, \"resume\", \"latest\", True)" in script.read_text()
    compile(script.read_text(), "train.py", "exec")
    again = pai("--write", "train.py", cwd=tmp_path)
    assert again.returncode == OK and "nothing to migrate" in again.stderr and again.stdout == ""
    assert not (tmp_path / "train.py.orig.1").exists()


def test_an_unmappable_name_is_refused_and_the_file_left_alone(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(UNMAPPABLE)
    refused = pai("--write", "train.py", cwd=tmp_path)
    assert refused.returncode == REFUSED and script.read_text() == UNMAPPABLE
    assert not list(tmp_path.glob("*.orig*"))
    assert "train.py:4: PAI200 error: `PBG.metric`" in refused.stderr and "refused, left unchanged" in refused.stderr
    as_json = json.loads(pai("--json", "train.py", cwd=tmp_path).stdout)
    assert as_json[0]["refused"] and as_json[0]["findings"][0]["line"] == 4


def test_libcst_tool_runs_the_whole_migration_and_each_rule(tmp_path):
    good, bad, one = tmp_path / "good.py", tmp_path / "bad.py", tmp_path / "one.py"
    good.write_text(OLD)
    bad.write_text(UNMAPPABLE)
    one.write_text(OLD)
    tool = [sys.executable, "-m", "libcst.tool", "codemod", "-x", "--no-format", "--hide-progress"]
    done = subprocess.run([*tool, "codemods.migrate.MigrateToCurrentAPI", "good.py", "bad.py"], cwd=tmp_path,
                          env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "Failed to codemod 1 files" in done.stderr and "PBG.metric" in done.stderr
    assert "pb_utils" not in good.read_text() and bad.read_text() == UNMAPPABLE
    single = subprocess.run([*tool, "codemods.migrate.rules.perforate_calls.MigratePerforateCalls", "one.py"],
                            cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert single.returncode == 0, single.stderr
    text = one.read_text()
    assert "UPA.perforate_model(make(), save_name=\"resume\", maximizing_score=False)" in text
    assert "PBG.pbTracker.setOptimizer" in text  # PAI203's family, left for that rule


def test_migrating_never_imports_torch():
    code = ("import sys\nfrom codemods.migrate import migrate_source\n"
            f"assert migrate_source({OLD!r}).changed\nassert 'torch' not in sys.modules, 'codemods imported torch'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=ENV, timeout=120)
