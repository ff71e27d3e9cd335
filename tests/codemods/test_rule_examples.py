"""Every rule's own examples, run as Fixit runs a lint rule's: each `pai perforate` and `pai migrate` rule
carries `VALID` scripts it must leave unchanged and `INVALID` scripts it must rewrite to the expected script
(which compiles, and which the rule then leaves unchanged) or, for a rule that only reports, refuse with a
finding of its own code. The rule runs alone, as `python -m libcst.tool codemod` runs it. Each `pai check` code
(codemods.check_codes) has scripts check_integration must flag with it and scripts it must not."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, SkipFile

from codemods.check import check_integration
from codemods.check_codes import CHECK_CODES, REQUIRED
from codemods.diagnosis.catalogue import PATTERNS
from codemods.examples import MNIST, MNIST_INTEGRATED
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


def test_the_shared_mnist_example_is_what_pai_perforate_writes():
    from codemods.perforate import perforate_source

    result = perforate_source(MNIST, filename="train.py")
    assert result.new_source == MNIST_INTEGRATED and check_integration(MNIST_INTEGRATED).ok


@pytest.mark.parametrize(("check", "example", "flagged"), [
    pytest.param(c, example, flagged, id=f"{c.code}-{'invalid' if flagged else 'valid'}-{i}")
    for c in CHECK_CODES for flagged, examples in ((False, c.valid), (True, c.invalid))
    for i, example in enumerate(examples)])
def test_check_code_example(check, example, flagged):
    compile(example.script, "example.py", "exec")
    report = check_integration(example.script, filename="train.py")
    codes = {f.code for f in report.findings}
    assert (check.code in codes) == flagged, sorted(codes)
    # each example has one mistake: only a `required` code's leaves the script not integrated at all
    assert report.integrated == (not (flagged and check.required)), sorted(codes)


def test_every_check_code_carries_examples():
    root = Path(__file__).resolve().parents[2]
    source = (root / "codemods" / "check.py").read_text()
    emitted = set(re.findall(r"\"(PAI1\d\d)\"", source))
    listed = [c.code for c in CHECK_CODES]
    assert sorted(listed) == sorted(emitted) and len(set(listed)) == len(listed)
    assert all(c.description and c.valid and c.invalid for c in CHECK_CODES)
    adds = re.findall(r"\bs\.add\((.{8})", source)
    assert adds and all(re.fullmatch(r'"PAI1\d\d"', a) for a in adds), "a code not written as a literal: " \
        "the comparison above cannot see it"
    assert REQUIRED == {"PAI101", "PAI103", "PAI105", "PAI106"} == {c.code for c in CHECK_CODES if c.required}


def test_check_refuses_a_code_check_codes_does_not_declare(monkeypatch):
    from codemods import check

    monkeypatch.setattr(check, "CHECKS", (lambda s: s.add("PAI199", None, "error", "undeclared"),))
    with pytest.raises(ValueError, match="PAI199 is not declared"):
        check_integration(MNIST_INTEGRATED, filename="train.py")


def test_every_rule_carries_examples_and_is_registered():
    for rule in ALL_RULES:
        assert rule.VALID and rule.INVALID, f"{rule.__name__} ({rule.CODE}): no VALID or no INVALID example"
    rules = {cls for base in (PaiRule, MigrationRule) for cls in _subclasses(base) if not inspect.isabstract(cls)}
    assert rules == set(ALL_RULES), "a rule class is missing from its registry (or two share a code)"
    assert len({rule.CODE for rule in ALL_RULES}) == len(ALL_RULES)


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


def test_the_docs_name_only_codes_the_classes_and_check_codes_declare():
    root = Path(__file__).resolve().parents[2]
    codes = {rule.CODE for rule in ALL_RULES} | {c.code for c in CHECK_CODES}
    results = "".join(p.read_text() for p in (root / "pai_core" / "results").glob("*.py"))
    codes |= {p.code for p in PATTERNS} | set(re.findall(r'code="(PAI5\d\d)"', results))  # diagnosis, run analysis
    for doc in [root / "README.md", *sorted((root / "skills").glob("*/SKILL.md"))]:
        text = doc.read_text()
        for first, last in re.findall(r"\b(PAI\d\d\d)-(PAI\d\d\d)\b", text):
            family = sorted(c for c in codes if c[:4] == first[:4])  # PAI0.. rules, PAI1.. checks, PAI2.. migrate
            whole = first == family[0]  # a range from a family's first code names all of it
            assert last == family[-1] if whole else last in family, f"{doc.name}: {first}-{last}, codes: {family}"
        named = set(re.findall(r"\bPAI\d\d\d\b", text)) - {MigrationRule.CODE}  # PAI200: a name no rule maps
        assert named <= codes, f"{doc.name} names codes nothing declares: {sorted(named - codes)}"
