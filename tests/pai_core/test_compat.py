"""Scripts written for upstream perforatedai run by changing only their import lines."""
import subprocess
import sys
import textwrap

import pytest
import torch

torch.set_num_threads(1)

UPSTREAM_SCRIPT = textwrap.dedent('''
    import torch
    from torch import nn
    from perforatedai import globals_perforatedai as GPA
    from perforatedai import utils_perforatedai as UPA
    from perforatedai import library_perforatedai as LPA
    from perforatedai import modules_perforatedai as PA

    torch.manual_seed(0)
    GPA.pc.set_testing_dendrite_capacity(True)
    GPA.pc.set_configuration_confirmed(True)
    GPA.pc.set_unwrapped_modules_confirmed(True)
    GPA.pc.set_verbose(False)
    GPA.pc.append_module_names_to_track(["LayerNorm"])
    GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = GPA.PAISequential([nn.Linear(8, 16), nn.LayerNorm(16)])
            self.fc = nn.Linear(16, 4)

        def forward(self, x):
            return self.fc(torch.relu(self.block(x)))

    model = UPA.perforate_model(Net(), save_name="compat_run", making_graphs=False, maximizing_score=True)
    assert isinstance(model.block, PA.PAINeuronModule) and str(model.fc).startswith("PAIModule(")
    model.fc.set_this_output_dimensions([-1, 0])
    x, y = torch.randn(32, 8), torch.randint(0, 4, (32,))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    GPA.pai_tracker.set_optimizer_instance(optimizer)
    dendrites = []
    for epoch in range(10):
        model.train()
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        with torch.no_grad():
            score = (model(x).argmax(1) == y).float().mean().item() * 100
        model, restructured, complete = GPA.pai_tracker.add_validation_score(score, model)
        dendrites.append(UPA.get_pai_modules(model, 0)[0].num_dendrites)
        if complete:
            break
        if restructured:
            optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
            GPA.pai_tracker.set_optimizer_instance(optimizer)
    RESULT = {"complete": complete, "dendrites": dendrites, "params": UPA.count_params(model),
              "copy": UPA.deep_copy_pai(model)}
''')


def run_with_pai_imports(source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    converted = source.replace("from perforatedai import", "from pai_core import")
    namespace = {}
    exec(compile(converted, "upstream_script.py", "exec"), namespace)  # noqa: S102 (the test runs a user script)
    return namespace


@pytest.fixture
def fresh_defaults():
    from pai_core.config import pc
    pc.reset()
    yield pc
    pc.reset()


def test_upstream_script_runs_with_changed_imports_only(tmp_path, monkeypatch, fresh_defaults):
    result = run_with_pai_imports(UPSTREAM_SCRIPT, tmp_path, monkeypatch)["RESULT"]
    assert result["complete"] is True
    assert result["dendrites"][-1] == 3 and result["dendrites"][:3] == [1, 2, 3]
    clone = result["copy"]
    assert clone(torch.randn(2, 8)).shape == (2, 4)


def test_facade_modules_expose_upstream_names():
    from pai_core import globals_perforatedai as GPA
    from pai_core import library_perforatedai as LPA
    from pai_core import modules_perforatedai as PA
    from pai_core import utils_perforatedai as UPA
    for name in ("pc", "PAISequential", "PAIConfig", "pai_tracker", "pai_scaler"):
        getattr(GPA, name)
    for name in ("perforate_model", "initialize_pai", "convert_network", "count_params", "get_pai_modules",
                 "get_tracked_modules", "deep_copy_pai", "load_system", "save_system", "load_pretrained_model"):
        assert callable(getattr(UPA, name)), name
    for name in ("PAIProcessor", "MultiOutputProcessor", "LSTMCellProcessor", "LSTMProcessor", "GRUProcessor",
                 "LSTMProcessorLastHidden", "ResNetPAI", "ResNetPAIPreFC"):
        assert isinstance(getattr(LPA, name), type), name
    for name in ("PAINeuronModule", "TrackedNeuronModule", "PAIDendriteModule", "DendriteValueTracker",
                 "filter_backward", "set_wrapped_params", "set_tracked_params", "init_params"):
        getattr(PA, name)
    with pytest.raises(AttributeError):
        _ = GPA.no_such_thing


def test_lazy_package_import_does_not_load_torch():
    code = ("import sys, pai_core; assert 'torch' not in sys.modules; "
            "assert pai_core.__version__; pai_core.PAIConfig; assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_filter_backward_and_set_params_markers():
    from torch import nn

    from pai_core.config import PAIConfig
    from pai_core.modules import PAINeuronModule, filter_backward, set_tracked_params
    module = PAINeuronModule(nn.Conv2d(1, 3, 3), ".c", config=PAIConfig())
    assert module.main_module.weight.wrapped is True
    filter_backward(torch.zeros(2, 3, 4, 4), module.dendrite_module.dendrite_values)
    assert module.dendrite_module.dendrite_values[0].out_channels == 3
    norm = nn.LayerNorm(3)
    set_tracked_params(norm)
    assert norm.weight.tracked is True
