"""The whole assistant journey on a real script: apply through MCP, the user (here: the test) runs the
capacity test, then the pasted output is diagnosed and the run folder analyzed through MCP."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from codemods.diagnosis.models import Diagnosis
from pai_core.results.report import RunReport

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.mark.parametrize("client", ["auto"], indirect=True)
async def test_perforate_run_diagnose_analyze(client, project):
    applied = await client.call_tool("pai_apply_perforation", {"path": "train_digits.py"})
    assert not applied.is_error, applied.content

    # The user runs the capacity test; the server never does.
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "train_digits.py", "--epochs", "3"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    output = run.stdout + run.stderr
    assert "Successfully added 3 dendrites" in output

    diagnosis = Diagnosis.model_validate((await client.call_tool(
        "pai_diagnose_traceback", {"text": output, "script_path": "train_digits.py"})).structured_content)
    assert diagnosis.findings[0].severity == "info"

    result = await client.call_tool("pai_analyze_run", {"folder": "train_digits_dendritic", "plot": "none"})
    assert not result.is_error, result.content
    report = RunReport.model_validate(result.structured_content)
    assert report.summary.written_by == "pai_core"
    assert report.summary.capacity_test and report.summary.dendrites_added == 3

    off = await client.call_tool("pai_set_capacity_test", {"path": "train_digits.py", "enabled": False})
    assert not off.is_error and "set_testing_dendrite_capacity(False)" in (project / "train_digits.py").read_text()
