"""The bundled Claude skills: where they live at run time, what they say about themselves, how to install them.

The skills ship in two places: `skills/` at the repository root (a source checkout or an editable install)
and `mcp_server/skills_bundle/` inside a wheel (pyproject force-includes `skills/` there). The server serves
them as resources and `pai install-skills` copies them into a project's or the user's `.claude/skills/`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

_PACKAGE = Path(__file__).resolve().parent.parent  # mcp_server/
_CANDIDATES = (_PACKAGE.parent / "skills", _PACKAGE / "skills_bundle")


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    folder: Path

    @property
    def skill_md(self) -> Path:
        return self.folder / "SKILL.md"


def skills_dir() -> Path | None:
    """The first candidate folder that holds at least one skill, or None when the bundle is missing."""
    for candidate in _CANDIDATES:
        if candidate.is_dir() and any(candidate.glob("*/SKILL.md")):
            return candidate
    return None


def read_frontmatter(skill_md: Path) -> dict:
    """The YAML mapping between the leading `---` lines of a SKILL.md (empty when there is none)."""
    text = skill_md.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    _, _, rest = text.partition("---")
    header, separator, _ = rest.partition("\n---")
    if not separator:
        return {}
    data = yaml.safe_load(header)
    return data if isinstance(data, dict) else {}


def list_skills(folder: Path | None = None) -> list[Skill]:
    folder = folder or skills_dir()
    if folder is None:
        return []
    skills = []
    for skill_md in sorted(folder.glob("*/SKILL.md")):
        meta = read_frontmatter(skill_md)
        skills.append(Skill(str(meta.get("name", skill_md.parent.name)), str(meta.get("description", "")),
                            skill_md.parent))
    return skills


def install_skills(target: Path, *, force: bool = False) -> list[Path]:
    """Copy every bundled skill folder into `target` (e.g. `.claude/skills`); returns the folders written.

    An existing skill folder of the same name is left alone unless `force`, so a user's local edits are
    never overwritten by accident.
    """
    skills = list_skills()
    if not skills:
        raise FileNotFoundError(
            "No bundled skills found (looked in: " + ", ".join(str(c) for c in _CANDIDATES) + "). "
            "Reinstall the package, or copy the skills/ folder of the repository by hand."
        )
    clashes = [target / skill.folder.name for skill in skills if (target / skill.folder.name).exists()]
    if clashes and not force:  # checked before copying anything, so a refusal leaves the target untouched
        raise FileExistsError(
            "Already installed: " + ", ".join(str(c) for c in clashes) + ". Pass --force to replace them."
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for skill in skills:
        destination = target / skill.folder.name
        if destination.is_symlink() or destination.is_file():
            destination.unlink()
        elif destination.is_dir():
            shutil.rmtree(destination)
        shutil.copytree(skill.folder, destination)
        written.append(destination)
    return written
