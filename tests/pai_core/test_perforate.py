"""Which modules get wrapped: upstream's selection rules and precedence, the audit, perforate_model."""
import json
import logging

import pytest
import torch
from torch import nn

from pai_core.blocks import PAISequential
from pai_core.config import PAIConfig, pc
from pai_core.errors import ConversionError, InvalidSaveNameError, UnwrappedParametersError
from pai_core.modules import PAINeuronModule, TrackedNeuronModule, neuron_modules
from pai_core.perforate import convert_network, perforate_model, sanitize_save_name
from pai_core.processors import MultiOutputProcessor

torch.set_num_threads(1)


class MyLinear(nn.Linear):
    pass


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)

    def forward(self, x):
        return self.norm(self.fc(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(3, 4)
        self.blocks = nn.ModuleList([Block(), Block()])
        self.sub = MyLinear(4, 4)
        self.head = nn.Linear(4, 2)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.sub(x)) * self.scale


def kinds(model):
    return {"." + name: type(m).__name__ for name, m in model.named_modules()
            if isinstance(m, (PAINeuronModule, TrackedNeuronModule))}


def convert(model, **options):
    options.setdefault("unwrapped_params_action", "ignore")
    return convert_network(model, PAIConfig(**options))


def test_default_names_wrap_exact_class_names_only():
    model = convert(Net())
    assert kinds(model) == {".stem": "PAINeuronModule", ".blocks.0.fc": "PAINeuronModule",
                            ".blocks.1.fc": "PAINeuronModule", ".head": "PAINeuronModule"}
    assert isinstance(model.sub, MyLinear)  # a subclass does not match "Linear" exactly, as upstream
    assert model.stem.name == ".stem" and model.blocks[1].fc.name == ".blocks.1.fc"
    assert model(torch.randn(2, 3)).shape == (2, 2)


def test_match_subclasses_opt_in():
    model = convert_network(Net(), PAIConfig(unwrapped_params_action="ignore"), match_subclasses=True)
    assert isinstance(model.sub, PAINeuronModule)
    by_class = convert(Net(), module_names_to_perforate=[], modules_to_perforate=[nn.Linear])
    assert not isinstance(by_class.sub, PAINeuronModule) and isinstance(by_class.head, PAINeuronModule)
    by_class_sub = convert_network(Net(), PAIConfig(module_names_to_perforate=[], modules_to_perforate=[nn.Linear],
                                                    unwrapped_params_action="ignore"), match_subclasses=True)
    assert isinstance(by_class_sub.sub, PAINeuronModule)


def test_whole_blocks_by_name_outer_wins():
    model = convert(Net(), module_names_to_perforate=["Block"])
    assert kinds(model) == {".blocks.0": "PAINeuronModule", ".blocks.1": "PAINeuronModule"}
    assert isinstance(model.blocks[0].main_module.fc, nn.Linear)


def test_ids_win_over_class_rules_and_track_wins_over_perforate():
    model = convert(Net(), module_ids_to_track=[".head"], module_ids_to_perforate=[".blocks.0.norm"],
                    module_names_to_track=["Linear"])
    k = kinds(model)
    assert k[".head"] == "TrackedNeuronModule" and k[".blocks.0.norm"] == "PAINeuronModule"
    assert k[".stem"] == "TrackedNeuronModule"  # name track beats name perforate
    assert ".blocks.1.norm" not in k


def test_track_by_class_is_exact():
    model = convert(Net(), modules_to_track=[nn.LayerNorm])
    assert kinds(model)[".blocks.0.norm"] == "TrackedNeuronModule"


def test_not_save_skips_exact_ids_entirely():
    model = convert(Net(), module_names_to_not_save=[".blocks.1", ".base_model"])
    k = kinds(model)
    assert ".blocks.0.fc" in k and not any(key.startswith(".blocks.1") for key in k)


def test_replace_then_rules_apply_to_the_replacement():
    def to_sequential(block):
        return PAISequential([block.fc, block.norm])

    model = convert(Net(), modules_to_replace=[Block], replacement_modules=[to_sequential])
    assert isinstance(model.blocks[0], PAINeuronModule)
    assert isinstance(model.blocks[0].main_module, PAISequential)
    assert model.blocks[0].output_dimensions == [-1, 0]  # PAISequential starting with Linear is trimmed
    x = torch.randn(2, 3)
    before = model(x)
    for m in neuron_modules(model):
        m.add_dendrite()
    assert torch.equal(model(x), before)


def test_replace_the_root():
    model = convert(Block(), modules_to_replace=[Block], replacement_modules=[lambda b: PAISequential([b.fc])])
    assert isinstance(model, PAINeuronModule) and model.name == ""


def test_alias_is_kept_once_and_added_to_not_save():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = self.a
            self.inner = nn.Sequential(nn.Linear(2, 2))
            self.again = self.inner

        def forward(self, x):
            return self.b(self.a(x))

    config = PAIConfig(unwrapped_params_action="ignore")
    model = convert_network(Shared(), config)
    assert isinstance(model.a, PAINeuronModule) and model.b is model.a.main_module
    assert ".b" in config.module_names_to_not_save and ".again" in config.module_names_to_not_save
    assert ".again.0" not in config.module_names_to_not_save


def test_parameter_ids_and_audit_modes(caplog):
    with caplog.at_level(logging.WARNING, logger="pai_core.perforate"):
        convert_network(Net(), PAIConfig())
    text = caplog.text
    assert "'.sub'" in text and "(root).scale" in text and ".blocks.0.norm" in text
    assert "set_unwrapped_modules_confirmed(True)" in text
    with pytest.raises(UnwrappedParametersError, match=r"\.sub"):
        convert_network(Net(), PAIConfig(unwrapped_params_action="raise"))
    convert_network(Net(), PAIConfig(unwrapped_params_action="raise", module_names_to_track=["LayerNorm", "MyLinear"],
                                     parameter_ids_to_track=[".scale"]))
    convert_network(Net(), PAIConfig(unwrapped_params_action="raise", unwrapped_modules_confirmed=True))


def test_nothing_perforated_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="pai_core.perforate"):
        convert(nn.Sequential(nn.ReLU()), module_names_to_perforate=[])
    assert "No module was perforated" in caplog.text


