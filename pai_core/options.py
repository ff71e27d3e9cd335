"""The option schema: every `GPA.pc` option as data (name, type, default, description, older names, history).

Why a module of its own: `pai_core.config` builds the pydantic `PAIConfig` from this table and needs torch for
its validators; the codemods, the MCP config tools and the `pai config` commands need the same names and
defaults without torch. This module imports only the standard library and `pai_core.errors`, and the
`pai_core` package's `__init__` loads nothing eagerly (PEP 562), so `from pai_core.options import OPTIONS`
is torch-free wherever it runs (a test keeps it so). With `pai_core.upstream_names` (the rest of the 2024 API's
names) and `pai_core.findings` (the finding model) it is the only arrow from codemods into pai_core: data only.

Each name's history: `upstream` is the release whose `PAIConfig` has the name ("pai" for options of our own),
`aliases` the mid-2025 snake_case names, `camel` the 2024 `pb_globals` attribute. `INERT_OPTIONS` are real
upstream settings of the proprietary Perforated Backpropagation (perforatedbp) or of the dashboard: pai
accepts and stores them (`PAIConfig.inert_options`) and never acts on them.
"""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Any

from pai_core.errors import UnknownOptionError

UPSTREAM = "perforatedai 3.2.9"
UPSTREAM_3X = "perforatedai 3.x (new in the 3.x API)"
PAI = "pai (not in upstream)"
PBP = "perforatedbp 0.0.6"

# Switch modes and scheduler-count settings: the values of `switch_mode` and `param_vals_setting`.
DOING_SWITCH_EVERY_TIME, DOING_HISTORY, DOING_FIXED_SWITCH, DOING_NO_SWITCH = 0, 1, 2, 3
PARAM_VALS_BY_TOTAL_EPOCH, PARAM_VALS_BY_UPDATE_EPOCH, PARAM_VALS_BY_NEURON_EPOCH_START = 0, 1, 2
SWITCH_MODE_NAMES = {DOING_SWITCH_EVERY_TIME: "DOING_SWITCH_EVERY_TIME", DOING_HISTORY: "DOING_HISTORY",
                     DOING_FIXED_SWITCH: "DOING_FIXED_SWITCH", DOING_NO_SWITCH: "DOING_NO_SWITCH"}
CONSTANTS = {**{name: value for value, name in SWITCH_MODE_NAMES.items()},
             "PARAM_VALS_BY_TOTAL_EPOCH": PARAM_VALS_BY_TOTAL_EPOCH,
             "PARAM_VALS_BY_UPDATE_EPOCH": PARAM_VALS_BY_UPDATE_EPOCH,
             "PARAM_VALS_BY_NEURON_EPOCH_START": PARAM_VALS_BY_NEURON_EPOCH_START}
# the 2024 names of those constants: today's name (the `pai migrate` rewrite) and value (the 2024 drop-in)
LEGACY_CONSTANT_NAMES = {
    "doingSwitchEveryTime": "DOING_SWITCH_EVERY_TIME", "doingHistory": "DOING_HISTORY",
    "doingFixedSwitch": "DOING_FIXED_SWITCH", "doingNoSwitch": "DOING_NO_SWITCH",
    "paramValsByTotalEpoch": "PARAM_VALS_BY_TOTAL_EPOCH", "paramValsByUpdateEpoch": "PARAM_VALS_BY_UPDATE_EPOCH",
    "paramValsByNormalEpochStart": "PARAM_VALS_BY_NEURON_EPOCH_START"}
LEGACY_CONSTANTS = {old: CONSTANTS[new] for old, new in LEGACY_CONSTANT_NAMES.items()}

INERT_REASON = "has no effect in pai: it belongs to the proprietary Perforated Backpropagation / dashboard"


