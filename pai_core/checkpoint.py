"""Crash-safe checkpoints: safetensors files whose metadata carries the tracker state as JSON.

Every file is written to a temporary name in the same folder and then moved into place with os.replace, so a
process killed at any moment leaves either the previous complete file or the new complete file, never a torn one.
Upstream names its safetensors files "*.pt"; we keep that so upstream recipes (`load_system(model, save_name,
"latest", True)`) find them.
"""
from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import threading
import weakref
from array import array
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from pai_core.errors import CheckpointError

TRACKER_KEY = "pai_tracker"
__all__ = [
    "CheckpointError",
    "CheckpointLayout",
    "atomic_write_bytes",
    "atomic_write_text",
    "checkpoint_exists",
    "checkpoint_from_bytes",
    "load_checkpoint",
    "load_into_model",
    "save_checkpoint",
    "swap_write_bytes",
]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that readers only ever see the old or the new complete file."""
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"  # unique per process and thread, same folder
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _next_path(path: str) -> str:
    return f"{path}.next"


def swap_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace `path` with `data` in tens of microseconds, for files rewritten every epoch.

    os.replace over an existing file makes ext4 flush the new data first (~1 ms here, a third of a tiny model's
    epoch). Renaming onto a free name does not: write `<path>.next`, unlink `path`, rename. A kill between those
    steps leaves a complete `.next` and no `path`; `load_checkpoint` and the next swap pick it up. Survives a
    killed process (the page cache is the kernel's); unlike atomic_write_bytes it does not ask ext4 to order
    data before the rename for power loss.
    """
    path = os.fspath(path)
    pending = _next_path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(pending, flags, 0o644)
    except FileExistsError:  # left by a killed swap
        if os.path.exists(path):  # killed while writing .next: it may be torn
            os.unlink(pending)
        else:  # killed after the unlink: .next is the complete file
            os.rename(pending, path)
        fd = os.open(pending, flags, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(pending, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.rename(pending, path)


def checkpoint_exists(path: str | os.PathLike) -> bool:
    """Whether `path`, or the complete `.next` a killed swap_write_bytes left instead of it, exists."""
    return os.path.isfile(path) or os.path.isfile(_next_path(os.fspath(path)))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _skip(key: str, not_save: list[str]) -> bool:
    return any(key.startswith(prefix.lstrip(".")) for prefix in not_save if prefix.lstrip("."))


def savable_tensors(state_dict: dict[str, torch.Tensor], not_save: list[str] = ()) -> dict[str, torch.Tensor]:
    """Detached, contiguous CPU tensors with no shared storage (safetensors refuses shared tensors)."""
    seen: set[tuple[int, int]] = set()
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if not isinstance(value, torch.Tensor) or _skip(key, list(not_save)):
            continue
        tensor = value.detach()
        ident = (tensor.untyped_storage().data_ptr(), tensor.untyped_storage().nbytes()) if tensor.numel() else None
        if ident is not None and ident in seen:
            tensor = tensor.clone()
        elif ident is not None:
            seen.add(ident)
        out[key] = tensor.to("cpu").contiguous()
    return out


_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
           torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
           torch.bool: "BOOL"}


def safetensors_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    """Serialise to the safetensors format directly (one header + raw little-endian buffers).

    The same format safetensors.torch.save produces, for a fraction of its per-tensor Python overhead, which
    matters when a tiny model is checkpointed every epoch: the header is formatted directly and the data is
    gathered with one torch.cat. Falls back to the library for dtypes not listed here.
    """
    parts, chunks, offset = ['{"__metadata__":', json.dumps(metadata, separators=(",", ":"))], [], 0
    for key in sorted(tensors):
        value = tensors[key].detach()
        if value.dtype not in _DTYPES:
            return st_save(savable_tensors(tensors), metadata=metadata)
        size = value.numel() * value.element_size()
        parts.append(_entry(key, _DTYPES[value.dtype], value.shape, offset, size))
        if size:
            chunks.append(value.contiguous().reshape(-1).view(torch.uint8))
        offset += size
    head = ("".join(parts) + "}").encode("utf-8")
    head += b" " * (-len(head) % 8)
    data = torch.cat(chunks).cpu().numpy().tobytes() if chunks else b""
    return len(head).to_bytes(8, "little") + head + data


@functools.lru_cache(maxsize=4096)
def _quoted(key: str) -> str:
    return json.dumps(key)


_generation = 0


def _structure_changed(*_args: Any) -> None:
    global _generation
    _generation += 1


# Any parameter, buffer or submodule (re)registration anywhere in the process invalidates the cached layouts
# below; in-place updates (optimizer steps, load_state_dict) keep them valid.
torch.nn.modules.module.register_module_parameter_registration_hook(_structure_changed)
torch.nn.modules.module.register_module_buffer_registration_hook(_structure_changed)
torch.nn.modules.module.register_module_module_registration_hook(_structure_changed)


def structure_generation() -> int:
    """A number that changes whenever a module anywhere registers a parameter, buffer or submodule."""
    return _generation


class CheckpointLayout:
    """A checkpoint rewritten every epoch from the same tensors: header and flat buffer laid out once.

    Each `to_bytes` copies the tensors' current values in with one torch._foreach_copy_ and appends `extra`
    tensors whose sizes change between calls (score histories). Callers rebuild the layout when the tensors
    change (see `structure_generation`).
    """

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        # Larger elements first, so every tensor starts at an offset aligned to its element size (no holes).
        keys = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
        self.sources = [tensors[k] for k in keys]
        sizes = [t.numel() * t.element_size() for t in self.sources]
        self.buffer = torch.empty(sum(sizes), dtype=torch.uint8)
        self.targets, parts, offset = [], [], 0
        for key, tensor, size in zip(keys, self.sources, sizes):
            self.targets.append(self.buffer[offset:offset + size].view(tensor.dtype).view(tensor.shape))
            parts.append(_entry(key, _DTYPES[tensor.dtype], tensor.shape, offset, size))
            offset += size
        self.entries = "".join(parts)

    @staticmethod
    def supports(tensors: dict[str, torch.Tensor]) -> bool:
        return all(t.dtype in _DTYPES for t in tensors.values())

    def to_bytes(self, metadata: dict[str, str], extra: dict[str, array] | None = None) -> bytes:
        """The checkpoint's bytes; `extra` holds float64 series (score histories) appended after the tensors."""
        with torch.no_grad():
            if self.sources:
                torch._foreach_copy_(self.targets, self.sources)
        parts = ['{"__metadata__":', json.dumps(metadata, separators=(",", ":")), self.entries]
        offset, tail = self.buffer.numel(), []
        for key in sorted(extra or {}):
            series = extra[key]
            size = len(series) * series.itemsize
            parts.append(_entry(key, "F64", (len(series),), offset, size))
            tail.append(series.tobytes())
            offset += size
        head = ("".join(parts) + "}").encode("utf-8")
        head += b" " * (-len(head) % 8)
        return b"".join([len(head).to_bytes(8, "little"), head, self.buffer.numpy().tobytes(), *tail])


def series_tensor(series: array) -> torch.Tensor:
    """A float64 array('d') as a tensor (sharing its memory)."""
    return torch.frombuffer(series, dtype=torch.float64) if len(series) else torch.zeros(0, dtype=torch.float64)


def _entry(key: str, dtype: str, shape: tuple[int, ...], offset: int, size: int) -> str:
    """One tensor's entry of a safetensors header, with its leading comma."""
    dims = ",".join(map(str, shape))
    return f',{_quoted(key)}:{{"dtype":"{dtype}","shape":[{dims}],"data_offsets":[{offset},{offset + size}]}}'


def checkpoint_bytes(state_dict: dict[str, torch.Tensor | array], tracker_state: dict[str, Any] | None = None,
                     not_save: list[str] = ()) -> bytes:
    """A safetensors file's bytes; `tracker_state` goes into the metadata as JSON."""
    metadata = {"format": "pt"}
    if tracker_state is not None:
        metadata[TRACKER_KEY] = json.dumps(tracker_state)
    skip = tuple(prefix.lstrip(".") for prefix in not_save if prefix.lstrip("."))
    tensors = {k: series_tensor(v) if isinstance(v, array) else v for k, v in state_dict.items()
               if isinstance(v, (torch.Tensor, array)) and not (skip and k.startswith(skip))}
    return safetensors_bytes(tensors, metadata)


def save_checkpoint(path: str | os.PathLike, state_dict: dict[str, torch.Tensor],
                    tracker_state: dict[str, Any] | None = None, not_save: list[str] = ()) -> None:
    """Atomically write a safetensors checkpoint; `tracker_state` goes into the metadata as JSON."""
    atomic_write_bytes(path, checkpoint_bytes(state_dict, tracker_state, not_save))


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    """Return (state_dict, tracker_state or None) of a checkpoint written by save_checkpoint or upstream."""
    path = Path(path)
    if not path.is_file() and os.path.isfile(_next_path(str(path))):
        path = Path(_next_path(str(path)))  # a swap_write_bytes killed between its unlink and rename
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}. Check the save_name/folder and the checkpoint name "
                              "('latest', 'best_model', ...).")
    return checkpoint_from_bytes(path.read_bytes(), str(path))


