"""PAI203: `PBG.pbTracker`'s camelCase calls become `GPA.pai_tracker`'s, and `memberVars` keys today's names.

Before::

    PBG.pbTracker.setOptimizer(torch.optim.Adam)
    optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, optimArgs, schedArgs)
    model, restructured, trainingComplete = PBG.pbTracker.addValidationScore(score, model, forceSwitch=True)
    layers = PBG.pbTracker.memberVars["numPBNeuronLayers"]

After::

    GPA.pai_tracker.set_optimizer(torch.optim.Adam)
    optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optimArgs, schedArgs)
    model, restructured, trainingComplete = GPA.pai_tracker.add_validation_score(score, model, force_switch=True)
    layers = GPA.pai_tracker.member_vars["num_dendrites_added"]

`pbTracker.initialize(...)` is PAI204's (it becomes `UPA.perforate_model`). A tracker member that is neither a
2024 name of the table nor already today's is refused with its name.
"""

from __future__ import annotations

import libcst as cst

from codemods.examples import CURRENT_API, Invalid, Valid
from codemods.migrate._base import GLOBALS, MigrationRule
from pai_core.upstream_names import LEGACY_MEMBER_VARS, LEGACY_TRACKER, LEGACY_TRACKER_METHODS

_CURRENT = {renamed.name for renamed in LEGACY_TRACKER_METHODS.values()}


class MigrateTrackerCalls(MigrationRule):
    CODE = "PAI203"
    DESCRIPTION = "PBG.pbTracker.addValidationScore & co. become GPA.pai_tracker.add_validation_score & co."
    VALID = (Valid(CURRENT_API),)
    INVALID = (
        Invalid("""
            import torch.optim as optim
            from torch.optim.lr_scheduler import StepLR
            from perforatedai import pb_globals as PBG

            PBG.pbTracker.setOptimizer(optim.Adadelta)
            PBG.pbTracker.setScheduler(StepLR)
            optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 1.0},
                                                                {"step_size": 1, "gamma": 0.7})
            model, restructured, trainingComplete = PBG.pbTracker.addValidationScore(accuracy, model)
            """, expected="""
            import torch.optim as optim
            from torch.optim.lr_scheduler import StepLR
            from perforatedai import globals_perforatedai as GPA, pb_globals as PBG

            GPA.pai_tracker.set_optimizer(optim.Adadelta)
            GPA.pai_tracker.set_scheduler(StepLR)
            optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 1.0},
                                                                {"step_size": 1, "gamma": 0.7})
            model, restructured, trainingComplete = GPA.pai_tracker.add_validation_score(accuracy, model)
            """),
    )

    def _tracker_path(self, node: cst.CSTNode) -> tuple[str, ...] | None:
        legacy = self.legacy(node)
        if legacy and legacy.module in GLOBALS and legacy.path[:1] == (LEGACY_TRACKER,):
            return legacy.path[1:]
        return None

    def replace(self, legacy, original, updated):
        path = self._tracker_path(original)
        if path is None or path[:1] == ("initialize",):
            return updated
        if path and path[0] not in LEGACY_TRACKER_METHODS and path[0] not in _CURRENT:
            self.refuse(original, f"`{self.code_of(original)}`: the tracker has no member {path[0]!r} pai can map "
                        "to the current API (see the README's upstream-names table)")
            return updated
        names = [LEGACY_TRACKER_METHODS[path[0]].name if path[0] in LEGACY_TRACKER_METHODS else path[0], *path[1:]]
        return self.current(legacy.package, module="globals_perforatedai", attr=".".join(["pai_tracker", *names]),
                            node=original)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        path = self._tracker_path(original_node.func)
        if not path or len(path) != 1 or path[0] not in LEGACY_TRACKER_METHODS:
            return updated_node
        renamed = LEGACY_TRACKER_METHODS[path[0]]
        legacy = self.legacy(original_node.func)
        return self.renamed_call(updated_node, renamed, legacy.package, original_node, func=updated_node.func)

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if self._tracker_path(original_node.value) != ("memberVars",) or len(updated_node.slice) != 1:
            return updated_node
        index = updated_node.slice[0].slice
        key = index.value if isinstance(index, cst.Index) else None
        if isinstance(key, cst.SimpleString) and key.evaluated_value in LEGACY_MEMBER_VARS:
            quote = key.prefix + key.quote
            new_key = key.with_changes(value=f"{quote}{LEGACY_MEMBER_VARS[key.evaluated_value]}{key.quote}")
            return updated_node.with_changes(slice=[updated_node.slice[0].with_changes(
                slice=index.with_changes(value=new_key))])
        return updated_node
