"""Which files the tools may touch, and the checks every path goes through before a capability sees it.

The server reads and rewrites a user's files on behalf of a model, so a path is only trusted after it
has been resolved (symlinks included) to a place inside the allowed roots. The `--root` folders given at
start-up (default: the working directory the server started in) are a ceiling: roots the client declares
can only narrow them, never widen them, so a client declaring `file:///` still reaches only the project.
Every refusal is a `ToolError` whose text tells the model what to do next.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

logger = logging.getLogger(__name__)

# Limits measured by benchmarks/bench_limits.py on a 128 KB script, 2 cores under a load of ~8: four script
# tools take 3-5 s, pai_check_integration (the slowest) 33 s; peak memory is 120-140 MB (~0.7 MB per KB of
# script, so 2 MB would need ~1.5 GB). A real training script is 5-60 KB; anything bigger is generated code.
MAX_SCRIPT_BYTES = 128 * 1024  # the same as codemods.analysis.source.MAX_BYTES (the CLI's), kept equal by a test
WORKER_TIMEOUT_S = 60.0  # per call in a worker: about twice the slowest accepted input on a loaded machine
WORKER_MEMORY_MB = 1024  # address space per worker: ~145 MB for the largest script, ~300 MB for a run folder
MAX_RUN_FOLDER_BYTES = 200_000_000  # CSV logs and graphs; checkpoints are not read but are counted
MAX_RUN_FOLDER_FILES = 10_000
MAX_TEXT_CHARS = 2_000_000  # pasted logs; the diagnosis keeps the tail, where the exception is
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux
_ROOTS_TIMEOUT_S = 5.0


class Workspace:
    """The allowed roots plus the path checks; one per server, shared by every tool."""

    def __init__(self, roots: Sequence[str | os.PathLike[str]] | None = None) -> None:
        # Resolved once: the ceiling is fixed for the server's life, so a tool that changes the working
        # directory cannot move it.
        self.ceiling = tuple(Path(root).expanduser().resolve() for root in roots or ()) or (Path.cwd().resolve(),)

    async def roots(self, ctx: Context | None) -> tuple[Path, ...]:
        """The client's file roots cut to the ceiling when it declares some (the deprecated roots
        capability), else the ceiling itself."""
        client_roots = await _client_roots(ctx)
        if not client_roots:
            return self.ceiling
        narrowed = _narrow(client_roots, self.ceiling)
        if not narrowed:
            raise ToolError(
                f"None of the client's roots ({_listing(client_roots)}) is inside the folders this server may "
                f"access ({_listing(self.ceiling)}). Open one of those folders (or a folder inside one) in the "
                "client, or restart the server with `--root <folder>`."
            )
        return narrowed

    # -- checks -------------------------------------------------------------------------------------

    def locate(self, path: str, roots: Sequence[Path]) -> Path:
        """Resolve `path` (relative paths start at the first root) and refuse anything outside the roots."""
        if not path.strip():
            raise ToolError("The path is empty: pass the path of a file or folder inside the project.")
        if "\x00" in path:
            raise ToolError(f"The path {_shown(path)!r} contains a NUL byte, which no file name can hold. Pass the "
                            "plain path of a file or folder inside the project.")
        if len(path) > MAX_PATH_CHARS:
            raise ToolError(f"The path is {len(path):,} characters long, over the {MAX_PATH_CHARS:,} a file "
                            "system accepts. Pass the path of a file or folder inside the project.")
        try:
            candidate = Path(path).expanduser()
            if not candidate.is_absolute():
                candidate = roots[0] / candidate
            resolved = candidate.resolve()  # follows symlinks, so a link cannot point out of the roots
        except (OSError, RuntimeError) as error:  # a name too long, a symlink loop, an unknown ~user
            raise ToolError(f"{_shown(path)} cannot be resolved ({_reason(error)}). Pass the path of an "
                            "existing file or folder inside the project.") from None
        if not any(resolved.is_relative_to(root) for root in roots):
            raise ToolError(
                f"{_shown(path)} resolves to {_shown(str(resolved))}, which is outside the folders this server "
                f"may access ({_listing(roots)}). Pass a path inside them, or restart the server with "
                "`--root <folder>` (or open that folder as a root in the client)."
            )
        return resolved

    def script(self, path: str, roots: Sequence[Path]) -> Path:
        """A Python file inside the roots and under the size limit.

        Whether it reads and parses is the capability's call: it raises a ScriptError naming the line.
        """
        resolved = self.locate(path, roots)
        kind, size = _probe(resolved)
        if kind is None:
            raise ToolError(
                f"{resolved} does not exist. Check the spelling, or pass the path relative to {roots[0]}."
            )
        if kind == "dir":
            raise ToolError(f"{resolved} is a folder. Pass the training script inside it (a .py file).")
        if kind != "file":
            raise ToolError(f"{resolved.name} is not a regular file (a pipe, socket or device). Pass the .py "
                            "training script.")
        if resolved.suffix not in (".py", ".pyw"):
            hint = (" Export the notebook first: `jupyter nbconvert --to script NOTEBOOK.ipynb`."
                    if resolved.suffix == ".ipynb" else "")
            raise ToolError(f"{resolved.name} is not a Python file. Pass the .py training script.{hint}")
        if size > MAX_SCRIPT_BYTES:
            raise ToolError(
                f"{resolved.name} is {size:,} bytes, over the {MAX_SCRIPT_BYTES:,}-byte limit for a script. "
                "Pass the file that builds the model and runs the training loop, not generated code or data."
            )
        return resolved

    def optional_script(self, path: str | None, roots: Sequence[Path]) -> Path | None:
        return None if path is None or not path.strip() else self.script(path, roots)

    def run_folder(self, path: str, roots: Sequence[Path]) -> Path:
        """A folder of run logs: exists, is a folder, links nowhere outside the roots, is not huge."""
        resolved = self.locate(path, roots)
        kind, _ = _probe(resolved)
        if kind is None:
            raise ToolError(
                f"{resolved} does not exist. Run folders are named after the `save_name` passed to "
                "perforate_model (default 'PAI') and are created next to where training ran."
            )
        if kind != "dir":
            raise ToolError(f"{resolved} is a file. Pass the run folder that contains it: {resolved.parent}.")
        total = files = 0
        too_big = ToolError(
            f"{resolved} holds over {MAX_RUN_FOLDER_BYTES // 1_000_000} MB or {MAX_RUN_FOLDER_FILES:,} files. Pass "
            "the run folder itself (the one with the *Scores.csv files), not a parent of many runs."
        )
        try:
            for entry in resolved.rglob("*"):
                if entry.is_symlink():
                    self.locate(str(entry), roots)  # a link inside the run may not lead out of the roots
                files += 1
                total += entry.stat().st_size if entry.is_file() else 0
                if total > MAX_RUN_FOLDER_BYTES or files > MAX_RUN_FOLDER_FILES:
                    raise too_big
        except OSError as error:
            raise ToolError(f"{resolved} cannot be read ({_reason(error)}). Pass a run folder you can read.") from None
        return resolved


def _probe(path: Path) -> tuple[str | None, int]:
    """("file" | "dir" | "other" | None when missing, size in bytes), never raising."""
    try:
        info = path.stat()
    except OSError:
        return None, 0
    if path.is_dir():
        return "dir", 0
    return ("file" if path.is_file() else "other"), info.st_size


def _shown(text: str, limit: int = 200) -> str:
    """A path as it goes into a message: a client-sent string may be megabytes long."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _listing(roots: Sequence[Path]) -> str:
    return ", ".join(str(root) for root in roots)


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _narrow(client_roots: Sequence[Path], ceiling: Sequence[Path]) -> tuple[Path, ...]:
    """The parts of the client's roots inside the ceiling: a client root inside a ceiling folder stays, one
    that contains a ceiling folder becomes that folder, one outside every ceiling folder is dropped."""
    narrowed: list[Path] = []
    for root in client_roots:
        for limit in ceiling:
            inside = root if root.is_relative_to(limit) else limit if limit.is_relative_to(root) else None
            if inside is not None and inside not in narrowed:
                narrowed.append(inside)
    return tuple(narrowed)


