"""Diagnosis tool: match a pasted traceback or log against the catalogue of known failures."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from codemods.diagnosis.models import Diagnosis
from mcp_server.tools import Workers, read_only
from mcp_server.workspace import MAX_PATH_CHARS, MAX_TEXT_CHARS, Workspace, require_text


def register(server: MCPServer, workspace: Workspace, workers: Workers) -> None:
    @server.tool(name="pai_diagnose_traceback", annotations=read_only("Diagnose a traceback"))
    async def pai_diagnose_traceback(
        text: Annotated[str, Field(description="the traceback or console output the user pasted, complete "
                                   "(from 'Traceback (most recent call last)' to the end, plus the lines "
                                   f"before), at most {MAX_TEXT_CHARS:,} characters")],
        ctx: Context,
        script_path: Annotated[str | None, Field(description="the training script that produced it; lets the "
                                                 "diagnosis point at its lines, weigh causes against it and "
                                                 "rank first a blocking mistake the script shows",
                                                 max_length=MAX_PATH_CHARS)] = None,
    ) -> Diagnosis:
        """Explain a crash or odd log of a perforated training run: the likely causes ranked by confidence,
        each with the fix and the script lines involved. Works offline on the text; never runs anything.
        Also recognises success messages (e.g. the capacity test passed)."""
        require_text(text, "pasted output")
        script = workspace.optional_script(script_path, await workspace.roots(ctx))
        # ValueError: the script could not be read or parsed; its message says why.
        return await workers.run("diagnosing the pasted output", "codemods.diagnosis:diagnose", text, script,
                                 advice="Paste the last traceback and the ~200 lines before it, and pass the "
                                 "training script itself (or no script).", expected=(ValueError,))
