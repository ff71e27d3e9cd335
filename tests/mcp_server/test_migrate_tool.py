"""`pai_migrate_script` over a real stdio client: the server started as a subprocess previews the migration
of a 2024-API script, applies it (atomic, backup kept), refuses an unmappable one without touching it, and
`pai_analyze_script` reports the old-API imports as facts first."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from codemods.migrate import MigrateResult

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]
OLD_SCRIPT = REPO / "tests" / "pai_core" / "upstream_scripts" / "api2024" / "initialize_pb_four_values.py"


def _stdio(project: Path) -> StdioServerParameters:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(REPO)}
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_server", "--root", str(project)],
                                 cwd=str(project), env=env)


async def test_migrate_tool_previews_applies_and_refuses_over_stdio(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    script = project / "train_old.py"
    script.write_text(OLD_SCRIPT.read_text())
    original = script.read_text()
    refused_script = project / "own_value.py"
    refused_script.write_text('from pai_core import pb_globals as PBG\nPBG.saveName = "mine"\nPBG.maxDendrites = 2\n')
    async with Client(_stdio(project)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["pai_migrate_script"].annotations.destructive_hint is True

        facts = (await client.call_tool("pai_analyze_script", {"path": "train_old.py"})).structured_content
        assert [o["line"] for o in facts["integration"]["old_api"]] == [8, 9, 10]
        assert any("migrate first" in note for note in facts["notes"])

        preview = await client.call_tool("pai_migrate_script", {"path": "train_old.py"})
        assert not preview.is_error, preview.content
        shown = MigrateResult.model_validate(preview.structured_content)
        assert shown.changed and not shown.written and script.read_text() == original
        assert "+GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)" in shown.diff

        applied = MigrateResult.model_validate(
            (await client.call_tool("pai_migrate_script", {"path": "train_old.py", "apply": True})).structured_content)
        assert applied.written and applied.diff == shown.diff and script.read_text() == shown.new_source
        assert (project / "train_old.py.orig").read_text() == original
        again = MigrateResult.model_validate(
            (await client.call_tool("pai_migrate_script", {"path": "train_old.py", "apply": True})).structured_content)
        assert not again.changed and not again.written
        after = (await client.call_tool("pai_analyze_script", {"path": "train_old.py"})).structured_content
        assert after["integration"]["old_api"] == [] and after["integration"]["generation"] == "current"

        before = refused_script.read_bytes()
        refusal = await client.call_tool("pai_migrate_script", {"path": "own_value.py", "apply": True})
        assert refusal.is_error and "PBG.saveName" in refusal.content[0].text and "line 2" in refusal.content[0].text
        assert refused_script.read_bytes() == before and not (project / "own_value.py.orig").exists()
        outside = await client.call_tool("pai_migrate_script", {"path": "/etc/passwd"})
        assert outside.is_error and "outside" in outside.content[0].text
