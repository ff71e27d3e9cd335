"""Each rule on small scripts: run alone (as libcst.tool would), no-op and skip cases, tricky shapes."""

from __future__ import annotations

import textwrap

from libcst.codemod import CodemodTest

from codemods.perforate import perforate_source
from codemods.rules import RULES, gather_rules
from codemods.rules.imports import AddDendriteImports
from codemods.rules.perforate_model import PerforateModel

SCRIPT = textwrap.dedent('''
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x)


    def evaluate(model, loader):
        correct = 0
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
        accuracy = correct / 10
        return accuracy


    def main(loader, device):
        # build the network
        model = torch.compile(Net().to(device))
        optimizer = torch.optim.SGD(model.parameters(), 0.1, 0.9)
        for epoch in range(5):
            for x, y in loader:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
            accuracy = evaluate(model, loader)
''')


class TestImportsRule(CodemodTest):
    TRANSFORM = AddDendriteImports

    def test_adds_both_imports_after_the_last_import(self):
        before = "import torch\n\nx = 1\n"
        after = ("import torch\nfrom pai_core import globals_perforatedai as GPA\n"
                 "from pai_core import utils_perforatedai as UPA\n\nx = 1\n")
        self.assertCodemod(before, after)

    def test_upstream_backend_and_noop_when_present(self):
        after = ("import torch\nfrom perforatedai import globals_perforatedai as GPA\n"
                 "from perforatedai import utils_perforatedai as UPA\n")
        self.assertCodemod("import torch\n", after, backend="perforatedai")
        self.assertCodemod(after, after, expected_skip=True)


class TestPerforateRule(CodemodTest):
    TRANSFORM = PerforateModel

    def test_places_the_call_after_head_replacement_and_weight_loading(self):
        before = textwrap.dedent('''
            import torchvision
            model = torchvision.models.resnet18()
            # new head
            model.fc = torch.nn.Linear(512, 3)
            model.load_state_dict(torch.load("w.pt"))
            model = model.cuda()
        ''')
        result = perforate_source(before, select="PAI003", filename="x.py")
        lines = result.new_source.splitlines()
        perforate = next(i for i, line in enumerate(lines) if "perforate_model" in line)
        assert "load_state_dict" in lines[perforate - 1] and lines[perforate + 1] == "model = model.cuda()"
        assert "# new head" in result.new_source

    def test_skip_when_already_perforated(self):
        code = "import torch\nmodel = Net()\nmodel = UPA.perforate_model(model)\n"
        self.assertCodemod(code, code, expected_skip=True)


def test_chain_and_compile_are_split_and_positional_optimizer_args_are_named():
    result = perforate_source(SCRIPT, filename="tiny.py")
    new = result.new_source
    assert "    model = Net()\n    model = UPA.perforate_model(model, save_name=\"tiny_dendritic\", maximizing_score=True)\n" \
           "    model = torch.compile(model.to(device))\n" in new
    assert "    # build the network\n    model = Net()" in new  # the comment stays with the statement it describes
    assert '{"params": model.parameters(), "lr": 0.1, "momentum": 0.9}' in new
    assert "optimizer = GPA.pai_tracker.setup_optimizer(model, " in new  # no scheduler: one return value
    assert "epoch = -1\n    while True:\n        epoch += 1\n" in new
    assert "add_validation_score(accuracy, model)\n        model.to(device)\n" in new
    compile(new, "tiny", "exec")
    assert not perforate_source(new, filename="tiny.py").changed


def test_two_space_indentation_is_kept():
    two = SCRIPT.replace("    ", "  ")
    new = perforate_source(two, filename="t.py").new_source
    assert "\n  while True:\n    epoch += 1\n" in new and "\n    if training_complete:\n      break\n" in new
    compile(new, "t", "exec")


def test_unknown_direction_is_refused_with_the_question():
    script = SCRIPT.replace("accuracy", "quality")
    result = perforate_source(script, filename="t.py")
    assert result.refused and result.new_source == script
    assert any(f.code == "PAI008" and "is a higher quality better" in f.message for f in result.errors)


def test_validation_returning_a_tuple_picks_the_metric():
    script = SCRIPT.replace("        return accuracy", "        return 0.5, accuracy").replace(
        "            accuracy = evaluate(model, loader)", "            val_loss, accuracy = evaluate(model, loader)")
    result = perforate_source(script, filename="t.py")
    assert "add_validation_score(accuracy, model)" in result.new_source


def test_loss_metric_gives_maximizing_false_and_check_agrees():
    from codemods.check import check_integration

    script = SCRIPT.replace("accuracy", "val_loss")
    result = perforate_source(script, filename="t.py")
    assert "maximizing_score=False" in result.new_source
    assert check_integration(result.new_source).ok


def test_registry_order_and_selection():
    assert [c.CODE for c in gather_rules()] == ["PAI008", "PAI001", "PAI002", "PAI003", "PAI004", "PAI005", "PAI006",
                                                "PAI009", "PAI010", "PAI011", "PAI012", "PAI013"]
    assert [c.CODE for c in gather_rules("PAI00")] == [code for code in RULES if code.startswith("PAI00")]
    assert [c.CODE for c in gather_rules("PAI01")] == ["PAI010", "PAI011", "PAI012", "PAI013"]
    assert [c.CODE for c in gather_rules("ALL")] == list(RULES)
    for code, rule in RULES.items():
        assert rule.CODE == code and rule.DESCRIPTION
        assert __import__(rule.__module__, fromlist=["_"]).__doc__.startswith(code)


def test_fast_statement_lines_agree_with_libcst_positions():
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from codemods.rules._lines import render

    module = cst.parse_module((__import__("pathlib").Path(__file__).parent / "fixtures" / "resnet_cifar.in.py").read_text())
    index = render(module)[0]
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert len(index.start) > 50
    for node, start in index.start.items():
        assert (start, index.end[node]) == (positions[node].start.line, positions[node].end.line)
