"""Which files the tools may touch, and the checks every path goes through before a capability sees it.

The server reads and rewrites a user's files on behalf of a model, so a path is only trusted after it
has been resolved (symlinks included) to a place inside the allowed roots: the client's roots when it
declares some, otherwise the `--root` folders given at start-up, otherwise the working directory.
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

MAX_SCRIPT_BYTES = 2 * 1024 * 1024  # a long training script is ~50 KB; megabytes are generated code or data
MAX_RUN_FOLDER_BYTES = 200_000_000  # CSV logs and graphs; checkpoints are not read but are counted
MAX_TEXT_CHARS = 2_000_000  # pasted logs; the diagnosis keeps the tail, where the exception is
_ROOTS_TIMEOUT_S = 5.0


class Workspace:
    """The allowed roots plus the path checks; one per server, shared by every tool."""

    def __init__(self, roots: Sequence[str | os.PathLike[str]] | None = None) -> None:
        # Resolved once: `--root` is fixed for the server's life. Without it the working directory is read
        # at call time, so a host that starts the server in the project folder gets that folder.
        self._configured = tuple(Path(root).expanduser().resolve() for root in roots or ())

    def fallback_roots(self) -> tuple[Path, ...]:
        return self._configured or (Path.cwd().resolve(),)

    async def roots(self, ctx: Context | None) -> tuple[Path, ...]:
        """The client's file roots when it declares the (deprecated) roots capability, else our own."""
        client_roots = await _client_roots(ctx)
        return client_roots or self.fallback_roots()

    # -- checks -------------------------------------------------------------------------------------

    def locate(self, path: str, roots: Sequence[Path]) -> Path:
        """Resolve `path` (relative paths start at the first root) and refuse anything outside the roots."""
        if not path.strip():
            raise ToolError("The path is empty: pass the path of a file or folder inside the project.")
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = roots[0] / candidate
        resolved = candidate.resolve()  # follows symlinks, so a link cannot point out of the roots
        if not any(resolved.is_relative_to(root) for root in roots):
            allowed = ", ".join(str(root) for root in roots)
            raise ToolError(
                f"{path} resolves to {resolved}, which is outside the folders this server may access "
                f"({allowed}). Pass a path inside them, or restart the server with `--root <folder>` "
                "(or open that folder as a root in the client)."
            )
        return resolved

    def script(self, path: str, roots: Sequence[Path]) -> Path:
        """A Python file inside the roots and under the size limit.

        Whether it reads and parses is the capability's call: it raises a ScriptError naming the line.
        """
        resolved = self.locate(path, roots)
        if not resolved.exists():
            raise ToolError(
                f"{resolved} does not exist. Check the spelling, or pass the path relative to {roots[0]}."
            )
        if resolved.is_dir():
            raise ToolError(f"{resolved} is a folder. Pass the training script inside it (a .py file).")
        if resolved.suffix not in (".py", ".pyw"):
            hint = (" Export the notebook first: `jupyter nbconvert --to script NOTEBOOK.ipynb`."
                    if resolved.suffix == ".ipynb" else "")
            raise ToolError(f"{resolved.name} is not a Python file. Pass the .py training script.{hint}")
        size = resolved.stat().st_size
        if size > MAX_SCRIPT_BYTES:
            raise ToolError(
                f"{resolved.name} is {size:,} bytes, over the {MAX_SCRIPT_BYTES:,}-byte limit for a script. "
                "Pass the file that builds the model and runs the training loop, not generated code or data."
            )
        return resolved

    def optional_script(self, path: str | None, roots: Sequence[Path]) -> Path | None:
        return None if path is None or not path.strip() else self.script(path, roots)

    def run_folder(self, path: str, roots: Sequence[Path]) -> Path:
        """A folder of run logs: exists, is a folder, and is not unreasonably large."""
        resolved = self.locate(path, roots)
        if not resolved.exists():
            raise ToolError(
                f"{resolved} does not exist. Run folders are named after the `save_name` passed to "
                "perforate_model (default 'PAI') and are created next to where training ran."
            )
        if not resolved.is_dir():
            raise ToolError(f"{resolved} is a file. Pass the run folder that contains it: {resolved.parent}.")
        total = 0
        for entry in resolved.rglob("*"):
            if entry.is_file():
                total += entry.stat().st_size
                if total > MAX_RUN_FOLDER_BYTES:
                    raise ToolError(
                        f"{resolved} holds over {MAX_RUN_FOLDER_BYTES // 1_000_000} MB. Pass the run folder "
                        "itself (the one with the *Scores.csv files), not a parent of many runs."
                    )
        return resolved


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
        if parsed.scheme == "file":
            roots.append(Path(unquote(parsed.path)).resolve())
    return tuple(roots)
