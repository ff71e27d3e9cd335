"""PAI202: the early-2024 four-value `addValidationScore(score, model, saveName)` becomes today's three values.

Before::

    model, improved, restructured, trainingComplete = PBG.pbTracker.addValidationScore(score, model, "run")

After (PAI203 then renames the call)::

    model, restructured, trainingComplete = PBG.pbTracker.addValidationScore(score, model)

The save name was already given to `initializePB`, so dropping it changes nothing. A script that reads
`improved`, or keeps the four values in anything but a four-name unpacking, is refused with the line: the current
call does not return it (compare `GPA.pai_tracker.member_vars["current_best_validation_score"]` before and after
the call instead).
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ScopeProvider

from codemods.examples import Invalid, Valid
from codemods.migrate._base import MigrationRule

_METHOD = ("pbTracker", "addValidationScore")


class MigrateValidationShape(MigrationRule):
    CODE = "PAI202"
    DESCRIPTION = "model, improved, restructured, complete = addValidationScore(s, m, name) -> three values."
    VALID = (
        Valid("""
            import torch.optim as optim
            from torch.optim.lr_scheduler import StepLR
            from perforatedai import pb_globals as PBG

            PBG.pbTracker.setOptimizer(optim.Adadelta)
            PBG.pbTracker.setScheduler(StepLR)
            optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 1.0},
                                                                {"step_size": 1, "gamma": 0.7})
            model, restructured, trainingComplete = PBG.pbTracker.addValidationScore(accuracy, model)
            """),
    )
    INVALID = (
        Invalid("""
            from perforatedai import pb_globals as PBG


            def validate(model, val_loader, args):
                accuracy = evaluate(model, val_loader)
                model, improved, restructured, trainingComplete = PBG.pbTracker.addValidationScore(accuracy, model, args.save_name)
                return model, restructured, trainingComplete
            """, expected="""
            from perforatedai import pb_globals as PBG


            def validate(model, val_loader, args):
                accuracy = evaluate(model, val_loader)
                model, restructured, trainingComplete = PBG.pbTracker.addValidationScore(accuracy, model)
                return model, restructured, trainingComplete
            """),
        Invalid("""
            from perforatedai import pb_globals as PBG

            model, improved, restructured, trainingComplete = PBG.pbTracker.addValidationScore(accuracy, model, "run")
            if improved:
                torch.save(model.state_dict(), "best.pt")
            """, expected=None),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._unpacked: set[cst.Call] = set()  # calls whose four-name unpacking is rewritten
        self._seen: set[cst.Call] = set()  # calls an assignment already handled or refused

    def _four_valued(self, call: cst.BaseExpression) -> bool:
        if not isinstance(call, cst.Call):
            return False
        legacy = self.legacy(call.func)
        if legacy is None or legacy.path != _METHOD:
            return False
        positional = [a for a in call.args if a.keyword is None and not a.star]
        return len(positional) >= 3 or any(a.keyword and a.keyword.value == "saveName" for a in call.args)

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._four_valued(node.value):
            return
        self._seen.add(node.value)
        target = node.targets[0].target if len(node.targets) == 1 else None
        elements = target.elements if isinstance(target, (cst.Tuple, cst.List)) else []
        if len(elements) != 4:
            self.refuse(node, "the 2024 addValidationScore(score, model, saveName) returns four values; unpack them "
                        "as `model, improved, restructured, trainingComplete = ...` (today's call returns the last "
                        "three), then run pai migrate again")
            return
        improved = elements[1].value
        if not isinstance(improved, cst.Name) or self._read(improved):
            self.refuse(node, f"the script uses `{self.code_of(improved)}`, the `improved` flag the 2024 "
                        "addValidationScore returned and today's add_validation_score does not: compare "
                        "GPA.pai_tracker.member_vars['current_best_validation_score'] before and after the call "
                        "instead, then run pai migrate again")
            return
        self._unpacked.add(node.value)

    def _read(self, name: cst.Name) -> bool:
        scope = self.get_metadata(ScopeProvider, name, None)
        return scope is None or any(True for _ in scope.accesses[name.value])

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign):
        if original_node.value not in self._unpacked:
            return updated_node
        target = updated_node.targets[0].target
        elements = list(target.elements)
        del elements[1]
        call = updated_node.value
        args = [a for a in call.args if not (a.keyword and a.keyword.value == "saveName")]
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        if len(positional) >= 3:
            del args[positional[2]]
        last = args[-1].comma
        if isinstance(last, cst.Comma) and isinstance(last.whitespace_after, cst.SimpleWhitespace):
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)  # a comment after it stays
        return updated_node.with_changes(targets=[updated_node.targets[0].with_changes(
            target=target.with_changes(elements=elements))], value=call.with_changes(args=args))

    def visit_Call(self, node: cst.Call) -> None:
        if node not in self._seen and self._four_valued(node):
            self.refuse(node, "the 2024 addValidationScore(score, model, saveName) returns four values; unpack "
                        "them as `model, improved, restructured, trainingComplete = ...`, then run pai migrate again")
