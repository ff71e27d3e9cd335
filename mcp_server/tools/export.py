"""Export tool: a finished run's best model, fused for inference, written as TorchScript / torch.export / ONNX
files through pai_core.export.

This is the one tool that runs project code: it imports the model definition file (its top-level code runs)
and calls the class or factory it names. So the whole export (vetting the spec, importing, building, loading
the weights, exporting, running the files) happens in a child process started for the call, with a time
limit, never in the server, which does not even import torch; and the spec is vetted statically
(pai_core.model_spec) before anything is imported. `pai mcp --no-code-execution` leaves the tool out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from mcp_server.isolation import IsolatedError, run_in_fresh_process
from mcp_server.workspace import Workspace

Format = Literal["torchscript", "torch_export", "onnx"]
DType = Literal["float32", "float64", "float16", "bfloat16", "int64", "int32", "bool"]
EXPORT_TIMEOUT_S = 600.0  # importing torch, building, and three formats of a large model on a slow CPU
EXPORT_MEMORY_MB = 8192  # address space, not RSS: a small model's whole export fits in 1 GB of it (measured)


class ExportedFileInfo(BaseModel):
    format: Format
    path: str = Field(description="absolute path of the written file")
    size_bytes: int
    max_abs_diff: float | None = Field(description="largest |exported - eager| on the example inputs; null when "
                                       "the file could not be run here (onnxruntime missing)")
    seconds: float = Field(description="time to export, save, reload and run the file")
    dynamic_batch: bool | None = Field(description="the file also ran, and matched, at another batch size; "
                                       "false: it only takes the example's batch size")
    note: str = ""


class ExportResult(BaseModel):
    checkpoint: str = Field(description="the weights file that was loaded (a run folder's best_model.pt)")
    model: str = Field(description="the model factory that built the architecture")
    input_shapes: list[list[int]]
    layers: dict[str, int] = Field(description="inference dendrite layers by kind: FusedDendrites (Linear/Conv "
                                   "and its dendrites as one layer) or DendriteCopies (called one by one)")
    dendrites: int = Field(description="dendrites per perforated layer (the largest)")
    files: list[ExportedFileInfo]
    summary: str = Field(description="the same as a short table to show the user")


def writes_files(title: str) -> ToolAnnotations:
    """Creates or overwrites output files (never the user's sources); same request, same files."""
    return ToolAnnotations(title=title, read_only_hint=False, destructive_hint=True, idempotent_hint=True,
                           open_world_hint=False)


def register(server: MCPServer, workspace: Workspace) -> None:
    @server.tool(name="pai_export_model", annotations=writes_files("Export a trained model for deployment"))
    async def pai_export_model(
        source: Annotated[str, Field(description="run folder (its best_model.pt is used) or a checkpoint file "
                                     "(.pt / .safetensors), inside the project", min_length=1, max_length=4096)],
        model: Annotated[str, Field(description="the architecture, since checkpoints hold weights only: "
                                    "'path/to/file.py:Name', a class (nn.Module subclass) or function defined "
                                    "at the top level of a project file, returning a fresh plain (unperforated) "
                                    "model built like the one passed to perforate_model; or "
                                    "'package.module:ClassName' for an installed nn.Module subclass. Nothing "
                                    "else is called. The file is imported, so its top-level code runs (in a "
                                    "separate process): training must be under `if __name__ == '__main__':`",
                                    min_length=3, max_length=4096)],
        input_shapes: Annotated[list[list[int]], Field(description="shape of each example model input, batch "
                                                       "first, e.g. [[1, 64]] or [[1, 3, 32, 32]]",
                                                       min_length=1, max_length=8)],
        ctx: Context,
        model_kwargs: Annotated[dict[str, Any] | None, Field(description="keyword arguments for the factory")] = None,
        input_dtype: Annotated[DType, Field(description="dtype of the example inputs (int64 for token ids)")] = (
            "float32"),
        formats: Annotated[list[Format] | None, Field(description="formats to write; default: every available one "
                                                      "(onnx needs the onnx package)")] = None,
        output_dir: Annotated[str | None, Field(description="folder for the files; default: <run folder>/export",
                                                max_length=4096)] = None,
        fuse: Annotated[bool, Field(description="evaluate each Linear/Conv and its dendrites as one stacked layer "
                                    "(default); false keeps separate copies, for a backend where the wide "
                                    "layer turns out slower")] = True,
    ) -> ExportResult:
        """Export the best model of a finished dendrite run for deployment: load its weights into a fresh
        instance of the user's architecture, replace every perforated layer by a lean inference layer (a
        Linear/Conv and its dendrites fused into one layer where the math allows; no tracker or training
        state), write TorchScript, torch.export (.pt2) and ONNX files, then run each file on example inputs
        and report the largest difference from the eager model. Writes files. Runs the user's code: the model
        definition file is imported (its top-level code runs) in a separate process with a time limit, after
        the spec is checked statically to name a class or function defined in a project file, or an
        installed nn.Module subclass."""
        roots = await workspace.roots(ctx)
        checkpoint = workspace.locate(source, roots)
        if not checkpoint.exists():
            raise ToolError(f"{checkpoint} does not exist. Pass the run folder named after save_name (default "
                            "'PAI') or its best_model.pt.")
        out_dir = workspace.locate(output_dir, roots) if output_dir else None
        if any(size < 1 for shape in input_shapes for size in shape) or not all(input_shapes):
            raise ToolError(f"input_shapes {input_shapes} must list positive sizes per input, batch first, "
                            "e.g. [[1, 64]].")
        try:  # the report comes back as JSON: nothing the model file does can run code in this process
            data = await run_in_fresh_process(
                "pai_core.export:export_run", checkpoint, model, input_shapes, model_kwargs=model_kwargs or {},
                input_dtype=input_dtype, formats=formats, out_dir=out_dir, fuse=fuse, roots=list(roots),
                timeout_s=EXPORT_TIMEOUT_S, memory_mb=EXPORT_MEMORY_MB)
        except IsolatedError as error:
            if "PAIError" in error.kinds:  # a refused spec, a bad checkpoint, a format that failed: it says why
                raise ToolError(str(error)) from None
            if error.kinds:  # raised by the user's model code: report it, never crash
                raise ToolError(f"Export failed: {error.kinds[0]}: {error}. Check that the model builds the "
                                "trained architecture and that input_shapes fit its forward.") from None
            raise ToolError(f"The export process did not finish: {error}. Export a smaller model or fewer "
                            "formats, or run `pai export` in a terminal.") from None
        return ExportResult(**data, summary=_summary(data))


def _summary(data: dict[str, Any]) -> str:
    """The report's text form, rebuilt from its JSON (pai_core.export's dataclasses are plain and torch-free)."""
    from pai_core.export import ExportedFile, ExportReport

    files = [ExportedFile(**f) for f in data["files"]]
    return ExportReport(**{**data, "files": files}).to_text()
