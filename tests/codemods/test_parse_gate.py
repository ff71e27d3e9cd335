"""CPython's parser sees every script before libcst: input that crashes or stalls libcst 1.9's native parser
(measured in benchmarks/bench_parse_limits.py) becomes a ScriptError, fast, and real code still parses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from codemods.analysis import ScriptError, analyze_source
from codemods.analysis.source import MAX_DEPTH, parse_source
from codemods.check import check_integration
from codemods.perforate import perforate_source

SCRIPTS = Path(__file__).parent / "scripts"

# shape -> source. The comments give libcst 1.9's own fate on this input, in a child process.
PATHOLOGICAL = {
    "brackets": "x = " + "[" * 3000 + "]" * 3000 + "\n",  # SIGSEGV
    "unclosed brackets": "x = " + "[" * 3000 + "\n",  # SIGSEGV
    "parentheses": "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n",  # SIGSEGV
    "calls": "x = " + "f(" * 3000 + ")" * 3000 + "\n",  # SIGSEGV
    "and chain": "x = " + " and ".join(["a"] * 10_000) + "\n",  # SIGSEGV, though CPython accepts it
    "plus chain": "x = " + "+".join(["1"] * 10_000) + "\n",  # over 60 s
    "method chain": "x = a" + ".b()" * 2000 + "\n",  # over 40 s
    "unary": "x = " + "-" * 3000 + "1\n",  # CPython: RecursionError
    "lambdas": "x = " + "lambda: " * 3000 + "1\n",  # CPython: MemoryError
    "indentation": "".join(" " * i + "if x:\n" for i in range(300)) + " " * 300 + "pass\n",
    "elif chain": "if a:\n    pass\n" + "elif a:\n    pass\n" * 1000,
    # a first line CPython refuses must not let libcst meet the deep line after it
    "python 2 then brackets": "print 'x'\nx = " + "[" * 3000 + "]" * 3000 + "\n",
    "newer syntax then brackets": "type X = int\nx = " + "[" * 3000 + "]" * 3000 + "\n",
}


@pytest.mark.parametrize("shape", PATHOLOGICAL)
def test_pathological_shapes_are_refused_before_libcst(shape):
    start = time.perf_counter()
    with pytest.raises(ScriptError) as error:
        parse_source(PATHOLOGICAL[shape], "train.py")
    assert time.perf_counter() - start < 5  # refused by the gate, not after libcst's minutes
    message = str(error.value)
    assert message.startswith("train.py") and "\n" not in message
    assert "nested too deeply" in message or "cannot parse" in message


@pytest.mark.parametrize("entry", [analyze_source, perforate_source, check_integration])
def test_every_entry_point_goes_through_the_gate(entry):
    with pytest.raises(ScriptError, match="nested too deeply"):
        entry(PATHOLOGICAL["and chain"])


def test_depth_up_to_the_limit_still_parses_and_rewrites():
    """A chain just under MAX_DEPTH goes through the whole pipeline (the rules' visitors included)."""
    base = (SCRIPTS / "mnist_main.py").read_text()
    chain = "scale = " + " + ".join(["1"] * (MAX_DEPTH - 10)) + "\n"
    result = perforate_source(chain + base, filename="train.py")
    assert result.changed and chain in result.new_source
    compile(result.new_source, "train.py", "exec")


def test_real_scripts_are_far_below_the_limit():
    for script in SCRIPTS.glob("*.py"):
        parse_source(script.read_text(encoding="utf-8"), script.name)
