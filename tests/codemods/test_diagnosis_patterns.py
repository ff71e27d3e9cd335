"""The pattern modules: one per category, each holding only its category, assembled whole into the catalogue."""

from __future__ import annotations

import pkgutil
from collections import Counter

from codemods.diagnosis import catalogue, patterns

SHARED = {"common"}  # helpers the category modules import, not a category


def test_every_category_module_is_assembled() -> None:
    modules = {m.name for m in pkgutil.iter_modules(patterns.__path__)} - SHARED
    assert modules == set(catalogue.CATEGORIES), "list each module of codemods/diagnosis/patterns in CATEGORIES"
    for category, module in catalogue.CATEGORIES.items():
        assert module.__name__ == f"codemods.diagnosis.patterns.{category}"
        assert module.__doc__, f"{module.__name__} needs a docstring saying which failures it holds"


def test_each_module_holds_only_its_category() -> None:
    for category, module in catalogue.CATEGORIES.items():
        assert module.PATTERNS, f"{module.__name__} has no patterns"
        wrong = [p.id for p in module.PATTERNS if p.category != category]
        assert not wrong, f"patterns in {module.__name__} with another category: {wrong}"


def test_no_pattern_id_is_duplicated() -> None:
    counts = Counter(p.id for module in catalogue.CATEGORIES.values() for p in module.PATTERNS)
    assert [i for i, n in counts.items() if n > 1] == []


def test_catalogue_is_the_modules_in_category_order() -> None:
    union = [p for module in catalogue.CATEGORIES.values() for p in module.PATTERNS]
    assert [p.id for p in catalogue.PATTERNS] == [p.id for p in union]
    assert all(a is b for a, b in zip(catalogue.PATTERNS, union, strict=True))
    assert [p.id for p in catalogue.load_catalogue()] == [p.id for p in union]
