"""The analysis states the labelled facts of the real-script corpus: >= 95% right per field and overall.

Every fixture of tests/codemods/corpus (all helpers' prefixes) is analyzed and compared with its
`.expect.json` facts; a failure lists each miss as slug, field, labelled value and reported value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.analysis.fidelity import FIELDS, corpus_entries, field_accuracy

CORPUS = Path(__file__).parent / "corpus"
TARGET = 0.95


@pytest.fixture(scope="module")
def score():
    return field_accuracy(CORPUS)


def _misses(score, name=None) -> str:
    rows = [m for m in score.misses if name is None or m[1] == name]
    return "\n".join(f"  {slug}: {field} labelled {want!r}, reported {got!r}" for slug, field, want, got in rows)


def test_the_corpus_is_labelled():
    entries = corpus_entries(CORPUS)
    assert len([e for e in entries if e[0].startswith("l_")]) >= 30
    for slug, entry, expect in entries:
        assert entry.is_file(), f"{slug}: no script {entry}"
        assert expect["outcome"] in ("complete", "refused"), slug
        assert set(expect.get("facts", {})) <= set(FIELDS), f"{slug}: unknown fact fields"


@pytest.mark.parametrize("name", FIELDS)
def test_field_accuracy(score, name):
    assert score.total[name] > 0, f"no fixture labels {name}"
    assert score.share(name) >= TARGET, f"{name}: {score.share(name):.1%}\n{_misses(score, name)}"


def test_overall_accuracy(score):
    assert score.share() >= TARGET, f"{score.share():.1%}\n{score.table()}\n{_misses(score)}"
