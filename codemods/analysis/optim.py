"""Optimizer and scheduler constructions, `scheduler.step()` sites, and whether setup_optimizer fits."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemods.analysis.facts import CallFact, Facts, FunctionFact
from codemods.analysis.report import OptimizerInfo, OptimizerSetup, SchedulerInfo, StepCall

__all__ = ["analyze_optim"]

_NOT_OPTIMIZERS = {"Optimizer", "lr_scheduler", "swa_utils", "SWALR", "AveragedModel"}
_EXTERNAL_OPTIMIZERS = (
    "transformers.AdamW",
    "transformers.optimization.AdamW",
    "transformers.Adafactor",
    "bitsandbytes.optim.",
    "apex.optimizers.",
    "timm.optim.",
    "torch_optimizer.",
    "lion_pytorch.",
    "deepspeed.ops.",
)
_SCHEDULER_FACTORIES = (
    "transformers.get_",
    "transformers.optimization.get_",
    "timm.scheduler.",
    "diffusers.optimization.get_",
)


def _optimizer_kind(call: CallFact, custom: set[str]) -> tuple[bool, bool] | None:
    """(is optimizer, builtin) or None."""
    q = call.qname
    last = q.rsplit(".", 1)[-1]
    if (
        q.startswith("torch.optim.")
        and "lr_scheduler" not in q
        and last[:1].isupper()
        and last not in _NOT_OPTIMIZERS
    ):
        return True, True
    if (
        q.startswith(_EXTERNAL_OPTIMIZERS)
        and last[:1].isupper()
        or q.startswith("timm.optim.create_optimizer")
    ):
        return True, False
    if last in custom:
        return True, False
    return None


def _scheduler_kind(call: CallFact) -> bool:
    q = call.qname
    last = q.rsplit(".", 1)[-1]
    if q.startswith("torch.optim.lr_scheduler.") and last[:1].isupper() and last != "LRScheduler":
        return True
    if q.startswith("torch.optim.swa_utils.SWALR"):
        return True
    return bool(q.startswith(_SCHEDULER_FACTORIES) and ("schedule" in last or "scheduler" in q))


_OUR_PACKAGES = ("perforatedai.", "pai_core.")


def _tracker_managed(facts: Facts, optimizers: list, schedulers: list) -> None:
    """`GPA.pai_tracker.set_optimizer(SGD)` + `setup_optimizer(...)`: the classes the tracker builds."""
    setups = [
        c
        for c in facts.calls
        if c.qname.startswith(_OUR_PACKAGES) and c.attr in ("setup_optimizer", "setupOptimizer")
    ]
    for c in facts.calls:
        if not c.qname.startswith(_OUR_PACKAGES) or not c.args:
            continue
        setup = next(
            (s for s in setups if s.line > c.line and s.function == c.function), setups[0] if setups else None
        )
        names = setup.target_names if setup else ()
        qualified = facts.resolve(c.args[0])
        common = {
            "type": qualified,
            "name": qualified.rsplit(".", 1)[-1],
            "arguments": _dict_arguments(
                facts, setup, 1 if c.attr in ("set_optimizer", "setOptimizer") else 2
            ),
            "line": c.line,
            "text": c.text,
            "function": c.function,
            "in_loop": bool(c.loops),
            "builtin": qualified.startswith("torch.optim."),
        }
        if c.attr in ("set_optimizer", "setOptimizer"):
            params = next((a.split("=", 1)[1] for a in common["arguments"] if a.startswith("params=")), None)
            optimizers.append(
                OptimizerInfo(variable=names[0] if names else None, **common, params_argument=params)
            )
        elif c.attr in ("set_scheduler", "setScheduler"):
            schedulers.append(SchedulerInfo(variable=names[1] if len(names) > 1 else None, **common))


def _dict_arguments(facts: Facts, setup: CallFact | None, index: int) -> list[str]:
    """The entries of the optimArgs/schedArgs dict handed to setup_optimizer, as `key=value`."""
    if setup is None or len(setup.args) <= index:
        return []
    name = setup.args[index]
    literal = next(
        (
            a.value
            for a in reversed(facts.assigns)
            if name in a.target_names and a.line <= setup.line and isinstance(a.value, cst.Dict)
        ),
        None,
    )
    if literal is None:
        return [name]
    return [
        f"{facts.code(e.key).strip(chr(39) + chr(34))}={facts.code(e.value)}"
        for e in literal.elements
        if isinstance(e, cst.DictElement)
    ]


def _params_argument(call: CallFact) -> str | None:
    if "params" in call.kwargs:
        return call.kwargs["params"]
    return call.args[0] if call.args and "=" not in call.args[0].split("(")[0] else None


def analyze_optim(
    facts: Facts,
    model_vars: list[str],
    loop_function: str | None,
    library: str,
    ema_lines: list[int],
    amp_lines: list[int],
):
    custom = {c.name for c in facts.classes if any(b.endswith("Optimizer") for b in c.bases)}
    optimizers: list[OptimizerInfo] = []
    schedulers: list[SchedulerInfo] = []
    for call in facts.calls:
        common = {
            "variable": call.target_names[0] if call.target_names else None,
            "type": call.qname,
            "name": call.qname.rsplit(".", 1)[-1],
            "arguments": call.args,
            "line": call.line,
            "text": call.text,
            "function": call.function,
            "in_loop": bool(call.loops),
        }
        kind = _optimizer_kind(call, custom)
        if kind:
            optimizers.append(
                OptimizerInfo(**common, params_argument=_params_argument(call), builtin=kind[1],
                              condition=condition_of(call))
            )
        elif _scheduler_kind(call):
            schedulers.append(
                SchedulerInfo(
                    **common,
                    params_argument=_params_argument(call),
                    builtin=call.qname.startswith("torch.optim."),
                )
            )
    _tracker_managed(facts, optimizers, schedulers)
    _indirect(facts, model_vars, optimizers, schedulers)
    sched_vars = {s.variable for s in schedulers if s.variable}
    steps = [
        StepCall(variable=c.receiver or "", line=c.line, function=c.function, text=c.text)
        for c in facts.calls
        if c.attr == "step"
        and c.receiver
        and (c.receiver in sched_vars or "sched" in c.receiver.lower() or c.receiver.endswith("lr_scheduler"))
    ]
    setup = _classify(
        optimizers, schedulers, model_vars, loop_function, library, ema_lines, amp_lines, custom
    )
    per_batch = [s for s in steps if _per_batch(s, facts, loop_function)]
    if setup.kind == "simple" and per_batch:
        setup = OptimizerSetup(
            kind="complex",
            reason=f"the scheduler is stepped per batch (line {per_batch[0].line}) while setup_optimizer steps it "
            "once per epoch: use set_optimizer_instance and keep scheduler.step()",
        )
    setup.findings = _shapes(facts, optimizers, schedulers)
    return optimizers, schedulers, steps, setup


def condition_of(call: CallFact) -> str | None:
    """The innermost `if` test around a call, leaving out the `__main__` guard."""
    return next((c for c in reversed(call.conditions) if "__name__" not in c), None)


def rebuilt_on_restructure(opt: OptimizerInfo) -> bool:
    return bool(opt.condition) and "restructur" in opt.condition.lower()


def _hand_update(param: str):
    """`p.data.add_(p.grad, alpha=-lr)` / `p.sub_(...)` / `p.data -= lr * p.grad` on the loop's parameter `p`."""
    tensor = m.Name(param) | m.Attribute(value=m.Name(param), attr=m.Name("data"))
    return m.Call(func=m.Attribute(value=tensor, attr=m.Name("add_") | m.Name("sub_"))) | m.AugAssign(
        operator=m.SubtractAssign() | m.AddAssign(), target=tensor)


