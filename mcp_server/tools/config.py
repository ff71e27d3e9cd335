"""Config tools: explain one option, list options, and recommend settings for an architecture."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from mcp_server.models import ConfigOption, ConfigOptionList, ConfigRecommendation
from mcp_server.tools import in_worker, read_only
from mcp_server.workspace import Workspace

Identifier = Annotated[str, Field(max_length=200)]
ArchitectureName = Literal["cnn", "resnet", "transformer", "rnn", "mlp", "custom", "unknown"]


def register(server: MCPServer, workspace: Workspace) -> None:
    @server.tool(name="pai_explain_config_option", annotations=read_only("Explain a config option"))
    async def pai_explain_config_option(
        name: Annotated[str, Field(description="option name: snake_case (n_epochs_to_switch), camelCase "
                                   "(nEpochsToSwitch), an older alias, or the setter as written in a script "
                                   "(set_max_dendrites, GPA.pc.setMaxDendrites)", min_length=1, max_length=200)],
    ) -> ConfigOption:
        """Explain one pai configuration option: type, default, what it does and how to set it.

        Unknown names come back as an error that suggests the closest option.
        """
        return await in_worker(_explain, name)

    @server.tool(name="pai_list_config_options", annotations=read_only("List config options"))
    async def pai_list_config_options(
        contains: Annotated[str, Field(description="only options whose name or description contains this "
                                       "text (case-insensitive); empty lists all", max_length=200)] = "",
    ) -> ConfigOptionList:
        """List pai's configuration options with defaults and one-line descriptions."""
        return await in_worker(_list, contains)

    @server.tool(name="pai_recommend_config", annotations=read_only("Recommend a perforation config"))
    async def pai_recommend_config(
        architecture: Annotated[ArchitectureName, Field(description="model family; 'custom' when unsure")],
        layers: Annotated[list[Identifier], Field(description="layer classes the model uses, e.g. ['Conv2d', "
                                           "'Linear', 'LSTM']", max_length=200)] = [],  # noqa: B006
        block_names: Annotated[list[Identifier], Field(description="residual block classes to perforate "
                                                       "whole (ResNet), e.g. ['BasicBlock']",
                                                       max_length=50)] = [],  # noqa: B006
        head: Annotated[str | None, Field(description="attribute path of the final classifier, e.g. 'fc'",
                                          max_length=200)] = None,
        head_is_2d: Annotated[bool, Field(description="the head outputs (batch, classes) while the body "
                                          "is sequence-shaped")] = False,
        backend: Annotated[Literal["pai_core", "perforatedai"], Field(
            description="library the imports name: pai_core (this project) unless the script already "
                        "imports perforatedai")] = "pai_core",
    ) -> ConfigRecommendation:
        """Recommend perforation settings (modules to perforate, output dimensions, processors) for a model
        described by its family and layers, with the exact GPA.pc lines to paste. Layer classes of the user's
        own (e.g. GraphConvolution) are perforated. Use pai_analyze_script instead when the script exists: it
        reads all of this from the classes the model builds."""
        from codemods.analysis.config import recommend

        try:
            return recommend(architecture, layers, block_names=block_names, head=head, head_is_2d=head_is_2d,
                             backend=backend)
        except ValueError as error:
            raise ToolError(str(error)) from None


def _explain(name: str) -> ConfigOption:
    from pai_core.errors import UnknownOptionError
    from pai_core.options import explain_option

    try:
        return ConfigOption.model_validate(explain_option(name).as_dict())
    except UnknownOptionError as error:
        raise ToolError(f"{error} Call pai_list_config_options to browse them.") from None


def _list(contains: str) -> ConfigOptionList:
    from pai_core.options import OPTIONS, list_options

    chosen = [ConfigOption.model_validate(option.as_dict()) for option in list_options(contains)]
    return ConfigOptionList(options=chosen, total=len(OPTIONS))
