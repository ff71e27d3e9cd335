"""`check_integration` accepts a correct integration and names each classic mistake with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.check import check_integration

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = (FIXTURES / "mnist_cnn.out.py").read_text()
REBUILD = ('            optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), '
           '"lr": args.lr}, {"step_size": 1, "gamma": args.gamma})\n')


def codes(report, severity="error"):
    return {f.code for f in report.findings if f.severity == severity}


@pytest.mark.parametrize("case", ["mnist_cnn", "lstm_lm", "resnet_cifar", "complex_optimizer", "transformer_classifier",
                                  "keep_for_loop", "test_scores", "upstream_backend", "hf_trainer_basic",
                                  "lightning_basic"])
def test_rewritten_fixtures_pass_the_check(case):
    report = check_integration(FIXTURES / f"{case}.out.py")
    assert report.ok and report.integrated, report.findings


@pytest.mark.parametrize("case", ["hf_trainer_basic", "lightning_basic"])
def test_framework_scripts_without_the_callback_are_not_integrated(case):
    assert not check_integration(FIXTURES / f"{case}.in.py").integrated


def test_unintegrated_script_misses_every_component():
    report = check_integration(FIXTURES / "mnist_cnn.in.py")
    assert {"PAI101", "PAI103", "PAI105", "PAI106"} <= codes(report)
    assert not report.integrated


@pytest.mark.parametrize(
    "old,new,code",
    [
        ("        elif restructured:\n" + REBUILD, "", "PAI108"),
        ("        elif restructured:\n" + REBUILD,  # a comment naming the rebuild is not one
         "        elif restructured:\n            pass  # setup_optimizer(...) / optim.SGD(...) later\n", "PAI108"),
        ("        if training_complete:\n            break\n", "        if training_complete:\n            pass\n", "PAI110"),
        ("maximizing_score=True", "maximizing_score=False", "PAI111"),
        ("        train(args,", "        scheduler.step()\n        train(args,", "PAI113"),
        ("set_module_names_to_perforate(['Conv2d', 'Linear'])",
         "set_module_names_to_perforate(['Conv2d', 'Linear'])\n    GPA.pc.append_module_ids_to_track(['conv1'])",
         "PAI116"),
        ("        model.to(device)\n        if training_complete", "        if training_complete", "PAI109"),
    ],
)
def test_each_mistake_is_reported_with_its_line(old, new, code):
    assert old in GOOD
    broken = GOOD.replace(old, new, 1)
    report = check_integration(broken)
    found = [f for f in report.findings if f.code == code]
    assert found, report.findings
    assert all(f.line for f in found if f.code != "PAI113") or code == "PAI113"
    severity = "warning" if code == "PAI109" else "error"
    assert found[0].severity == severity


def test_fixed_range_with_break_is_only_a_warning_and_extra_score_order_is_checked():
    loop = "    epoch = 0\n    while True:\n        epoch += 1\n"
    assert loop in GOOD
    ranged = GOOD.replace(loop, "    for epoch in range(1, 15):\n")
    report = check_integration(ranged)
    assert "PAI110" in codes(report, "warning") and "PAI110" not in codes(report)
    late = GOOD.replace("        model.to(device)\n        if training_complete",
                        "        model.to(device)\n        GPA.pai_tracker.add_extra_score(1.0, 'train')\n"
                        "        if training_complete", 1)
    report = check_integration(late)
    assert "PAI112" in codes(report)


def test_setup_optimizer_without_scheduler_must_not_be_unpacked():
    text = (FIXTURES / "transformer_classifier.out.py").read_text()
    broken = text.replace("optimizer = GPA.pai_tracker.setup_optimizer(",
                          "optimizer, _ = GPA.pai_tracker.setup_optimizer(", 1)
    assert "PAI114" in codes(check_integration(broken))



def test_perforate_model_after_the_training_loop_is_an_error():
    call = '    model = UPA.perforate_model(model, save_name="mnist_cnn_dendritic", maximizing_score=True)\n'
    assert GOOD.count(call) == 1
    late = GOOD.replace(call, "").replace("    if args.save_model:", call + "    if args.save_model:")
    report = check_integration(late)
    finding = next(f for f in report.findings if f.code == "PAI117")
    assert finding.severity == "error" and finding.line == late.splitlines().index(call.rstrip("\n")) + 1
    assert "PAI117" not in codes(check_integration(GOOD))


CALL_ORDER = """import torch
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA


class Trainer:
    def __init__(self, model):
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def main():
    model = torch.nn.Linear(4, 2)
    model = UPA.perforate_model(model, save_name="run")
    train(model)
    Trainer(model)


main()
"""


def test_an_optimizer_built_in_a_function_called_after_perforate_model_is_in_order():
    assert "PAI104" not in codes(check_integration(CALL_ORDER))
    early = CALL_ORDER.replace("    train(model)\n    Trainer(model)\n", "")
    for call in ("    train(model)\n", "    Trainer(model)\n"):  # the optimizer is built before perforate_model
        wrong = early.replace("    model = UPA.perforate_model", call + "    model = UPA.perforate_model")
        found = [f for f in check_integration(wrong).findings if f.code == "PAI104"]
        assert [f.line for f in found] == [wrong.splitlines().index(
            '    model = UPA.perforate_model(model, save_name="run")') + 1], call


def test_a_library_name_used_above_its_import_is_an_error():
    late = GOOD.replace("from pai_core import globals_perforatedai as GPA\n", "")
    late = late.replace("def main():", "from pai_core import globals_perforatedai as GPA\n\n\ndef main():", 1)
    top = "GPA.pc.set_verbose(False)\n"
    late = late.replace("import argparse\n", "import argparse\n" + top, 1)
    report = check_integration(late)
    finding = next(f for f in report.findings if f.code == "PAI118")
    assert finding.line == late.splitlines().index(top.rstrip()) + 1 and "GPA" in finding.message
    # the uses inside main() run after the import: only the module-level use is reported
    assert [f.code for f in report.findings].count("PAI118") == 1
    assert "PAI118" not in codes(check_integration(GOOD))


def test_output_dimensions_that_contradict_the_perforated_layers_are_reported():
    assert "PAI119" not in codes(check_integration(GOOD)) | codes(check_integration(GOOD), "warning")
    configured = "GPA.pc.set_output_dimensions([-1, 0, -1, -1])"
    assert configured in GOOD
    wrong = GOOD.replace(configured, "GPA.pc.set_output_dimensions([-1, -1, 0])")
    finding = next(f for f in check_integration(wrong).findings if f.code == "PAI119")
    assert finding.severity == "error" and "Conv2d outputs 4 dimensions" in finding.message
    assert finding.line == [ln.strip() for ln in wrong.splitlines()].index("GPA.pc.set_output_dimensions([-1, -1, 0])") + 1
