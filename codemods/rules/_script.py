"""Small questions about the script that several rules ask, answered from the analysis report plus the tree.

The analysis finds things (the model, the optimizer, the loop); these helpers turn its findings into the exact
nodes and expressions a rewrite needs, e.g. the keyword names of an optimizer's positional arguments.
Nothing here guesses: an answer that is not certain comes back as None.
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

# Positional parameter names of the torch.optim classes and schedulers a simple setup may use
# (torch 2.x signatures), so positional arguments can become setup_optimizer dictionary keys.
OPTIMIZER_PARAMETERS: dict[str, tuple[str, ...]] = {
    "SGD": ("params", "lr", "momentum", "dampening", "weight_decay", "nesterov"),
    "Adam": ("params", "lr", "betas", "eps", "weight_decay", "amsgrad"),
    "AdamW": ("params", "lr", "betas", "eps", "weight_decay", "amsgrad"),
    "Adamax": ("params", "lr", "betas", "eps", "weight_decay"),
    "NAdam": ("params", "lr", "betas", "eps", "weight_decay", "momentum_decay"),
    "RAdam": ("params", "lr", "betas", "eps", "weight_decay"),
    "Adadelta": ("params", "lr", "rho", "eps", "weight_decay"),
    "Adagrad": ("params", "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
    "RMSprop": ("params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
    "Rprop": ("params", "lr", "etas", "step_sizes"),
    "ASGD": ("params", "lr", "lambd", "alpha", "t0", "weight_decay"),
    "SparseAdam": ("params", "lr", "betas", "eps"),
    "LBFGS": ("params", "lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size"),
}
SCHEDULER_PARAMETERS: dict[str, tuple[str, ...]] = {
    "StepLR": ("optimizer", "step_size", "gamma"),
    "MultiStepLR": ("optimizer", "milestones", "gamma"),
    "ExponentialLR": ("optimizer", "gamma"),
    "CosineAnnealingLR": ("optimizer", "T_max", "eta_min"),
    "CosineAnnealingWarmRestarts": ("optimizer", "T_0", "T_mult", "eta_min"),
    "ReduceLROnPlateau": ("optimizer", "mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                          "min_lr", "eps"),
    "LinearLR": ("optimizer", "start_factor", "end_factor", "total_iters"),
    "ConstantLR": ("optimizer", "factor", "total_iters"),
    "PolynomialLR": ("optimizer", "total_iters", "power"),
    "LambdaLR": ("optimizer", "lr_lambda"),
    "MultiplicativeLR": ("optimizer", "lr_lambda"),
    "CyclicLR": ("optimizer", "base_lr", "max_lr", "step_size_up", "step_size_down", "mode", "gamma"),
    "OneCycleLR": ("optimizer", "max_lr", "total_steps", "epochs", "steps_per_epoch", "pct_start"),
}
# Schedulers whose schedule has a horizon: PAI training runs longer than the original epoch count.
HORIZON_SCHEDULERS = {"OneCycleLR", "CosineAnnealingLR", "PolynomialLR", "LinearLR", "CyclicLR"}


def call_value(stmt: cst.CSTNode) -> tuple[cst.BaseAssignTargetExpression | None, cst.Call | None]:
    """(target, call) of a one-statement line `target = call(...)` (or `call(...)`), else (None, None)."""
    if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign() | m.Expr() | m.AnnAssign()])):
        return None, None
    small = stmt.body[0]  # type: ignore[attr-defined]
    if isinstance(small, cst.Assign):
        if len(small.targets) != 1 or not isinstance(small.value, cst.Call):
            return None, None
        return small.targets[0].target, small.value
    if isinstance(small, cst.AnnAssign):
        return (small.target, small.value) if isinstance(small.value, cst.Call) else (None, None)
    return (None, small.value) if isinstance(small.value, cst.Call) else (None, None)


def callee_name(call: cst.Call) -> str:
    """`optim.SGD` for `optim.SGD(...)`: the dotted callee as written, or '' for computed callees."""
    parts: list[str] = []
    node: cst.BaseExpression = call.func
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return ""
    parts.append(node.value)
    return ".".join(reversed(parts))


def keyword_arguments(call: cst.Call, positional_names: tuple[str, ...] | None, skip_first: str,
                      module: cst.Module) -> list[tuple[str, str]] | None:
    """[(name, source)] for every argument, positional ones named from the signature; None if unsure.

    `skip_first` names the argument that is not part of the dict (the scheduler's optimizer); for
    optimizers it is "" and the params argument is kept.
    """
    out: list[tuple[str, str]] = []
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if arg.keyword is not None:
            name = arg.keyword.value
        else:
            if positional_names is None or index >= len(positional_names):
                return None
            name = positional_names[index]
        if name == skip_first:
            continue
        out.append((name, module.code_for_node(arg.value)))
    return out


def dict_source(items: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'"{k}": {v}' for k, v in items) + "}"


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def names_in(node: cst.CSTNode) -> set[str]:
    """Every identifier under `node` (a plain visitor: matchers cost ~5x more on a whole module)."""
    collector = _Names()
    node.visit(collector)
    return collector.names


def sanitize_save_name(name: str) -> str:
    """The library keeps letters, digits, '_', '-' and '.' (a '/' is an error there)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "", name.replace("/", "_").replace(" ", "_"))
    return cleaned or "PAI"
