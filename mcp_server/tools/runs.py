"""Run tools: analyze a run folder (report plus plot) and compare runs, through pai_core.results.

Both stay read-only: the plot is drawn into the server's own cache folder, never into the user's run folder,
and is returned as an image block (or as the path of that cached PNG).
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import BaseModel, Field

from mcp_server.tools import Workers, read_only
from mcp_server.workspace import MAX_PATH_CHARS, MAX_TEXT_CHARS, Workspace
from pai_core.results.errors import ResultsError
from pai_core.results.report import Comparison, RunReport

PlotMode = Literal["image", "path", "none"]
PLOT_HELP = ("'image' returns the graph as an image block to look at, 'path' draws it to a PNG file and returns "
             "its path (in the server's cache folder), 'none' skips drawing")
RunFolder = Annotated[str, Field(description="the run folder, named after save_name (default 'PAI'), relative to "
                                 "the project or absolute inside it", min_length=1, max_length=MAX_PATH_CHARS)]


def register(server: MCPServer, workspace: Workspace, workers: Workers) -> None:
    async def run(doing: str, target: str, /, *args, **kwargs):
        """pai_core.results in a worker: run logs are user files (a crafted CSV must not take the server down);
        a ResultsError is bad input whose message names the fix."""
        return await workers.run(doing, target, *args, expected=(ResultsError,), advice="Pass the run folder "
                                 "itself, holding the CSV logs a training run wrote.", **kwargs)

    @server.tool(name="pai_analyze_run", annotations=read_only("Analyze a run folder"))
    async def pai_analyze_run(
        folder: RunFolder,
        ctx: Context,
        plot: Annotated[PlotMode, Field(description=PLOT_HELP)] = "image",
        log: Annotated[str | None, Field(description="the training output of this run as the user saw it "
                                         "(pasted); its epochs and dendrite messages are checked against the "
                                         "folder", max_length=MAX_TEXT_CHARS)] = None,
    ) -> Annotated[CallToolResult, RunReport]:
        """Analyze the folder a perforated training run wrote (CSV logs, switch epochs, parameter counts):
        status, baseline vs best score, what each dendrite gained and cost, failed rounds, findings such as
        premature switches, no dendrites or overfitting, and recommended config changes with the figures
        behind them. With the run's log, also whether the folder really is that run. Works on pai_core and
        perforatedai 3.x folders."""
        run_folder = workspace.run_folder(folder, await workspace.roots(ctx))
        target = _plot_target("run", [run_folder], plot)
        report = await run(f"analyzing {run_folder.name}", "pai_core.results:analyze_run", run_folder, plot=target,
                           log=log)
        return _result(report, report.to_text(), plot, report.plot_path)

    @server.tool(name="pai_compare_runs", annotations=read_only("Compare runs"))
    async def pai_compare_runs(
        folders: Annotated[list[RunFolder], Field(description="two or more run folders; the first is the "
                                                  "reference (usually the baseline run without dendrites)",
                                                  min_length=2, max_length=12)],
        ctx: Context,
        plot: Annotated[PlotMode, Field(description=PLOT_HELP)] = "image",
    ) -> Annotated[CallToolResult, Comparison]:
        """Compare run folders side by side: best score, parameters, dendrites, epochs to best, the change
        against the first run and whether it is beyond run-to-run noise, with a plain verdict."""
        roots = await workspace.roots(ctx)
        runs = [workspace.run_folder(folder, roots) for folder in folders]
        target = _plot_target("compare", runs, plot)
        comparison = await run("comparing the runs", "pai_core.results.compare:compare_runs", runs, plot=target)
        return _result(comparison, comparison.to_text(), plot, comparison.plot_path)


def _plot_target(kind: str, folders: list[Path], plot: PlotMode) -> Path | None:
    """Where to draw: a PNG in the server's cache folder. A returned path is stable per set of folders (a
    re-analysis overwrites it); an inline image gets a one-off name, read and deleted by `_result`."""
    if plot == "none":
        return None
    key = hashlib.sha256("\n".join(str(f) for f in folders).encode()).hexdigest()[:16]
    if plot == "image":
        key += "-" + uuid.uuid4().hex[:8]
    cache = Path(tempfile.gettempdir()) / "pai-mcp-plots"
    cache.mkdir(parents=True, exist_ok=True)
    return cache / f"{kind}-{folders[0].name}-{key}.png"


def _result(model: BaseModel, text: str, plot: PlotMode, plot_path: str | None) -> CallToolResult:
    """The readable text, the image when asked for, and the JSON (also as structured content)."""
    content: list[TextContent | ImageContent] = [TextContent(type="text", text=text)]
    data = model.model_dump(mode="json")
    if plot == "image" and plot_path:
        png = Path(plot_path)
        content.append(ImageContent(type="image", data=base64.b64encode(png.read_bytes()).decode("ascii"),
                                    mime_type="image/png"))
        png.unlink(missing_ok=True)  # delivered inline: nothing left behind
        data["plot_path"] = None
    content.append(TextContent(type="text", text=json.dumps(data)))
    return CallToolResult(content=content, structured_content=data)
