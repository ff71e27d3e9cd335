"""The README's Architecture section against the code: the one-way arrows between the packages, and a section
that names every module of pai_core/ and codemods/ and no module that does not exist.

How the section names a module: a backticked `name.py` (or `sub/name.py`) is relative to the package of the
nearest heading above it that names a package folder (`### \\`pai_core/\\``, `#### \\`codemods/rules/\\``); a
path starting with a top-level folder (`pai_core/...`, `tests/...`) is relative to the repository. Every
module file must be named except `__init__.py` (its package's heading stands for it); private helpers such as
`_base.py` are modules a newcomer reads too, so they must be named as well.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED = ("pai_core", "codemods")  # every module of these is named in the section
TOP_LEVEL = ("pai_core/", "codemods/", "mcp_server/", "tests/", "benchmarks/", "skills/")
CODEMODS_MAY_READ = {"pai_core.options", "pai_core.upstream_names", "pai_core.findings"}  # torch-free data


def _section() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Architecture\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)].splitlines()


def _named_paths() -> tuple[set[str], list[str]]:
    """The repository paths the section names, and the names it gives that resolve to no package."""
    named, unresolved, package = set(), [], None
    for line in _section():
        if line.startswith("#"):
            folder = re.search(r"`([\w/]+/)`", line)
            package = folder.group(1) if folder else None
            continue
        for token in re.findall(r"`([\w/]+\.py)`", line):
            if token.startswith(TOP_LEVEL):
                named.add(token)
            elif package is None:
                unresolved.append(token)
            else:
                named.add(package + token)
    return named, unresolved


def _modules(package: str) -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / package).rglob("*.py")
            if p.name != "__init__.py" and "__pycache__" not in p.parts}


def test_the_section_names_every_module_and_only_modules_that_exist():
    named, unresolved = _named_paths()
    assert not unresolved, f"named outside a package heading, give the full path: {unresolved}"
    expected = set().union(*(_modules(package) for package in DOCUMENTED))
    assert not expected - named, f"modules the Architecture section does not name: {sorted(expected - named)}"
    missing = sorted(p for p in named if not (ROOT / p).is_file())
    assert not missing, f"the Architecture section names files that do not exist: {missing}"


def _imports(path: Path) -> set[str]:
    """Every module an import statement of `path` names, inside functions too (`from a import b`: a.b)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def _root(name: str) -> str:
    return name.split(".", 1)[0]


def _offenders(imports: dict[str, set[str]], roots: tuple[str, ...]) -> dict[str, list[str]]:
    return {path: sorted(n for n in names if _root(n) in roots) for path, names in imports.items()
            if any(_root(n) in roots for n in names)}


def test_the_arrows_go_one_way():
    pai_core = {p.relative_to(ROOT).as_posix(): _imports(p) for p in sorted((ROOT / "pai_core").rglob("*.py"))}
    codemods = {p.relative_to(ROOT).as_posix(): _imports(p) for p in sorted((ROOT / "codemods").rglob("*.py"))}
    assert len(pai_core) > 40 and len(codemods) > 60 and "torch" in pai_core["pai_core/modules.py"]
    upward = _offenders(pai_core, ("codemods", "mcp_server", "mcp"))
    assert not upward, f"pai_core imports codemods or the assistant side: {upward}"
    heavy = _offenders(codemods, ("torch", "transformers", "lightning", "mcp_server"))
    assert not heavy, f"codemods imports torch, a framework or mcp_server: {heavy}"
    library = {n for names in codemods.values() for n in names if _root(n) == "pai_core"}
    # `from pai_core.options import OPTIONS` names pai_core.options and pai_core.options.OPTIONS: both fine
    reached = {n for n in library if not any(n == m or n.startswith(m + ".") for m in CODEMODS_MAY_READ)}
    assert not reached, f"codemods reaches into pai_core beyond its torch-free data: {sorted(reached)}"
