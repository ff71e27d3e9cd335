"""pai_export_model through a real MCP client: a real run folder in the project is exported in a child process,
the files run, and bad requests, above all model specs naming anything but the project's own model code or an
nn.Module class, come back as actionable tool errors before anything runs, while the server keeps serving."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from mcp_server.tools.export import ExportResult

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]

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
async def client(server):
    """One client mode (JSON-RPC): every export is a fresh process that imports torch, and the two modes are
    covered by the other tools' tests."""
    async with Client(server, mode="legacy") as connected:
        yield connected


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


@pytest.mark.slow  # one more torch child process; pai_core's tests run ONNX in onnxruntime by default
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


# A command that leaves a trace: if any refused spec were called with these arguments, the marker would exist.
def _attacks(project: Path, marker: Path) -> list[tuple[str, dict, str]]:
    """(model spec, model_kwargs that would write `marker` if the callable ran, what the refusal says)."""
    touch = f"touch {marker}"
    write = f"open({str(marker)!r}, 'w').write('ran')"
    outside = project.parent / "outside"
    outside.mkdir()
    (outside / "evil.py").write_text(WRITES_ON_CALL)
    (project / "models" / "link.py").symlink_to(outside / "evil.py")
    (project / "models" / "reexport.py").write_text(
        "import os\nfrom os import system as build_model\nrun = os.system\n\n\n"
        "class Settings:\n    def __init__(self, path):\n        open(path, 'w').write('ran')\n")
    return [
        ("os:system", {"command": touch}, "os defines no system"),
        ("subprocess:getoutput", {"cmd": touch}, "getoutput is a function, not a class"),
        ("builtins:exec", {"source": write}, "has no Python source to check"),
        ("builtins:eval", {"source": write}, "has no Python source to check"),
        ("pathlib:Path", {"path": str(marker)}, "does not show a torch.nn.Module subclass"),
        ("torch:load", {"f": str(marker)}, "load is a function, not a class"),
        (f"{outside / 'evil.py'}:Net", {"path": str(marker)}, "outside the folders"),
        ("models/link.py:Net", {"path": str(marker)}, "outside the folders"),
        ("models/reexport.py:build_model", {"command": touch}, "is imported at the top level"),
        ("models/reexport.py:run", {"command": touch}, "is assigned at the top level"),
        ("models/reexport.py:Settings", {"path": str(marker)}, "not a torch.nn.Module subclass"),
        ("models/reexport.py:os.system", {"command": touch}, "not one top-level name"),
        ("models/noisy.py:Missing", {"path": str(marker)}, "no top-level class or function 'Missing'"),
    ]


WRITES_ON_CALL = '''\
from torch import nn


class Net(nn.Module):
    def __init__(self, path):
        super().__init__()
        open(path, "w").write("ran")
'''

# A model file whose import leaves a trace: the id of the process that imported it.
NOISY_MODEL_FILE = "import os\n\nopen({marker!r}, 'w').write(str(os.getpid()))\n" + MODEL_FILE


async def test_only_code_the_server_can_vouch_for_is_ever_called(client, project, run, tmp_path):
    marker = tmp_path / "called"
    imported = tmp_path / "imported"
    (project / "models" / "noisy.py").write_text(NOISY_MODEL_FILE.format(marker=str(imported)))
    for spec, kwargs, message in _attacks(project, marker):
        result = await client.call_tool("pai_export_model", {
            "source": "PAI", "model": spec, "model_kwargs": kwargs, "input_shapes": [[1, 64]],
            "formats": ["torch_export"]})
        text = result.content[0].text
        assert result.is_error and message in text, (spec, text)
        assert "pass " in text.lower(), (spec, text)  # says what to pass instead
        assert not marker.exists(), f"{spec} ran"
        assert not imported.exists(), f"{spec} imported the model file"  # refused before any import

    allowed = await client.call_tool("pai_export_model", {  # an nn.Module class: built, then the weights differ
        "source": "PAI", "model": "torch.nn:Linear", "model_kwargs": {"in_features": 64, "out_features": 10},
        "input_shapes": [[1, 64]], "formats": ["torch_export"]})
    assert allowed.is_error and "does not fit Linear" in allowed.content[0].text, allowed.content[0].text

    good = await client.call_tool("pai_export_model", {
        "source": "PAI", "model": "models/noisy.py:Net", "input_shapes": [[1, 64]], "formats": ["torch_export"]})
    assert not good.is_error, good.content
    assert ExportResult.model_validate(good.structured_content).files[0].max_abs_diff < 1e-5
    child = int(imported.read_text())  # the model file's top level ran, in a child process, not the server's
    assert child != os.getpid()
    assert not marker.exists()


@pytest.mark.parametrize("entry", [["-m", "mcp_server.cli", "mcp"], ["-m", "mcp_server"]],
                         ids=["pai mcp", "pai-mcp"])
async def test_no_code_execution_leaves_the_export_tool_out(project, entry):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(REPO)}
    params = StdioServerParameters(command=sys.executable, args=[*entry, "--no-code-execution", "--root",
                                                                 str(project)], cwd=str(project), env=env)
    async with Client(params) as connected:
        names = {tool.name for tool in (await connected.list_tools()).tools}
        assert "pai_export_model" not in names and "pai_analyze_script" in names
        assert "pai_export_model" not in connected.instructions
        assert "--no-code-execution" in connected.instructions and "pai export" in connected.instructions
        refused = await connected.call_tool("pai_export_model", {
            "source": "PAI", "model": "models/net.py:Net", "input_shapes": [[1, 64]]})
        assert refused.is_error and "pai_export_model" in refused.content[0].text
        answered = await connected.call_tool("pai_analyze_script", {"path": "train_digits.py"})
        assert not answered.is_error
