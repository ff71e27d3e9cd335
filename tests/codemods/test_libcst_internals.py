"""The libcst internals codemods relies on (`codemods._libcst_internals`) behave like libcst's public API.

These tests fail on a libcst upgrade on purpose: the version check until the new version is added to
VERIFIED_VERSIONS, and the comparisons with libcst's public position providers if the upgrade changed how
its code generation calls the state. The fallback a user on an unverified libcst gets is checked here too.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from codemods import _libcst_internals as internals
from codemods.analysis.facts import _WANTED, collect_facts
from codemods.perforate import perforate_source
from codemods.rules._lines import render

HERE = Path(__file__).parent
SCRIPTS = sorted((HERE / "scripts").rglob("*.py")) + [HERE / "fixtures" / "resnet_cifar.in.py",
                                                      HERE / "fixtures" / "mnist_cnn.out.py"]
EVERY_SCRIPT = sorted({*SCRIPTS, *(HERE / "corpus").glob("*.py"), *(HERE / "fixtures").glob("*.py")})


def test_installed_libcst_is_a_verified_version():
    series = ".".join(internals.LIBCST_VERSION.split(".")[:2])
    assert series in internals.VERIFIED_VERSIONS, (
        f"libcst {internals.LIBCST_VERSION} is not among the versions codemods/_libcst_internals.py was "
        f"verified with {internals.VERIFIED_VERSIONS}: run `pytest -m slow "
        "tests/codemods/test_libcst_internals.py`, and when every comparison passes, add it to "
        "VERIFIED_VERSIONS")


def test_every_internal_exists_and_the_probes_agree_with_the_public_api():
    assert internals._missing() == {"positions": [], "init": []}
    assert internals._probe_positions() is None
    assert internals._probe_init() is None
    assert internals.fast_paths() == {"positions": True, "init": True}


def _same_as_public(module: cst.Module) -> None:
    fast = internals._fast_spans(module, _WANTED)
    public = internals._public_spans(module, _WANTED)
    assert fast is not None
    for name in (f.name for f in fields(internals.CodeSpans)):
        assert getattr(fast, name) == getattr(public, name), name
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    index = fast.statement_index()
    assert index.start
    for node, start in index.start.items():
        assert (start, index.end[node]) == (positions[node].start.line, positions[node].end.line)
    for nodes in (module.header, *([stmt] for stmt in module.body), module.footer):
        assert internals._fast_render(nodes, module) == internals._public_render(nodes, module)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_spans_and_statement_lines_equal_the_public_providers(path: Path):
    _same_as_public(cst.parse_module(path.read_text()))


def test_crlf_and_no_trailing_newline_equal_the_public_providers():
    text = (HERE / "scripts" / "mnist_main.py").read_text()
    _same_as_public(cst.parse_module(text.replace("\n", "\r\n")))
    _same_as_public(cst.parse_module(text.rstrip("\n") + "\nif x:\n    pass\n    # closing comment"))


@pytest.mark.slow
@pytest.mark.parametrize("path", EVERY_SCRIPT, ids=lambda p: p.name)
def test_every_test_script_equals_the_public_providers(path: Path):
    _same_as_public(cst.parse_module(path.read_text()))


def _facts_view(facts) -> tuple:
    return (facts.source, facts.spans, facts.parents, facts.statements, facts.block_ends, facts.calls,
            facts.functions, facts.loops, facts.assigns, facts.imports, facts.line_count)


def test_a_reshaped_internal_is_caught_and_the_public_api_gives_the_same_answers(monkeypatch, caplog):
    path = HERE / "scripts" / "imagenet_main.py"
    module = cst.parse_module(path.read_text())
    expected = _facts_view(collect_facts(module, path.name))
    perforated = perforate_source(path.read_text(), filename=path.name)
    # An unverified libcst that writes indentation through another hook: the spans drift from the public
    # providers', which the probe on first use notices.
    monkeypatch.setitem(internals._FAST, "positions", None)
    monkeypatch.setitem(internals._FAST, "init", None)
    monkeypatch.setattr(internals._SpanState, "add_indent_tokens", internals.CodegenState.add_indent_tokens)
    with caplog.at_level(logging.WARNING, logger=internals.__name__):
        assert _facts_view(collect_facts(module, path.name)) == expected
        assert perforate_source(path.read_text(), filename=path.name) == perforated
    assert internals.fast_paths() == {"positions": False, "init": True}
    (warning,) = caplog.records
    message = warning.getMessage()
    assert "public API for positions" in message and "Install libcst 1.9.x" in message


def test_without_the_shortcuts_perforate_writes_the_same_script(monkeypatch):
    source = (HERE / "fixtures" / "resnet_cifar.in.py").read_text()
    fast = perforate_source(source, filename="resnet_cifar.py")
    for shortcut in internals._PROBES:
        monkeypatch.setitem(internals._FAST, shortcut, False)
    assert perforate_source(source, filename="resnet_cifar.py") == fast
    assert fast.changed and fast.applied


def test_rules_without_matcher_decorators_start_as_libcst_would_start_them():
    from codemods.rules import RULES
    from codemods.rules._base import PaiRule
    from libcst.codemod import CodemodContext

    for rule in RULES.values():
        context = CodemodContext()
        fast = rule(context)
        scanned = rule.__new__(rule)
        super(PaiRule, scanned).__init__(context)  # libcst's own start-up, with the scan
        assert not internals.needs_matcher_scan(rule), rule.CODE
        assert {k: v for k, v in vars(fast).items() if k in vars(scanned)} == vars(scanned), rule.CODE


def test_a_script_without_a_trailing_newline_keeps_its_last_statement():
    source = (HERE / "fixtures" / "mnist_cnn.in.py").read_text().rstrip("\n") + '\nprint("done")'
    result = perforate_source(source, filename="mnist_cnn.py")
    assert result.changed and result.new_source.endswith('\nprint("done")')
    compile(result.new_source, "mnist_cnn.py", "exec")
    module = cst.parse_module(source)
    assert render(module)[1] == module.code
