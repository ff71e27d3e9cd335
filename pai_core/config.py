"""Settings of a perforated run: one pydantic model, plus the process-wide defaults facade `pc` (GPA.pc).

Every upstream option keeps its name and default. Differences on purpose:
- an unknown `set_/get_/append_` raises AttributeError naming the closest option (upstream ignored it);
- bad module ids raise ValueError showing the corrected id; `append_` on a scalar option raises TypeError;
- nothing is ever loaded from an earlier run's JSON behind the user's back: loading a file is explicit
  (`pc.load_config_file(path)`, `PAIConfig.from_json_file(path)` or `perforate_model(config_file=...)`).
`perforate_model` takes a deep copy of the defaults, so every run (and every model) owns its settings.
"""
from __future__ import annotations

import copy
import difflib
import importlib
import json
import logging
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pai_core.errors import (
    ConfigFileError,
    InvalidModuleIdError,
    InvalidOptionValueError,
    NotAListOptionError,
    UnknownOptionError,
)

log = logging.getLogger(__name__)

DOING_SWITCH_EVERY_TIME = 0
DOING_HISTORY = 1
DOING_FIXED_SWITCH = 2
DOING_NO_SWITCH = 3
PARAM_VALS_BY_TOTAL_EPOCH = 0
PARAM_VALS_BY_UPDATE_EPOCH = 1
PARAM_VALS_BY_NEURON_EPOCH_START = 2

CONSTANTS = {
    "DOING_SWITCH_EVERY_TIME": DOING_SWITCH_EVERY_TIME,
    "DOING_HISTORY": DOING_HISTORY,
    "DOING_FIXED_SWITCH": DOING_FIXED_SWITCH,
    "DOING_NO_SWITCH": DOING_NO_SWITCH,
    "PARAM_VALS_BY_TOTAL_EPOCH": PARAM_VALS_BY_TOTAL_EPOCH,
    "PARAM_VALS_BY_UPDATE_EPOCH": PARAM_VALS_BY_UPDATE_EPOCH,
    "PARAM_VALS_BY_NEURON_EPOCH_START": PARAM_VALS_BY_NEURON_EPOCH_START,
}

# Older names of the same options (mid-2025 snake_case and PB era), see spec 1.13.
ALIASES = {
    "modules_to_convert": "modules_to_perforate",
    "module_names_to_convert": "module_names_to_perforate",
    "module_ids_to_convert": "module_ids_to_perforate",
    "input_dimensions": "output_dimensions",
    "debugging_input_dimensions": "debugging_output_dimensions",
    "pb_forward_function": "pai_forward_function",
}

ID_OPTIONS = ("module_ids_to_track", "module_ids_to_perforate", "parameter_ids_to_track")

_ACTIVATIONS = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}

Sched = Any  # a scalar option may also hold a per-dendrite-count list (see PAIConfig.resolve)


def _f(default: Any, description: str, **kw: Any) -> Any:
    return Field(default=default, description=description, **kw)


def _lf(description: str, default_factory: Callable[[], Any] = list) -> Any:
    return Field(default_factory=default_factory, description=description)


def corrected_module_id(value: str) -> str:
    """Turn "layer1[0].conv1" or "model.layer1.0" into the id form ".layer1.0.conv1"."""
    fixed = re.sub(r"\[\s*['\"]?([^\]'\"]+)['\"]?\s*\]", r".\1", value.strip())
    fixed = re.sub(r"\.+", ".", fixed)
    if not fixed.startswith("."):
        fixed = "." + fixed
    return fixed


def check_module_ids(option: str, values: Any) -> list[str]:
    """Validate ids of module_ids_* / parameter_ids_to_track; raise ValueError with the corrected form."""
    if not isinstance(values, (list, tuple)):
        raise InvalidOptionValueError(
            f"{option} must be a list of id strings like ['.layer1.0.conv1'], got {values!r}.")
    for value in values:
        if not isinstance(value, str):
            raise InvalidModuleIdError(
                f"{option}: every id must be a string like '.layer1.0.conv1', got {value!r} "
                f"({type(value).__name__}). Use the dotted attribute path from the root model.")
        if not value.startswith(".") or "[" in value or "]" in value:
            raise InvalidModuleIdError(
                f"{option}: invalid id {value!r}. Ids start with '.' and use '.<index>' instead of "
                f"'[index]' (ids of model.named_modules() with a leading dot). Use {corrected_module_id(value)!r}.")
    return list(values)