def checkpoint_from_bytes(data: bytes, source: str = "checkpoint") -> tuple[dict[str, torch.Tensor], dict | None]:
    """load_checkpoint for bytes already in memory."""
    try:
        tensors = st_load(data)
        header_len = int.from_bytes(data[:8], "little")  # safetensors layout: u64 length + JSON header
        metadata = json.loads(data[8:8 + header_len]).get("__metadata__") or {}
    except Exception as exc:  # not a safetensors file
        raise CheckpointError(f"{source} is not a readable safetensors checkpoint ({exc}).") from exc
    raw = metadata.get(TRACKER_KEY)
    return tensors, (json.loads(raw) if raw else None)


def load_into_model(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], *, strict: bool = True,
                    not_save: list[str] = (), source: str = "checkpoint") -> None:
    """Resize dendrite counts to what `state_dict` holds, then load it into `model` (same object)."""
    from pai_core.modules import prepare_to_load

    state_dict = prepare_to_load(model, state_dict)
    result = model.load_state_dict(state_dict, strict=False)
    missing = [k for k in result.missing_keys if not _skip(k, list(not_save))]
    unexpected = [k for k in result.unexpected_keys if not _skip(k, list(not_save))]
    if strict and (missing or unexpected):
        raise CheckpointError(
            f"{source} does not fit this model: missing keys {missing[:8]}, unexpected keys {unexpected[:8]}. "
            "Perforate the model with the same settings as the run that wrote it, or set "
            "strict_loading=False to load what matches.")


