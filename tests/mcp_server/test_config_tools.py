"""pai_explain_config_option / pai_list_config_options / pai_recommend_config against the real PAIConfig."""

from __future__ import annotations

import pytest

from mcp_server.models import ConfigOption, ConfigOptionList, ConfigRecommendation

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("spelling", ["n_epochs_to_switch", "nEpochsToSwitch", "GPA.pc.set_n_epochs_to_switch"])
async def test_explain_accepts_the_ways_users_write_an_option(client, spelling):
    from pai_core.config import PAIConfig

    result = await client.call_tool("pai_explain_config_option", {"name": spelling})
    assert not result.is_error, result.content
    option = ConfigOption.model_validate(result.structured_content)
    assert option.name == "n_epochs_to_switch"
    assert option.description == PAIConfig.model_fields["n_epochs_to_switch"].description
    assert option.setter.startswith("GPA.pc.set_n_epochs_to_switch(")


async def test_explain_resolves_legacy_aliases(client):
    from pai_core.config import ALIASES

    alias, target = next(iter(ALIASES.items()))
    option = ConfigOption.model_validate(
        (await client.call_tool("pai_explain_config_option", {"name": alias})).structured_content)
    assert option.name == target and alias in option.aliases


async def test_explain_unknown_option_suggests_the_closest(client):
    result = await client.call_tool("pai_explain_config_option", {"name": "max_dendrite"})
    assert result.is_error
    text = result.content[0].text
    assert "max_dendrites" in text and "pai_list_config_options" in text


async def test_list_filters_by_text(client):
    from pai_core.config import PAIConfig

    everything = ConfigOptionList.model_validate(
        (await client.call_tool("pai_list_config_options", {})).structured_content)
    assert everything.total == len(PAIConfig.model_fields) == len(everything.options)
    switch = ConfigOptionList.model_validate(
        (await client.call_tool("pai_list_config_options", {"contains": "SWITCH"})).structured_content)
    assert 0 < len(switch.options) < everything.total
    assert {"switch_mode", "n_epochs_to_switch"} <= {o.name for o in switch.options}


async def test_recommend_config_for_a_resnet(client):
    result = await client.call_tool("pai_recommend_config", {"architecture": "resnet", "layers": ["Conv2d"]})
    assert not result.is_error, result.content
    recommendation = ConfigRecommendation.model_validate(result.structured_content)
    assert "Linear" in recommendation.config.module_names_to_perforate
    assert recommendation.config.module_ids_to_track == [".conv1", ".bn1"]
    assert "GPA.pc.set_testing_dendrite_capacity(True)" in recommendation.code
    assert any("globals_perforatedai as GPA" in line for line in recommendation.imports)


async def test_recommend_config_for_a_transformer_with_a_2d_head(client):
    result = await client.call_tool("pai_recommend_config",
                                    {"architecture": "transformer", "head": "classifier", "head_is_2d": True})
    recommendation = ConfigRecommendation.model_validate(result.structured_content)
    assert recommendation.config.output_dimensions == [-1, -1, 0]
    assert "model.classifier.set_this_output_dimensions([-1, 0])" in recommendation.code


async def test_recommend_config_rejects_an_unknown_family(client):
    result = await client.call_tool("pai_recommend_config", {"architecture": "diffusion"})
    assert result.is_error
    assert "resnet" in result.content[0].text  # the validation error lists the allowed values


async def test_list_marks_which_options_take_append(client):
    from pai_core.config import LIST_OPTIONS

    options = ConfigOptionList.model_validate(
        (await client.call_tool("pai_list_config_options", {})).structured_content).options
    assert {o.name for o in options if o.is_list} == set(LIST_OPTIONS)
    threshold = next(o for o in options if o.name == "improvement_threshold")
    assert not threshold.is_list and threshold.default.startswith("[")  # a list value, but set as a whole


async def test_pai_config_prints_what_the_tools_return(client, capsys):
    import json

    from mcp_server.cli import run_command

    def cli(*argv):
        assert run_command("config", [*argv, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    tool = await client.call_tool("pai_explain_config_option", {"name": "GPA.pc.setMaxDendrites(3)"})
    assert cli("explain", "GPA.pc.setMaxDendrites(3)") == tool.structured_content
    listed = ConfigOptionList.model_validate(
        (await client.call_tool("pai_list_config_options", {"contains": "switch"})).structured_content)
    assert cli("list", "switch") == [option.model_dump() for option in listed.options]
    recommended = await client.call_tool("pai_recommend_config", {"architecture": "resnet", "layers": ["Conv2d"],
                                                                  "head": "fc"})
    assert cli("recommend", "resnet", "Conv2d", "--head", "fc") == recommended.structured_content


def test_pai_config_explains_refuses_and_recommends_as_text(capsys):
    from mcp_server.cli import run_command

    assert run_command("config", ["explain", "nEpochsToSwitch"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("n_epochs_to_switch  (schedule, default 10)") and "GPA.pc.set_n_epochs_to_switch(10)" in out
    assert run_command("config", ["explain", "max_dendrite"]) == 2
    assert capsys.readouterr().err.startswith("pai config: error: PAI config has no option 'max_dendrite'. Did you "
                                              "mean 'max_dendrites'?")
    assert run_command("config", ["recommend", "diffusion"]) == 2
    assert "use one of cnn, resnet" in capsys.readouterr().err
    assert run_command("config", ["recommend", "transformer", "--head", "classifier", "--head-is-2d"]) == 0
    assert "model.classifier.set_this_output_dimensions([-1, 0])" in capsys.readouterr().out


async def test_recommend_config_perforates_the_users_own_layer_classes(client):
    result = await client.call_tool("pai_recommend_config", {"architecture": "custom",
                                                             "layers": ["GraphConvolution", "Dropout"]})
    recommendation = ConfigRecommendation.model_validate(result.structured_content)
    assert recommendation.config.module_names_to_perforate == ["GraphConvolution", "Linear"]
    assert "set_module_names_to_perforate(['GraphConvolution', 'Linear'])" in recommendation.code


@pytest.mark.parametrize(("arguments", "package"), [({}, "pai_core"), ({"backend": "perforatedai"}, "perforatedai")])
async def test_recommend_config_imports_the_backend_the_script_uses(client, arguments, package):
    result = await client.call_tool("pai_recommend_config", {"architecture": "rnn", "layers": ["LSTM"], **arguments})
    imports = ConfigRecommendation.model_validate(result.structured_content).imports
    assert imports == [f"from {package} import globals_perforatedai as GPA",
                       f"from {package} import utils_perforatedai as UPA",
                       f"from {package} import library_perforatedai as LPA"]
