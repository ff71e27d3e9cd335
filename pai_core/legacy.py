"""The 2024 camelCase API (`pb_globals` / `globalsFile`, `pb_utils`, `pb_models`, `pb_network`) mapped onto
today's: module-attribute config is GPA.pc, `pbTracker` forwards camelCase calls to the current tracker with the
return shapes of the old releases. Nothing here has behaviour of its own.
"""
from __future__ import annotations

import difflib
import types
from typing import Any

from pai_core.config import pc
from pai_core.errors import TrackerNotReadyError, UnknownOptionError
from pai_core.options import LEGACY_CONSTANTS, LEGACY_OPTIONS

# camelCase tracker calls -> today's method names (the Tracker class also has most as aliases)
_TRACKER_METHODS = {
    "addValidationScore": "add_validation_score", "addExtraScore": "add_extra_score",
    "addExtraScoreWithoutGraphing": "add_extra_score_without_graphing", "addTestScore": "add_test_score",
    "setOptimizer": "set_optimizer", "setScheduler": "set_scheduler", "setupOptimizer": "setup_optimizer",
    "setOptimizerInstance": "set_optimizer_instance", "startEpoch": "start_epoch", "stopEpoch": "stop_epoch",
    "saveGraphs": "save_graphs", "addLoss": "add_loss", "addLearningRate": "add_learning_rate",
}
_MEMBER_VARS = {"numEpochsRun": "num_epochs_run", "numPBNeuronLayers": "num_dendrites_added",
                "numDendritesAdded": "num_dendrites_added", "numCycles": "num_cycles", "doingPB": "doing_pai",
                "maximizingScore": "maximizing_score", "switchEpochs": "switch_epochs",
                "currentBestValidationScore": "current_best_validation_score",
                "globalBestValidationScore": "global_best_validation_score"}


class LegacyTracker:
    """`PBG.pbTracker`: the 2024 tracker calls on today's tracker (the most recently perforated model's)."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None  # settings of initialize() called before any conversion

    @property
    def _tracker(self):
        from pai_core.tracker import latest_tracker

        return latest_tracker()

    def initialize(self, model=None, doingPB: bool = True, saveName: str = "PB", makingGraphs: bool = True,
                   maximizingScore: bool = True, num_classes: int = 10_000_000_000, values_per_train_epoch: int = -1,
                   values_per_val_epoch: int = -1, zoomingGraph: bool = True, **_ignored: Any):
        """With a model (later 2024): perforate it and return it. Without (early 2024, after
        `PBU.convertNetwork(model)`): attach the run's tracker to the network that call converted."""
        target = model if model is not None else _LAST_CONVERTED.get("model")
        if target is None:
            raise TrackerNotReadyError("pbTracker.initialize() needs the model: call `model = "
                                     "PBU.convertNetwork(model)` first, or `model = PBU.initializePB(model, ...)`.")
        return initializePB(target, doingPB=doingPB, saveName=saveName, makingGraphs=makingGraphs,
                            maximizingScore=maximizingScore, num_classes=num_classes,
                            values_per_train_epoch=values_per_train_epoch, values_per_val_epoch=values_per_val_epoch,
                            zoomingGraph=zoomingGraph, _converted=model is None)

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
        view.update({old: view[new] for old, new in _MEMBER_VARS.items() if new in view})
        return view

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._tracker, _TRACKER_METHODS.get(name, name))


pbTracker = LegacyTracker()
_LAST_CONVERTED: dict[str, Any] = {}


def convertNetwork(net, layerName: str = ""):
    """Wrap the modules for dendrites (no tracker yet: the early-2024 `pbTracker.initialize(...)` attaches it)."""
    from pai_core.perforate import convert_network

    model = convert_network(net, pc.config.copy())
    _LAST_CONVERTED["model"] = model
    return model


def initializePB(model, doingPB: bool = True, saveName: str = "PB", makingGraphs: bool = True,
                 maximizingScore: bool = True, num_classes: int = 10_000_000_000, values_per_train_epoch: int = -1,
                 values_per_val_epoch: int = -1, zoomingGraph: bool = True, _converted: bool = False):
    """`UPA.perforate_model` under its 2024 name and keywords; returns the model to use."""
    from pai_core.perforate import perforate_model
    from pai_core.tracker import attach_tracker

    _LAST_CONVERTED.pop("model", None)
    if not _converted:
        return perforate_model(model, doing_pai=doingPB, save_name=saveName, making_graphs=makingGraphs,
                               maximizing_score=maximizingScore, num_classes=num_classes,
                               values_per_train_epoch=values_per_train_epoch,
                               values_per_val_epoch=values_per_val_epoch, zooming_graph=zoomingGraph)
    config = pc.config.copy()
    config.save_name, config.maximizing_score = saveName, bool(maximizingScore)
    attach_tracker(model, config, save_name=saveName, maximizing_score=bool(maximizingScore), doing_pai=doingPB,
                   making_graphs=makingGraphs, num_classes=num_classes,
                   values_per_train_epoch=values_per_train_epoch, values_per_val_epoch=values_per_val_epoch,
                   zooming_graph=zoomingGraph)
    return model


class LegacyGlobals(types.ModuleType):
    """The module type of `pb_globals`: 2024 attributes read and write GPA.pc's options."""

    def __getattr__(self, name: str) -> Any:
        if name in LEGACY_CONSTANTS:
            return LEGACY_CONSTANTS[name]
        if name in LEGACY_OPTIONS:
            return getattr(pc, LEGACY_OPTIONS[name])  # lists are the live ones, so `.append` configures
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