@dataclass(frozen=True)
class Option:
    """One option. `type` is the schema's own vocabulary (pai_core.config maps it to a pydantic type):
    'schedule' is a scalar that may also be a list indexed by the number of dendrites added."""

    name: str
    type: str
    default: Any
    description: str
    group: str
    camel: str | None = None
    aliases: tuple[str, ...] = ()
    upstream: str = UPSTREAM
    runtime: str | None = None  # the expression computing a machine- or torch-dependent default
    inert: bool = False

    @property
    def is_list(self) -> bool:
        """List options also have `GPA.pc.append_<name>`."""
        return self.type.startswith("list")

    @property
    def default_text(self) -> str:
        return self.runtime or repr(self.default)

    @property
    def setter(self) -> str:
        """How a script sets it: the default as a literal when it has one."""
        literal = self.runtime is None and len(repr(self.default)) < 80
        return f"GPA.pc.set_{self.name}({self.default!r})" if literal else f"GPA.pc.set_{self.name}(...)"

    @property
    def older_names(self) -> list[str]:
        return sorted({*self.aliases, *([self.camel] if self.camel and self.camel != self.name else [])})

    def as_dict(self) -> dict[str, Any]:
        """What `pai config explain` and `pai_explain_config_option` show."""
        return {"name": self.name, "type": self.type, "default": self.default_text,
                "description": self.description, "is_list": self.is_list, "setter": self.setter,
                "aliases": self.older_names, "upstream": self.upstream, "inert": self.inert}


def _o(name: str, type_: str, default: Any, description: str, group: str, camel: str | None = None,
       **history: Any) -> Option:
    return Option(name, type_, default, description, group, camel, **history)


_RUN, _SWITCH, _ACCEPT, _MATH, _MODULES, _LOG, _SAFETY, _PB = (
    "run", "switching", "dendrite acceptance", "dendrite computation", "module selection", "logging",
    "safety", "Perforated Backpropagation (inert)")

