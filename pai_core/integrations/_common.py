"""What the framework callbacks share: the run's settings, perforating the framework's model in place, and
pointing an optimizer the framework owns at the parameters of a restructured model.

Frameworks keep references to the model (and the HF Trainer to its optimizer) in places a callback cannot
reassign, so the model must stay the same object: perforation may wrap its children but never its root, and
the tracker grows dendrites in place.
"""
from __future__ import annotations

import logging
import re
from typing import Any

import torch
from torch import nn

from pai_core.errors import PAIError

logger = logging.getLogger("pai_core.integrations")

# A dendrite copy's parameter is named like the main module's one: "x.dendrite_module.layers.2.weight" is the
# copy of "x.main_module.weight", so it joins the same optimizer group (same weight decay rule).
_DENDRITE_COPY = re.compile(r"dendrite_module\.layers\.\d+\.")


class IntegrationError(PAIError, RuntimeError):
    """A framework callback cannot do its job with this setup; the message says what to change."""


def run_config(config: Any = None, options: dict[str, Any] | None = None):
    """The PAIConfig a callback perforates with: `config` (default: the GPA.pc defaults) plus `options`
    (option name -> value, e.g. testing_dendrite_capacity=False). None when neither is given, so that
    perforate_model takes the GPA.pc defaults itself."""
    options = dict(options or {})
    if config is None and not options:
        return None
    from pai_core.config import PAIConfig, canonical_option, pc

    if config is not None and not isinstance(config, PAIConfig):
        raise TypeError(f"config must be a pai_core PAIConfig (or None for the GPA.pc defaults), got "
                        f"{type(config).__name__}; pass single options as keyword arguments instead.")
    result = (config if config is not None else pc.config).copy()
    for name, value in options.items():
        setattr(result, canonical_option(name), value)
    return result


def perforate_in_place(model: nn.Module, config: Any, *, save_name: str, maximizing_score: bool,
                       resume: bool = False):
    """Perforate `model` unless it already is, and return its tracker. The model object stays the same."""
    from pai_core.tracker import tracker_for

    tracker = tracker_for(model)
    if tracker is not None:
        if tracker.state.maximizing_score != maximizing_score:
            raise IntegrationError(
                f"The model was perforated with maximizing_score={tracker.state.maximizing_score}, but the "
                f"tracked metric is to be {'maximized' if maximizing_score else 'minimized'}. Perforate with "
                f"maximizing_score={maximizing_score}, or let the callback perforate the model (do not call "
                "perforate_model yourself).")
        logger.info("The model is already perforated; the callback uses its tracker (%s).", tracker.save_name)
        return tracker
    from pai_core.perforate import perforate_model

    tied = tied_module_ids(model)
    if tied:
        from pai_core.config import pc

        config = (config if config is not None else pc.config).copy()
        config.module_names_to_not_save = [*config.module_names_to_not_save,
                                           *(i for i in tied if i not in config.module_names_to_not_save)]
        logger.info("Left without dendrites (their weights belong to another layer, e.g. a tied output "
                    "embedding): %s", ", ".join(tied))
    result = perforate_model(model, save_name=save_name, maximizing_score=maximizing_score, config=config,
                             resume=resume)
    devices = {p.device for p in nn.Module.parameters(model)}
    if len(devices) == 1:  # the frameworks moved the model already: the wrappers' buffers follow it
        model.to(devices.pop())
    fit_linear_output_dimensions(model)
    if result is not model:
        raise IntegrationError(
            f"Perforating wrapped the model's root ({type(model).__name__}) itself, but the training framework "
            "keeps a reference to the original object. Perforate its layers instead: remove the root's class "
            "from module_names_to_perforate / modules_to_perforate, or perforate the model yourself before "
            "building the trainer and build the trainer with the returned model.")
    return tracker_for(model)


def tied_module_ids(model: nn.Module) -> list[str]:
    """Ids of modules whose parameters all belong to an earlier module too (a language model's output layer
    tied to its input embedding). Wrapping one would rename the shared weight, which breaks the framework's
    checkpoints (transformers' tied-weight check), and each dendrite would copy a vocabulary-sized matrix."""
    first_holder: dict[int, str] = {}
    tied = []
    for name, module in nn.Module.named_modules(model):
        params = list(nn.Module.parameters(module, recurse=False))
        if params and all(id(p) in first_holder for p in params):
            tied.append(f".{name}")
        for p in params:
            first_holder.setdefault(id(p), name)
    return tied


def fit_linear_output_dimensions(model: nn.Module) -> list:
    """Let every perforated nn.Linear take the template of its first output's rank, neuron axis last.

    A Linear acts on the last axis whatever its input rank, so the run-wide template (e.g. [-1, -1, 0] for
    sequence models) would reject the (batch, classes) output of a classifier head or a pooler, and in a
    framework script the user has no line after perforate_model to fix that per module. Templates of the
    right rank are left alone. Each hook removes itself after the first forward; returns the handles.
    """
    from pai_core.modules import neuron_modules

    handles = []
    for wrapper in neuron_modules(model):
        if isinstance(wrapper.main_module, nn.Linear):
            handles.append(_fit_on_first_output(wrapper))
    return handles


