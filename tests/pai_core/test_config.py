"""PAIConfig and the GPA.pc facade: every option, aliases, clear errors, explicit config files."""
import json

import pytest
import torch

from pai_core.config import LIST_OPTIONS, OPTION_NAMES, ConfigFacade, PAIConfig, _current_dendrite_count, pc
from pai_core.errors import InvalidModuleIdError, NotAListOptionError, UnknownOptionError


@pytest.fixture
def facade():
    return ConfigFacade()


def test_upstream_defaults_and_constants(facade):
    c = facade.config
    assert c.improvement_threshold == [0.001, 0.0001, 0.0]
    assert c.module_names_to_perforate == ["PAISequential", "Conv1d", "Conv2d", "Conv3d", "Linear"]
    assert c.module_names_to_not_save == [".base_model"]
    assert c.output_dimensions == [-1, 0, -1, -1]
    assert c.pai_forward_function is torch.sigmoid
    assert c.device == torch.device("cpu") and c.d_type is torch.float32
    assert (c.n_epochs_to_switch, c.max_dendrite_tries, c.max_dendrites) == (10, 2, 100)
    assert c.testing_dendrite_capacity is True and c.switch_mode == facade.DOING_HISTORY == 1
    assert (facade.DOING_SWITCH_EVERY_TIME, facade.DOING_FIXED_SWITCH, facade.DOING_NO_SWITCH) == (0, 2, 3)
    assert facade.PARAM_VALS_BY_UPDATE_EPOCH == 1
    assert all(PAIConfig.model_fields[name].description for name in OPTION_NAMES)


def test_every_option_has_get_and_set(facade):
    for name in OPTION_NAMES:
        value = getattr(facade, f"get_{name}")()
        if name not in LIST_OPTIONS:
            # scheduled scalars follow the dendrite count of the most recent run (0 before any), as upstream
            assert value == facade.config.resolve(name, _current_dendrite_count())
    facade.set_n_epochs_to_switch(7)
    assert facade.get_n_epochs_to_switch() == 7 and facade.config.n_epochs_to_switch == 7
    facade.append_module_names_to_track(["LayerNorm"])
    facade.append_module_names_to_track(["BatchNorm2d"])
    assert facade.get_module_names_to_track() == ["LayerNorm", "BatchNorm2d"]


def test_legacy_aliases_and_camel_case(facade):
    facade.set_modules_to_convert([torch.nn.Conv2d])
    assert facade.config.modules_to_perforate == [torch.nn.Conv2d]
    facade.set_input_dimensions([-1, -1, 0])
    assert facade.get_output_dimensions() == [-1, -1, 0]
    facade.append_module_names_to_convert(["GRU"])
    assert "GRU" in facade.config.module_names_to_perforate
    facade.setModuleIDsToConvert([".fc"])
    assert facade.config.module_ids_to_perforate == [".fc"]
    facade.set_pb_forward_function(torch.tanh)
    assert facade.config.pai_forward_function is torch.tanh
    facade.debugging_input_dimensions = 1  # old plain-attribute style
    assert facade.config.debugging_output_dimensions == 1


def test_unknown_option_names_closest(facade):
    with pytest.raises(AttributeError, match="n_epochs_to_switch") as info:
        facade.set_n_epoch_to_switch(3)
    assert isinstance(info.value, UnknownOptionError)
    with pytest.raises(AttributeError, match="improvement_threshold"):
        facade.get_improvment_threshold()


@pytest.mark.parametrize("bad, fixed", [("layer1[0].conv1", ".layer1.0.conv1"), ("fc1", ".fc1"),
                                        (".blocks[2]", ".blocks.2")])
def test_bad_module_ids_show_corrected_form(facade, bad, fixed):
    with pytest.raises(ValueError, match=repr(fixed).replace(".", r"\.").replace("[", r"\[")) as info:
        facade.set_module_ids_to_track([bad])
    assert isinstance(info.value, InvalidModuleIdError)
    with pytest.raises(ValueError):
        facade.append_module_ids_to_perforate([bad])
    with pytest.raises(ValueError):
        PAIConfig(parameter_ids_to_track=[bad])
    with pytest.raises(ValueError, match="string"):
        facade.set_module_ids_to_perforate([3])