_ACTIVE = (
    _o("use_cuda", "bool", False, "Informational: whether CUDA is available.", _RUN, "use_cuda",
       runtime="torch.cuda.is_available()"),
    _o("device", "device", "cpu", "Device of every tensor the library creates; must match the model's device.",
       _RUN, "device", runtime="torch.device('cuda' if torch.cuda.is_available() else 'cpu')"),
    _o("d_type", "dtype", "torch.float32", "dtype of dendrite weights and internal buffers.", _RUN, "dType",
       runtime="torch.float32"),
    _o("save_name", "str", "", "Run folder name; set by perforate_model.", _RUN),
    _o("config_file", "str | None", None, "Path of a reusable JSON config; loaded explicitly by perforate_model.",
       _RUN, upstream=UPSTREAM_3X),
    _o("configuration_confirmed", "bool", False, "Upstream launches an interactive configurator when False; "
       "pai never does (kept for compatibility).", _RUN, upstream=UPSTREAM_3X),
    _o("testing_dendrite_capacity", "bool", True, "Smoke test: switch every epoch and stop after 3 dendrites. "
       "Set False for a real run.", _RUN, "testingDendriteCapacity"),
    _o("switch_mode", "schedule", DOING_HISTORY, "0 switch every epoch, 1 after n_epochs_to_switch without "
       "improvement, 2 fixed interval, 3 never.", _SWITCH, "switchMode"),
    _o("n_epochs_to_switch", "schedule", 10, "Patience (epochs without a new best) before adding a dendrite.",
       _SWITCH, "nEpochsToSwitch"),
    _o("history_lookback", "schedule", 1, "Running score = EMA with weight 1/history_lookback on the newest "
       "score.", _SWITCH, "historyLookback"),
    _o("initial_history_after_switches", "schedule", 0, "Grace epochs after each switch.", _SWITCH,
       "initialHistoryAfterSwitches"),
    _o("fixed_switch_num", "schedule", 250, "Interval for DOING_FIXED_SWITCH.", _SWITCH, "fixedSwitchNum"),
    _o("first_fixed_switch_num", "schedule", -1, "Earliest epoch of the first fixed switch.", _SWITCH,
       "firstFixedSwitchNum"),
    _o("reset_best_score_on_switch", "schedule", True, "Also zero the running score after a switch.", _SWITCH,
       "resetBestScoreOnSwitch"),
    _o("maximizing_score", "bool", True, "True when a higher validation score is better.", _ACCEPT,
       upstream=UPSTREAM_3X),
    _o("improvement_threshold", "schedule", [0.001, 0.0001, 0.0], "Relative improvement needed for a new "
       "best; a list is indexed by the number of dendrites added.", _ACCEPT, "improvementThreshold"),
    _o("improvement_threshold_raw", "schedule", 1e-5, "Absolute improvement also needed for a new best.",
       _ACCEPT, "improvementThresholdRaw"),
    _o("find_best_lr", "schedule", True, "Search the starting learning rate after each dendrite.", _ACCEPT,
       "findBestLR"),
    _o("dont_give_up_unless_learning_rate_lowered", "schedule", True, "Block switches while the LR search "
       "runs.", _ACCEPT, "dontGiveUpUnlessLearningRateLowered"),
    _o("max_dendrite_tries", "schedule", 2, "Attempts per dendrite count before training is complete.", _ACCEPT,
       "maxDendriteTries"),
    _o("max_dendrites", "schedule", 100, "Training is complete when a successful round reaches this many "
       "dendrites.", _ACCEPT, "maxDendrites"),
    _o("retain_all_dendrites", "schedule", False, "Keep dendrites even if they did not improve the score.",
       _ACCEPT, "retainAllPB"),
    _o("candidate_weight_initialization_multiplier", "schedule", 0.01, "Std of the Gaussian a new dendrite "
       "copy is initialised with.", _ACCEPT, "candidateWeightInitializationMultiplier"),
    _o("candidate_weight_init_by_main", "schedule", False, "Also scale that std by mean |param| of the main "
       "module.", _ACCEPT, upstream=UPSTREAM_3X),
    _o("dendrite_init_rules", "dict[str, str]", {}, "How a dendrite copy's parameters start, {pattern: "
       "'reinit' | 'perturb' | 'keep'} on 'Class.param' or 'param' (fnmatch); default: weights re-drawn, other "
       "modules' taus/thresholds perturbed relatively (pai_core.dendrite_init).", _ACCEPT, upstream=PAI),
    _o("global_candidates", "schedule", 1, "Candidates per module; only 1 is supported.", _ACCEPT,
       "globalCandidates"),
    _o("pai_forward_function", "callable", "torch.sigmoid", "Activation applied to every dendrite output.",
       _MATH, "PBForwardFunction", aliases=("pb_forward_function",), runtime="torch.sigmoid"),
    _o("fused_dendrites", "bool", True, "Run a Linear/Conv layer and its dendrites as one autograd node with "
       "the dendrite math in place (same parameters and results, pai_core.fused); False calls each copy in "
       "turn.", _MATH, upstream=PAI),
    _o("output_dimensions", "list[int]", [-1, 0, -1, -1], "Template of a wrapped module's output shape: one "
       "0 marks the neuron axis, -1 axes are broadcast.", _MATH, "inputDimensions",
       aliases=("input_dimensions",)),
    _o("modules_to_perforate", "list[class]", [], "Classes (exact type) whose instances get dendrites.",
       _MODULES, "modulesToConvert", aliases=("modules_to_convert",)),
    _o("module_names_to_perforate", "list[str]", ["PAISequential", "Conv1d", "Conv2d", "Conv3d", "Linear"],
       "Class names (exact type(m).__name__) whose instances get dendrites.", _MODULES, "moduleNamesToConvert",
       aliases=("module_names_to_convert",)),
    _o("module_ids_to_perforate", "list[str]", [], "Exact dotted ids (e.g. '.layer1.0') to give dendrites.",
       _MODULES, "moduleIDsToConvert", aliases=("module_ids_to_convert",)),
    _o("modules_to_track", "list[class]", [], "Classes to wrap as tracked (no dendrites).", _MODULES,
       "modulesToTrack"),
    _o("module_names_to_track", "list[str]", [], "Class names to wrap as tracked.", _MODULES,
       "moduleNamesToTrack"),
    _o("module_ids_to_track", "list[str]", [], "Dotted ids to wrap as tracked.", _MODULES, "moduleIDsToTrack"),
    _o("parameter_ids_to_track", "list[str]", [], "Dotted ids of bare nn.Parameter attributes to count as "
       "tracked.", _MODULES, upstream=UPSTREAM_3X),
    _o("modules_to_replace", "list[class]", [], "Classes replaced by replacement_modules[k](old) before any "
       "rule.", _MODULES, "modulesToReplace"),
    _o("replacement_modules", "list[class]", [], "Factories parallel to modules_to_replace.", _MODULES,
       "replacementModules"),
    _o("modules_with_processing", "list[class]", [], "Classes whose outputs need a processor (parallel list).",
       _MODULES, "modulesWithProcessing"),
    _o("modules_processing_classes", "list[class]", [], "Processor classes parallel to "
       "modules_with_processing.", _MODULES, "moduleProcessingClasses"),
    _o("module_names_with_processing", "list[str]", [], "Class names whose outputs need a processor.",
       _MODULES, "moduleNamesWithProcessing"),
    _o("module_by_name_processing_classes", "list[class]", [], "Processor classes parallel to "
       "module_names_with_processing.", _MODULES, "moduleByNameProcessingClasses"),
    _o("module_names_to_not_save", "list[str]", [".base_model"], "Id prefixes skipped by conversion and left "
       "out of checkpoints.", _MODULES, "moduleNamesToNotSave"),
    _o("module_settings", "dict[str, dict]", {}, "Per-module overrides keyed by id or class name; only "
       "'output_dimensions' is honoured.", _MODULES),
    _o("verbose", "bool", False, "Chatty logging.", _LOG, "verbose"),
    _o("extra_verbose", "bool", False, "Very chatty logging.", _LOG, "extraVerbose"),
    _o("silent", "bool", False, "Suppress most info messages.", _LOG, "silent"),
    _o("drawing_pai", "bool", True, "Draw validation scores with switch markers.", _LOG, "drawingPB"),
    _o("drawing_extra_graphs", "bool", True, "Also draw learning-rate and timing panels.", _LOG,
       upstream=UPSTREAM_3X),
    _o("save_old_graph_scores", "bool", True, "Keep and draw scores rewound by switches.", _LOG,
       "saveOldGraphScores"),
    _o("test_saves", "bool", True, "Write latest/beforeSwitch checkpoints.", _LOG, "testSaves"),
    _o("pai_saves", "bool", False, "Write scaffolding-free models (no-op in open source).", _LOG, "paiSaves"),
    _o("confirm_correct_sizes", "bool", False, "Expand dendrite weights to the full output shape (debug).", _LOG,
       "confirmCorrectSizes"),
    _o("debugging_output_dimensions", "int", 0, "Kept for compatibility; pai raises at the first mismatch.",
       _LOG, "debuggingInputDimensions", aliases=("debugging_input_dimensions",)),
    _o("library_validation_score", "str", "", "Metric name an integrated library feeds to "
       "add_validation_score.", _LOG),
    _o("library_extra_scores", "list[str]", [], "Metric names a library forwards to add_extra_score.", _LOG),
    _o("library_extra_scores_without_graphing", "list[str]", [], "Metric names forwarded without graphing.",
       _LOG),
    _o("unwrapped_modules_confirmed", "bool", False, "Silence the report of parameters neither wrapped nor "
       "tracked.", _SAFETY, "unwrappedModulesConfirmed"),
    _o("unwrapped_params_action", "str", "warn", "What to do with parameters neither wrapped nor tracked: "
       "'warn' (log), 'raise' (UnwrappedParametersError) or 'ignore'.", _SAFETY, upstream=PAI),
    _o("weight_decay_accepted", "bool", True, "If False, warn when the optimizer uses weight decay.", _SAFETY,
       "weightDecayAccepted"),
    _o("checked_skipped_modules", "bool", False, "Skip modules that never ran instead of raising at a switch.",
       _SAFETY, "checkedSkippedLayers"),
    _o("strict_loading", "bool", True, "Raise on missing/unexpected keys when loading checkpoints.", _SAFETY,
       upstream=UPSTREAM_3X),
    _o("using_safe_tensors", "bool", True, "Checkpoints are safetensors files (named .pt).", _SAFETY,
       "usingSafeTensors"),
    _o("weight_tying_experimental", "bool", False, "Save/load tied weights via safetensors metadata.", _SAFETY),
    _o("perforated_backpropagation", "bool", False, "True only with the proprietary perforatedbp package.", _PB),
    _o("learn_dendrites_live", "bool", False, "Perforated Backpropagation feature (inert).", _PB, "learnPBLive"),
    _o("no_extra_n_modes", "bool", True, "After a dendrite phase go straight back to neuron training.", _PB,
       "noExtraNModes"),
    _o("inert_options", "dict[str, Any]", {}, "Upstream Perforated Backpropagation / dashboard settings a "
       "script set: stored, never used (pai_core.options.INERT_OPTIONS).", _PB, upstream=PAI),
    _o("param_vals_setting", "int", PARAM_VALS_BY_UPDATE_EPOCH, "How epochs since a switch are counted for "
       "scheduler fast-forward.", _PB, "paramValsSetting"),
)


