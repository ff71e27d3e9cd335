"""One source of truth for "what is integrated": the analysis resolves names; rules and `pai check` read it.

A comment or a string that mentions `UPA.perforate_model(...)` is not an integration, an aliased import is,
and a step skipped because it is already there is reported as a finding with its line.
"""

from __future__ import annotations

from pathlib import Path

from codemods.analysis import analyze_source
from codemods.check import check_integration
from codemods.perforate import perforate_source

MNIST = (Path(__file__).parent / "fixtures" / "mnist_cnn.in.py").read_text()
INTEGRATED = (Path(__file__).parent / "fixtures" / "mnist_cnn.out.py").read_text()


def test_a_comment_mentioning_the_calls_is_not_an_integration():
    source = MNIST.replace("def main():", "# TODO: model = UPA.perforate_model(model); GPA.pai_tracker.setup_optimizer(...)\n"
                           "def main():", 1)
    assert analyze_source(source).integration.calls == {}
    result = perforate_source(source, filename="mnist.py")
    assert not result.refused and {"PAI003", "PAI004", "PAI005"} <= set(result.applied)
    assert check_integration(result.new_source).ok


def test_a_string_literal_mentioning_the_calls_is_not_an_integration():
    source = MNIST.replace("def main():", 'HELP = "wrap it: UPA.perforate_model(model) and add_validation_score(s, m)"\n\n\n'
                           "def main():", 1)
    result = perforate_source(source, filename="mnist.py")
    assert not result.refused and {"PAI003", "PAI004", "PAI005"} <= set(result.applied)
    assert result.new_source.count("UPA.perforate_model(") == 2  # the string's and the real call


def test_an_aliased_module_import_is_recognised_and_each_skip_is_reported():
    aliased = (INTEGRATED.replace("from pai_core import globals_perforatedai as GPA",
                                  "import pai_core.globals_perforatedai as G")
               .replace("from pai_core import utils_perforatedai as UPA", "import pai_core.utils_perforatedai as U")
               .replace("GPA.", "G.").replace("UPA.", "U."))
    assert "GPA" not in aliased and "UPA" not in aliased
    calls = analyze_source(aliased).integration.calls
    assert {"perforate_model", "setup_optimizer", "add_validation_score"} <= set(calls)
    result = perforate_source(aliased, filename="mnist.py")
    assert not result.changed and not result.refused, result.diff
    skips = {f.code: f for f in result.findings if f.kind == "skip"}
    assert {"PAI002", "PAI003", "PAI004", "PAI005"} <= set(skips)
    assert skips["PAI003"].line == calls["perforate_model"][0]
    assert check_integration(aliased).ok
