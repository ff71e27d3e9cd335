"""The assistant's journey as the pai-setup skill prescribes it, through a real MCP client talking to `pai-mcp`
over stdio: analyze, preview, apply, check, capacity test on; then the user (here: the test) runs the
written script on synthetic data with pai_core, and it must add 3 dendrites with no hand edit.

One script per shape of issue 22: a ResNet whose stem is `self.conv`/`self.bn`, a GCN package with its own
GraphConvolution, an LSTM language model whose recurrent class is a command-line choice, a script that
trains and then tests once, and an optimizer that exists only under a flag (run both ways).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from codemods.analysis.report import ScriptReport
from codemods.check import CheckReport
from codemods.perforate import PerforateResult

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "data" / "assistant"


def _env() -> dict[str, str]:
    """What a host gives the server and the user's shell: this checkout first on the path."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "MPLBACKEND": "Agg",
            "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def _expect_resnet(report: ScriptReport) -> None:
    assert report.model.recommended_config.module_ids_to_track == [".conv", ".bn"]


def _expect_gcn(report: ScriptReport) -> None:
    config = report.model.recommended_config
    assert config.module_names_to_perforate[0] == "GraphConvolution" and config.output_dimensions == [-1, 0]


def _expect_lstm(report: ScriptReport) -> None:
    assert {p.module_name for p in report.model.recommended_config.processors} == {"LSTM", "GRU"}


def _expect_test_once(report: ScriptReport) -> None:
    assert report.epoch_loop.validates_after and report.validation.held_out == "test_loader"


def _expect_flag(report: ScriptReport) -> None:
    assert report.optimizers[0].condition == "args.use_optimizer"


JOURNEYS = [
    pytest.param("train_then_test", [], _expect_test_once, id="train_then_test"),
    pytest.param("resnet_stem", [], _expect_resnet, id="resnet_stem", marks=pytest.mark.slow),
    pytest.param("gcn_package", [], _expect_gcn, id="gcn_package", marks=pytest.mark.slow),
    pytest.param("lstm_lm", ["--model", "GRU"], _expect_lstm, id="lstm_lm", marks=pytest.mark.slow),
    pytest.param("flag_optimizer", [], _expect_flag, id="flag_optimizer_by_hand", marks=pytest.mark.slow),
    pytest.param("flag_optimizer", ["--use-optimizer"], _expect_flag, id="flag_optimizer_on",
                 marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("name", "argv", "expect"), JOURNEYS)
async def test_the_setup_skill_sequence_reaches_three_dendrites_without_a_hand_edit(name, argv, expect, tmp_path):
    project = tmp_path / name
    shutil.copytree(SCRIPTS / name, project)
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server", "--root", str(project)],
                                   cwd=str(project), env=_env())
    async with Client(params) as client:
        async def call(tool: str, **arguments):
            result = await client.call_tool(tool, {"path": "train.py", **arguments})
            assert not result.is_error, result.content
            return result.structured_content

        report = ScriptReport.model_validate(await call("pai_analyze_script"))
        expect(report)
        preview = PerforateResult.model_validate(await call("pai_preview_perforation"))
        assert not preview.refused and preview.diff, preview.findings
        applied = PerforateResult.model_validate(await call("pai_apply_perforation"))
        assert applied.written and applied.new_source == preview.new_source
        check = CheckReport.model_validate(await call("pai_check_integration"))
        assert check.integrated and not check.errors, check.findings
        on = PerforateResult.model_validate(await call("pai_set_capacity_test", enabled=True))
        assert not on.changed and any("already on" in f.message for f in on.findings)

        # The user runs the capacity test; the server never runs the script.
        run = subprocess.run([sys.executable, "train.py", *argv], cwd=project, env=_env(), capture_output=True,
                             text=True, timeout=900)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Successfully added 3 dendrites" in run.stdout + run.stderr

        off = PerforateResult.model_validate(await call("pai_set_capacity_test", enabled=False))
        assert off.written and "set_testing_dendrite_capacity(False)" in (project / "train.py").read_text()