def _inert(name: str, default: Any, upstream: str, camel: str | None = None) -> Option:
    return Option(name, type(default).__name__, default, f"Inert in pai: {INERT_REASON}; stored in the run "
                  "config's inert_options and never used.", _PB, camel, upstream=upstream, inert=True)


_INERT = (
    _inert("p_epochs_to_switch", 10, f"{PBP} / 2024 pb_globals", "pEpochsToSwitch"),
    _inert("cap_at_n", False, f"{PBP} / 2024 pb_globals", "capAtN"),
    _inert("pai_improvement_threshold", 0.1, PBP),
    _inert("pai_improvement_threshold_raw", 1e-5, PBP),
    _inert("initial_correlation_batches", 100, PBP),
    _inert("correlations_by_mean", False, PBP),
    _inert("grad_sum_first", True, PBP),
    _inert("formula_type", 0, PBP),
    _inert("doing_mean_best", 0, PBP),
    _inert("switch_on_lr_change", False, PBP),
    _inert("save_all_epochs", False, PBP),
    _inert("default_pai_dropout", 0.0, PBP),
    _inert("default_pai_batch", False, PBP),
    _inert("node_index", 1, "2024 pb_globals", "nodeIndex"),
    _inert("dashboard_url", "", f"{UPSTREAM} (dashboard)"),
    _inert("dashboard_debug", False, f"{UPSTREAM} (dashboard)"),
    _inert("dashboard_events_enabled", False, f"{UPSTREAM} (dashboard)"),
)

