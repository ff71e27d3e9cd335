"""Advice that fits the script: one test per shape of issue 22, each on a script of its own with the
recommendation the module tree, the loop and the optimizer really call for. The five scripts in
tests/mcp_server/data/assistant/ also go through the whole assistant journey (test_assistant_journey.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codemods.analysis import analyze_script, analyze_source
from codemods.analysis.config import recommend
from codemods.perforate import perforate_file, perforate_source

SCRIPTS = Path(__file__).resolve().parents[1] / "mcp_server" / "data" / "assistant"


def complete(source: str) -> str:
    result = perforate_source(textwrap.dedent(source))
    assert not result.refused, [f.message for f in result.findings]
    compile(result.new_source, "rewrite", "exec")
    return result.new_source


# ------------------------------------------------------------------------------ config from the module tree
def test_a_resnet_stem_is_tracked_under_its_own_attribute_names():
    config = analyze_script(SCRIPTS / "resnet_stem" / "train.py").model.recommended_config
    assert config.module_names_to_perforate == ["BasicBlock", "Linear"]
    assert config.module_ids_to_track == [".conv", ".bn"]
    assert any("Track the stem (.conv, .bn)" in line for line in config.explanation)


def test_a_stem_in_a_sequential_is_tracked_whole():
    report = analyze_source(textwrap.dedent("""
        import torch.nn as nn
        class Bottleneck(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 1)
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
                self.blocks = nn.Sequential(Bottleneck(8), Bottleneck(8))
                self.head = nn.Linear(8, 2)
        model = Net()
    """))
    assert report.model.architecture == "resnet"
    assert report.model.recommended_config.module_ids_to_track == [".stem"]


def test_the_users_weight_layer_class_is_perforated_with_the_rank_it_returns():
    report = analyze_script(SCRIPTS / "gcn_package" / "train.py")
    config = report.model.recommended_config
    assert config.module_names_to_perforate[0] == "GraphConvolution"
    assert config.output_dimensions == [-1, 0]  # torch.mm over one graph's node matrix: (nodes, features)
    assert config.max_dendrites is None
    assert any("GraphConvolution" in e for e in report.model.evidence)


def test_a_per_channel_scale_parameter_is_not_a_weight_layer():
    report = analyze_source(textwrap.dedent("""
        import torch, torch.nn as nn
        class Scale(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.gamma = nn.Parameter(torch.ones(d))
            def forward(self, x):
                return x * self.gamma
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.scale = Scale(4)
        model = Net()
    """))
    assert "Scale" not in report.model.recommended_config.module_names_to_perforate


@pytest.mark.parametrize("backend", ["pai_core", "perforatedai"])
def test_recommend_honours_the_layer_classes_it_is_given_and_imports_the_backend(backend):
    advice = recommend("custom", ["GraphConvolution", "Dropout"], backend=backend)
    assert advice.config.module_names_to_perforate == ["GraphConvolution", "Linear"]
    assert "Dropout" not in advice.config.module_names_to_perforate
    assert advice.imports[0] == f"from {backend} import globals_perforatedai as GPA"
    assert recommend("resnet", ["Conv2d", "PreActBlock"]).config.module_names_to_perforate == ["PreActBlock", "Linear"]


def test_a_recurrent_class_named_at_run_time_lists_every_choice_with_its_processor():
    config = analyze_script(SCRIPTS / "lstm_lm" / "train.py").model.recommended_config
    assert config.module_names_to_perforate == ["Linear", "LSTM", "GRU"]  # argparse choices=["LSTM", "GRU"]
    assert [(p.module_name, p.processor_class) for p in config.processors] == [
        ("LSTM", "LSTMProcessor"), ("GRU", "LSTMProcessor")]
    assert config.output_dimensions == [-1, -1, 0]  # the decoder reads the (seq, batch, hidden) output


@pytest.mark.parametrize("build", [
    "self.rnn = (nn.LSTM if kind == 'LSTM' else nn.GRU)(8, 8)",
    "cls = nn.LSTM if kind == 'LSTM' else nn.GRU\n                self.rnn = cls(8, 8)",
    "self.rnn = {'LSTM': nn.LSTM, 'GRU': nn.GRU}[kind](8, 8)",
])
def test_a_recurrent_class_chosen_by_an_expression_lists_both(build):
    report = analyze_source(textwrap.dedent(f"""
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, kind):
                super().__init__()
                {build}
                self.fc = nn.Linear(8, 2)
        model = Net("GRU")
    """))
    config = report.model.recommended_config
    assert report.model.architecture == "rnn"
    assert {"LSTM", "GRU"} <= set(config.module_names_to_perforate)
    assert {p.module_name for p in config.processors} == {"LSTM", "GRU"}


def test_getattr_without_named_choices_lists_every_recurrent_class():
    report = analyze_source(textwrap.dedent("""
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, kind):
                super().__init__()
                self.rnn = getattr(nn, kind)(8, 8)
        model = Net(input())
    """))
    assert {"LSTM", "GRU", "RNN"} <= set(report.model.recommended_config.module_names_to_perforate)


# --------------------------------------------------------------------------------- no per-epoch validation
def test_train_then_test_once_evaluates_a_held_out_half_of_the_test_loader_every_epoch():
    report = analyze_script(SCRIPTS / "train_then_test" / "train.py")
    assert report.epoch_loop.validates_after and report.validation.held_out == "test_loader"
    assert report.validation.metric == "accuracy" and report.validation.direction == "maximize"
    result = perforate_file(SCRIPTS / "train_then_test" / "train.py")
    assert not result.refused
    new = result.new_source
    split = new.index("random_split(test_loader.dataset, [0.5, 0.5]")
    assert split < new.index("    while True:") < new.index("        score = test(model, val_loader)")
    assert new.index("score = test(model, val_loader)") < new.index("add_validation_score(score, model)")
    assert "elif restructured:" in new and new.rstrip().endswith("main()")
    assert "    test(model, test_loader)\n" in new  # the final test, now on the other half
    assert any("held out as `val_loader`" in f.message for f in result.findings)


def test_train_then_test_uses_the_validation_loader_the_script_builds_but_never_evaluates():
    new = complete("""
        import torch
        def train(model, loader, opt): pass
        def evaluate(model, loader):
            model.eval()
            return 1.0 - 0.5
        def main():
            model = torch.nn.Sequential(torch.nn.Linear(2, 2))
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            train_loader = torch.utils.data.DataLoader(list(range(4)))
            val_loader = torch.utils.data.DataLoader(list(range(4)))
            test_loader = torch.utils.data.DataLoader(list(range(4)))
            for epoch in range(3):
                train(model, train_loader, opt)
            test_acc = evaluate(model, test_loader)
    """)
    assert "score = evaluate(model, val_loader)" in new and "random_split" not in new


def test_train_then_test_with_a_test_that_reads_globals_is_refused_with_what_to_do():
    result = perforate_source(textwrap.dedent("""
        import torch
        model = torch.nn.Sequential(torch.nn.Linear(2, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        def train(): pass
        def test():
            model.eval()
            test_acc = 0.5
            return test_acc
        for epoch in range(3):
            train()
        test()
    """))
    assert result.refused
    assert any("not given its data as an argument" in f.message for f in result.findings)


# ---------------------------------------------------------------------------------------- optimizer shapes
def test_an_optimizer_under_a_flag_is_registered_and_rebuilt_under_that_flag():
    script = SCRIPTS / "flag_optimizer" / "train.py"
    setup = analyze_script(script).optimizer_setup
    assert setup.kind == "complex"
    assert any("exists only when `args.use_optimizer`" in f for f in setup.findings)
    assert any("updated by hand" in f for f in setup.findings)
    assert any("learning rate is set by hand" in f for f in setup.findings)
    result = perforate_file(script)
    assert not result.refused
    new = result.new_source
    assert ("if args.use_optimizer:\n    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)\n"
            "    GPA.pai_tracker.set_optimizer_instance(optimizer)\n") in new
    branch = new.split("elif restructured:\n", 1)[1]
    assert branch.startswith("        if args.use_optimizer:\n            optimizer = torch.optim.SGD(")
    assert "setup_optimizer" not in new


def test_optimizer_alternatives_chosen_by_a_flag_are_each_registered():
    new = complete("""
        import torch
        opt_name = "adam"
        model = torch.nn.Sequential(torch.nn.Linear(2, 1))
        if opt_name == "adam":
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
        def validate():
            model.eval()
            val_loss = 0.5
            return val_loss
        for epoch in range(3):
            optimizer.step()
            val_loss = validate()
    """)
    assert new.count("set_optimizer_instance(optimizer)") == 4  # both branches, and both again on restructure
    assert "additional_optimizers" not in new


def test_an_optimizer_rebuilt_after_a_restructure_without_the_tracker_is_registered_there():
    source = textwrap.dedent("""
        import torch
        from pai_core import globals_perforatedai as GPA
        from pai_core import utils_perforatedai as UPA
        GPA.pc.set_testing_dendrite_capacity(True)
        model = UPA.perforate_model(torch.nn.Linear(2, 1), save_name="r", maximizing_score=False)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        while True:
            optimizer.step()
            val_loss = 0.5
            model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_loss, model)
            if training_complete:
                break
            if restructured:
                optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    """)
    findings = analyze_source(source).optimizer_setup.findings
    assert any("rebuilds the optimizer after a restructure without the tracker" in f for f in findings)
    new = perforate_source(source).new_source
    assert new.count("GPA.pai_tracker.set_optimizer_instance(optimizer)\n") == 2
    assert "additional_optimizers" not in new


@pytest.mark.parametrize(("line", "package"), [("", "pai_core"),
                                               ("from perforatedai import utils_perforatedai as UPA", "perforatedai")])
def test_the_report_recommends_the_imports_of_the_library_the_script_uses(line, package):
    from codemods.analysis.text import render_text

    report = analyze_source(f"import torch\n{line}\nmodel = torch.nn.Sequential(torch.nn.LSTM(4, 4))\n")
    text = render_text(report)
    assert f"    from {package} import library_perforatedai as LPA\n" in text


def test_a_weight_layer_reshaped_after_its_product_keeps_the_sequence_dimensions():
    report = analyze_source(textwrap.dedent("""
        import torch, torch.nn as nn
        class Conv1D(nn.Module):
            def __init__(self, nf, nx):
                super().__init__()
                self.weight = nn.Parameter(torch.empty(nx, nf))
                self.bias = nn.Parameter(torch.zeros(nf))
            def forward(self, x):
                size_out = x.size()[:-1] + (self.weight.size(-1),)
                x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
                x = x.view(size_out)
                return x
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = nn.MultiheadAttention(8, 2)
                self.c_fc = Conv1D(32, 8)
        model = Block()
    """))
    config = report.model.recommended_config
    assert config.module_names_to_perforate[0] == "Conv1D"
    assert config.output_dimensions == [-1, -1, 0]


def test_counting_parameters_is_not_a_hand_update():
    findings = analyze_source(textwrap.dedent("""
        import torch
        model = torch.nn.Sequential(torch.nn.Linear(2, 1))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        total = 0
        for p in model.parameters():
            total += p.numel()
    """)).optimizer_setup.findings
    assert not any("by hand" in f for f in findings)


def test_the_held_out_half_keeps_the_test_loaders_collate_fn_and_runs(tmp_path):
    """A test loader with its own collate_fn: both halves must batch the same way, or the rewrite breaks."""
    script = (SCRIPTS / "train_then_test" / "train.py").read_text()
    script = script.replace("        for x, y in loader:\n            correct +=",
                            "        for batch in loader:\n            x, y = batch['x'], batch['y']\n            correct +=")
    script = script.replace("test_loader = DataLoader(blobs(128, 2), batch_size=64)",
                            "test_loader = DataLoader(blobs(128, 2), batch_size=64, collate_fn=as_dict)")
    script = script.replace("def train(model", "def as_dict(rows):\n    x, y = zip(*rows)\n"
                            "    return {'x': torch.stack(x), 'y': torch.stack(y)}\n\n\ndef train(model")
    assert "collate_fn=as_dict" in script and "batch['x']" in script
    new = complete(script)
    assert "collate_fn=test_loader.collate_fn" in new
    (tmp_path / "train.py").write_text(new)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "train.py", "--epochs", "2"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test accuracy" in done.stdout
