"""Export an inference model (see pai_core.deploy) to TorchScript, torch.export and ONNX, and prove each file.

Every exported file is loaded back and run on the example inputs; the largest absolute difference from the
eager model is part of the result, so a caller never ships a file that was not executed. ONNX needs the
optional `onnx` package (pip install "pai[export]") and is checked with onnxruntime when that is installed.

torch is imported when an export starts, not with this module: `export_run` refuses a model spec it cannot
vouch for (pai_core.model_spec) before anything heavy loads, and a report crosses a process boundary to a
caller that never imports torch (the MCP server).
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pai_core.errors import PAIError

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportReport",
    "ExportedFile",
    "available_formats",
    "example_inputs",
    "export_model",
    "export_run",
]

log = logging.getLogger(__name__)

FORMATS = ("torchscript", "torch_export", "onnx")
SUFFIXES = {"torchscript": ".torchscript.pt", "torch_export": ".pt2", "onnx": ".onnx"}
DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "bool")  # names of torch dtypes


class ExportError(PAIError, RuntimeError):
    """An export format is unavailable, or exporting / running the exported file failed."""


@dataclass
class ExportedFile:
    format: str
    path: str
    size_bytes: int
    max_abs_diff: float | None  # vs the eager model on the example inputs; None when it could not be run
    seconds: float  # time to export, save and check
    dynamic_batch: bool | None = None  # the file also ran, and matched, at another batch size
    note: str = ""


@dataclass
class ExportReport:
    checkpoint: str
    model: str
    input_shapes: list[list[int]]
    layers: dict[str, int]  # inference module kind -> count (FusedDendrites, DendriteCopies)
    dendrites: int  # dendrites per perforated layer, the largest
    files: list[ExportedFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.layers.items())) or "no dendrite layers"
        lines = [f"Exported {self.model} with the weights of {self.checkpoint}",
                 f"  inference layers: {kinds}; up to {self.dendrites} dendrite(s) per layer",
                 f"  example inputs: {' '.join('x'.join(map(str, s)) for s in self.input_shapes)}"]
        width = max((len(f.format) for f in self.files), default=6)
        for f in self.files:
            diff = "not run" if f.max_abs_diff is None else f"max |diff| vs eager {f.max_abs_diff:.2e}"
            note = f"  ({f.note})" if f.note else ("  (any batch size)" if f.dynamic_batch else "")
            lines.append(f"  {f.format:<{width}}  {f.path}  {f.size_bytes:,} bytes  {diff}{note}")
        return "\n".join(lines)


def available_formats() -> list[str]:
    """The formats this environment can write (ONNX needs the `onnx` package)."""
    return [f for f in FORMATS if f != "onnx" or importlib.util.find_spec("onnx") is not None]


def example_inputs(shapes: Sequence[Sequence[int]], dtype: str = "float32", seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Seeded example tensors of the given shapes (integers are 0/1, valid indices for any embedding)."""
    import torch

    if dtype not in DTYPES:
        raise ExportError(f"Unknown input dtype {dtype!r}; use one of {', '.join(DTYPES)}.")
    if not shapes:
        raise ExportError("Give the shape of every model input, e.g. --input-shape 1,64 (batch first).")
    generator = torch.Generator().manual_seed(seed)
    kind = getattr(torch, dtype)
    tensors = []
    for shape in shapes:
        shape = [int(s) for s in shape]
        if not shape or any(s < 1 for s in shape):
            raise ExportError(f"Input shape {shape} must be a list of positive sizes, batch first, e.g. [2, 64].")
        if kind.is_floating_point:
            tensors.append(torch.randn(shape, generator=generator).to(kind))
        else:
            tensors.append(torch.randint(0, 2, shape, generator=generator).to(kind))
    return tuple(tensors)


# ------------------------------------------------------------------------------------------------ the formats
@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch 2.13 deprecates torch.jit and the legacy ONNX exporter with warnings on every call: the formats
    still work, and the user asked for them."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        yield


def _leaves(value: Any) -> list[torch.Tensor]:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _leaves(v)]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _leaves(v)]
    return []


