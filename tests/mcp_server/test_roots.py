"""`--root` is a ceiling: roots a client declares can only narrow it (symlinks resolved on both sides)."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import ListRootsResult, Root

from codemods.analysis.report import ScriptReport
from mcp_server.server import create_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def layout(tmp_path: Path, project: Path) -> dict[str, Path]:
    """tmp/ceiling/{app,lib} under the server's --root, tmp/outside beside it, each with a script."""
    paths = {"ceiling": tmp_path / "ceiling", "outside": tmp_path / "outside"}
    paths["app"], paths["lib"] = paths["ceiling"] / "app", paths["ceiling"] / "lib"
    for folder in ("app", "lib", "outside"):
        paths[folder].mkdir(parents=True)
        shutil.copy(project / "train_digits.py", paths[folder] / "train.py")
    return paths


async def _connect(ceiling: Path, *uris: str):
    async def roots(_context) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=uri) for uri in uris])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the roots capability is deprecated in the 2026-07-28 protocol
        return Client(create_server(roots=[ceiling]), mode="legacy", list_roots_callback=roots)


async def _analyze(client, path: Path | str):
    return await client.call_tool("pai_analyze_script", {"path": str(path)})


async def test_a_client_root_inside_the_ceiling_narrows_it(layout):
    async with await _connect(layout["ceiling"], layout["app"].as_uri()) as client:
        allowed = await _analyze(client, "train.py")  # relative paths start at the client's root
        assert not allowed.is_error, allowed.content
        assert Path(ScriptReport.model_validate(allowed.structured_content).path).parent == layout["app"]
        sibling = await _analyze(client, layout["lib"] / "train.py")
        assert sibling.is_error and str(layout["app"]) in sibling.content[0].text


async def test_a_client_declaring_the_whole_disk_gets_the_ceiling(layout):
    async with await _connect(layout["ceiling"], "file:///") as client:
        inside = await _analyze(client, layout["lib"] / "train.py")
        assert not inside.is_error, inside.content
        for path in (layout["outside"] / "train.py", "/etc/passwd", "../outside/train.py"):
            refused = await _analyze(client, path)
            assert refused.is_error and "outside the folders" in refused.content[0].text
            assert str(layout["ceiling"]) in refused.content[0].text


async def test_client_roots_outside_the_ceiling_are_dropped(layout):
    async with await _connect(layout["ceiling"], layout["outside"].as_uri(), layout["app"].as_uri()) as client:
        refused = await _analyze(client, layout["outside"] / "train.py")
        assert refused.is_error and "outside the folders" in refused.content[0].text
        assert not (await _analyze(client, layout["app"] / "train.py")).is_error
    async with await _connect(layout["ceiling"], layout["outside"].as_uri()) as client:
        refused = await _analyze(client, "train.py")
        text = refused.content[0].text
        assert refused.is_error and "None of the client's roots" in text and str(layout["ceiling"]) in text


async def test_symlinks_are_resolved_on_both_sides(layout, tmp_path):
    into = tmp_path / "link_to_app"
    os.symlink(layout["app"], into)  # a client root that is a link into the ceiling: kept, as its target
    out = layout["ceiling"] / "link_to_outside"
    os.symlink(layout["outside"], out)  # a client root inside the ceiling by name, outside by target: dropped
    async with await _connect(layout["ceiling"], into.as_uri(), out.as_uri()) as client:
        assert not (await _analyze(client, layout["app"] / "train.py")).is_error
        refused = await _analyze(client, out / "train.py")
        assert refused.is_error and "outside the folders" in refused.content[0].text
    linked_ceiling = tmp_path / "link_to_ceiling"
    os.symlink(layout["ceiling"], linked_ceiling)  # --root given as a link: the ceiling is its target
    async with await _connect(linked_ceiling, layout["lib"].as_uri()) as client:
        assert not (await _analyze(client, layout["lib"] / "train.py")).is_error


def test_without_root_the_ceiling_is_the_starting_directory(layout, monkeypatch):
    monkeypatch.chdir(layout["app"])
    from mcp_server.workspace import Workspace

    workspace = Workspace()
    monkeypatch.chdir(layout["outside"])  # moving later changes nothing
    assert workspace.ceiling == (layout["app"],)
