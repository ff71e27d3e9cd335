"""Every rule's own examples, run as Fixit runs a lint rule's: each `pai perforate` and `pai migrate` rule
carries `VALID` scripts it must leave unchanged and `INVALID` scripts it must rewrite to the expected script
(which compiles, and which the rule then leaves unchanged) or, for a rule that only reports, refuse with a
finding of its own code. The rule runs alone, as `python -m libcst.tool codemod` runs it."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, SkipFile

from codemods.migrate._base import REFUSALS_KEY, MigrationRefused, MigrationRule
from codemods.migrate.rules import RULES as MIGRATE_RULES
from codemods.rules import RULES
from codemods.rules._base import FINDINGS_KEY, PaiRule

ALL_RULES = [*RULES.values(), *MIGRATE_RULES]


def _apply(rule: type, script: str, options: dict) -> tuple[str, list[str]]:
    """The script after `rule` alone, and the codes of the findings it recorded."""
    context = CodemodContext(filename="train.py")
    try:
        new = rule(context, **options).transform_module(cst.parse_module(script)).code
    except (SkipFile, MigrationRefused):
        new = script
    found = [*context.scratch.get(FINDINGS_KEY, []), *context.scratch.get(REFUSALS_KEY, [])]
    return new, [f.code for f in found]


def _cases(kind: str):
    return [pytest.param(rule, example, id=f"{rule.CODE}-{kind.lower()}-{i}")
            for rule in ALL_RULES for i, example in enumerate(getattr(rule, kind))]


@pytest.mark.parametrize(("rule", "example"), _cases("VALID"))
def test_valid_example_is_left_unchanged(rule, example):
    new, codes = _apply(rule, example.script, example.options)
    assert new == example.script
    if all(invalid.expected is None for invalid in rule.INVALID):  # a rule that only reports: nothing to report
        assert rule.CODE not in codes


@pytest.mark.parametrize(("rule", "example"), _cases("INVALID"))
def test_invalid_example_gets_the_expected_result(rule, example):
    new, codes = _apply(rule, example.script, example.options)
    if example.expected is None:  # a rule that only reports: the script as it was, the reason under its code
        assert new == example.script and rule.CODE in codes
        return
    assert new == example.expected
    compile(new, "expected.py", "exec")
    assert _apply(rule, new, example.options)[0] == new, "applying the rule again changed the script"


def test_every_rule_carries_examples_and_is_registered():
    for rule in ALL_RULES:
        assert rule.VALID and rule.INVALID, f"{rule.__name__} ({rule.CODE}) carries no VALID or no INVALID example"
    concrete = {cls for base in (PaiRule, MigrationRule) for cls in _subclasses(base) if cls.CODE != base.CODE}
    assert concrete == set(ALL_RULES), "a rule class is missing from its registry (or two share a code)"
    assert len({rule.CODE for rule in ALL_RULES}) == len(ALL_RULES)


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


def test_the_docs_name_only_codes_the_rule_classes_declare():
    root = Path(__file__).resolve().parents[2]
    codes = {rule.CODE for rule in ALL_RULES} | {MigrationRule.CODE}
    for doc in [root / "README.md", *sorted((root / "skills").glob("*/SKILL.md"))]:
        text = doc.read_text()
        for first, last in re.findall(r"\b(PAI[02]\d\d)-(PAI[02]\d\d)\b", text):  # a range names every code in it
            family = sorted(c for c in codes if c[:4] == first[:4] and c != MigrationRule.CODE)
            assert [first, last] == [family[0], family[-1]], f"{doc.name}: {first}-{last}, the rules: {family}"
        named = set(re.findall(r"\bPAI[02]\d\d\b", text))
        assert named <= codes, f"{doc.name} names rule codes no rule class declares: {sorted(named - codes)}"