def _fit_on_first_output(wrapper):
    def hook(module, inputs, output):
        handle.remove()
        rank = output.dim() if isinstance(output, torch.Tensor) else None
        if rank and wrapper.num_dendrites == 0 and rank != len(wrapper.output_dimensions):
            logger.info("%s: output rank %d, neuron axis last", wrapper.name, rank)
            wrapper.set_this_output_dimensions([-1] * (rank - 1) + [0])

    handle = wrapper.main_module.register_forward_hook(hook)
    return handle


def inner_optimizer(optimizer: Any) -> torch.optim.Optimizer:
    """The torch optimizer inside framework wrappers (accelerate's AcceleratedOptimizer, Lightning's)."""
    seen = 0
    while not type(optimizer).__module__.startswith("torch.") and hasattr(optimizer, "optimizer") and seen < 5:
        optimizer, seen = optimizer.optimizer, seen + 1
    return optimizer


class ParamLayout(dict):
    """Parameter name -> index of its optimizer group (None: the optimizer does not train it), plus the ids of
    the model's parameters at that time: what the optimizer holds from outside the model (a learnable loss
    temperature, say) is then told apart from dendrite parameters a restructure replaced."""

    def __init__(self, groups: dict[str, int | None], model_ids: set[int]) -> None:
        super().__init__(groups)
        self.model_ids = model_ids


def groups_by_name(optimizer: Any, model: nn.Module) -> ParamLayout:
    """Where every named parameter of `model` is in `optimizer`'s groups."""
    where = {id(p): i for i, group in enumerate(optimizer.param_groups) for p in group["params"]}
    return ParamLayout({name: where.get(id(p)) for name, p in nn.Module.named_parameters(model)},
                       {id(p) for p in nn.Module.parameters(model)})


def refresh_optimizer(optimizer: Any, model: nn.Module, known: ParamLayout) -> ParamLayout:
    """Give `optimizer` (the same object) the restructured model's parameters and a fresh state.

    Used where the framework calls `trainer.optimizer.step()` on an object a callback cannot replace (the HF
    Trainer): the effect is that of building the optimizer again with the same class, hyperparameters and
    groups. Each parameter stays in its group; a new dendrite copy joins the group of the main module's
    parameter of the same name; the dendrite output weights join the group with the least weight decay;
    parameters the optimizer did not train before stay out, and parameters from outside the model stay in.
    The state (e.g. Adam moments, which belong to
    weights the tracker has just rewound to the best epoch) is cleared. Returns the new name -> group map.
    """
    param_groups = optimizer.param_groups
    fallback = min(range(len(param_groups)), key=lambda i: float(param_groups[i].get("weight_decay") or 0.0))
    members = [[p for p in group["params"] if id(p) not in known.model_ids] for group in param_groups]
    seen: set[int] = set()
    for name, param in nn.Module.named_parameters(model):
        if not param.requires_grad or id(param) in seen:
            continue
        if name in known:
            index = known[name]
        else:
            index = known.get(_DENDRITE_COPY.sub("main_module.", name), fallback)
            if index is None:  # the main module's own parameter is not trained: neither is its copy
                continue
        if index is not None:
            members[index].append(param)
            seen.add(id(param))
    for group, params in zip(param_groups, members, strict=True):
        group["params"] = params
    inner_optimizer(optimizer).state.clear()
    return groups_by_name(optimizer, model)


def restart_scheduler(scheduler: Any, optimizer: Any) -> bool:
    """Start a learning-rate schedule again from its first step, as a scheduler built anew would.

    Each dendrite round trains new parameters from scratch, so they get the schedule's starting rate rather
    than a rate decayed by earlier rounds. Schedulers without a base rate per group (ReduceLROnPlateau) keep
    going. Returns whether the schedule was restarted.
    """
    base_lrs = getattr(scheduler, "base_lrs", None)
    if scheduler is None or base_lrs is None or len(base_lrs) != len(optimizer.param_groups):
        return False
    for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
        group["lr"] = base
    scheduler.last_epoch = -1
    scheduler.step()  # to step 0: the closed-form and chained schedulers both give their first rate
    return True


def library_option(config: Any, name: str) -> Any:
    """A run option before the tracker exists: from the callback's config, else the GPA.pc defaults."""
    if config is None:
        from pai_core.config import pc

        config = pc.config
    return getattr(config, name)


def forward_extra_scores(tracker: Any, metrics: dict, missing: set[str]) -> None:
    """Upstream's library hooks: the metrics named by library_extra_scores (graphed) and
    library_extra_scores_without_graphing go to the tracker before the validation score. A name the
    framework does not report is logged once (`missing` remembers it)."""
    for option, record in (("library_extra_scores", tracker.add_extra_score),
                           ("library_extra_scores_without_graphing", tracker.add_extra_score_without_graphing)):
        for name in getattr(tracker.config, option, None) or []:
            if name in metrics:
                record(metrics[name], name)
            elif name not in missing:
                missing.add(name)
                logger.warning("%s names %r, which is not among the reported metrics %s.", option, name,
                               sorted(metrics))

