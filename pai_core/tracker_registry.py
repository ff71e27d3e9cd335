"""Which tracker belongs to which model, and `GPA.pai_tracker`, the upstream-style facade.

A weak registry keyed by the model (a second model in the same process has its own tracker); the facade
forwards to the most recently attached tracker, as upstream's single global tracker did.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any

from torch import nn

from pai_core.errors import TrackerNotReadyError
from pai_core.upstream_names import LEGACY_TRACKER_METHODS

_REGISTRY: weakref.WeakKeyDictionary[nn.Module, Any] = weakref.WeakKeyDictionary()
_LATEST: list[Any] = []  # the most recently attached tracker
_LOCK = threading.Lock()


def register(model: nn.Module, tracker: Any, *, latest: bool = False) -> None:
    """`tracker` tracks `model` from now on (and, with latest=True, is what GPA.pai_tracker forwards to)."""
    with _LOCK:
        _REGISTRY[model] = tracker
        if latest:
            _LATEST[:] = [tracker]


def tracker_for(model: nn.Module) -> Any:
    """The tracker attached to `model` (or to the model inside a DataParallel/DDP wrapper), else None."""
    tracker = _REGISTRY.get(model)
    if tracker is None and isinstance(getattr(model, "module", None), nn.Module):
        tracker = _REGISTRY.get(model.module)
    return tracker


def latest_tracker() -> Any:
    if not _LATEST:
        raise TrackerNotReadyError("No tracker exists yet: call UPA.perforate_model(model, ...) first; it creates "
                                   "the tracker that GPA.pai_tracker forwards to.")
    return _LATEST[0]


def tracker_or_latest(model: nn.Module) -> Any:
    """The model's own tracker, else the latest one, else None (upstream's save/load functions)."""
    return tracker_for(model) or (_LATEST[0] if _LATEST else None)


class TrackerFacade:
    """`GPA.pai_tracker`: forwards every attribute to the most recently attached tracker."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(latest_tracker(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(latest_tracker(), name, value)

    def __repr__(self) -> str:
        return f"<pai_tracker -> {_LATEST[0]!r}>" if _LATEST else "<pai_tracker: no model perforated yet>"


pai_tracker = TrackerFacade()

# Upstream's camelCase tracker methods (the 2024 API) -> the method each one is.
CAMEL_CASE_METHODS = {camel: renamed.name for camel, renamed in LEGACY_TRACKER_METHODS.items()
                      if renamed.name != "member_vars"}  # memberVars keeps the 2024 keys: pai_core.legacy


def with_camel_case_names(cls: type) -> type:
    """Class decorator: every CAMEL_CASE_METHODS name is the same function as its snake_case method."""
    for camel, snake in CAMEL_CASE_METHODS.items():
        setattr(cls, camel, getattr(cls, snake))
    return cls
