"""The 2024 camelCase API (`pb_globals` / `globalsFile`, `pb_utils`, `pb_models`, `pb_network`) mapped onto
today's: module-attribute config is GPA.pc, `pbTracker` forwards camelCase calls to the current tracker with the
return shapes of the old releases. Nothing here has behaviour of its own.
"""
from __future__ import annotations

import difflib
import functools
import importlib
import types
from typing import Any

from pai_core.config import pc
from pai_core.errors import TrackerNotReadyError, UnknownOptionError
from pai_core.options import LEGACY_CONSTANTS, LEGACY_OPTIONS
from pai_core.upstream_names import (
    INITIALIZE,
    LEGACY_MEMBER_VARS,
    LEGACY_MEMBERS,
    LEGACY_TRACKER_METHODS,
    current_keywords,
)


class LegacyTracker:
    """`PBG.pbTracker`: the 2024 tracker calls on today's tracker (the most recently perforated model's)."""

    @property
    def _tracker(self):
        from pai_core.tracker import latest_tracker

        return latest_tracker()

    def initialize(self, *args: Any, **kwargs: Any):
        """With a model (later 2024): perforate it and return it. Without (early 2024, after
        `PBU.convertNetwork(model)`): attach the run's tracker to the network that call converted."""
        settings = current_keywords(INITIALIZE, args, kwargs)
        model = settings.pop("model", None)
        if model is not None:
            return perforate_model_2024(model, settings)
        target = _LAST_CONVERTED.pop("model", None)
        if target is None:
            raise TrackerNotReadyError("pbTracker.initialize() needs the model: call `model = "
                                       "PBU.convertNetwork(model)` first, or `model = PBU.initializePB(model, ...)`.")
        from pai_core.tracker import attach_tracker

        config = pc.config.copy()
        settings["maximizing_score"] = bool(settings["maximizing_score"])
        config.save_name, config.maximizing_score = settings["save_name"], settings["maximizing_score"]
        attach_tracker(target, config, **settings)
        return target

    def addValidationScore(self, accuracy: Any, net, saveName: str | None = None, forceSwitch: bool = False):
        """Early 2024 passed the save name and got (model, improved, restructured, trainingComplete); later
        2024 passed (score, model) and got (model, restructured, trainingComplete), as today."""
        tracker = self._tracker
        best_before = tracker.state.global_best_validation_score
        model, restructured, complete = tracker.add_validation_score(accuracy, net, force_switch=forceSwitch)
        if saveName is None:
            return model, restructured, complete
        improved = tracker.state.global_best_validation_score != best_before and not restructured
        return model, improved, restructured, complete

    @property
    def memberVars(self) -> dict:
        """A snapshot of the state with the 2024 key names added next to today's."""
        view = dict(self._tracker.member_vars)
        view.update({old: view[new] for old, new in LEGACY_MEMBER_VARS.items() if new in view})
        return view

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        renamed = LEGACY_TRACKER_METHODS.get(name)
        return getattr(self._tracker, renamed.name if renamed else name)


pbTracker = LegacyTracker()
_LAST_CONVERTED: dict[str, Any] = {}


def convertNetwork(net, layerName: str = ""):
    """Wrap the modules for dendrites (no tracker yet: the early-2024 `pbTracker.initialize(...)` attaches it)."""
    from pai_core.perforate import convert_network

    model = convert_network(net, pc.config.copy())
    _LAST_CONVERTED["model"] = model
    return model


def initializePB(model, *args: Any, **kwargs: Any):
    """`UPA.perforate_model` under its 2024 name, keywords and defaults; returns the model to use."""
    return perforate_model_2024(model, current_keywords(INITIALIZE, (model, *args), kwargs))


def perforate_model_2024(model, settings: dict[str, Any]):
    from pai_core.perforate import perforate_model

    _LAST_CONVERTED.pop("model", None)
    settings.pop("model", None)
    return perforate_model(model, **settings)


def legacy_member(module: str, name: str) -> Any:
    """A function or class of a 2024 module (LEGACY_MEMBERS): today's object, 2024 keywords translated."""
    renamed = LEGACY_MEMBERS[module].get(name)
    if renamed is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r} (pai maps the 2024 names in the "
                             "README's upstream-names table)")
    package = renamed.module if "." in renamed.module else f"pai_core.{renamed.module}"
    target = getattr(importlib.import_module(package), renamed.name)
    if not renamed.keywords or isinstance(target, type):
        return target

    @functools.wraps(target)
    def call(*args: Any, **kwargs: Any) -> Any:
        return target(**current_keywords(renamed, args, kwargs))
    return call


class LegacyGlobals(types.ModuleType):
    """The module type of `pb_globals`: 2024 attributes read and write GPA.pc's options."""

    def __getattr__(self, name: str) -> Any:
        if name in LEGACY_CONSTANTS:
            return LEGACY_CONSTANTS[name]
        if name in LEGACY_OPTIONS:
            return getattr(pc, LEGACY_OPTIONS[name])  # lists are the live ones, so `.append` configures
        if name in LEGACY_MEMBERS["pb_globals"]:
            return legacy_member("pb_globals", name)
        raise AttributeError(f"module 'pb_globals' has no attribute {name!r}{_hint(name)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in LEGACY_OPTIONS:
            getattr(pc, f"set_{LEGACY_OPTIONS[name]}")(value)
            return
        hint = _hint(name, cutoff=0.85)
        if hint:  # a misspelt option would otherwise be stored and silently ignored
            raise UnknownOptionError(f"pb_globals has no option {name!r}{hint}")
        super().__setattr__(name, value)  # the script's own values (PBG.saveName, PBG.metric, ...)


def _hint(name: str, cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(name, [*LEGACY_OPTIONS, *LEGACY_CONSTANTS], n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""
