"""The real entry points: `pai-mcp` over stdio as a subprocess, and streamable HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from mcp import Client, StdioServerParameters

from codemods.analysis.report import ScriptReport

pytestmark = pytest.mark.anyio


def _entry_point() -> list[str]:
    """The installed console script when present (what hosts run), else the module."""
    script = shutil.which("pai-mcp")
    return [script] if script else [sys.executable, "-m", "mcp_server"]


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "MPLBACKEND": "Agg"}


async def test_stdio_subprocess_serves_the_tools(project):
    command, *args = _entry_point()
    params = StdioServerParameters(command=command, args=[*args, "--root", str(project)], cwd=str(project),
                                   env=_env())
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"pai_analyze_script", "pai_diagnose_traceback", "pai_analyze_run"} <= names
        result = await client.call_tool("pai_analyze_script", {"path": "train_digits.py"})
        assert not result.is_error, result.content
        assert ScriptReport.model_validate(result.structured_content).model.architecture == "cnn"
        refused = await client.call_tool("pai_analyze_script", {"path": "/etc/passwd"})
        assert refused.is_error and "outside" in refused.content[0].text
        skills = [r.uri for r in (await client.list_resources()).resources if r.uri.startswith("pai://skills/")]
        assert len(skills) >= 6


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("HTTP server did not start listening")


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_streamable_http(project, mode):
    port = _free_port()
    process = subprocess.Popen([*_entry_point(), "--transport", "http", "--port", str(port), "--root", str(project)],
                               cwd=project, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, process)
        async with Client(f"http://127.0.0.1:{port}/mcp", mode=mode) as client:
            assert "pai_analyze_script" in {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("pai_analyze_script", {"path": "train_digits.py"})
            assert not result.is_error, result.content
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout.read() == b""  # nothing but the protocol ever reaches stdout


def test_help_and_no_stdout_on_bad_flags():
    result = subprocess.run([*_entry_point(), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "--transport" in result.stdout and "--root" in result.stdout
    bad = subprocess.run([*_entry_point(), "--transport", "carrier-pigeon"], capture_output=True, text=True,
                         timeout=30)
    assert bad.returncode == 2 and bad.stdout == ""


async def test_project_files_named_like_modules_never_run_in_the_server_or_its_workers(project):
    """`python -m mcp_server` started in the project: a libcst.py / random.py there must not be imported."""
    marker = project / "imported.txt"
    for name in ("libcst", "random", "pickle"):
        (project / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write('{name} ')\n", encoding="utf-8")
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server", "--root", str(project)],
                                   cwd=str(project), env=_env())
    async with Client(params) as client:
        result = await client.call_tool("pai_analyze_script", {"path": "train_digits.py"})
        assert not result.is_error, result.content
        assert not (await client.call_tool("pai_check_integration", {"path": "train_digits.py"})).is_error
    assert not marker.exists(), marker.read_text()