def manual_lr_note(sched: SchedulerInfo) -> str:
    return (f"the learning rate is set by hand at line {sched.line} (`{sched.text}`): an optimizer rebuilt after "
            "a restructure starts from the learning rate it is built with")


def _shapes(facts: Facts, optimizers: list[OptimizerInfo], schedulers: list[SchedulerInfo]) -> list[str]:
    """What an integration must respect about how the script really optimizes (each with its line)."""
    found = []
    registered = any(c.attr in ("set_optimizer_instance", "setup_optimizer", "setOptimizerInstance", "setupOptimizer")
                     for c in facts.calls)
    for opt in optimizers:
        if rebuilt_on_restructure(opt) and not registered:
            found.append(f"`{opt.text}` (line {opt.line}) rebuilds the optimizer after a restructure without the "
                         "tracker: register it with set_optimizer_instance there, or the tracker keeps the old one")
        elif opt.condition and opt.built_by != "manual":
            same = [o.name for o in optimizers if o.variable == opt.variable and not rebuilt_on_restructure(o)]
            if len(same) > 1 and opt.name != same[0]:
                continue
            found.append(
                f"the optimizer `{opt.variable}` is one of {', '.join(dict.fromkeys(same))}, chosen by `{opt.condition}` "
                f"(line {opt.line}): ask which flags the user trains with; each is registered where it is built"
                if len(set(same)) > 1 else
                f"the optimizer `{opt.variable}` exists only when `{opt.condition}` (line {opt.line}): ask which "
                "flags the user trains with; it is registered under that condition")
    manual = [lp for lp in facts.loops if (lp.iter_text or "").replace(" ", "").endswith(".parameters()")
              and lp.target and lp.target.isidentifier() and m.findall(lp.node.body, _hand_update(lp.target))]
    for lp in manual:
        found.append(f"the parameters are updated by hand at line {lp.line} (`for {lp.target} in {lp.iter_text}`), "
                     "without an optimizer: it reads the model's parameters at every step, so the dendrites "
                     "added later train too")
    found += [manual_lr_note(sched) for sched in schedulers if sched.built_by == "manual"]
    return found