def _resized(tensor: torch.Tensor, batch: int) -> torch.Tensor:
    """`tensor` with `batch` rows along the first axis (rows repeated cyclically)."""
    import torch

    index = torch.arange(batch) % tensor.shape[0]
    return tensor.index_select(0, index)


def _batch_is_free(run: Callable[..., Any], model: nn.Module, inputs: tuple) -> bool:
    """Whether the exported file also runs, and matches eager, at another batch size."""
    import torch

    if not all(t.dim() for t in inputs):
        return False
    other = tuple(_resized(t, t.shape[0] + 2) for t in inputs)
    try:
        with torch.no_grad():
            return _max_diff(run(*other), model(*other)) < 1e-3
    except Exception:  # noqa: BLE001 - a shape baked into the file: that is the answer
        return False


def _max_diff(got: Any, want: Any) -> float:
    import torch

    got, want = _leaves(got), _leaves(want)
    if len(got) != len(want):
        raise ExportError(f"The exported model returned {len(got)} tensors, the eager model {len(want)}.")
    diffs = [float((torch.as_tensor(g).to(w.dtype) - w).abs().max()) if w.numel() else 0.0
             for g, w in zip(got, want)]
    return max(diffs, default=0.0)


def _torchscript(model: nn.Module, inputs: tuple, path: Path) -> tuple[Callable[..., Any], str]:
    import torch

    with _quiet(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, inputs, check_trace=False)
        torch.jit.save(traced, str(path))
        loaded = torch.jit.load(str(path), map_location="cpu")
    frozen = sum(issubclass(w.category, torch.jit.TracerWarning) for w in caught)
    note = (f"the tracer froze {frozen} data-dependent Python decision(s) at the example inputs; check the file "
            "on real inputs" if frozen else "")
    return loaded, note


def _torch_export(model: nn.Module, inputs: tuple, path: Path) -> tuple[Callable[..., Any], str]:
    import torch
    from torch.export import Dim

    dynamic = tuple({0: Dim.AUTO} for _ in inputs)  # batch size free where the model allows it
    inputs = tuple(_resized(t, 2) if t.dim() and t.shape[0] == 1 else t for t in inputs)  # 1 would be frozen
    with _quiet():
        program = torch.export.export(model, inputs, dynamic_shapes=dynamic)
        torch.export.save(program, str(path))
        loaded = torch.export.load(str(path))
    return loaded.module(), ""


def _onnx(model: nn.Module, inputs: tuple, path: Path) -> tuple[Callable[..., Any] | None, str]:
    if importlib.util.find_spec("onnx") is None:
        raise ExportError('ONNX export needs the onnx package: pip install "pai[export]" (onnx and onnxruntime).')
    import torch

    names = [f"input_{i}" for i in range(len(inputs))]
    results = _leaves(model(*inputs))
    outputs = [f"output_{i}" for i in range(len(results))]
    batched = names + [name for name, result in zip(outputs, results) if result.dim()]
    with _quiet():
        try:  # the TorchScript-based exporter: deprecated, but needs nothing beyond torch and works offline
            torch.onnx.export(model, inputs, str(path), input_names=names, output_names=outputs, dynamo=False,
                              dynamic_axes={name: {0: "batch"} for name in batched})
        except Exception:
            if importlib.util.find_spec("onnxscript") is None:  # the torch.export-based one needs onnxscript
                raise
            from torch.export import Dim

            torch.onnx.export(model, inputs, str(path), input_names=names, dynamo=True, external_data=False,
                              dynamic_shapes=tuple({0: Dim.AUTO} for _ in inputs))
    import onnx

    onnx.checker.check_model(onnx.load(str(path)))
    if importlib.util.find_spec("onnxruntime") is None:
        return None, "onnxruntime not installed: file checked with onnx.checker, not run"
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(*args: torch.Tensor) -> list[torch.Tensor]:
        feeds = {name: arg.detach().cpu().numpy() for name, arg in zip(names, args)}
        return [torch.from_numpy(out) for out in session.run(None, feeds)]

    return run, ""


_EXPORTERS = {"torchscript": _torchscript, "torch_export": _torch_export, "onnx": _onnx}


