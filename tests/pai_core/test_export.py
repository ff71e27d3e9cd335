"""Export: TorchScript, torch.export and ONNX files of real inference models are written, loaded back, run, and
match the eager model; `pai export` does the same from a run folder and a model factory."""
from __future__ import annotations

import json
import tempfile

import pytest
import torch
from test_training_support import DATA, run_config

from pai_core.deploy import load_for_inference, to_inference
from pai_core.export import ExportError, available_formats, example_inputs, export_model, export_run
from pai_core.inference_layers import FusedDendrites
from pai_core.modules import neuron_modules
from pai_core.perforate import perforate_model
from pai_core.tracker import save_system

torch.set_num_threads(1)
JIT_DEPRECATED = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")  # still works in torch 2.13

MODEL_FILE = '''\
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self, width=6):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc1 = nn.Linear(4 * 16, width)
        self.fc2 = nn.Linear(width, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x.view(-1, 1, 8, 8))), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


if __name__ == "__main__":
    raise SystemExit("training would start here")
'''


def _load_net(path):
    from pai_core.model_spec import build_model

    return build_model(f"{path}:Net", {"width": 6})


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder: net.py (the architecture) and a run folder PAI with 2 dendrites, tanh activation."""
    root = tmp_path_factory.mktemp("project")
    (root / "net.py").write_text(MODEL_FILE)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        torch.manual_seed(0)
        config = run_config(pai_forward_function=torch.tanh)  # not the default: must be read from the run
        config.module_names_to_perforate = ["Conv2d", "Linear"]
        config.module_settings = {"Conv2d": {"output_dimensions": [-1, 0, -1, -1]}}
        model = perforate_model(_load_net(root / "net.py"), save_name="PAI", config=config)
        model(DATA.x_train[:8])
        for module in neuron_modules(model):
            module.add_dendrite()
            module.add_dendrite()
            with torch.no_grad():
                module.dendrites_to_top.normal_()
                module.dendrite_module.dendrites_to_dendrites[0].normal_()
        save_system(model, "PAI", "best_model")
    return root, model.eval()


@JIT_DEPRECATED
def test_every_format_runs_and_matches_eager(project, tmp_path):
    _, perforated = project
    inference = to_inference(perforated)
    inputs = (DATA.x_val[:4],)
    files = export_model(inference, inputs, tmp_path, formats=["torchscript", "torch_export"])
    assert [f.format for f in files] == ["torchscript", "torch_export"]
    for file in files:
        assert file.size_bytes > 1000 and file.max_abs_diff is not None and file.max_abs_diff < 1e-5
        assert file.dynamic_batch is True and file.note == ""
    with torch.no_grad():
        expected = perforated(DATA.x_val[:7])
        scripted = torch.jit.load(str(tmp_path / "model.torchscript.pt"))
        torch.testing.assert_close(scripted(DATA.x_val[:7]), expected, rtol=1e-5, atol=1e-5)
        program = torch.export.load(str(tmp_path / "model.pt2")).module()  # the batch size is not frozen
        torch.testing.assert_close(program(DATA.x_val[:7]), expected, rtol=1e-5, atol=1e-5)


def test_onnx_export_runs_in_onnxruntime(project, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    _, perforated = project
    files = export_model(to_inference(perforated), (DATA.x_val[:4],), tmp_path, formats=["onnx"], name="digits")
    assert files[0].max_abs_diff is not None and files[0].max_abs_diff < 1e-4
    session = ort.InferenceSession(str(tmp_path / "digits.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_0": DATA.x_val[:9].numpy()})[0]  # another batch size than exported
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(got), perforated(DATA.x_val[:9]), rtol=1e-4, atol=1e-4)


@JIT_DEPRECATED
def test_export_run_reads_the_run_config_and_writes_beside_the_run(project):
    root, perforated = project
    report = export_run(root / "PAI", f"{root / 'net.py'}:Net", [[2, 64]], model_kwargs={"width": 6},
                        formats=["torchscript"])
    assert report.checkpoint.endswith("best_model.pt") and report.layers == {"FusedDendrites": 3}
    assert report.dendrites == 2 and report.input_shapes == [[2, 64]]
    path = root / "PAI" / "export" / "model.torchscript.pt"
    assert report.files[0].path == str(path) and path.is_file()
    x = example_inputs([[2, 64]])[0]
    with torch.no_grad():  # tanh came from PAI/PAI_config.json: the default sigmoid would not match
        torch.testing.assert_close(torch.jit.load(str(path))(x), perforated(x), rtol=1e-5, atol=1e-5)
    assert "torchscript" in report.to_text() and "max |diff|" in report.to_text()


def test_pai_export_command(project, tmp_path, capsys, monkeypatch):
    from mcp_server.cli import main

    root, _ = project
    monkeypatch.chdir(root)  # the default --root: a model file must be under the working directory
    argv = ["export", str(root / "PAI"), "--model", "net.py:Net", "--model-kwargs", '{"width": 6}',
            "--input-shape", "1,64", "--format", "torch_export", "--out", str(tmp_path), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"][0]["format"] == "torch_export" and report["files"][0]["max_abs_diff"] < 1e-5
    assert report["files"][0]["dynamic_batch"] is True  # a batch-1 example does not freeze the batch size
    assert (tmp_path / "model.pt2").is_file()
    assert main(argv[:-1] + ["--no-fuse"]) == 0
    assert "3 DendriteCopies" in capsys.readouterr().out

    assert main(["export", str(root / "PAI"), "--input-shape", "3,64"]) == 2
    assert "--model is required" in capsys.readouterr().err
    assert main(["export", str(root / "PAI"), "--model", f"{root / 'net.py'}:Net"]) == 2
    assert "--input-shape is required" in capsys.readouterr().err
    assert main(["export", str(root / "PAI"), "--model", "net.py:Net", "--model-kwargs", "[6]",
                 "--input-shape", "3,64"]) == 2
    assert "JSON object" in capsys.readouterr().err
    assert main(["export", str(root / "PAI"), "--model", f"{root / 'net.py'}:Net", "--model-kwargs",
                 '{"width": 9}', "--input-shape", "3,64"]) == 2  # bad input in the exit-status table
    assert "same arguments" in capsys.readouterr().err


def test_pai_export_calls_nothing_it_cannot_vouch_for(project, tmp_path, capsys, monkeypatch):
    from mcp_server.cli import main

    root, _ = project
    work = tmp_path / "work"
    work.mkdir()
    marker, imported, outside = tmp_path / "called", tmp_path / "imported", tmp_path / "outside.py"
    outside.write_text("from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self, path):\n"
                       "        super().__init__()\n        open(path, 'w')\n")
    (work / "link.py").symlink_to(outside)
    (work / "reexport.py").write_text("from os import system as build\n")
    (work / "noisy.py").write_text(f"open({str(imported)!r}, 'w')\n" + MODEL_FILE)
    monkeypatch.chdir(work)
    touch, write = {"command": f"touch {marker}"}, {"source": f"open({str(marker)!r}, 'w')"}
    cases = [
        ("os:system", touch, "os defines no system"),
        ("subprocess:getoutput", {"cmd": touch["command"]}, "getoutput is a function"),
        ("builtins:exec", write, "no Python source"),
        ("builtins:eval", write, "no Python source"),
        ("pathlib:Path", {"path": str(marker)}, "does not show a torch.nn.Module subclass"),
        ("torch:load", {"f": str(marker)}, "load is a function"),
        (f"{outside}:Net", {"path": str(marker)}, "outside the folders"),
        ("link.py:Net", {"path": str(marker)}, "outside the folders"),
        ("reexport.py:build", touch, "is imported at the top level"),
        ("noisy.py:Missing", {"path": str(marker)}, "no top-level class or function 'Missing'"),
        ("torch.nn:Linear", {"in_features": 64, "out_features": 10}, "does not fit Linear"),  # allowed: built
    ]
    for spec, kwargs, reason in cases:
        assert main(["export", str(root / "PAI"), "--model", spec, "--model-kwargs", json.dumps(kwargs),
                     "--input-shape", "1,64", "--format", "torch_export", "--out", str(tmp_path / "out")]) == 2
        error = capsys.readouterr().err  # 2: bad input in the exit-status table (mcp_server.cli.exit_status)
        assert error.startswith("pai export: error: ") and reason in error and "pass " in error.lower(), error
        assert not marker.exists() and not imported.exists() and not (tmp_path / "out").exists(), spec
    assert main(["export", str(root / "PAI"), "--model", "noisy.py:Net", "--input-shape", "1,64",
                 "--format", "torch_export", "--out", str(tmp_path / "out")]) == 0  # the real model still exports
    assert imported.exists() and (tmp_path / "out" / "model.pt2").is_file()


def test_bad_requests_are_explained():
    model = torch.nn.Linear(3, 2)
    with pytest.raises(ExportError, match="choose from"):
        export_model(model, (torch.randn(1, 3),), ".", formats=["tflite"])
    with pytest.raises(ExportError, match=r"does not run on example inputs of shapes \[\[1, 4\]\]"):
        export_model(model, (torch.randn(1, 4),), ".", formats=["torch_export"])
    with pytest.raises(ExportError, match="positive sizes"):
        example_inputs([[0, 3]])
    assert available_formats()[:2] == ["torchscript", "torch_export"]


def test_loaded_model_is_fused(project):
    root, _ = project
    model = load_for_inference(_load_net(root / "net.py"), root / "PAI")
    assert isinstance(model.conv, FusedDendrites) and model.conv.axis == -3


def test_a_fixed_batch_size_is_reported():
    class Fixed(torch.nn.Module):
        def forward(self, x):
            return x.reshape(4, -1).sum(1)  # only a batch of 4 fits

    files = export_model(Fixed(), (torch.randn(4, 3),), tempfile.mkdtemp(), formats=["torchscript"])
    assert files[0].dynamic_batch is False and "batch size is fixed" in files[0].note


@pytest.mark.parametrize("formats", [["torchscript", "onnx"], pytest.param(["torch_export"], marks=pytest.mark.slow)])
def test_processor_layers_export(tmp_path, formats):
    """A GRU with dendrites keeps its copies and processors; the exported file still matches eager."""
    if "onnx" in formats:
        pytest.importorskip("onnx")
        pytest.importorskip("onnxruntime")
    from test_deploy import gru_with_dendrites

    model, _, x = gru_with_dendrites()
    files = export_model(to_inference(model), (x,), tmp_path, formats=formats)
    assert all(f.max_abs_diff is not None and f.max_abs_diff < 1e-4 and f.dynamic_batch for f in files)
    if "torchscript" in formats:  # nn.GRU's Python shape checks are frozen by the tracer: the user is told
        assert "tracer froze" in files[0].note


@JIT_DEPRECATED
def test_token_id_models_export_with_integer_inputs(tmp_path):
    from torch import nn

    from pai_core.perforate import convert_network

    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 8)
            self.fc = nn.Linear(8, 4)

        def forward(self, ids):
            return self.fc(self.embed(ids)).mean(1)

    config = run_config(output_dimensions=[-1, -1, 0], unwrapped_modules_confirmed=True)
    model = convert_network(Tokens(), config)
    ids = example_inputs([[2, 5]], "int64")
    assert ids[0].dtype == torch.int64
    model(*ids)
    for module in neuron_modules(model):
        module.add_dendrite()
        with torch.no_grad():
            module.dendrites_to_top.normal_()
    formats = available_formats()
    files = export_model(to_inference(model.eval()), ids, tmp_path, formats=formats)
    assert [f.format for f in files] == formats
    assert all(f.max_abs_diff < 1e-5 and f.dynamic_batch for f in files)
