"""Turning a user's model into a perforated one: which modules get dendrites, which are tracked.

Rules per child module (upstream order): ids > not-save > replace > track > perforate > recurse.
- module_ids_to_track / module_ids_to_perforate: exact dotted ids (".layer1.0.conv1");
- module_names_to_not_save: exact ids skipped here (prefixes are dropped from checkpoints);
- modules_to_replace[k] -> replacement_modules[k](module), then the rules below still apply;
- modules_to_track / module_names_to_track -> TrackedNeuronModule;
- modules_to_perforate / module_names_to_perforate -> PAINeuronModule (with a processor if registered);
- anything else: recurse into its children. A module reachable under two paths is handled once; the later
  paths join module_names_to_not_save.
Class lists match the exact type and name lists the exact class name, as upstream; `match_subclasses=True`
matches subclasses too (isinstance, and names anywhere in the class's MRO).
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from torch import nn

from pai_core.config import PAIConfig, pc
from pai_core.distributed import is_rank_zero
from pai_core.errors import ConversionError, InvalidSaveNameError, UnwrappedParametersError
from pai_core.modules import PAINeuronModule, TrackedNeuronModule

__all__ = ["convert_network", "initialize_pai", "perforate_model", "sanitize_save_name"]

log = logging.getLogger(__name__)

_NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)
_PARALLEL_LISTS = (("modules_to_replace", "replacement_modules"),
                   ("modules_with_processing", "modules_processing_classes"),
                   ("module_names_with_processing", "module_by_name_processing_classes"))


class _Converter:
    def __init__(self, config: PAIConfig, match_subclasses: bool) -> None:
        self.config = config
        self.match_subclasses = match_subclasses
        self.tracked_param_ids: set[int] = set()
        self.aliases: set[str] = set()

    # ---- matching ----
    def _matches(self, module: nn.Module, classes: list[Any], names: list[str]) -> bool:
        return self._index(module, classes) is not None or self._name_index(module, names) is not None

    def _index(self, module: nn.Module, classes: list[Any]) -> int | None:
        for i, cls in enumerate(classes):
            if type(module) is cls or (self.match_subclasses and isinstance(cls, type) and isinstance(module, cls)):
                return i
        return None

    def _name_index(self, module: nn.Module, names: list[str]) -> int | None:
        candidates = [k.__name__ for k in type(module).__mro__] if self.match_subclasses else [type(module).__name__]
        for i, name in enumerate(names):
            if name in candidates:
                return i
        return None

    def _processor_class(self, module: nn.Module) -> Any:
        cfg = self.config
        i = self._index(module, cfg.modules_with_processing)
        if i is not None:
            return cfg.modules_processing_classes[i]
        i = self._name_index(module, cfg.module_names_with_processing)
        if i is not None:
            return cfg.module_by_name_processing_classes[i]
        return None

    # ---- wrapping ----
    def perforated(self, module: nn.Module, module_id: str) -> PAINeuronModule:
        settings = self.config.module_settings
        override = settings.get(module_id) or settings.get(type(module).__name__) or {}
        return PAINeuronModule(module, module_id, config=self.config,
                               processor_class=self._processor_class(module),
                               output_dimensions=override.get("output_dimensions"))

    def convert_root(self, model: nn.Module) -> nn.Module:
        self._find_aliases(model)
        cfg = self.config
        i = self._index(model, cfg.modules_to_replace)
        if i is not None:
            model = cfg.replacement_modules[i](model)
        if self._matches(model, cfg.modules_to_track, cfg.module_names_to_track):
            return TrackedNeuronModule(model, "")
        if self._matches(model, cfg.modules_to_perforate, cfg.module_names_to_perforate):
            return self.perforated(model, "")
        self._walk(model, "")
        return model

    def _find_aliases(self, model: nn.Module) -> None:
        first_path: dict[int, str] = {}
        for path, module in nn.Module.named_modules(model, remove_duplicate=False):
            module_id = f".{path}" if path else ""
            if id(module) not in first_path:
                first_path[id(module)] = module_id
            elif not any(module_id.startswith(alias + ".") for alias in self.aliases):
                self.aliases.add(module_id)
                if module_id not in self.config.module_names_to_not_save:
                    self.config.module_names_to_not_save.append(module_id)
                log.info("duplicate pointer: %s is the same module as %s; keeping the first, %s is left out "
                         "of conversion and checkpoints", module_id, first_path[id(module)], module_id)

    def _walk(self, parent: nn.Module, prefix: str) -> None:
        for name, param in parent._parameters.items():
            if param is not None and f"{prefix}.{name}" in self.config.parameter_ids_to_track:
                param.tracked = True
                self.tracked_param_ids.add(id(param))
        for name, child in list(parent._modules.items()):
            child_id = f"{prefix}.{name}"
            if child is None or child_id in self.aliases or isinstance(child, (PAINeuronModule, TrackedNeuronModule)):
                continue
            new = self._convert_child(child, child_id)
            if new is not child:
                setattr(parent, name, new)

    def _convert_child(self, child: nn.Module, child_id: str) -> nn.Module:
        cfg = self.config
        if child_id in cfg.module_ids_to_track:
            return TrackedNeuronModule(child, child_id)
        if child_id in cfg.module_ids_to_perforate:
            return self.perforated(child, child_id)
        if child_id in cfg.module_names_to_not_save:
            if child_id == ".base_model":
                log.info("skipping .base_model (listed in module_names_to_not_save by default)")
            return child
        i = self._index(child, cfg.modules_to_replace)
        if i is not None:
            child = cfg.replacement_modules[i](child)
        if self._matches(child, cfg.modules_to_track, cfg.module_names_to_track):
            return TrackedNeuronModule(child, child_id)
        if self._matches(child, cfg.modules_to_perforate, cfg.module_names_to_perforate):
            return self.perforated(child, child_id)
        self._walk(child, child_id)
        return child

    # ---- audit ----
    def audit(self, model: nn.Module) -> None:
        cfg = self.config
        wrappers = [m for m in nn.Module.modules(model) if isinstance(m, (PAINeuronModule, TrackedNeuronModule))]
        if not any(isinstance(m, PAINeuronModule) for m in wrappers):
            log.warning("No module was perforated, so no dendrites can be added. Nothing matched "
                        "module_names_to_perforate=%s, modules_to_perforate=%s or module_ids_to_perforate=%s; "
                        "append the class names or ids of the layers to grow (ids are '.' + the paths of "
                        "model.named_modules()).", cfg.module_names_to_perforate, cfg.modules_to_perforate,
                        cfg.module_ids_to_perforate)
        if cfg.unwrapped_modules_confirmed or cfg.unwrapped_params_action == "ignore":
            return
        accounted = set(self.tracked_param_ids)
        inside: set[int] = set()
        for wrapper in wrappers:
            accounted.update(id(p) for p in nn.Module.parameters(wrapper))
            inside.update(id(m) for m in nn.Module.modules(wrapper))
        missing = [name for name, p in nn.Module.named_parameters(model) if id(p) not in accounted]
        norms = [f".{name}" for name, m in nn.Module.named_modules(model)
                 if isinstance(m, _NORM_TYPES) and id(m) not in inside and f".{name}" not in self.aliases]
        if not missing and not norms:
            return
        owners = sorted({"." + name.rsplit(".", 1)[0] if "." in name else f"(root).{name}" for name in missing})
        lines = []
        if missing:
            lines.append(f"{len(missing)} parameter tensors are neither in a perforated nor in a tracked module "
                         f"(they train normally but never get dendrites): modules {owners[:20]}.")
        if norms:
            lines.append(f"Normalization layers outside any perforated unit: {norms[:20]}; dendrite copies of "
                         f"the layer before them skip the normalization. Usually group each with its layer: "
                         f"GPA.PAISequential([layer, norm]).")
        lines.append("To fix: perforate them (GPA.pc.append_module_names_to_perforate([...]) or "
                     "append_module_ids_to_perforate), track them (append_module_names_to_track / "
                     "append_module_ids_to_track / append_parameter_ids_to_track for bare parameters), or, if "
                     "this is intended, GPA.pc.set_unwrapped_modules_confirmed(True).")
        message = " ".join(lines)
        if cfg.unwrapped_params_action == "raise":
            raise UnwrappedParametersError(message)
        log.warning(message)


def _check_config(model: nn.Module, config: PAIConfig) -> None:
    if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        raise ConversionError(
            f"perforate_model got a {type(model).__name__}; perforate the bare model first, then wrap it: "
            f"model = UPA.perforate_model(model, ...); model = {type(model).__name__}(model).")
    for left, right in _PARALLEL_LISTS:
        if len(getattr(config, left)) != len(getattr(config, right)):
            raise ConversionError(
                f"{left} ({len(getattr(config, left))} entries) and {right} ({len(getattr(config, right))} "
                f"entries) are parallel lists and must have the same length; append to both in the same order.")


def convert_network(model: nn.Module, config: PAIConfig | None = None, *,
                    match_subclasses: bool = False) -> nn.Module:
    """Wrap the modules of `model` chosen by `config` (default: a copy of GPA.pc); returns the model.

    The model is changed in place; the returned object differs only if the root itself was replaced or
    wrapped.
    """
    config = config if config is not None else pc.config.copy()
    _check_config(model, config)
    converter = _Converter(config, match_subclasses)
    model = converter.convert_root(model)
    converter.audit(model)
    return model


def sanitize_save_name(save_name: str, config: PAIConfig) -> str:
    """One folder name under the current directory; a path separator is an error, odd characters dropped."""
    name = save_name or config.save_name or "PAI"
    if "/" in name or "\\" in name:
        suggestion = re.sub(r"[/\\]+", "_", name).strip("_") or "PAI"
        raise InvalidSaveNameError(
            f"save_name {name!r} contains a path separator. It names one folder under the current directory "
            f"(./<save_name>/); use e.g. {suggestion!r} and change the working directory to write elsewhere.")
    clean = re.sub(r"[^A-Za-z0-9_.\-]", "", name)
    if clean != name:
        log.warning("save_name %r contains characters other than letters, digits, '_', '-', '.'; using %r",
                    name, clean or "PAI")
    return clean or "PAI"


def perforate_model(model: nn.Module, doing_pai: bool = True, save_name: str = "PAI", making_graphs: bool = True,
                    maximizing_score: bool | None = None, num_classes: int = 10_000_000_000,
                    values_per_train_epoch: int = -1, values_per_val_epoch: int = -1,
                    zooming_graph: bool = True, config_file: str | Path | None = None, *,
                    config: PAIConfig | None = None, match_subclasses: bool = False,
                    resume: bool = False) -> nn.Module:
    """Wrap `model` for dendrite growth and attach a tracker for this run; returns the model to use.

    The run owns a deep copy of its settings (`config`, default: the GPA.pc defaults), so later changes to
    GPA.pc and other perforated models never affect it. `config_file` is loaded explicitly on top of those
    settings (options set with GPA.pc.set_* in this process win). Call it right after building the model,
    before .to(device), DataParallel/DDP, optimizer creation and checkpoint loading.
    """
    explicit = config is not None
    config = (config if explicit else pc.config).copy()
    config_file = config_file or config.config_file
    if config_file:
        config.update_from_json_file(config_file, skip=frozenset() if explicit else frozenset(pc.manually_set))
        config.config_file = str(config_file)
    save_name = sanitize_save_name(save_name, config)
    config.save_name = save_name
    if maximizing_score is None:
        maximizing_score = config.maximizing_score
    config.maximizing_score = bool(maximizing_score)

    model = convert_network(model, config, match_subclasses=match_subclasses)

    from pai_core.tracker import attach_tracker

    attach_tracker(model, config, save_name=save_name, maximizing_score=bool(maximizing_score),
                   doing_pai=doing_pai, making_graphs=making_graphs, num_classes=num_classes,
                   values_per_train_epoch=values_per_train_epoch, values_per_val_epoch=values_per_val_epoch,
                   zooming_graph=zooming_graph, resume=resume)  # resume: continue <save_name>/latest.pt
    if not config.testing_dendrite_capacity and is_rank_zero():
        config.save_json(Path(save_name) / f"{save_name}_config.json")
    return model


def initialize_pai(model: nn.Module, doing_pai: bool = True, save_name: str = "PAI", making_graphs: bool = True,
                   maximizing_score: bool | None = True, num_classes: int = 10_000_000_000,
                   values_per_train_epoch: int = -1, values_per_val_epoch: int = -1,
                   zooming_graph: bool = True, **kwargs: Any) -> nn.Module:
    """Mid-2025 name of perforate_model (same behaviour)."""
    return perforate_model(model, doing_pai, save_name, making_graphs, maximizing_score, num_classes,
                           values_per_train_epoch, values_per_val_epoch, zooming_graph, **kwargs)
