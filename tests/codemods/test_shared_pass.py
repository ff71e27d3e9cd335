"""The facts pass is shared: `pai check` reads its parents and statement lines, the rules start from its
rendering. Each must equal what libcst's own providers and a fresh rendering give."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from codemods.analysis.facts import collect_facts
from codemods.rules._lines import PIECES_KEY, render, seed_render

HERE = Path(__file__).parent
SCRIPTS = [p for p in sorted((HERE / "scripts").rglob("*.py")) if p.read_text().count("\n") > 60][:4]
SCRIPTS += [HERE / "fixtures" / "resnet_cifar.in.py", HERE / "fixtures" / "mnist_cnn.out.py"]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_parents_and_statement_lines_match_libcst_providers(path: Path):
    module = cst.parse_module(path.read_text())
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    parents, positions = wrapper.resolve(ParentNodeProvider), wrapper.resolve(PositionProvider)
    facts = collect_facts(module, path.name)
    calls = [c.node for c in facts.calls]
    assert calls and all(facts.parents[c] is parents[c] for c in calls)
    assert all(facts.parents[n] is parents[n] for ns in facts.names.values() for n in ns)
    index = facts.statements
    assert len(index.start) > 40
    for node, start in index.start.items():
        assert (start, index.end[node]) == (positions[node].start.line, positions[node].end.line)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_seeded_rendering_equals_a_fresh_one(path: Path):
    module = cst.parse_module(path.read_text())
    scratch: dict = {}
    seed_render(scratch, collect_facts(module, path.name))
    assert len(scratch[PIECES_KEY]) == len(module.body)
    seeded, fresh = render(module, scratch), render(module)
    assert seeded[1] == fresh[1] == module.code
    for field in ("start", "end", "parent", "by_line"):
        assert getattr(seeded[0], field) == getattr(fresh[0], field), field