OPTIONS: dict[str, Option] = {option.name: option for option in _ACTIVE}
INERT_OPTIONS: dict[str, Option] = {option.name: option for option in _INERT}
OPTION_NAMES: tuple[str, ...] = tuple(OPTIONS)
LIST_OPTIONS = frozenset(name for name, option in OPTIONS.items() if option.is_list)
ALIASES: dict[str, str] = {alias: o.name for o in _ACTIVE for alias in o.aliases}  # older snake_case names
LEGACY_OPTIONS: dict[str, str] = {o.camel: o.name for o in (*_ACTIVE, *_INERT) if o.camel}  # 2024 attributes


def _snake(name: str) -> str:
    name = name.replace("IDs", "Ids").replace("PB", "Pb").replace("PAI", "Pai")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@functools.lru_cache(maxsize=1024)  # the tracker looks options up by name many times per epoch
def canonical_option(name: str) -> str:
    """Current option name for `name` (older aliases, camelCase and the inert upstream names, returned as
    they are); UnknownOptionError (an AttributeError) naming the closest option otherwise."""
    for candidate in (name, _snake(name)):
        if candidate in OPTIONS or candidate in INERT_OPTIONS:
            return candidate
        if candidate in ALIASES:
            return ALIASES[candidate]
    close = difflib.get_close_matches(_snake(name), [*OPTIONS, *ALIASES, *INERT_OPTIONS], n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownOptionError(f"PAI config has no option {name!r}.{hint} "
                             f"All options: PAIConfig.model_fields (or dir(GPA.pc)).")


_ACCESSOR = re.compile(r"(?:set|get|append)(?:_|(?=[A-Z]))")


def explain_option(text: str) -> Option:
    """The option a user wrote, however they wrote it: `n_epochs_to_switch`, `nEpochsToSwitch`, an older
    alias, or the call as pasted from a script (`GPA.pc.setMaxDendrites(3)`)."""
    name = text.strip().split("(", 1)[0].rsplit(".", 1)[-1].strip()
    accessor = _ACCESSOR.match(name)
    if accessor and name[accessor.end():]:
        name = name[accessor.end():]
    canonical = canonical_option(name)
    return OPTIONS.get(canonical) or INERT_OPTIONS[canonical]


def list_options(contains: str = "") -> list[Option]:
    """The active options whose name or description contains `contains` (case-insensitive)."""
    needle = contains.strip().lower()
    return [o for o in OPTIONS.values() if needle in o.name.lower() or needle in o.description.lower()]


def reference_markdown() -> str:
    """Every option as a Markdown reference (the MCP resource pai://reference/config)."""
    lines = ["# pai configuration reference", "",
             "Options of `PAIConfig`. Set them before `perforate_model` (e.g. `GPA.pc.set_<name>(value)`).", ""]
    for option in OPTIONS.values():
        older = f"- older names: {', '.join(f'`{n}`' for n in option.older_names)}" if option.older_names else ""
        lines += [f"## {option.name}", "", f"- type: `{option.type}`", f"- default: `{option.default_text}`",
                  f"- since: {option.upstream}", *([older] if older else []), "", option.description, ""]
    lines += ["## Accepted and ignored upstream options", "", f"Each {INERT_REASON}.", ""]
    lines += [f"- `{o.name}` (default `{o.default!r}`, {o.upstream})" for o in INERT_OPTIONS.values()]
    return "\n".join(lines) + "\n"
