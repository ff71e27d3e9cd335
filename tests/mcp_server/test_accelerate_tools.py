"""An HF Accelerate script through the MCP tools: the analysis states the Accelerator facts, the perforation
rewrite applied through the tool carries PAI013's prepare-again, and the check of the applied rewrite is clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codemods.analysis.report import ScriptReport
from codemods.check import CheckReport

pytestmark = pytest.mark.anyio

SCRIPT = Path(__file__).resolve().parents[1] / "codemods" / "corpus" / "a_nlp_example.py"


async def test_analyze_then_apply_an_accelerate_script(client, project):
    shutil.copyfile(SCRIPT, project / "train_accelerate.py")
    result = await client.call_tool("pai_analyze_script", {"path": "train_accelerate.py"})
    assert not result.is_error, result.content
    report = ScriptReport.model_validate(result.structured_content)
    accelerate = report.parallelism.accelerate
    assert report.parallelism.kind == "accelerate"
    assert accelerate.accelerator == "accelerator" and accelerate.backward_lines == [62]
    assert accelerate.prepares[0].arguments[:2] == ["model", "optimizer"]
    applied = await client.call_tool("pai_apply_perforation", {"path": "train_accelerate.py"})
    assert not applied.is_error, applied.content
    text = (project / "train_accelerate.py").read_text()
    assert "accelerator.prepare(model, optimizer, lr_scheduler)" in text
    checked = await client.call_tool("pai_check_integration", {"path": "train_accelerate.py"})
    assert CheckReport.model_validate(checked.structured_content).ok
