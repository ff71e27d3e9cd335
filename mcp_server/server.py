"""The `pai` MCP server: tools over codemods and pai_core, the skills and references as resources, and
prompts for the three ways users start (perforate, debug, analyze).

`create_server()` builds a fresh server; nothing heavy is imported here (no torch, no pandas, no libcst),
so a host's `tools/list` answers at once. Capabilities load on the first call of a tool that needs them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import GetPromptResult, InputRequiredResult

from mcp_server import prompts, resources
from mcp_server.tools import Workers
from mcp_server.tools import config as config_tools
from mcp_server.tools import diagnosis as diagnosis_tools
from mcp_server.tools import export as export_tools
from mcp_server.tools import runs as run_tools
from mcp_server.tools import scripts as script_tools
from mcp_server.workspace import Workspace

logger = logging.getLogger(__name__)

EXPORT_GUIDE = """\
- Shipping a finished run: pai_export_model writes the best model, fused for inference, as \
TorchScript, torch.export and ONNX files (it needs the model factory, e.g. 'train.py:Net'). Unlike the other \
tools it runs project code: it imports that model file (its top-level code runs) in a separate process.
"""
NO_EXPORT_GUIDE = """\
- Shipping a finished run: this server was started with --no-code-execution, so it has no export tool \
(exporting imports the model file). Ask the user to run `pai export RUN --model FILE.py:Name --input-shape 1,64` \
in a terminal.
"""
INSTRUCTIONS = f"""\
Tools for adding artificial dendrites (the pai library, API-compatible with perforatedai) to a PyTorch \
training script, fixing it when it breaks, and reading the results. The tools only read and rewrite files; \
they never run training. Ask the user to run their script and paste the output.

Which tool when:
- Starting an integration: pai_analyze_script first (architecture, loop, optimizer, validation metric, \
what is already integrated), then pai_preview_perforation to show the diff, then pai_apply_perforation \
once the user agrees. When the analysis lists integration.old_api (a 2024-API script: pb_globals, \
pb_utils), migrate first: pai_migrate_script shows the diff, and with apply=true rewrites it to the current API. \
pai_recommend_config gives the per-architecture settings when the user only \
describes a model.
- The first run after integrating should be a capacity test: pai_set_capacity_test(enabled=true); after \
the user reports the success message, set it back to false for the real experiment.
- Partly integrated, or unsure whether it is right: pai_check_integration lists every required step as \
present or missing, with the line to fix.
- A traceback or odd log: pai_diagnose_traceback with the pasted text (and the script path when known).
- After a run: pai_analyze_run on the run folder (named after save_name, default PAI); \
pai_compare_runs for a baseline against a dendritic run, or several settings.
- Config questions: pai_explain_config_option for one setting, pai_list_config_options to browse.
{EXPORT_GUIDE}
Paths are relative to the project folder; files outside it are refused. Resources hold the skills \
(pai://skills/...), the config reference, the API reference and the debugging catalogue.
"""


class PaiServer(MCPServer):
    """An MCPServer whose prompts answer a missing, unknown or invalid argument with the protocol's
    invalid-params error (-32602) naming what to pass, instead of the SDK's generic code 0."""

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None,
                         context: Context | None = None) -> GetPromptResult | InputRequiredResult:
        prompt = next((p for p in await self.list_prompts() if p.name == name), None)
        prompts.check_arguments(prompt, name, arguments)
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as error:
            raise prompts.invalid_arguments(name, error) from error


def _version() -> str:
    try:
        return metadata.version("pai")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


def create_server(roots: Sequence[str | os.PathLike[str]] | None = None, *, log_level: str = "WARNING",
                  code_execution: bool = True) -> MCPServer:
    """A server whose tools may touch files under `roots` (default: the working directory now); roots a
    client declares only narrow them.

    `code_execution=False` (`--no-code-execution`) leaves out every tool that runs project code: they are
    not listed, and the instructions do not mention them.
    """
    instructions = INSTRUCTIONS if code_execution else INSTRUCTIONS.replace(EXPORT_GUIDE, NO_EXPORT_GUIDE)
    workers = Workers()

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await workers.aclose()  # no worker process outlives the server

    server = PaiServer(
        "pai", title="pai: artificial dendrites for PyTorch", version=_version(), instructions=instructions,
        log_level=log_level, lifespan=lifespan)  # type: ignore[arg-type]
    workspace = Workspace(roots)
    script_tools.register(server, workspace, workers)
    diagnosis_tools.register(server, workspace, workers)
    run_tools.register(server, workspace, workers)
    config_tools.register(server, workspace)
    if code_execution:
        export_tools.register(server, workspace)
    resources.register(server)
    prompts.register(server)
    return server