def dotted_name(obj: Any) -> Any:
    """JSON form of a class, callable, device or dtype; plain values pass through."""
    if isinstance(obj, (torch.device, torch.dtype)):
        return str(obj)
    if isinstance(obj, type) or callable(obj):
        short = getattr(obj, "__name__", None)
        if short and getattr(torch, short, None) is obj:
            return f"torch.{short}"
        module = getattr(obj, "__module__", None) or ""
        name = getattr(obj, "__qualname__", None) or short or repr(obj)
        return f"{module}.{name}" if module else name
    if isinstance(obj, (list, tuple)):
        return [dotted_name(o) for o in obj]
    if isinstance(obj, dict):
        return {k: dotted_name(v) for k, v in obj.items()}
    return obj


def import_dotted(name: str) -> Any:
    """Resolve "package.module.Attr" (also "__main__.Cls" when that module is loaded)."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj = sys.modules.get(module_name) or importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            return obj
        except AttributeError:
            continue
    raise ImportError(f"cannot import {name!r}")


class PAIConfig(BaseModel):
    """All settings of one perforated run (upstream `PAIConfig`, one field per option)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=True, extra="forbid")

    # Run basics / environment
    use_cuda: bool = _f(torch.cuda.is_available(), "Informational: whether CUDA is available.")
    device: Any = _f(torch.device("cuda" if torch.cuda.is_available() else "cpu"),
                     "Device of every tensor the library creates; must match the model's device.")
    d_type: Any = _f(torch.float32, "dtype of dendrite weights and internal buffers.")
    save_name: str = _f("", "Run folder name; set by perforate_model.")
    config_file: str | None = _f(None, "Path of a reusable JSON config; loaded explicitly by perforate_model.")
    configuration_confirmed: bool = _f(False, "Upstream launches an interactive configurator when False; "
                                              "pai never does (kept for compatibility).")
    testing_dendrite_capacity: bool = _f(True, "Smoke test: switch every epoch and stop after 3 dendrites. "
                                               "Set False for a real run.")
    # Switching policy
    switch_mode: Sched = _f(DOING_HISTORY, "0 switch every epoch, 1 after n_epochs_to_switch without "
                                           "improvement, 2 fixed interval, 3 never.")
    n_epochs_to_switch: Sched = _f(10, "Patience (epochs without a new best) before adding a dendrite.")
    history_lookback: Sched = _f(1, "Running score = EMA with weight 1/history_lookback on the newest score.")
    initial_history_after_switches: Sched = _f(0, "Grace epochs after each switch.")
    fixed_switch_num: Sched = _f(250, "Interval for DOING_FIXED_SWITCH.")
    first_fixed_switch_num: Sched = _f(-1, "Earliest epoch of the first fixed switch.")
    reset_best_score_on_switch: Sched = _f(True, "Also zero the running score after a switch.")
    # Dendrite acceptance / search
    maximizing_score: bool = _f(True, "True when a higher validation score is better.")
    improvement_threshold: Sched = _f([0.001, 0.0001, 0.0], "Relative improvement needed for a new best; "
                                      "a list is indexed by the number of dendrites added.")
    improvement_threshold_raw: Sched = _f(1e-5, "Absolute improvement also needed for a new best.")
    find_best_lr: Sched = _f(True, "Search the starting learning rate after each dendrite.")
    dont_give_up_unless_learning_rate_lowered: Sched = _f(True, "Block switches while the LR search runs.")
    max_dendrite_tries: Sched = _f(2, "Attempts per dendrite count before training is complete.")
    max_dendrites: Sched = _f(100, "Training is complete when a successful round reaches this many dendrites.")
    retain_all_dendrites: Sched = _f(False, "Keep dendrites even if they did not improve the score.")
    candidate_weight_initialization_multiplier: Sched = _f(0.01, "Std of the Gaussian a new dendrite copy "
                                                                 "is initialised with.")
    candidate_weight_init_by_main: Sched = _f(False, "Also scale that std by mean |param| of the main module.")
    dendrite_init_rules: dict[str, str] = _lf("How a dendrite copy's parameters start, {pattern: 'reinit' | "
                                              "'perturb' | 'keep'} on 'Class.param' or 'param' (fnmatch); "
                                              "default: weights re-drawn, other modules' taus/thresholds "
                                              "perturbed relatively (pai_core.dendrite_init).", dict)
    global_candidates: Sched = _f(1, "Candidates per module; only 1 is supported.")
    # Dendrite computation
    pai_forward_function: Any = _f(torch.sigmoid, "Activation applied to every dendrite output.")
    fused_dendrites: bool = _f(True, "Run a Linear/Conv layer and its dendrites as one autograd node with the "
                                     "dendrite math in place (same parameters and results, pai_core.fused); "
                                     "False calls each copy in turn.")
    output_dimensions: list[int] = _f([-1, 0, -1, -1], "Template of a wrapped module's output shape: one 0 "
                                      "marks the neuron axis, -1 axes are broadcast.")
    # Module selection
    modules_to_perforate: list[Any] = _lf("Classes (exact type) whose instances get dendrites.")
    module_names_to_perforate: list[str] = _lf(
        "Class names (exact type(m).__name__) whose instances get dendrites.",
        lambda: ["PAISequential", "Conv1d", "Conv2d", "Conv3d", "Linear"])
    module_ids_to_perforate: list[str] = _lf("Exact dotted ids (e.g. '.layer1.0') to give dendrites.")
    modules_to_track: list[Any] = _lf("Classes to wrap as tracked (no dendrites).")
    module_names_to_track: list[str] = _lf("Class names to wrap as tracked.")
    module_ids_to_track: list[str] = _lf("Dotted ids to wrap as tracked.")
    parameter_ids_to_track: list[str] = _lf("Dotted ids of bare nn.Parameter attributes to count as tracked.")
    modules_to_replace: list[Any] = _lf("Classes replaced by replacement_modules[k](old) before any rule.")
    replacement_modules: list[Any] = _lf("Factories parallel to modules_to_replace.")
    modules_with_processing: list[Any] = _lf("Classes whose outputs need a processor (parallel list).")
    modules_processing_classes: list[Any] = _lf("Processor classes parallel to modules_with_processing.")
    module_names_with_processing: list[str] = _lf("Class names whose outputs need a processor.")
    module_by_name_processing_classes: list[Any] = _lf("Processor classes parallel to "
                                                       "module_names_with_processing.")
    module_names_to_not_save: list[str] = _lf("Id prefixes skipped by conversion and left out of checkpoints.",
                                              lambda: [".base_model"])
    module_settings: dict[str, dict[str, Any]] = _lf("Per-module overrides keyed by id or class name; only "
                                                     "'output_dimensions' is honoured.", dict)
    # Logging / output
    verbose: bool = _f(False, "Chatty logging.")
    extra_verbose: bool = _f(False, "Very chatty logging.")
    silent: bool = _f(False, "Suppress most info messages.")
    drawing_pai: bool = _f(True, "Draw validation scores with switch markers.")
    drawing_extra_graphs: bool = _f(True, "Also draw learning-rate and timing panels.")
    save_old_graph_scores: bool = _f(True, "Keep and draw scores rewound by switches.")
    test_saves: bool = _f(True, "Write latest/beforeSwitch checkpoints.")
    pai_saves: bool = _f(False, "Write scaffolding-free models (no-op in open source).")
    confirm_correct_sizes: bool = _f(False, "Expand dendrite weights to the full output shape (debug).")
    debugging_output_dimensions: int = _f(0, "Kept for compatibility; pai raises at the first mismatch.")
    library_validation_score: str = _f("", "Metric name an integrated library feeds to add_validation_score.")
    library_extra_scores: list[str] = _lf("Metric names a library forwards to add_extra_score.")
    library_extra_scores_without_graphing: list[str] = _lf("Metric names forwarded without graphing.")
    # Confirmation / safety
    unwrapped_modules_confirmed: bool = _f(False, "Silence the report of parameters neither wrapped nor tracked.")
    unwrapped_params_action: str = _f("warn", "What to do with parameters neither wrapped nor tracked: "
                                              "'warn' (log), 'raise' (UnwrappedParametersError) or 'ignore'.")
    weight_decay_accepted: bool = _f(True, "If False, warn when the optimizer uses weight decay.")
    checked_skipped_modules: bool = _f(False, "Skip modules that never ran instead of raising at a switch.")
    strict_loading: bool = _f(True, "Raise on missing/unexpected keys when loading checkpoints.")
    using_safe_tensors: bool = _f(True, "Checkpoints are safetensors files (named .pt).")
    weight_tying_experimental: bool = _f(False, "Save/load tied weights via safetensors metadata.")
    # Inert in open source, kept so upstream scripts and files load
    perforated_backpropagation: bool = _f(False, "True only with the proprietary perforatedbp package.")
    learn_dendrites_live: bool = _f(False, "Perforated Backpropagation feature (inert).")
    no_extra_n_modes: bool = _f(True, "After a dendrite phase go straight back to neuron training.")
    inert_options: dict[str, Any] = _lf("Upstream Perforated Backpropagation / dashboard settings a script set: "
                                        "stored, never used (pai_core.upstream_names.INERT_OPTIONS).", dict)
    param_vals_setting: int = _f(PARAM_VALS_BY_UPDATE_EPOCH, "How epochs since a switch are counted for "
                                                             "scheduler fast-forward.")

    # ---- validation -------------------------------------------------------------------------------
    @field_validator("dendrite_init_rules")
    @classmethod
    def _check_init_rules(cls, value: dict[str, str]) -> dict[str, str]:
        from pai_core.dendrite_init import KINDS

        bad = {pattern: kind for pattern, kind in value.items() if kind not in KINDS}
        if bad:
            raise InvalidOptionValueError(f"dendrite_init_rules {bad} : every value must be one of {KINDS}, e.g. "
                                          "GPA.pc.set_dendrite_init_rules({'LIFTorch.tau_*': 'keep'}).")
        return value

    @field_validator("module_ids_to_track", "module_ids_to_perforate", "parameter_ids_to_track", mode="before")
    @classmethod
    def _check_ids(cls, value: Any, info: Any) -> Any:
        return check_module_ids(info.field_name, value)

    @field_validator("unwrapped_params_action")
    @classmethod
    def _check_action(cls, value: str) -> str:
        if value not in ("warn", "raise", "ignore"):
            raise ValueError(f"unwrapped_params_action must be 'warn', 'raise' or 'ignore', got {value!r}")
        return value

    @field_validator("output_dimensions", mode="before")
    @classmethod
    def _check_dims(cls, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            value = value.tolist()
        if not isinstance(value, (list, tuple)) or list(value).count(0) != 1:
            raise ValueError(f"output_dimensions needs exactly one 0 (the neuron axis), got {value!r}; "
                             "e.g. [-1, 0, -1, -1] for conv outputs, [-1, -1, 0] for (batch, seq, features).")
        return [int(v) for v in value]

    @field_validator("device", mode="before")
    @classmethod
    def _check_device(cls, value: Any) -> Any:
        return torch.device(value) if isinstance(value, str) else value

    @field_validator("d_type", mode="before")
    @classmethod
    def _check_dtype(cls, value: Any) -> Any:
        if isinstance(value, str):
            dtype = getattr(torch, value.removeprefix("torch."), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"unknown dtype {value!r}; use e.g. 'torch.float32'")  # noqa: TRY004
            return dtype
        return value

    @field_validator("pai_forward_function", mode="before")
    @classmethod
    def _check_function(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = _ACTIVATIONS.get(value) or import_dotted(value)
        if not callable(value):  # pydantic turns ValueError (not TypeError) into a ValidationError
            raise ValueError(f"pai_forward_function must be callable (e.g. torch.sigmoid), got {value!r}")  # noqa: TRY004
        return value

    # ---- behaviour ----------------------------------------------------------------------------------
    def resolve(self, name: str, num_dendrites_added: int) -> Any:
        """Value of option `name` for a network with `num_dendrites_added` dendrites.

        Scalar options may hold a list scheduled by dendrite count (e.g. improvement_threshold
        [0.001, 0.0001, 0.0]); list options are returned whole.
        """
        name = canonical_option(name)
        value = getattr(self, name)
        if name not in LIST_OPTIONS and isinstance(value, (list, tuple)) and value:
            return value[min(len(value) - 1, max(0, int(num_dendrites_added)))]
        return value

    def copy(self) -> PAIConfig:  # type: ignore[override]
        """Deep copy (classes and callables are shared, everything else is copied)."""
        return self.model_copy(deep=True)

    def __deepcopy__(self, memo: dict | None = None) -> PAIConfig:
        values = {name: copy.deepcopy(getattr(self, name), memo) for name in type(self).model_fields}
        return type(self).model_construct(**values)

    def to_json_dict(self) -> dict[str, Any]:
        """Upstream's `<save>_config.json` shape: sorted options, constants, merged names, overrides."""
        data = {name: dotted_name(getattr(self, name)) for name in sorted(type(self).model_fields)}
        data.update(CONSTANTS)
        names = list(self.module_names_to_perforate)
        for cls in self.modules_to_perforate:
            short = getattr(cls, "__name__", str(cls))
            if short not in names:
                names.append(short)
        data["module_names_to_perforate"] = names
        data["_customizable_fields"] = {"output_dimensions": "list"}
        return data

    def save_json(self, path: str | Path) -> Path:
        """Write the config as JSON (creating the folder); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json_dict(), indent=2, default=str))
        log.info("[PAI Config] Saved %d variables -> %s", len(self.to_json_dict()), path)
        return path

    @classmethod
    def from_json_file(cls, path: str | Path) -> PAIConfig:
        """A config built from the defaults plus every option stored in `path`."""
        config = cls()
        config.update_from_json_file(path)
        return config

    def update_from_json_file(self, path: str | Path, skip: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Apply the options stored in `path` (except names in `skip`); returns the names applied."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise ConfigFileError(f"config file {str(path)!r} does not exist; pass the path of a "
                                  "<save_name>_config.json written by an earlier run.") from exc
        except json.JSONDecodeError as exc:
            raise ConfigFileError(f"config file {str(path)!r} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigFileError(f"config file {str(path)!r} must hold a JSON object of option: value.")
        applied = []
        for key, value in data.items():
            if key in CONSTANTS or key.startswith("_"):
                continue
            try:
                name = canonical_option(key)
            except UnknownOptionError:
                log.warning("config file %s: ignoring unknown option %r", path, key)
                continue
            if name in skip:
                continue
            try:
                setattr(self, name, _from_json_value(name, value))
            except (ValueError, ImportError) as exc:
                raise ConfigFileError(f"config file {str(path)!r}: option {key!r} has an unusable value "
                                      f"{value!r}: {exc}") from exc
            applied.append(name)
        return applied


OPTION_NAMES: tuple[str, ...] = tuple(PAIConfig.model_fields)
LIST_OPTIONS = frozenset(name for name, field in PAIConfig.model_fields.items()
                         if field.default_factory is list or name in (
                             "module_names_to_perforate", "module_names_to_not_save", "output_dimensions"))
CLASS_LIST_OPTIONS = ("modules_to_perforate", "modules_to_track", "modules_to_replace", "replacement_modules",
                      "modules_with_processing", "modules_processing_classes",
                      "module_by_name_processing_classes")


def _from_json_value(name: str, value: Any) -> Any:
    if name in CLASS_LIST_OPTIONS and isinstance(value, list):
        resolved = []
        for item in value:
            if isinstance(item, str):
                try:
                    item = import_dotted(item)
                except ImportError:
                    log.warning("config option %s: cannot import %r; skipped (class-name lists still apply)",
                                name, item)
                    continue
            resolved.append(item)
        return resolved
    return value


def _snake(name: str) -> str:
    name = name.replace("IDs", "Ids").replace("PB", "Pb").replace("PAI", "Pai")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def canonical_option(name: str) -> str:
    """Current option name for `name` (handles legacy aliases, camelCase and the inert upstream names of
    pai_core.upstream_names.INERT_OPTIONS, returned as they are); AttributeError otherwise."""
    from pai_core.upstream_names import INERT_OPTIONS

    for candidate in (name, _snake(name)):
        if candidate in PAIConfig.model_fields or candidate in INERT_OPTIONS:
            return candidate
        if candidate in ALIASES:
            return ALIASES[candidate]
    snake = _snake(name)
    close = difflib.get_close_matches(snake, list(OPTION_NAMES) + list(ALIASES) + list(INERT_OPTIONS), n=1,
                                      cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownOptionError(f"PAI config has no option {name!r}.{hint} "
                             f"All options: PAIConfig.model_fields (or dir(GPA.pc)).")


class ConfigFacade:
    """Upstream's `GPA.pc`: get_X / set_X / append_X for every option of an underlying PAIConfig."""

    def __init__(self, config: PAIConfig | None = None) -> None:
        object.__setattr__(self, "config", config if config is not None else PAIConfig())
        object.__setattr__(self, "manually_set", set())
        for key, value in CONSTANTS.items():
            object.__setattr__(self, key, value)

    # --- the three method families ---
    def __getattr__(self, attr: str) -> Callable[..., Any]:
        for prefix, make in (("set_", self._setter), ("get_", self._getter), ("append_", self._appender)):
            if attr.startswith(prefix):
                return make(canonical_option(attr[len(prefix):]))
        camel = re.match(r"^(set|get|append)([A-Z].*)$", attr)
        if camel:
            return getattr(self, f"{camel.group(1)}_{_snake(camel.group(2))}")
        if attr.startswith("_"):
            raise AttributeError(attr)
        return self._getter(canonical_option(attr))()  # `GPA.pc.max_dendrites` reads the value, like upstream

    def __setattr__(self, attr: str, value: Any) -> None:
        # Older builds allowed `GPA.pc.option = value`; route it through the validating setter.
        if attr in ("config", "manually_set"):
            object.__setattr__(self, attr, value)
            return
        self._setter(canonical_option(attr))(value)

    def __dir__(self) -> list[str]:
        names = [f"{p}{o}" for o in OPTION_NAMES for p in ("get_", "set_")]
        names += [f"append_{o}" for o in LIST_OPTIONS]
        return sorted(set(names) | set(CONSTANTS) | {"config", "load_config_file", "reset"})

    def _setter(self, name: str) -> Callable[[Any], None]:
        def set_option(value: Any) -> None:
            if name not in PAIConfig.model_fields:  # an inert upstream option
                _warn_inert(name)
                self.config.inert_options = {**self.config.inert_options, name: value}
                return
            if name in ID_OPTIONS:
                check_module_ids(name, value)
            setattr(self.config, name, value)
            self.manually_set.add(name)
        set_option.__name__ = f"set_{name}"
        return set_option

    def _getter(self, name: str) -> Callable[[], Any]:
        def get_option() -> Any:
            if name not in PAIConfig.model_fields:  # an inert upstream option: what was set, else its default
                from pai_core.upstream_names import INERT_OPTIONS

                return self.config.inert_options.get(name, INERT_OPTIONS[name][0])
            return self.config.resolve(name, _current_dendrite_count())
        get_option.__name__ = f"get_{name}"
        return get_option

    def _appender(self, name: str) -> Callable[[Any], None]:
        if name not in LIST_OPTIONS:
            raise NotAListOptionError(f"{name} holds a single value, not a list; use set_{name}(value).")

        def append_option(values: Any) -> None:
            if not isinstance(values, (list, tuple)):
                raise NotAListOptionError(f"append_{name} takes a list, e.g. append_{name}([value]); "
                                          f"got {values!r}.")
            self._setter(name)(list(getattr(self.config, name)) + list(values))
        append_option.__name__ = f"append_{name}"
        return append_option

    # --- explicit file loading and reset ---
    def load_config_file(self, path: str | Path, *, override_manual: bool = False) -> list[str]:
        """Apply a config JSON to the defaults; options set in this process win unless override_manual."""
        skip = frozenset() if override_manual else frozenset(self.manually_set)
        return self.config.update_from_json_file(path, skip=skip)

    def reset(self) -> None:
        """Back to the upstream defaults (handy in tests and notebooks)."""
        object.__setattr__(self, "config", PAIConfig())
        self.manually_set.clear()

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config, "manually_set": set(self.manually_set)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["config"])
        self.manually_set.update(state["manually_set"])

    def __repr__(self) -> str:
        return f"GPA.pc({self.config!r})"


_WARNED_INERT: set[str] = set()


def _warn_inert(name: str) -> None:
    """One warning per inert option name and process (a script's setting, not an error)."""
    from pai_core.upstream_names import INERT_OPTIONS, INERT_REASON

    if name not in _WARNED_INERT:
        _WARNED_INERT.add(name)
        warnings.warn(f"GPA.pc.set_{name} {INERT_REASON} (upstream {INERT_OPTIONS[name][1]}); the value is "
                      "stored and ignored.", InertOptionWarning, stacklevel=3)


class InertOptionWarning(UserWarning):
    """An upstream option pai accepts but that has no effect here."""


def _current_dendrite_count() -> int:
    """Dendrites added by the most recent run (for per-dendrite scheduled getters); 0 before any run."""
    tracker_module = sys.modules.get("pai_core.tracker")
    facade = getattr(tracker_module, "pai_tracker", None)
    try:
        return int(facade.member_vars["num_dendrites_added"])  # type: ignore[union-attr]
    except (AttributeError, KeyError, RuntimeError, TypeError, ValueError):
        return 0


pc = ConfigFacade()
