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
import functools
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
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from pai_core.errors import (
    ConfigFileError,
    InvalidModuleIdError,
    InvalidOptionValueError,
    NotAListOptionError,
    UnknownOptionError,
)
from pai_core.options import ALIASES  # noqa: F401  (config.ALIASES: the schema's older names)
from pai_core.options import (
    CONSTANTS,
    INERT_OPTIONS,
    INERT_REASON,
    LIST_OPTIONS,
    OPTION_NAMES,
    OPTIONS,
    _snake,
    canonical_option,
)

log = logging.getLogger(__name__)

ID_OPTIONS = ("module_ids_to_track", "module_ids_to_perforate", "parameter_ids_to_track")

_ACTIVATIONS = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}

# The pydantic type of each schema type ('schedule': a scalar that may hold a per-dendrite-count list).
_TYPES: dict[str, Any] = {"bool": bool, "str": str, "int": int, "str | None": str | None, "schedule": Any,
                          "device": Any, "dtype": Any, "callable": Any, "list[int]": list[int],
                          "list[str]": list[str], "list[class]": list[Any], "dict[str, str]": dict[str, str],
                          "dict[str, dict]": dict[str, dict[str, Any]], "dict[str, Any]": dict[str, Any]}
# Defaults that depend on torch or on the machine (the schema gives them as text, Option.runtime).
_RUNTIME_DEFAULTS: dict[str, Callable[[], Any]] = {
    "use_cuda": torch.cuda.is_available,
    "device": lambda: torch.device("cuda" if torch.cuda.is_available() else "cpu"),
    "d_type": lambda: torch.float32,
    "pai_forward_function": lambda: torch.sigmoid,
}


def _field(name: str) -> tuple[Any, Any]:
    """(type, pydantic Field) of one schema option; mutable defaults are copied for every config."""
    option = OPTIONS[name]
    factory = _RUNTIME_DEFAULTS.get(name)
    if factory is None and isinstance(option.default, (list, dict)):
        factory = functools.partial(copy.deepcopy, option.default)
    field = Field(default_factory=factory, description=option.description) if factory else Field(
        default=option.default, description=option.description)
    return _TYPES[option.type], field


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


class _Settings(BaseModel):
    """Validation and behaviour of PAIConfig; its fields come from the schema (pai_core.options)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=True, extra="forbid")

    # ---- validation -------------------------------------------------------------------------------
    @field_validator("dendrite_init_rules", check_fields=False)
    @classmethod
    def _check_init_rules(cls, value: dict[str, str]) -> dict[str, str]:
        from pai_core.dendrite_init import KINDS

        bad = {pattern: kind for pattern, kind in value.items() if kind not in KINDS}
        if bad:
            raise InvalidOptionValueError(f"dendrite_init_rules {bad} : every value must be one of {KINDS}, e.g. "
                                          "GPA.pc.set_dendrite_init_rules({'LIFTorch.tau_*': 'keep'}).")
        return value

    @field_validator(*ID_OPTIONS, mode="before", check_fields=False)
    @classmethod
    def _check_ids(cls, value: Any, info: Any) -> Any:
        return check_module_ids(info.field_name, value)

    @field_validator("unwrapped_params_action", check_fields=False)
    @classmethod
    def _check_action(cls, value: str) -> str:
        if value not in ("warn", "raise", "ignore"):
            raise ValueError(f"unwrapped_params_action must be 'warn', 'raise' or 'ignore', got {value!r}")
        return value

    @field_validator("output_dimensions", mode="before", check_fields=False)
    @classmethod
    def _check_dims(cls, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            value = value.tolist()
        if not isinstance(value, (list, tuple)) or list(value).count(0) != 1:
            raise ValueError(f"output_dimensions needs exactly one 0 (the neuron axis), got {value!r}; "
                             "e.g. [-1, 0, -1, -1] for conv outputs, [-1, -1, 0] for (batch, seq, features).")
        return [int(v) for v in value]

    @field_validator("device", mode="before", check_fields=False)
    @classmethod
    def _check_device(cls, value: Any) -> Any:
        return torch.device(value) if isinstance(value, str) else value

    @field_validator("d_type", mode="before", check_fields=False)
    @classmethod
    def _check_dtype(cls, value: Any) -> Any:
        if isinstance(value, str):
            dtype = getattr(torch, value.removeprefix("torch."), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"unknown dtype {value!r}; use e.g. 'torch.float32'")  # noqa: TRY004
            return dtype
        return value

    @field_validator("pai_forward_function", mode="before", check_fields=False)
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


PAIConfig = create_model(
    "PAIConfig", __base__=_Settings, __module__=__name__,
    __doc__="All settings of one perforated run (upstream `PAIConfig`, one field per option of "
            "pai_core.options.OPTIONS).",
    **{name: _field(name) for name in OPTIONS})

CLASS_LIST_OPTIONS = tuple(name for name, option in OPTIONS.items() if option.type == "list[class]")


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
                return self.config.inert_options.get(name, INERT_OPTIONS[name].default)
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
    if name not in _WARNED_INERT:
        _WARNED_INERT.add(name)
        warnings.warn(f"GPA.pc.set_{name} {INERT_REASON} (upstream {INERT_OPTIONS[name].upstream}); the value is "
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
