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
    skips = {f.code: f for f in result.findings if f.severity == "info"}  # already there: not added
    assert {"PAI002", "PAI003", "PAI004", "PAI005"} <= set(skips)
    assert skips["PAI003"].line == calls["perforate_model"][0]
    assert check_integration(aliased).ok


# ------------------------------------------------------- a comment or a string never decides a rewrite
FIXTURES = Path(__file__).parent / "fixtures"


def test_a_comment_mentioning_a_device_move_does_not_move_the_restructured_model():
    moved = perforate_source(MNIST, filename="mnist.py").new_source
    assert "        model.to(device)\n        if training_complete:" in moved  # the script moves it: so does the hookup
    unmoved = MNIST.replace("    model = Net().to(device)\n", "    # TODO model.cuda() / model.to(device)\n    model = Net()\n")
    assert unmoved != MNIST
    new = perforate_source(unmoved, filename="mnist.py").new_source
    hookup = new.split("add_validation_score(", 1)[1].split("elif restructured:", 1)[0]
    assert "model.to(" not in hookup and "model.cuda(" not in hookup, hookup


def test_a_comment_mentioning_wrap_ddp_does_not_skip_the_ddp_rewrap():
    source = (FIXTURES / "ddp_training.in.py").read_text()
    commented = source.replace("    ddp_model = DDP(model)\n",
                               "    ddp_model = DDP(model)  # after a restructure: ddp_model = wrap_ddp(ddp_model)\n")
    assert commented != source
    result = perforate_source(commented, filename="ddp.py")
    assert not result.refused and "PAI009" in result.applied
    assert "        elif restructured:\n            ddp_model = wrap_ddp(ddp_model)\n" in result.new_source


def test_a_string_showing_the_callback_import_does_not_stand_for_the_import():
    source = (FIXTURES / "hf_trainer_basic.in.py").read_text()
    usage = 'USAGE = """\nfrom pai_core.integrations.huggingface import PAITrainerCallback\n"""\n'
    result = perforate_source(usage + source, filename="hf.py")
    assert not result.refused and "PAI010" in result.applied
    imports = [line for line in result.new_source.splitlines() if "import PAITrainerCallback" in line]
    assert len(imports) == 2, result.new_source  # the string's line and the real import


GRAPH = '''import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x, adj):
        h = torch.relu(self.fc(x))  # a GCN would do: h = adj @ self.fc(x)
        return self.head(h.mean(dim=1))


model = Net()
'''


def test_a_comment_mentioning_an_adjacency_product_does_not_make_the_model_a_graph():
    config = analyze_source(GRAPH).model.recommended_config
    assert config.output_dimensions == [-1, 0, -1, -1], config.explanation
    real = analyze_source(GRAPH.replace("torch.relu(self.fc(x))", "torch.relu(adj @ self.fc(x))"))
    assert real.model.recommended_config.output_dimensions == [-1, -1, 0]  # batched graphs read out by mean(dim=1)
