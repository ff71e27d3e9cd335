"""The one-pass fact collector agrees with libcst's own metadata providers, and resolves names like Python.

`collect_facts` replaced PositionProvider and QualifiedNameProvider (10x faster); these tests hold it to
the providers' answers on the real fixture scripts, and to Python's scoping on small scripts.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from codemods._libcst_internals import code_spans
from codemods.analysis.facts import _WANTED, collect_facts

SCRIPTS = Path(__file__).parent / "scripts"
FIXTURES = [p for p in sorted(SCRIPTS.rglob("*.py")) if p.read_text().count("\n") > 60]


def _line_starts(text: str) -> list[int]:
    starts, line = [0], 0
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
            line += 1
    return starts


@pytest.mark.parametrize("path", FIXTURES[:6], ids=lambda p: p.name)
def test_spans_match_position_provider_and_code_for_node(path: Path):
    module = cst.parse_module(path.read_text())
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    facts = collect_facts(module, path.name)
    syntax = code_spans(module, _WANTED).syntax
    source = facts.source
    assert source == module.code
    starts = _line_starts(source)
    one_line = 0
    for node, rng in positions.items():
        start, end = syntax[node]
        column = start - starts[rng.start.line - 1]
        assert (rng.start.line, rng.start.column) == (source.count("\n", 0, start) + 1, column), node
        assert rng.end.line == source.count("\n", 0, end) + 1, node
        if rng.start.line == rng.end.line and isinstance(node, cst.BaseExpression):
            assert facts.code(node) == module.code_for_node(node)
            one_line += 1
    assert one_line > 50


def test_lines_and_text_without_trailing_newline_and_with_crlf():
    text = (
        "import torch\r\n\r\n@decorate\r\ndef train(\r\n    x,\r\n):\r\n    return torch.relu(\r\n        x)"
    )
    facts = collect_facts(cst.parse_module(text), "crlf.py")
    (fn,) = facts.functions
    assert (fn.line, fn.end_line) == (4, 8)  # the `def` line, not the decorator
    (call,) = facts.calls
    assert (call.line, call.qname, call.args) == (7, "torch.relu", ["x"])
    assert facts.line_count == 8 and facts.source == text


NAMES = """\
import torch.nn as nn
from torch import optim as O

try:
    import lightning as L
except ImportError:
    import pytorch_lightning as L


class Net(nn.Module):
    pass


def build(params):
    return O.SGD(params, lr=0.1)


def step(O, nn):
    O.step()  # a parameter hides the import
    nn.Linear(2, 2)


def outer():
    def inner():
        return nn.ReLU()  # the module import, through two functions
    return inner


def local_import():
    from torch.optim import lr_scheduler as S
    S.StepLR(None, 1)


def trainer():
    L.Trainer(max_epochs=1)
"""


def test_names_resolve_through_imports_with_python_scoping():
    facts = collect_facts(cst.parse_module(NAMES), "names.py")
    by_line = {c.line: c.qname for c in facts.calls}
    assert facts.classes[0].bases == ["torch.nn.Module"] and facts.classes[0].bases_written == ["nn.Module"]
    assert by_line[15] == "torch.optim.SGD"
    assert by_line[19] == "O.step" and by_line[20] == "nn.Linear"
    assert by_line[25] == "torch.nn.ReLU"
    assert by_line[31] == "torch.optim.lr_scheduler.StepLR"
    assert by_line[35] == "lightning.Trainer"  # as QualifiedNameProvider: the smallest of the candidates
