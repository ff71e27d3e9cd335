"""Follow the script's imports of modules that sit beside it (bounded), so their model classes are seen."""

from __future__ import annotations

import logging
from pathlib import Path

from codemods.analysis.errors import ScriptError
from codemods.analysis.facts import Facts, collect_facts
from codemods.analysis.source import parse_source

__all__ = ["local_modules"]

log = logging.getLogger(__name__)
MAX_DEPTH = 2
MAX_FILES = 10
MAX_LOCAL_BYTES = 300_000  # a local module larger than this is generated or vendored, not the user's model


def _candidates(base: Path, module: str, level: int, name: str | None, here: Path) -> list[Path]:
    """Files an import could mean, only inside the script's folder tree."""
    if level == 0:
        root = base  # absolute imports resolve against the script's folder (sys.path[0])
    elif level == 1:
        root = here
    else:
        root = here.parents[min(level - 2, len(here.parents) - 1)]
    parts = [p for p in module.split(".") if p] if module else []
    out = []
    target = root.joinpath(*parts) if parts else root
    out += [target.with_suffix(".py") if parts else None, target / "__init__.py"]
    if name and name != "*":
        out.append(target / f"{name}.py")  # `from models import resnet` where resnet is a submodule
    return [p for p in out if p is not None]


def local_modules(facts: Facts, script: Path | None, notes: list[str]) -> list[Facts]:
    if script is None:
        return []
    base = script.resolve().parent
    seen: set[Path] = {script.resolve()}
    result: list[Facts] = []
    frontier: list[tuple[Facts, Path, int]] = [(facts, base, 0)]
    while frontier:
        current, here, depth = frontier.pop(0)
        if depth >= MAX_DEPTH:
            continue
        for imp in current.imports:
            if imp.module.split(".", 1)[0] in ("torch", "torchvision", "numpy", "os", "sys", "transformers"):
                continue
            for path in _candidates(base, imp.module, imp.level, imp.name, here):
                try:
                    resolved = path.resolve()
                    if (
                        resolved in seen
                        or not path.is_file()
                        or base not in resolved.parents
                        and resolved.parent != base
                    ):
                        continue
                    seen.add(resolved)
                    if len(result) >= MAX_FILES:
                        notes.append(f"stopped following local imports after {MAX_FILES} files")
                        return result
                    if path.stat().st_size > MAX_LOCAL_BYTES:
                        notes.append(
                            f"skipped local module {path.name}: larger than {MAX_LOCAL_BYTES // 1000} kB"
                        )
                        continue
                    text = path.read_text(encoding="utf-8")
                    shown = str(resolved.relative_to(base))  # files are named relative to the script's folder
                    sub = collect_facts(parse_source(text, shown), shown)
                except (OSError, UnicodeDecodeError, ScriptError) as exc:
                    notes.append(f"could not analyze local module {path}: {exc}")
                    continue
                result.append(sub)
                frontier.append((sub, resolved.parent, depth + 1))
    return result