def export_model(model: nn.Module, inputs: tuple[torch.Tensor, ...], out_dir: str | Path, *,
                 formats: Sequence[str] | None = None, name: str = "model") -> list[ExportedFile]:
    """Write `model` in each format to out_dir/<name><suffix>, run each file and compare with eager `model`.

    `formats` default: every available one. A format that fails raises ExportError naming the format.
    """
    import torch

    formats = list(formats) if formats else available_formats()
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"Unknown export format(s) {unknown}; choose from {', '.join(FORMATS)}.")
    model = model.eval()
    try:
        with torch.no_grad():
            expected = model(*inputs)
    except Exception as exc:  # wrong shapes are the usual cause
        shapes = [list(t.shape) for t in inputs]
        raise ExportError(f"{type(model).__name__} does not run on example inputs of shapes {shapes} "
                          f"({type(exc).__name__}: {exc}). Pass the shape of a real input batch, batch first "
                          "(--input-shape / input_shapes), and the dtype for token ids (int64).") from exc
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for fmt in formats:
        path = out / f"{name}{SUFFIXES[fmt]}"
        start = time.perf_counter()
        try:
            with torch.no_grad():
                run, note = _EXPORTERS[fmt](model, inputs, path)
                diff = None if run is None else _max_diff(run(*inputs), expected)
                free = None if run is None else _batch_is_free(run, model, inputs)
        except ExportError:
            raise
        except Exception as exc:  # any exporter failure gets the format named
            raise ExportError(f"{fmt} export of {type(model).__name__} failed: {type(exc).__name__}: {exc}") from exc
        if free is False:
            fixed = "the batch size is fixed at the example's: export with the batch size you will serve"
            note = f"{note}; {fixed}" if note else fixed
        files.append(ExportedFile(fmt, str(path), path.stat().st_size, diff, time.perf_counter() - start, free,
                                  note))
        log.info("exported %s (%d bytes, max |diff| %s)", path, path.stat().st_size, diff)
    return files


def export_run(source: str | Path, model: str | nn.Module, input_shapes: Sequence[Sequence[int]], *,
               model_kwargs: Mapping[str, Any] | None = None, input_dtype: str = "float32",
               formats: Sequence[str] | None = None, out_dir: str | Path | None = None,
               name: str = "model", fuse: bool = True,
               roots: Sequence[str | Path] | None = None) -> ExportReport:
    """Load a run's best model for inference (pai_core.deploy) and export it: what `pai export` does.

    `model` is a "file.py:Name" / "package.module:Class" spec or a fresh plain nn.Module. A spec is vetted
    first (pai_core.model_spec: a model file must lie under `roots` when given), then its file is imported:
    its top-level code runs in this process. Files go to `out_dir` (default: an `export` folder beside the
    checkpoint). `fuse=False` keeps every dendrite a separate copy (see pai_core.deploy), for the rare backend
    where one wide convolution is slower than several.
    """
    from pai_core.model_spec import build_model, vet_model_spec

    spec = vet_model_spec(model, roots) if isinstance(model, str) else None  # refused before anything runs
    from pai_core.deploy import load_for_inference
    from pai_core.run_weights import find_checkpoint

    checkpoint = find_checkpoint(source)
    plain = build_model(spec, model_kwargs) if spec is not None else model
    inference = load_for_inference(plain, checkpoint, fuse=fuse)
    inputs = example_inputs(input_shapes, input_dtype)
    layers: dict[str, int] = {}
    dendrites = 0
    for module in inference.modules():
        count = getattr(module, "num_dendrites", None)
        if type(module).__name__ in ("FusedDendrites", "DendriteCopies") and count is not None:
            layers[type(module).__name__] = layers.get(type(module).__name__, 0) + 1
            dendrites = max(dendrites, int(count))
    target = Path(out_dir) if out_dir is not None else checkpoint.parent / "export"
    files = export_model(inference, inputs, target, formats=formats, name=name)
    return ExportReport(str(checkpoint), model if isinstance(model, str) else type(model).__name__,
                        [list(t.shape) for t in inputs], layers, dendrites, files)
