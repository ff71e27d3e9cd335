"""The read-only tools on real scripts, tracebacks and upstream run folders, through a real MCP client."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from codemods.analysis.report import ScriptReport
from codemods.diagnosis.models import Diagnosis
from pai_core.results.report import Comparison, RunReport

pytestmark = pytest.mark.anyio

TRACEBACKS = Path(__file__).parent / "data" / "tracebacks"


async def test_analyze_script_reports_the_integration_plan(client, project):
    before = (project / "train_digits.py").read_bytes()
    result = await client.call_tool("pai_analyze_script", {"path": "train_digits.py"})
    assert not result.is_error, result.content
    report = ScriptReport.model_validate(result.structured_content)
    assert Path(report.path).name == "train_digits.py"
    assert report.model.architecture == "cnn"
    assert report.model.recommended_config.module_names_to_perforate == ["Conv2d", "Linear"]
    assert report.validation.direction == "maximize"
    assert report.epoch_loop.kind == "for-range"
    assert report.integration.level == "none"
    assert (project / "train_digits.py").read_bytes() == before  # read-only means read-only


async def test_analyze_script_accepts_absolute_paths_inside_the_root(client, project):
    result = await client.call_tool("pai_analyze_script", {"path": str(project / "train_digits.py")})
    assert not result.is_error, result.content


async def test_diagnose_ranks_the_cause_and_points_into_the_script(client):
    text = (TRACEBACKS / "upstream_optimizer_not_rebuilt.log").read_text()
    result = await client.call_tool("pai_diagnose_traceback", {"text": text, "script_path": "train_digits.py"})
    assert not result.is_error, result.content
    diagnosis = Diagnosis.model_validate(result.structured_content)
    assert diagnosis.recognised
    top = diagnosis.findings[0]
    assert top.pattern_id == "optimizer-not-rebuilt"
    assert any(line.line == 73 for line in top.lines)  # the optimizer line of train_digits.py
    assert diagnosis.script and diagnosis.script.endswith("train_digits.py")


async def test_diagnose_without_a_script_recognises_success(client):
    text = (TRACEBACKS / "upstream_capacity_success.log").read_text()
    diagnosis = Diagnosis.model_validate(
        (await client.call_tool("pai_diagnose_traceback", {"text": text})).structured_content)
    assert diagnosis.findings and diagnosis.findings[0].severity == "info"


async def test_analyze_run_returns_report_and_image(client, project):
    result = await client.call_tool("pai_analyze_run", {"folder": "runs/history"})
    assert not result.is_error, result.content
    report = RunReport.model_validate(result.structured_content)
    assert report.summary.written_by == "perforatedai"
    assert report.architectures and report.architectures[0].dendrites == 0
    images = [block for block in result.content if block.type == "image"]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    assert base64.b64decode(images[0].data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.plot_path is None  # delivered inline, no file left behind
    assert "Run 'up_history'" in result.content[0].text
    assert sorted(p.name for p in (project / "runs" / "history").iterdir()) == sorted(
        p.name for p in (Path(__file__).parents[1] / "pai_core/results/fixtures/upstream_runs/history").iterdir())


async def test_analyze_run_can_return_the_plot_as_a_path(client):
    result = await client.call_tool("pai_analyze_run", {"folder": "runs/testing", "plot": "path"})
    report = RunReport.model_validate(result.structured_content)
    assert report.summary.capacity_test
    assert not any(block.type == "image" for block in result.content)
    png = Path(report.plot_path)
    assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"


async def test_analyze_run_holds_the_pasted_log_against_the_folder(client):
    capacity_log = (TRACEBACKS / "upstream_capacity_success.log").read_text()
    result = await client.call_tool("pai_analyze_run", {"folder": "runs/history", "plot": "none",
                                                        "log": capacity_log})
    report = RunReport.model_validate(result.structured_content)
    assert report.finding("PAI584") is not None  # a history run is not that capacity test
    same = RunReport.model_validate((await client.call_tool(
        "pai_analyze_run", {"folder": "runs/testing", "plot": "none", "log": capacity_log})).structured_content)
    assert same.finding("PAI584") is None


async def test_compare_runs(client):
    result = await client.call_tool("pai_compare_runs",
                                    {"folders": ["runs/testing", "runs/history"], "plot": "none"})
    assert not result.is_error, result.content
    comparison = Comparison.model_validate(result.structured_content)
    assert [run.label for run in comparison.runs] == ["testing", "history"]
    assert comparison.verdict
    assert any("capacity test" in warning for warning in comparison.warnings)
