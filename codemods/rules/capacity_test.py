"""PAI007: switch the dendrite capacity test on or off (`pai perforate --capacity-test on|off`).

Before (after the run printed "Successfully added 3 dendrites")::

    GPA.pc.set_testing_dendrite_capacity(True)

After ``--capacity-test off``::

    GPA.pc.set_testing_dendrite_capacity(False)

A script without the call gets one right before perforate_model (the library default is on).
"""

from __future__ import annotations

import argparse

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.examples import MNIST_INTEGRATED, Invalid, Valid
from codemods.rules._base import FRAMEWORKS, PaiRule

_FLAG_CALL = m.Call(func=m.Attribute(attr=m.Name("set_testing_dendrite_capacity")))


class SetCapacityTest(PaiRule):
    CODE = "PAI007"
    DESCRIPTION = "Set GPA.pc.set_testing_dendrite_capacity(True|False) (--capacity-test on|off)."
    DEFAULT = False  # only on request: `pai perforate --capacity-test on|off`
    FRAMEWORKS = FRAMEWORKS
    VALID = (Valid(MNIST_INTEGRATED, options={"capacity_test": True}),)  # already on
    INVALID = (
        Invalid(MNIST_INTEGRATED, options={"capacity_test": False},
                expected=MNIST_INTEGRATED.replace("set_testing_dendrite_capacity(True)",
                                                  "set_testing_dendrite_capacity(False)")),
    )

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--capacity-test", dest="capacity_test", choices=("on", "off"), required=True)

    def __init__(self, context, capacity_test=None, **kwargs) -> None:
        if isinstance(capacity_test, str):
            capacity_test = capacity_test == "on"
        super().__init__(context, capacity_test=capacity_test, **kwargs)

    def plan(self, tree: cst.Module) -> None:
        if self.capacity_test is None:
            raise SkipFile(f"{self.CODE}: no --capacity-test value given")
        wanted = "True" if self.capacity_test else "False"
        calls = list(m.findall(tree, _FLAG_CALL))
        if calls:
            if all(c.args and self.code(c.args[0].value) == wanted for c in calls):  # type: ignore[attr-defined]
                state = "on" if self.capacity_test else "off"
                self.note(f"the capacity test is already {state} (set_testing_dendrite_capacity({wanted})): "
                          "nothing to change")
                raise SkipFile(f"{self.CODE}: the capacity test is already {wanted}")
            self._wanted = wanted
            return
        perforate = [s for s in self.lines.start if m.findall(s, m.Call(func=m.Attribute(attr=m.Name("perforate_model"))))
                     and isinstance(s, cst.SimpleStatementLine)]
        if not perforate:
            raise self.skip("the script does not call perforate_model yet: run `pai perforate` first")
        self.add_edit(self.lines.get(perforate[0]),
                      before=[self.stmt(f"{self.gpa}.pc.set_testing_dendrite_capacity({wanted})")])

    def has_other_changes(self) -> bool:
        return hasattr(self, "_wanted")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if hasattr(self, "_wanted") and m.matches(updated_node, _FLAG_CALL) and updated_node.args:
            arg = updated_node.args[0].with_changes(value=cst.Name(self._wanted))
            return updated_node.with_changes(args=[arg, *updated_node.args[1:]])
        return updated_node
