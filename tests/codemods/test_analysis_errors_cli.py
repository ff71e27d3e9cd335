import functools
"""Bad input, odd code, recommend_config, and the `pai analyze-script` command."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.analysis import ScriptError, analyze_script, analyze_source, recommend_config
from mcp_server.cli import run_command

main = functools.partial(run_command, "analyze-script")
from mcp_server import cli as pai_cli

SCRIPTS = Path(__file__).parent / "scripts"


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("import torch\nx = torch.ones(2)\ny = x.cuda(async=True)\n", 3, "async"),
        ("import torch\n\nprint 'epoch', 1\n", 3, "print"),
        ("def check(x):\n    if x <> 0:\n        raise ValueError, 'bad'\n", 2, "`<>`"),
        ("x = 0777\n", 1, "0o777"),
        ("def f(:\n    pass\n", 1, "syntax"),
    ],
)
def test_syntax_errors_name_the_line_and_the_feature(source, line, words):
    with pytest.raises(ScriptError) as err:
        analyze_source(source, "train.py")
    assert err.value.line == line
    assert f"train.py:{line}" in str(err.value) and words in str(err.value)
    assert isinstance(err.value, ValueError)


def test_file_errors_say_what_to_do(tmp_path):
    cases = {
        "missing.py": (None, "no such file"),
        "empty.py": ("", "empty"),
        "notebook.ipynb": ('{"cells": []}', "nbconvert"),
        "weights.bin": (None, "binary"),
        "notes": ("This is not a script, just some words.\n", "does not look like a Python script"),
        "huge.py": ("x = 1\n" * 40_000, "128 KB"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        if name == "weights.bin":
            path.write_bytes(b"\x00\x01\x02" * 100)
        elif text is not None:
            path.write_text(text)
        with pytest.raises(ScriptError) as err:
            analyze_script(path)
        assert expected in str(err.value), (name, str(err.value))
    with pytest.raises(ScriptError, match="directory"):
        analyze_script(tmp_path)


def test_unusual_code_never_crashes_and_prefers_unknown():
    source = """
import torch, importlib
net = importlib.import_module("zoo").build(**cfg)
opt = make_optimizer(net)
async def serve():
    async with lock:
        await step()
match mode:
    case "x":
        lambda: (yield)
for epoch in iter(lambda: 1, 2):
    print(f"{epoch=}")
class Weird(metaclass=Meta, **kw):
    x: int = field(default_factory=list)
while (n := n - 1):
    pass
"""
    report = analyze_source(source)
    assert report.model.architecture == "unknown"
    assert report.optimizers == [] and report.optimizer_setup.kind == "none"
    assert report.validation.direction == "unknown"
    assert report.integration.level == "none"
    assert report.to_text()


def test_initialize_pai_generation_and_alias_imports():
    source = """
import perforatedai.globals_perforatedai as G
import perforatedai.utils_perforatedai as U
G.pc.set_module_names_to_convert(["Linear"])
model = U.initialize_pai(model, save_name="old", maximizing_score=False)
"""
    ig = analyze_source(source).integration
    assert ig.generation == "initialize_pai" and ig.level == "partial"
    assert ig.perforate_call.maximizing_score == "False" and ig.aliases == {"G": "globals", "U": "utils"}


def test_hard_coded_ddp_from_torchrun_env():
    source = """
import os
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group("nccl")
local_rank = int(os.environ["LOCAL_RANK"])
model = DDP(Net().cuda(local_rank), device_ids=[local_rank])
"""
    p = analyze_source(source).parallelism
    assert p.kind == "DistributedDataParallel" and p.hard_coded and p.flag is None
    assert p.env_vars == ["LOCAL_RANK"] and "torch.distributed" in p.kinds


def test_several_optimizers_are_complex():
    source = """
import torch
gen_opt = torch.optim.Adam(generator.parameters(), lr=2e-4)
disc_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4)
"""
    setup = analyze_source(source).optimizer_setup
    assert setup.kind == "complex" and "2 optimizer constructions" in setup.reason


def test_recommend_config_per_architecture():
    resnet = recommend_config("resnet")
    assert resnet.config_lines() == [
        "GPA.pc.set_testing_dendrite_capacity(True)",
        "GPA.pc.set_module_names_to_perforate(['BasicBlock', 'Bottleneck', 'Linear'])",
        "GPA.pc.append_module_ids_to_track(['.conv1', '.bn1'])",
        "GPA.pc.set_output_dimensions([-1, 0, -1, -1])",
    ]
    rnn = recommend_config("rnn", layers=["LSTM", "LSTMCell", "Linear"], head="fc", head_is_2d=True)
    assert [p.processor_class for p in rnn.processors] == ["LSTMProcessor", "LSTMCellProcessor"]
    assert rnn.override_lines("net") == ["net.fc.set_this_output_dimensions([-1, 0])"]
    cells = recommend_config("rnn", layers=["LSTMCell", "Linear"], head="fc", head_is_2d=True)
    assert cells.output_dimensions == [-1, 0] and cells.override_lines("net") == []  # every output is 2-D
    assert "from pai_core import library_perforatedai as LPA" in rnn.required_imports()
    custom = recommend_config("custom")
    assert custom.max_dendrites == 5 and custom.module_names_to_perforate == ["Linear"]
    assert recommend_config("cnn", ["Conv1d", "Linear"]).module_names_to_perforate == ["Conv1d", "Linear"]
    with pytest.raises(ValueError, match="unknown architecture"):
        recommend_config("gan")
    code = recommend_config("transformer", head="head", head_is_2d=True).to_code()
    compile(code, "<config>", "exec")  # the rendered lines are valid Python


def test_cli_text_and_json(capsys):
    assert main([str(SCRIPTS / "mnist_main.py")]) == 0
    out = capsys.readouterr().out
    assert "Model: cnn" in out and "Epoch loop: for-range" in out
    assert main([str(SCRIPTS / "imagenet_main.py"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["model"]["architecture"] == "resnet" and data["parallelism"]["kind"] == "DistributedDataParallel"
    )


def test_cli_errors_exit_2_with_a_message(tmp_path, capsys):
    bad = tmp_path / "py2.py"
    bad.write_text("print 'hello'\n")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "py2.py:1" in err and "print" in err and "Traceback" not in err


def test_pai_front_door_runs_the_command(capsys):
    assert pai_cli.main(["analyze-script", str(SCRIPTS / "regression_mse.py")]) == 0
    assert "direction minimize" in capsys.readouterr().out


def test_importing_the_analysis_does_not_import_torch():
    code = "import sys, codemods.analysis; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