def _per_batch(step: StepCall, facts: Facts, loop_function: str | None) -> bool:
    call = next((c for c in facts.calls if c.line == step.line and c.attr == "step"), None)
    if call is None:
        return False
    batch_loops = [
        lp
        for lp in facts.loops
        if lp.line in call.loops
        and lp.kind == "for"
        and "epoch" not in (lp.target or "").lower()
        and "epoch" not in (lp.iter_text or "").lower()
    ]
    return bool(batch_loops) and (
        loop_function is None or call.function != loop_function or len(call.loops) > 1
    )


def _classify(optimizers, schedulers, model_vars, loop_function, library, ema_lines, amp_lines, custom):
    """"simple" when the one optimizer converts to the tracker's setup_optimizer, "complex" (with every reason)
    when its instance must be registered as it is; "framework" / "none" when the script builds none."""
    schedulers = [s for s in schedulers if s.built_by != "manual"]  # it writes whichever optimizer is current
    managed = [
        o
        for o in optimizers
        if "setup_optimizer" in o.text or o.text.count("set_optimizer(") or "setOptimizer(" in o.text
    ]
    if managed:
        return OptimizerSetup(
            kind="simple",
            reason=f"already built by the tracker's setup_optimizer from "
            f"{managed[0].name} (line {managed[0].line})",
        )
    if not optimizers:
        return _no_optimizer(library)
    opt = optimizers[0]
    reasons = [
        *_construction_reasons(optimizers, loop_function, library),
        *_parameter_reasons(opt, model_vars),
        *_rebuilt_with_reasons(schedulers, ema_lines, amp_lines),
    ]
    if reasons:
        return OptimizerSetup(kind="complex", reason="; ".join(reasons) + ": use set_optimizer_instance")
    sched = f" and {schedulers[0].name}" if schedulers else ""
    return OptimizerSetup(
        kind="simple",
        reason=f"one {opt.name}{sched} built in one place (line {opt.line}) from `{opt.params_argument}`: "
        "convertible to setup_optimizer",
    )


def _no_optimizer(library: str) -> OptimizerSetup:
    """No optimizer construction: a framework's own, or none at all."""
    if library in ("huggingface_trainer",):
        return OptimizerSetup(kind="framework", reason="the HuggingFace Trainer builds the optimizer")
    if library in ("lightning", "lightning_fabric"):
        return OptimizerSetup(
            kind="framework", reason="no optimizer construction found; Lightning manages it"
        )
    return OptimizerSetup(kind="none", reason="no optimizer construction found")


def _construction_reasons(optimizers, loop_function: str | None, library: str) -> list[str]:
    """Why the construction cannot move to setup_optimizer: several, conditional, not torch.optim, in a loop,
    or in another function than the training loop."""
    reasons: list[str] = []
    if len(optimizers) > 1:
        reasons.append(
            f"{len(optimizers)} optimizer constructions (lines {', '.join(str(o.line) for o in optimizers)})"
        )
    opt = optimizers[0]
    if opt.condition:
        reasons.append(f"built only when `{opt.condition}` (line {opt.line})")
    if not opt.builtin:
        reasons.append(f"{opt.name} is not a torch.optim class")
    if opt.in_loop:
        reasons.append(f"the optimizer is built inside a loop (line {opt.line})")
    if opt.function and "." in opt.function and opt.function.split(".")[-1] == "configure_optimizers":
        reasons.append("built in Lightning's configure_optimizers")
    elif opt.function and loop_function and opt.function != loop_function and opt.function not in ("main",):
        reasons.append(f"built inside {opt.function}() while the training loop is in {loop_function}()")
    elif opt.function and loop_function is None and opt.function not in ("main",) and library == "plain":
        reasons.append(f"built inside {opt.function}()")
    return reasons


_PARAMETER_NAMES = ("params", "parameters", "param_groups", "grouped_parameters", "optimizer_grouped_parameters")


def _parameter_reasons(opt, model_vars: list[str]) -> list[str]:
    """The parameters argument, unless it is a model's `.parameters()`, a literal list or dict of groups, or a
    conventionally named variable."""
    params = (opt.params_argument or "").replace(" ", "")
    simple_params = (
        params.startswith(("[", "{"))
        or any(params.startswith((f"{v}.parameters()", f"{v}.module.parameters()")) for v in model_vars)
        or params in _PARAMETER_NAMES
        or params.endswith(".parameters()")
    )
    if simple_params:
        return []
    return [f"parameters given as `{opt.params_argument}`" if opt.params_argument else "no parameters argument"]


