"""pai_export_model through a real MCP client: a real run folder in the project is exported, the files run,
and bad requests come back as actionable tool errors while the server keeps serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_server.tools.export import ExportResult

pytestmark = pytest.mark.anyio

MODEL_FILE = '''\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, width=6):
        super().__init__()
        self.fc1 = nn.Linear(64, width)
        self.fc2 = nn.Linear(width, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


if __name__ == "__main__":
    raise SystemExit("training would start here")
'''


@pytest.fixture
def run(project: Path, monkeypatch):
    """models/net.py plus a run folder PAI whose best model has 2 trained-looking dendrites per layer."""
    import torch

    from pai_core.config import PAIConfig
    from pai_core.model_spec import build_model
    from pai_core.modules import neuron_modules
    from pai_core.perforate import perforate_model
    from pai_core.tracker import save_system

    torch.set_num_threads(1)
    (project / "models").mkdir()
    (project / "models" / "net.py").write_text(MODEL_FILE)
    monkeypatch.chdir(project)
    torch.manual_seed(0)
    config = PAIConfig()
    config.configuration_confirmed = True
    config.module_names_to_perforate = ["Linear"]
    config.output_dimensions = [-1, 0]
    config.testing_dendrite_capacity = False
    model = perforate_model(build_model(f"{project / 'models' / 'net.py'}:Net"), save_name="PAI", config=config)
    model(torch.rand(4, 64))
    for module in neuron_modules(model):
        module.add_dendrite()
        module.add_dendrite()
        with torch.no_grad():
            module.dendrites_to_top.normal_()
            module.dendrite_module.dendrites_to_dendrites[0].normal_()
    save_system(model, "PAI", "best_model")
    return model.eval()


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
async def test_export_writes_runnable_files_that_match_the_trained_model(client, project, run):
    import torch

    from pai_core.export import example_inputs

    result = await client.call_tool("pai_export_model", {
        "source": "PAI", "model": "models/net.py:Net", "input_shapes": [[3, 64]],
        "formats": ["torchscript", "torch_export"]})
    assert not result.is_error, result.content
    report = ExportResult.model_validate(result.structured_content)
    assert report.layers == {"FusedDendrites": 2} and report.dendrites == 2
    assert [f.format for f in report.files] == ["torchscript", "torch_export"]
    for file in report.files:
        assert Path(file.path).parent == project / "PAI" / "export"
        assert Path(file.path).stat().st_size == file.size_bytes
        assert file.max_abs_diff is not None and file.max_abs_diff < 1e-5
    assert "max |diff| vs eager" in report.summary
    x = example_inputs([[3, 64]])[0]
    with torch.no_grad():
        program = torch.export.load(str(project / "PAI" / "export" / "model.pt2")).module()
        torch.testing.assert_close(program(x), run(x), rtol=1e-5, atol=1e-5)


async def test_onnx_to_a_chosen_folder(client, project, run):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    result = await client.call_tool("pai_export_model", {
        "source": "PAI/best_model.pt", "model": "models/net.py:Net", "input_shapes": [[2, 64]],
        "model_kwargs": {"width": 6}, "formats": ["onnx"], "output_dir": "deploy"})
    assert not result.is_error, result.content
    report = ExportResult.model_validate(result.structured_content)
    assert report.files[0].path == str(project / "deploy" / "model.onnx")
    assert report.files[0].max_abs_diff < 1e-4


async def test_bad_requests_are_tool_errors_with_the_fix(client, project, run):
    cases = [
        ({"model": "models/net.py"}, "SOURCE:NAME"),
        ({"model": "models/missing.py:Net"}, "does not exist"),
        ({"model": "models/net.py:Nett"}, "no top-level class or function 'Nett'"),
        ({"model_kwargs": {"width": 9}}, "same arguments"),
        ({"input_shapes": [[3, 65]]}, "does not run on example inputs"),
        ({"source": "nowhere"}, "does not exist"),
        ({"source": "../outside"}, "outside the folders"),
    ]
    for change, message in cases:
        arguments = {"source": "PAI", "model": "models/net.py:Net", "input_shapes": [[1, 64]],
                     "formats": ["torch_export"], **change}
        result = await client.call_tool("pai_export_model", arguments)
        assert result.is_error, change
        assert message in result.content[0].text, (change, result.content[0].text)
    assert not (project / "PAI" / "export").exists()  # nothing written for a refused request
    ok = await client.call_tool("pai_export_model", {"source": "PAI", "model": "models/net.py:Net",
                                                     "input_shapes": [[1, 64]], "formats": ["torch_export"]})
    assert not ok.is_error  # the server still serves
