"""PAI204: the 2024 `pb_utils` functions and `pbTracker.initialize` become today's `UPA` calls.

Before::

    model = PBU.initializePB(model, doingPB=True, saveName="run")
    net = PBU.convertNetwork(net)
    PBG.pbTracker.initialize(doingPB=True, saveName="early", maximizingScore=True)
    model = PBU.loadSystem(model, "run", "latest", True)

After::

    model = UPA.perforate_model(model, doing_pai=True, save_name="run", maximizing_score=True)
    net = UPA.perforate_model(net, doing_pai=True, save_name="early", maximizing_score=True)
    model = UPA.load_system(model, "run", "latest", True)

Keywords are renamed and the 2024 defaults that differ from today's (`saveName="PB"`, `maximizingScore=True`)
are written out, so the run folder and the score direction stay what they were. The early-2024 pair,
`convertNetwork` then `pbTracker.initialize(...)` without a model, becomes one `perforate_model` where the
network was converted; an `initialize()` without a model and without a `convertNetwork` assignment before it in
the same block is refused.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemods.examples import CURRENT_API, Invalid, Valid
from codemods.migrate._base import GLOBALS, MigrationRule
from pai_core.upstream_names import INITIALIZE, LEGACY_MEMBERS, LEGACY_TRACKER

_UTILS = LEGACY_MEMBERS["pb_utils"]


class MigratePerforateCalls(MigrationRule):
    CODE = "PAI204"
    DESCRIPTION = "PBU.initializePB / convertNetwork (+ pbTracker.initialize) / loadSystem & co. become UPA calls."
    VALID = (Valid(CURRENT_API),)
    INVALID = (
        Invalid("""
            from perforatedai import pb_utils as PBU

            model = Net()
            model = PBU.initializePB(model, doingPB=True)
            """, expected="""
            from perforatedai import utils_perforatedai as UPA, pb_utils as PBU

            model = Net()
            model = UPA.perforate_model(model, doing_pai=True, save_name="PB", maximizing_score=True)
            """),
        Invalid("""
            from perforatedai import pb_globals as PBG
            from perforatedai import pb_utils as PBU

            model = PBU.convertNetwork(Net())
            PBG.pbTracker.initialize(doingPB=True, saveName="mnist", maximizingScore=True, makingGraphs=True)
            model = model.to(device)
            """, expected="""
            from perforatedai import utils_perforatedai as UPA, pb_globals as PBG
            from perforatedai import pb_utils as PBU

            model = UPA.perforate_model(Net(), doing_pai=True, save_name="mnist", maximizing_score=True, making_graphs=True)
            model = model.to(device)
            """),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._merged: dict[cst.Call, cst.Call] = {}  # convertNetwork call -> the initialize call folded into it
        self._dropped: set[cst.CSTNode] = set()  # initialize statements folded into their convertNetwork

    def _utils(self, node: cst.CSTNode) -> str | None:
        legacy = self.legacy(node)
        return legacy.path[0] if legacy and legacy.module == "pb_utils" and len(legacy.path) == 1 else None

    def _initialize(self, node: cst.CSTNode) -> bool:
        legacy = self.legacy(node)
        return bool(legacy and legacy.module in GLOBALS and legacy.path == (LEGACY_TRACKER, "initialize"))

    # -------------------------------------------------- the early-2024 convertNetwork + initialize() pair
    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        self._pair(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._pair(node.body)

    def _pair(self, body) -> None:
        converted: cst.Call | None = None
        for stmt in body:
            expr = _only(stmt, m.Assign(value=m.Call()))
            if expr is not None and self._utils(expr.value.func) == "convertNetwork":
                converted = expr.value
                continue
            call = _only(stmt, m.Expr(value=m.Call()))
            if call is None or not self._initialize(call.value.func) or _has_model(call.value):
                continue
            if converted is None or converted in self._merged:
                self.refuse(stmt, "pbTracker.initialize() without a model must follow `model = "
                            "PBU.convertNetwork(model)` in the same block: pass the model, `model = "
                            "PBG.pbTracker.initialize(model, ...)`, then run pai migrate again")
                continue
            self._merged[converted] = call.value
            self._dropped.add(stmt)

    def leave_SimpleStatementLine(self, original_node, updated_node):
        return cst.RemoveFromParent() if original_node in self._dropped else updated_node

    # ------------------------------------------------------------------------------------- calls
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        legacy = self.legacy(original_node.func)
        if legacy is None:
            return updated_node
        if original_node in self._merged:
            init = self._merged[original_node]
            call = updated_node.with_changes(args=[*updated_node.args[:1], *init.args])
            return self.renamed_call(call, INITIALIZE, legacy.package, original_node)
        if self._initialize(original_node.func):
            return self.renamed_call(updated_node, INITIALIZE, legacy.package, original_node)
        name = self._utils(original_node.func)
        if name in _UTILS:
            return self.renamed_call(updated_node, _UTILS[name], legacy.package, original_node)
        return updated_node

    def replace(self, legacy, original, updated):
        if legacy.module != "pb_utils":
            return updated
        name = legacy.path[0]
        if name not in _UTILS or len(legacy.path) > 1:
            self.refuse(original, f"`{self.code_of(original)}`: pb_utils has no function {name!r} pai can map to the "
                        "current API (see the README's upstream-names table)")
            return updated
        return self.current(legacy.package, _UTILS[name], node=original)


def _only(stmt: cst.CSTNode, matcher: m.BaseMatcherNode):
    """The statement's one small statement when it matches, else None."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and m.matches(stmt.body[0], matcher):
        return stmt.body[0]
    return None


def _has_model(call: cst.Call) -> bool:
    return any(a.keyword is None or a.keyword.value == "model" for a in call.args)
