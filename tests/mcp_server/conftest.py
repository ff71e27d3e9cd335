"""Fixtures: a throwaway project folder with real scripts and run folders, a server rooted in it, and a real
MCP client talking to that server in both client modes (direct 2026-07-28 dispatch and legacy JSON-RPC)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mcp import Client

from mcp_server.server import create_server

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REPO = HERE.parent.parent
# Real run folders written by upstream perforatedai 3.2.9 (kept by the results tests).
UPSTREAM_RUNS = REPO / "tests" / "pai_core" / "results" / "fixtures" / "upstream_runs"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder holding copies of the test scripts (tools may rewrite them) and run folders."""
    root = tmp_path / "project"
    shutil.copytree(DATA / "scripts", root)
    shutil.copytree(UPSTREAM_RUNS, root / "runs")
    return root


@pytest.fixture
def server(project: Path):
    return create_server(roots=[project])


@pytest.fixture(params=["auto", "legacy"])
async def client(request, server):
    options = {"raise_exceptions": True} if request.param == "auto" else {}
    async with Client(server, mode=request.param, **options) as connected:
        yield connected
