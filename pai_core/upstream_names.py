"""The 2024 camelCase API's names as data, read by both the runtime drop-in (pai_core.legacy, pb_*.py) and the
`pai migrate` codemod (codemods.migrate), so the two never disagree. The 2024 option attributes and constant
names (LEGACY_OPTIONS, LEGACY_CONSTANT_NAMES) belong to the option schema, pai_core.options.

LEGACY_MODULES: each 2024 module and the current module that replaces it (CURRENT_ALIASES: the names scripts give
those). LEGACY_MEMBERS: functions and classes of the 2024 modules and what they are today, with the keyword
renames and the 2024 defaults that differ from today's. LEGACY_TRACKER_METHODS / LEGACY_MEMBER_VARS:
`pbTracker`'s calls and `memberVars` keys (the tracker's camelCase aliases, pai_core.tracker_registry, read the
former). Pure data: codemods reads it without importing torch.
"""
from __future__ import annotations

from typing import Any, NamedTuple

LEGACY_MODULES: dict[str, str] = {
    "pb_globals": "globals_perforatedai", "globalsFile": "globals_perforatedai", "pb_utils": "utils_perforatedai",
    "pb_models": "library_perforatedai", "pb_network": "library_perforatedai",
}
CURRENT_ALIASES: dict[str, str] = {"globals_perforatedai": "GPA", "utils_perforatedai": "UPA",
                                   "library_perforatedai": "LPA"}


class Renamed(NamedTuple):
    """What a 2024 name is today. `module` is a current module of the package (globals_perforatedai, ...) or a
    full module path (torch.nn). Positional arguments keep their order; `keywords` renames the 2024 keywords (any
    other keyword is an error), `defaults` holds the 2024 defaults that differ from today's."""

    module: str
    name: str
    keywords: dict[str, str] = {}
    defaults: dict[str, Any] = {}


_GPA, _UPA, _LPA = "globals_perforatedai", "utils_perforatedai", "library_perforatedai"
# initializePB and pbTracker.initialize, keywords in their (and perforate_model's) positional order
INITIALIZE = Renamed(_UPA, "perforate_model", {
    "model": "model", "doingPB": "doing_pai", "saveName": "save_name", "makingGraphs": "making_graphs",
    "maximizingScore": "maximizing_score", "num_classes": "num_classes",
    "values_per_train_epoch": "values_per_train_epoch", "values_per_val_epoch": "values_per_val_epoch",
    "zoomingGraph": "zooming_graph"}, {"save_name": "PB", "maximizing_score": True})
_MODELS = {
    "PBSequential": Renamed(_GPA, "PAISequential"), "ResNetPB": Renamed(_LPA, "ResNetPAI"),
    "ResNetPBPreFC": Renamed(_LPA, "ResNetPAIPreFC"), "GRUProcessor": Renamed(_LPA, "GRUProcessor"),
    "LSTMProcessor": Renamed(_LPA, "LSTMProcessor"), "LSTMCellProcessor": Renamed(_LPA, "LSTMCellProcessor"),
    "multiOutputProcesser": Renamed(_LPA, "MultiOutputProcessor"),
    "multiOutputProcessor": Renamed(_LPA, "MultiOutputProcessor"),
    "PAIDataParallel": Renamed("torch.nn", "DataParallel"),  # pai keeps dendrite shapes in the state_dict
}
LEGACY_MEMBERS: dict[str, dict[str, Renamed]] = {
    "pb_utils": {
        "initializePB": INITIALIZE,
        "convertNetwork": Renamed(_UPA, "convert_network", {"net": "model"}),
        "loadSystem": Renamed(_UPA, "load_system", {"net": "net", "folder": "folder", "name": "name",
                                                    "loadFromRestart": "load_from_restart",
                                                    "switchCall": "switch_call"}),
        "saveSystem": Renamed(_UPA, "save_system", {"net": "net", "folder": "folder", "name": "name"}),
        "countParams": Renamed(_UPA, "count_params"), "getPBModules": Renamed(_UPA, "get_pai_modules"),
        "deepCopyPB": Renamed(_UPA, "deep_copy_pai"),
        "loadPAIModel": Renamed("pai_core.deploy", "load_for_inference"),
    },
    "pb_globals": {"PBSequential": _MODELS["PBSequential"]},
    "pb_models": _MODELS,
    "pb_network": {k: _MODELS[k] for k in ("PBSequential", "ResNetPB", "multiOutputProcesser", "PAIDataParallel")},
}
LEGACY_MEMBERS["globalsFile"] = LEGACY_MEMBERS["pb_globals"]

LEGACY_TRACKER = "pbTracker"  # the tracker attribute of pb_globals; today GPA.pai_tracker
LEGACY_TRACKER_METHODS: dict[str, Renamed] = {
    "addValidationScore": Renamed(_GPA, "add_validation_score",
                                  {"accuracy": "score", "net": "model", "forceSwitch": "force_switch"}),
    **{old: Renamed(_GPA, new) for old, new in (
        ("addExtraScore", "add_extra_score"), ("addExtraScoreWithoutGraphing", "add_extra_score_without_graphing"),
        ("addTestScore", "add_test_score"), ("setOptimizer", "set_optimizer"), ("setScheduler", "set_scheduler"),
        ("setupOptimizer", "setup_optimizer"), ("setOptimizerInstance", "set_optimizer_instance"),
        ("startEpoch", "start_epoch"), ("stopEpoch", "stop_epoch"), ("saveGraphs", "save_graphs"),
        ("addLoss", "add_loss"), ("addLearningRate", "add_learning_rate"), ("memberVars", "member_vars"),
        ("saveTrackerSettings", "save_tracker_settings"),
        ("initializeTrackerSettings", "initialize_tracker_settings"))},
}
LEGACY_MEMBER_VARS: dict[str, str] = {
    "numEpochsRun": "num_epochs_run", "numPBNeuronLayers": "num_dendrites_added",
    "numDendritesAdded": "num_dendrites_added", "numCycles": "num_cycles", "doingPB": "doing_pai",
    "maximizingScore": "maximizing_score", "switchEpochs": "switch_epochs",
    "currentBestValidationScore": "current_best_validation_score",
    "globalBestValidationScore": "global_best_validation_score",
}


def current_keywords(renamed: Renamed, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A 2024 call's arguments as today's keywords: positional ones by the 2024 order, keywords renamed, the 2024
    defaults that differ from today's filled in. A keyword the 2024 call did not have raises TypeError."""
    order = list(renamed.keywords)
    if len(args) > len(order):
        raise TypeError(f"{renamed.name}() takes at most {len(order)} positional arguments in the 2024 API")
    out = {renamed.keywords[old]: value for old, value in zip(order, args)}
    for old, value in kwargs.items():
        if old not in renamed.keywords:
            raise TypeError(f"unexpected 2024 keyword argument {old!r}; known: {', '.join(order)}")
        out[renamed.keywords[old]] = value
    return {**renamed.defaults, **out}