def test_append_on_scalar_is_type_error(facade):
    with pytest.raises(TypeError) as info:
        facade.append_n_epochs_to_switch([3])
    assert isinstance(info.value, NotAListOptionError)
    with pytest.raises(TypeError, match="takes a list"):
        facade.append_module_names_to_track("LayerNorm")


def test_output_dimensions_need_one_zero(facade):
    with pytest.raises(ValueError, match="exactly one 0"):
        facade.set_output_dimensions([-1, -1])


def test_resolve_schedules_scalars_by_dendrite_count():
    c = PAIConfig(n_epochs_to_switch=[20, 10])
    assert [c.resolve("n_epochs_to_switch", n) for n in range(4)] == [20, 10, 10, 10]
    assert [c.resolve("improvement_threshold", n) for n in range(5)] == [0.001, 0.0001, 0.0, 0.0, 0.0]
    assert c.resolve("output_dimensions", 3) == [-1, 0, -1, -1]  # list options come back whole
    assert c.resolve("max_dendrites", 2) == 100


def test_copy_is_deep_and_independent():
    a = PAIConfig()
    b = a.copy()
    b.module_names_to_track.append("LayerNorm")
    b.n_epochs_to_switch = 3
    assert a.module_names_to_track == [] and a.n_epochs_to_switch == 10
    assert b.pai_forward_function is torch.sigmoid


class Custom(torch.nn.Module):
    pass


def test_json_round_trip_in_upstream_shape(tmp_path):
    c = PAIConfig(modules_to_perforate=[torch.nn.GRU], n_epochs_to_switch=[5, 3], pai_forward_function=torch.tanh,
                  module_ids_to_track=[".head"], d_type=torch.float64)
    path = c.save_json(tmp_path / "run" / "run_config.json")
    data = json.loads(path.read_text())
    assert [k for k in data if k in OPTION_NAMES] == sorted(k for k in data if k in OPTION_NAMES)
    assert data["pai_forward_function"] == "torch.tanh" and data["d_type"] == "torch.float64"
    assert data["modules_to_perforate"] == ["torch.nn.modules.rnn.GRU"]
    assert "GRU" in data["module_names_to_perforate"] and data["DOING_HISTORY"] == 1
    assert data["_customizable_fields"] == {"output_dimensions": "list"}
    loaded = PAIConfig.from_json_file(path)
    assert loaded.modules_to_perforate == [torch.nn.GRU] and loaded.pai_forward_function is torch.tanh
    assert loaded.n_epochs_to_switch == [5, 3] and loaded.d_type is torch.float64
    assert loaded.module_ids_to_track == [".head"]


def test_config_file_is_loaded_only_explicitly_and_manual_settings_win(tmp_path):
    path = PAIConfig(n_epochs_to_switch=4, max_dendrites=7).save_json(tmp_path / "x_config.json")
    facade = ConfigFacade()
    facade.set_max_dendrites(2)
    assert facade.get_n_epochs_to_switch() == 10  # nothing loaded behind the user's back
    applied = facade.load_config_file(path)
    assert facade.get_n_epochs_to_switch() == 4 and facade.get_max_dendrites() == 2
    assert "max_dendrites" not in applied
    facade.load_config_file(path, override_manual=True)
    assert facade.get_max_dendrites() == 7


def test_bad_config_files(tmp_path):
    from pai_core.errors import ConfigFileError
    with pytest.raises(ConfigFileError, match="does not exist"):
        PAIConfig.from_json_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ConfigFileError, match="not valid JSON"):
        PAIConfig.from_json_file(tmp_path / "bad.json")
    (tmp_path / "val.json").write_text(json.dumps({"module_ids_to_track": ["fc"]}))
    with pytest.raises(ValueError, match="'.fc'"):
        PAIConfig.from_json_file(tmp_path / "val.json")


def test_global_pc_is_a_facade_with_underlying_config():
    assert isinstance(pc, ConfigFacade) and isinstance(pc.config, PAIConfig)
    import pickle
    clone = pickle.loads(pickle.dumps(pc))
    assert clone.get_output_dimensions() == pc.get_output_dimensions()
