"""Reading a run's weights for inference: the checkpoint file of a run folder, its model tensors, its config.

Tracker files (pai_core.checkpoint), safetensors files and torch.save'd state dicts all read to one flat dict
of model weights; tracker history and optimizer state are left out.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from pai_core.errors import CheckpointError

__all__ = ["find_checkpoint", "read_weights", "run_config"]

log = logging.getLogger(__name__)

_TRAINING_ONLY = ("__pai_state__.", "__optimizer__.")  # tracker history and optimizer state in tracker files


def find_checkpoint(source: str | Path) -> Path:
    """The weights file of a run folder (best_model.pt) or the file itself."""
    path = Path(source).expanduser()
    if path.is_dir():
        best = path / "best_model.pt"
        if best.is_file():
            return best
        found = sorted(p.name for p in path.glob("*.pt")) + sorted(p.name for p in path.glob("*.safetensors"))
        listing = f" It holds {', '.join(found[:8])}; pass one of them explicitly." if found else (
            " It holds no checkpoint: pass the run folder named after save_name (default 'PAI') that a run with "
            "test_saves=True wrote, or a .pt/.safetensors file.")
        raise CheckpointError(f"No best_model.pt in {path}.{listing}")
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist: pass a run folder (it holds best_model.pt) or a checkpoint "
                              "file (.pt or .safetensors).")
    return path


def read_weights(source: str | Path | Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(model weights, checkpoint metadata) of a run folder, a tracker/safetensors file or a torch.save file.

    Tracker history and optimizer state are dropped, and a DataParallel "module." prefix is removed.
    """
    meta: dict[str, Any] = {}
    if isinstance(source, Mapping):
        tensors = dict(source)
    else:
        path = find_checkpoint(source)
        meta["path"] = str(path)
        try:
            from pai_core.checkpoint import load_checkpoint

            tensors, tracker_meta = load_checkpoint(path)
            meta.update(tracker_meta or {})
        except CheckpointError:
            tensors = _torch_file(path)
    weights = {k: v for k, v in tensors.items() if isinstance(v, torch.Tensor) and not k.startswith(_TRAINING_ONLY)}
    if weights and all(k.startswith("module.") for k in weights):
        weights = {k[len("module."):]: v for k, v in weights.items()}
    if not weights:
        raise CheckpointError(f"{meta.get('path', 'the state dict')} holds no model weights.")
    return weights, meta


def _torch_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file gets the same advice
        raise CheckpointError(f"{path} is neither a safetensors checkpoint nor a torch.save'd state dict ({exc}). "
                              "Pass the best_model.pt of a run folder or a file of model.state_dict().") from exc
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
        return dict(obj)
    raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a state dict; save model.state_dict().")


def run_config(meta: dict[str, Any]) -> Any:
    """The run's PAIConfig from <folder>/<save_name>_config.json beside the checkpoint, else the defaults."""
    from pai_core.config import PAIConfig

    path = meta.get("path")
    if path:
        folder = Path(path).parent
        named = folder / f"{meta.get('save_name') or folder.name}_config.json"
        candidates = [named] if named.is_file() else sorted(folder.glob("*_config.json"))
        if len(candidates) == 1:
            try:
                return PAIConfig.from_json_file(candidates[0])
            except Exception as exc:  # noqa: BLE001 - fall back to the defaults, loudly
                log.warning("could not read %s (%s); using the default dendrite activation", candidates[0], exc)
        log.warning("no <save_name>_config.json beside %s (capacity-test runs write none): assuming the default "
                    "dendrite activation and no processors; pass config=PAIConfig.from_json_file(...) or a config "
                    "with the run's pai_forward_function if the run changed them", path)
    return PAIConfig()