class BackgroundWriter:
    """One daemon thread per run that performs the atomic file writes off the training thread.

    Replacing a file costs ~1 ms on ext4 (it flushes data on rename), several times a tiny model's epoch, so
    files are handed over as finished bytes and written in the order submitted; the newest content per path wins
    (a path is never queued twice). `flush()` waits until everything is on disk.
    """

    def __init__(self) -> None:
        self._pending: dict[Path, bytes] = {}
        self._cond = threading.Condition()
        self._busy = False
        self._errors: list[BaseException] = []
        self._thread: threading.Thread | None = None
        _WRITERS.add(self)

    def submit(self, path: str | os.PathLike, data: bytes) -> None:
        """Queue `data` for `path`."""
        with self._cond:
            self._pending[Path(path)] = data
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pai-run-writer", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                path = next(iter(self._pending))
                data = self._pending.pop(path)
                self._busy = True
            try:
                atomic_write_bytes(path, data)
            except BaseException as exc:  # reported by the next flush()
                with self._cond:
                    self._errors.append(exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def flush(self) -> None:
        """Block until every submitted file is written; re-raise the first write error, if any."""
        with self._cond:
            while self._pending or self._busy:
                self._cond.wait()
            errors, self._errors = self._errors, []
        if errors:
            raise errors[0]


_WRITERS: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()


@atexit.register
def _flush_all_writers() -> None:
    for writer in list(_WRITERS):
        try:
            writer.flush()
        except Exception as exc:  # pragma: no cover - best effort at interpreter exit
            logging.getLogger("pai_core.tracker").warning("could not finish writing run files: %s", exc)
