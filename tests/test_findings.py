"""Every producer reports the one finding model (`pai_core.findings.Finding`): a real rewrite, a real check, a
real migration, a real diagnosis of a traceback, a real analysis of an upstream run folder, and the same
findings through a real MCP client over stdio. Same six fields everywhere, one code format, each producer's
codes in its own range."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from codemods.check import check_integration
from codemods.diagnosis import diagnose
from codemods.diagnosis.blocking import CODES as CAUSE_CODES
from codemods.diagnosis.catalogue import PATTERNS
from codemods.migrate import migrate_source
from codemods.perforate import perforate_file, perforate_source
from pai_core.findings import Finding
from pai_core.results import analyze_run

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "codemods" / "fixtures"
UPSTREAM_RUNS = REPO / "tests" / "pai_core" / "results" / "fixtures" / "upstream_runs"
NOT_REBUILT_LOG = REPO / "tests" / "codemods" / "tracebacks" / "upstream_optimizer_not_rebuilt.log"
FIELDS = {"code", "severity", "message", "fix", "file", "line"}
RULES, CHECK, MIGRATE, DIAGNOSIS, RESULTS = (frozenset(range(start, end)) for start, end in (
    (0, 100), (100, 200), (200, 300), (300, 500), (500, 600)))


def assert_one_model(findings, codes: frozenset[int]) -> None:
    """Each finding is a Finding with the six fields, a PAI + 3 digits code in `codes` and a known severity."""
    assert findings
    for finding in findings:
        assert isinstance(finding, Finding), type(finding)
        data = finding.model_dump()
        assert FIELDS <= set(data), data
        assert re.fullmatch(r"PAI\d{3}", data["code"]) and int(data["code"][3:]) in codes, data["code"]
        assert data["severity"] in ("error", "warning", "info")


def without_rebuild(path: Path) -> Path:
    """The integrated MNIST script with its optimizer rebuilds after a restructure removed (check PAI108)."""
    source = (FIXTURES / "mnist_cnn.out.py").read_text()
    broken = source.replace("optimizer, scheduler = GPA.pai_tracker.setup_optimizer(", "_unused = (", 2)
    assert broken.count("_unused = (") == 2
    path.write_text(broken)
    return path


def test_a_rewrite_reports_rule_findings_with_the_script_and_its_line():
    result = perforate_source((FIXTURES / "mnist_cnn.in.py").read_text(), filename="mnist_cnn.py")
    assert_one_model(result.findings, RULES)
    warning = next(f for f in result.warnings if f.code == "PAI005")
    assert (warning.file, warning.line, warning.severity) == ("mnist_cnn.py", 49, "warning")


def test_a_refused_rewrite_reports_errors_of_the_rule_that_places_each_step(tmp_path):
    result = perforate_file(without_rebuild(tmp_path / "train.py"))
    assert result.refused
    assert_one_model(result.findings, RULES | CHECK)  # a step's rule, or the check the rewrite would fail
    assert all(f.file == str(tmp_path / "train.py") for f in result.errors)


def test_a_check_reports_check_findings_with_lines(tmp_path):
    script = without_rebuild(tmp_path / "train.py")
    report = check_integration(script)
    assert_one_model(report.findings, CHECK)
    rebuild = next(f for f in report.errors if f.code == "PAI108")
    assert rebuild.file == str(script) and rebuild.line and "add_validation_score" in script.read_text().splitlines()[
        rebuild.line - 1]


def test_a_migration_refusal_reports_migrate_findings():
    result = migrate_source('from pai_core import pb_globals as PBG\nPBG.saveName = "mine"\n', filename="old.py")
    assert result.refused
    assert_one_model(result.findings, MIGRATE)
    assert [(f.severity, f.file, f.line) for f in result.findings] == [("error", "old.py", 2)]


def test_a_diagnosis_reports_pattern_findings_pointing_into_the_script(tmp_path):
    script = without_rebuild(tmp_path / "train.py")
    result = diagnose(NOT_REBUILT_LOG.read_text(), script=script)
    assert_one_model(result.findings, DIAGNOSIS)
    top = result.top
    assert top.pattern_id == "optimizer-not-rebuilt" and top.severity == "error"
    assert top.code == next(p.code for p in PATTERNS if p.id == "optimizer-not-rebuilt")
    assert top.message == next(p.title for p in PATTERNS if p.id == "optimizer-not-rebuilt")
    assert (top.file, top.line) == (str(script), top.lines[0].line)


def test_every_diagnosis_pattern_and_script_cause_has_its_own_code():
    codes = [p.code for p in PATTERNS] + list(CAUSE_CODES.values())
    assert len(codes) == len(set(codes))
    assert all(301 <= int(p.code[3:]) <= 489 for p in PATTERNS)
    assert all(490 <= int(code[3:]) <= 499 for code in CAUSE_CODES.values())


@pytest.mark.parametrize("run", sorted(p.name for p in UPSTREAM_RUNS.iterdir()))
def test_a_run_analysis_reports_run_findings_about_its_folder(run, tmp_path):
    folder = tmp_path / run
    shutil.copytree(UPSTREAM_RUNS / run, folder)
    report = analyze_run(folder, log="Successfully added 3 dendrites\n")
    assert_one_model(report.findings, RESULTS)
    assert {f.file for f in report.findings} == {report.summary.folder}
    assert [r.change for r in report.recommendations] == [f.fix for f in sorted(
        (f for f in report.findings if f.fix), key=lambda f: ["high", "medium", "low"].index(f.confidence))]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _stdio(project: Path) -> StdioServerParameters:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(project)), "PYTHONPATH": str(REPO)}
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_server", "--root", str(project)],
                                 cwd=str(project), env=env)


@pytest.mark.anyio
@pytest.mark.slow  # a server subprocess and its workers: ~10 s on 2 busy cores
async def test_the_mcp_tools_return_the_same_findings_over_stdio(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    script = without_rebuild(project / "train.py")
    shutil.copytree(UPSTREAM_RUNS / "history", project / "history")
    async with Client(_stdio(project)) as client:
        answers = {
            CHECK: await client.call_tool("pai_check_integration", {"path": "train.py"}),
            RULES | CHECK: await client.call_tool("pai_preview_perforation", {"path": "train.py"}),
            DIAGNOSIS: await client.call_tool("pai_diagnose_traceback", {"text": NOT_REBUILT_LOG.read_text(),
                                                                         "script_path": "train.py"}),
            RESULTS: await client.call_tool("pai_analyze_run", {"folder": "history", "plot": "none"}),
        }
    for codes, answer in answers.items():
        assert not answer.is_error, answer.content
        findings = answer.structured_content["findings"]
        assert_one_model([Finding.model_validate(f) for f in findings], codes)
        assert all(FIELDS <= set(f) for f in findings)
    check = answers[CHECK].structured_content["findings"]
    assert {"code": "PAI108", "severity": "error", "file": str(script)}.items() <= next(
        f for f in check if f["code"] == "PAI108").items()


def test_the_model_is_importable_without_torch():
    code = ("import sys\nimport pai_core.findings, pai_core.results.report, codemods.check, codemods.perforate\n"
            "import codemods.diagnosis, codemods.migrate\n"
            "assert 'torch' not in sys.modules, 'the finding model imported torch'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
