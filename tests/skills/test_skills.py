"""The skill bundle: frontmatter rules (as Anthropic's quick_validate enforces them), links to real files,
tool references that exist in the running server, and installation with `pai install-skills`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
import yaml
from mcp import Client

from mcp_server.server import create_server
from mcp_server.skillset import install_skills, list_skills, skills_dir

REPO = Path(__file__).resolve().parents[2]
SKILLS = sorted((REPO / "skills").glob("*/SKILL.md"))
ALLOWED_KEYS = {"name", "description", "license", "allowed-tools", "metadata", "compatibility"}
EXPECTED = {"pai-setup", "pai-debugging", "pai-results-analysis", "pai-distributed", "pai-hf-trainer",
            "pai-lightning", "pai-deployment"}


def _split(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.DOTALL)
    assert match, f"{path}: no frontmatter between --- lines"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path}: frontmatter is not a mapping"
    return meta, match.group(2)


def _server_tools() -> set[str]:
    async def names() -> set[str]:
        async with Client(create_server(roots=[REPO])) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    return anyio.run(names)


def test_the_bundle_has_every_skill():
    assert {path.parent.name for path in SKILLS} == EXPECTED
    assert skills_dir() == REPO / "skills"
    assert {skill.name for skill in list_skills()} == EXPECTED


@pytest.mark.parametrize("path", SKILLS, ids=lambda p: p.parent.name)
def test_frontmatter_follows_the_skill_format(path):
    meta, body = _split(path)
    assert set(meta) <= ALLOWED_KEYS, f"unexpected keys {set(meta) - ALLOWED_KEYS}"
    name = meta["name"]
    assert name == path.parent.name
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) and len(name) <= 64
    assert "claude" not in name and "anthropic" not in name
    description = meta["description"]
    assert isinstance(description, str) and 1 <= len(description) <= 1024
    assert "<" not in description and ">" not in description
    assert re.search(r"\bUse (when|it when|this when)\b", description), "description must say when to use it"
    assert len(body.splitlines()) < 500


@pytest.mark.parametrize("path", SKILLS, ids=lambda p: p.parent.name)
def test_relative_links_exist(path):
    _, body = _split(path)
    for target in re.findall(r"`((?:references|scripts|assets)/[^`\s]+)`", body):
        assert (path.parent / target).is_file(), f"{path.parent.name} points at missing {target}"


@pytest.mark.parametrize("path", SKILLS, ids=lambda p: p.parent.name)
def test_skills_never_tell_the_assistant_to_run_training(path):
    _, body = _split(path)
    assert re.search(r"(?i)do not (run|launch)|never run", body), "each skill must forbid running training"


def test_every_tool_a_skill_names_exists_in_the_server():
    tools = _server_tools()
    named: dict[str, set[str]] = {}
    for path in SKILLS + sorted((REPO / "skills").glob("*/references/*.md")):
        for tool in re.findall(r"pai:([a-z_]+[a-z])", path.read_text(encoding="utf-8")):
            named.setdefault(tool, set()).add(path.parent.name)
    assert named, "no skill names a tool"
    missing = {tool: sorted(where) for tool, where in named.items() if tool not in tools}
    assert not missing, f"skills name tools the server does not have: {missing}"


def test_skills_that_name_sibling_skills_name_real_ones():
    for path in SKILLS:
        for sibling in re.findall(r"`(pai-[a-z-]+[a-z])` skill", path.read_text(encoding="utf-8")):
            assert sibling in EXPECTED, f"{path.parent.name} refers to unknown skill {sibling}"


def test_install_copies_every_skill_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / ".claude" / "skills"
    written = install_skills(target)
    assert {folder.name for folder in written} == EXPECTED
    for skill in EXPECTED:
        assert (target / skill / "SKILL.md").read_text() == (REPO / "skills" / skill / "SKILL.md").read_text()
    assert (target / "pai-setup" / "references" / "efficiency-path.md").is_file()
    (target / "pai-setup" / "SKILL.md").write_text("edited by the user")
    with pytest.raises(FileExistsError, match="--force"):
        install_skills(target)
    assert (target / "pai-setup" / "SKILL.md").read_text() == "edited by the user"
    install_skills(target, force=True)
    assert (target / "pai-setup" / "SKILL.md").read_text().startswith("---\nname: pai-setup")


def test_pai_install_skills_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mcp_server.cli", "install-skills", "--project"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".claude" / "skills" / "pai-debugging" / "SKILL.md").is_file()
    again = subprocess.run([sys.executable, "-m", "mcp_server.cli", "install-skills"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 3 and "--force" in again.stderr  # refused: nothing was overwritten


def test_a_wheel_finds_its_bundled_copy(tmp_path, monkeypatch):
    import mcp_server.skillset as skillset

    bundle = tmp_path / "mcp_server" / "skills_bundle"
    shutil.copytree(REPO / "skills", bundle)
    monkeypatch.setattr(skillset, "_CANDIDATES", (tmp_path / "skills", bundle))  # no repo checkout beside it
    assert skillset.skills_dir() == bundle
    assert {skill.name for skill in skillset.list_skills()} == EXPECTED