def test_processors_by_class_and_by_name():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(x), x

    holder = nn.Sequential(Pair())
    model = convert(holder, module_names_to_perforate=["Pair"], modules_with_processing=[Pair],
                    modules_processing_classes=[MultiOutputProcessor])
    assert isinstance(model[0].processor, MultiOutputProcessor)
    by_name = convert(nn.Sequential(Pair()), module_names_to_perforate=["Pair"],
                      module_names_with_processing=["Pair"], module_by_name_processing_classes=[MultiOutputProcessor])
    assert isinstance(by_name[0].processor, MultiOutputProcessor)
    with pytest.raises(ConversionError, match="parallel lists"):
        convert(nn.Sequential(Pair()), modules_with_processing=[Pair])


def test_module_settings_override_output_dimensions():
    model = convert(Net(), module_settings={".head": {"output_dimensions": [-1, -1, 0]},
                                            "Linear": {"output_dimensions": [-1, 0]}})
    assert model.head.output_dimensions == [-1, -1, 0] and model.stem.output_dimensions == [-1, 0]


def test_data_parallel_is_rejected_with_the_fix():
    with pytest.raises(ConversionError, match="perforate the bare model first"):
        convert_network(nn.DataParallel(nn.Linear(2, 2)), PAIConfig())


@pytest.mark.parametrize("name, expected", [("", "PAI"), ("run 1!", "run1"), ("a.b-c_d", "a.b-c_d"), ("!!", "PAI")])
def test_save_name_sanitised(name, expected):
    assert sanitize_save_name(name, PAIConfig()) == expected


def test_save_name_with_slash_is_value_error():
    with pytest.raises(InvalidSaveNameError, match="'runs_one'") as info:
        sanitize_save_name("runs/one", PAIConfig())
    assert isinstance(info.value, ValueError)


@pytest.fixture
def fresh_defaults():
    pc.reset()
    yield pc
    pc.reset()


def test_perforate_model_snapshots_defaults_and_attaches_tracker(tmp_path, monkeypatch, fresh_defaults):
    monkeypatch.chdir(tmp_path)
    from pai_core.tracker import tracker_for
    fresh_defaults.set_unwrapped_modules_confirmed(True)
    fresh_defaults.set_n_epochs_to_switch(4)
    model = perforate_model(Net(), save_name="run_a", maximizing_score=False)
    tracker = tracker_for(model)
    assert tracker is not None and tracker.config.save_name == "run_a"
    assert tracker.config.n_epochs_to_switch == 4 and tracker.config.maximizing_score is False
    fresh_defaults.set_n_epochs_to_switch(9)
    assert tracker.config.n_epochs_to_switch == 4  # the run owns its copy
    assert fresh_defaults.config.maximizing_score is True
    assert not (tmp_path / "run_a" / "run_a_config.json").exists()  # capacity test: no config JSON, as upstream


def test_perforate_model_config_file_explicit_and_written(tmp_path, monkeypatch, fresh_defaults):
    monkeypatch.chdir(tmp_path)
    from pai_core.tracker import tracker_for
    PAIConfig(max_dendrites=3, n_epochs_to_switch=6).save_json(tmp_path / "base.json")
    fresh_defaults.set_testing_dendrite_capacity(False)
    fresh_defaults.set_unwrapped_modules_confirmed(True)
    fresh_defaults.set_n_epochs_to_switch(2)
    model = perforate_model(Net(), save_name="run_b", config_file=str(tmp_path / "base.json"))
    config = tracker_for(model).config
    assert config.max_dendrites == 3 and config.n_epochs_to_switch == 2  # script settings win
    written = json.loads((tmp_path / "run_b" / "run_b_config.json").read_text())
    assert written["save_name"] == "run_b" and written["max_dendrites"] == 3
    # a second run with the same save_name does NOT inherit that JSON
    model2 = perforate_model(Net(), save_name="run_b")
    assert tracker_for(model2).config.max_dendrites == 100


def test_perforate_model_with_explicit_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from pai_core.tracker import tracker_for
    mine = PAIConfig(unwrapped_modules_confirmed=True, output_dimensions=[-1, -1, 0])
    model = perforate_model(Net(), save_name="x", config=mine)
    assert tracker_for(model).config is not mine and tracker_for(model).config.output_dimensions == [-1, -1, 0]
