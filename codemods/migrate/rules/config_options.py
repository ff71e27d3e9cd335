"""PAI201: module-attribute config of `pb_globals` / `globalsFile` becomes the `GPA.pc` setters and getters.

Before::

    PBG.switchMode = PBG.doingHistory
    PBG.nEpochsToSwitch = 10
    PBG.moduleNamesToConvert.append("Linear")
    PBG.modulesWithProcessing += [WithState]
    dims = PBG.inputDimensions

After::

    GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)
    GPA.pc.set_n_epochs_to_switch(10)
    GPA.pc.append_module_names_to_perforate(["Linear"])
    GPA.pc.append_modules_with_processing([WithState])
    dims = GPA.pc.get_output_dimensions()

Perforated-Backpropagation-only names (`pEpochsToSwitch`, `capAtN`, `nodeIndex`) get their current setters,
which pai accepts and ignores. A list option changed any other way than `append` / `extend` / `+=` (`remove`,
an item assigned) is refused: the setter is the only way to change it today.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ExpressionContext, ExpressionContextProvider

from codemods.examples import CURRENT_API, Invalid, Valid
from codemods.migrate._base import GLOBALS, LegacyName, MigrationRule
from pai_core.options import LEGACY_CONSTANT_NAMES, LEGACY_OPTIONS

_APPENDERS = ("append", "extend")
_MUTATORS = ("remove", "insert", "pop", "clear", "sort", "reverse", "__setitem__", "__delitem__")


class MigrateConfigOptions(MigrationRule):
    CODE = "PAI201"
    DESCRIPTION = "PBG.<option> = value / .append(...) / reads become GPA.pc.set_/append_/get_<option>."
    METADATA_DEPENDENCIES = (*MigrationRule.METADATA_DEPENDENCIES, ExpressionContextProvider)
    VALID = (Valid(CURRENT_API),)
    INVALID = (
        Invalid("""
            from perforatedai import pb_globals as PBG

            PBG.switchMode = PBG.doingHistory
            PBG.nEpochsToSwitch = 10
            PBG.inputDimensions = [-1, 0, -1, -1]
            PBG.moduleNamesToConvert.append("Conv2d")
            """, expected="""
            from perforatedai import globals_perforatedai as GPA, pb_globals as PBG

            GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)
            GPA.pc.set_n_epochs_to_switch(10)
            GPA.pc.set_output_dimensions([-1, 0, -1, -1])
            GPA.pc.append_module_names_to_perforate(["Conv2d"])
            """),
        Invalid("""
            from perforatedai import pb_globals as PBG

            PBG.moduleNamesToConvert.remove("Linear")
            """, expected=None),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._written: set[cst.CSTNode] = set()  # option targets an enclosing statement or call rewrites

    def _option(self, node: cst.CSTNode) -> tuple[LegacyName, str] | None:
        legacy = self.legacy(node)
        if legacy and legacy.module in GLOBALS and legacy.path and legacy.path[0] in LEGACY_OPTIONS:
            return legacy, LEGACY_OPTIONS[legacy.path[0]]
        return None

    def _pc(self, legacy: LegacyName, attr: str, node: cst.CSTNode) -> cst.BaseExpression:
        return self.current(legacy.package, module="globals_perforatedai", attr=f"pc.{attr}", node=node)

    def visit_Assign(self, node: cst.Assign) -> None:
        options = [t.target for t in node.targets if self._option(t.target)]
        if options and len(node.targets) > 1:
            self.refuse(node, f"`{self.code_of(node)}`: set each 2024 option in its own statement, then run pai "
                        "migrate again")
        self._written.update(options)

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign):
        found = self._option(original_node.targets[0].target) if len(original_node.targets) == 1 else None
        if not found or len(found[0].path) != 1:
            return updated_node
        legacy, option = found
        return cst.Expr(cst.Call(self._pc(legacy, f"set_{option}", original_node), [cst.Arg(updated_node.value)]))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        found = self._option(node.target)
        if found and isinstance(node.operator, cst.AddAssign) and len(found[0].path) == 1:
            self._written.add(node.target)

    def leave_AugAssign(self, original_node: cst.AugAssign, updated_node: cst.AugAssign):
        if original_node.target not in self._written:
            return updated_node
        legacy, option = self._option(original_node.target)
        return cst.Expr(cst.Call(self._pc(legacy, f"append_{option}", original_node), [cst.Arg(updated_node.value)]))

    def visit_Call(self, node: cst.Call) -> None:
        found = self._option(node.func)
        if found and found[0].path[1:] in ((a,) for a in _APPENDERS):
            self._written.add(node.func)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node.func not in self._written:
            return updated_node
        legacy, option = self._option(original_node.func)
        if len(updated_node.args) != 1 or updated_node.args[0].keyword or updated_node.args[0].star:
            self.refuse(original_node, f"`{self.code_of(original_node)}`: pass one list item, then run pai migrate "
                        "again")
            return updated_node
        value = updated_node.args[0].value
        if legacy.path[1] == "append":
            value = cst.List([cst.Element(value)])
        return cst.Call(self._pc(legacy, f"append_{option}", original_node), [cst.Arg(value)])

    def replace(self, legacy, original, updated):
        if legacy.module not in GLOBALS or original in self._written:
            return updated
        name = legacy.path[0]
        if name in LEGACY_CONSTANT_NAMES and len(legacy.path) == 1:
            return self._pc(legacy, LEGACY_CONSTANT_NAMES[name], original)
        if name not in LEGACY_OPTIONS:
            return updated
        option = LEGACY_OPTIONS[name]
        context = self.get_metadata(ExpressionContextProvider, original, ExpressionContext.LOAD)
        method = legacy.path[1] if len(legacy.path) > 1 else None
        if context != ExpressionContext.LOAD or method in _MUTATORS or len(legacy.path) > 2:
            self.refuse(original, f"`{self.code_of(original)}` changes the 2024 option {name} in a way the current "
                        f"API has no call for: compute the new value and pass it to GPA.pc.set_{option}(...), then "
                        "run pai migrate again")
            return updated
        getter = cst.Call(self._pc(legacy, f"get_{option}", original))
        return cst.Attribute(getter, cst.Name(method)) if method else getter