def require_text(text: str, what: str) -> str:
    if not text.strip():
        raise ToolError(f"The {what} is empty. Paste the full text the user saw, from 'Traceback' to the end.")
    if len(text) > MAX_TEXT_CHARS:
        raise ToolError(
            f"The {what} is {len(text):,} characters, over the {MAX_TEXT_CHARS:,} limit. Pass the last "
            "traceback and the ~200 lines of output before it."
        )
    return text


async def _client_roots(ctx: Context | None) -> tuple[Path, ...]:
    """Ask the client for its roots; any failure (no capability, no back-channel, timeout) means none."""
    if ctx is None:
        return ()
    try:
        capabilities = ctx.client_capabilities
    except (LookupError, ValueError, AttributeError):  # outside a request
        return ()
    if capabilities is None or capabilities.roots is None:
        return ()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # roots are deprecated in 2026-07-28 but still what hosts send
            with anyio.fail_after(_ROOTS_TIMEOUT_S):
                result = await ctx.session.list_roots()
    except Exception as error:  # noqa: BLE001 - a client that cannot answer simply has no roots
        logger.info("client roots unavailable (%s); using the server's roots", error)
        return ()
    roots = []
    for root in result.roots:
        parsed = urlparse(str(root.uri))
        local = unquote(parsed.path)
        try:
            if parsed.scheme == "file" and "\x00" not in local:
                roots.append(Path(local).resolve())  # symlinks resolved, as for every path
        except (OSError, RuntimeError, ValueError):
            logger.info("ignoring the client root %r: it does not resolve", str(root.uri)[:200])
    return tuple(roots)