def _rebuilt_with_reasons(schedulers, ema_lines: list[int], amp_lines: list[int]) -> list[str]:
    """What else holds the optimizer and would have to be rebuilt with it: several schedulers, an EMA model,
    an AMP GradScaler."""
    reasons: list[str] = []
    if len(schedulers) > 1:
        reasons.append(f"{len(schedulers)} schedulers")
    if ema_lines:
        reasons.append(f"an EMA/averaged model (line {ema_lines[0]}) must be rebuilt with the optimizer")
    if amp_lines:
        reasons.append(f"an AMP GradScaler (line {amp_lines[0]}) must be rebuilt with the optimizer")
    return reasons


# getattr(torch.optim, cfg["optimizer"]["name"]) / getattr(optim.lr_scheduler, name): a class named by config
_BY_NAME = m.Call(func=m.Name("getattr"), args=[m.Arg(), m.Arg()])
# for g in optimizer.param_groups: g["lr"] = lr
_LR_WRITE = m.Assign(targets=[m.AssignTarget(target=m.Subscript(slice=[m.SubscriptElement(
    slice=m.Index(value=m.SimpleString(value=m.MatchIfTrue(lambda v: v.strip("'\"") == "lr"))))]))])


def _indirect(facts: Facts, model_vars: list[str], optimizers: list, schedulers: list) -> None:
    """Optimizers and schedulers built by a model method, a helper, from a config key, or by hand.

    The construction inside a helper or a `configure_optimizers` method of a plain model is replaced by the
    call site that assigns its result, since that is the variable the tracker must be given.
    """
    helpers = {f.qualname: f for f in facts.functions}
    for call in facts.calls:
        if not call.target_names or call.loops or call.attr in ("parameters", "to", "cuda"):
            continue
        kind, inner = _built_by(facts, call, model_vars, helpers)
        if kind is None:
            continue
        role = _role(facts, call, inner)
        if role is None:
            continue
        found = optimizers if role == "optimizer" else schedulers
        cls = OptimizerInfo if role == "optimizer" else SchedulerInfo
        if any(o.line == call.line for o in found):
            continue
        if inner is not None:  # the helper's own construction is not what the tracker is handed
            found[:] = [o for o in found if not (inner.line <= o.line <= inner.end_line)]
        found.append(cls(variable=call.target_names[0], type=call.qname, name=call.attr, arguments=call.args,
                         params_argument=_params_argument(call), line=call.line, text=call.text,
                         function=call.function, in_loop=False, builtin=False, built_by=kind))
    for loop in facts.loops:
        if "param_groups" not in (loop.iter_text or "") or not m.findall(loop.node.body, _LR_WRITE):
            continue
        schedulers.append(SchedulerInfo(variable=None, type="manual", name="manual LR schedule",
                                        arguments=[], line=loop.line, text=f"for {loop.target} in {loop.iter_text}",
                                        function=loop.function, in_loop=bool(loop.depth) or _in_epoch(facts, loop),
                                        builtin=False, built_by="manual"))


def _in_epoch(facts: Facts, loop) -> bool:
    return any(lp.line < loop.line <= lp.end_line for lp in facts.loops if lp is not loop)


def _built_by(facts: Facts, call: CallFact, model_vars: list[str], helpers: dict[str, FunctionFact]):
    """('model_method' | 'helper' | 'config', the function that builds it) for an indirect construction."""
    if m.matches(call.node.func, _BY_NAME):
        return "config", None
    if call.receiver in model_vars:
        method = next((f for f in facts.functions if f.cls and f.name == call.attr), None)
        return ("model_method", method) if method else (None, None)
    fn = helpers.get(call.written) if call.receiver is None else None
    if fn is None:
        return None, None
    if any(c.function == fn.qualname and m.matches(c.node.func, _BY_NAME) for c in facts.calls):
        return "config", fn
    return "helper", fn


def _role(facts: Facts, call: CallFact, inner: FunctionFact | None) -> str | None:
    """'optimizer' / 'scheduler': what the helper constructs (or names by config), else the variable's name."""
    if inner is None:
        name = call.target_names[0].rsplit(".", 1)[-1].lower()
        return "scheduler" if "sched" in name else "optimizer" if "optim" in name or name == "opt" else None
    for c in facts.calls:
        if c.function != inner.qualname:
            continue
        if _optimizer_kind(c, set()):
            return "optimizer"
        if _scheduler_kind(c):
            return "scheduler"
        if m.matches(c.node, _BY_NAME) and "optim" in c.args[0]:  # getattr(torch.optim, name)
            return "scheduler" if "lr_scheduler" in c.args[0] else "optimizer"
    return None
