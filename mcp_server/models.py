"""Output models of the tools that add something to what a capability returns (a code snippet, a backup
path, the image of a plot). Tools that pass a capability's own model through unchanged use that model.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from codemods.analysis.config import ConfigRecommendation  # noqa: F401  (the tool returns it)


class ConfigOption(BaseModel):
    """One option of pai's configuration (PAIConfig), as the assistant explains it to the user."""

    name: str = Field(description="option name; the setter is GPA.pc.set_<name>(value)")
    type: str
    default: str = Field(description="repr of the default value")
    description: str
    is_list: bool = Field(description="list options also have GPA.pc.append_<name>([...])")
    setter: str = Field(description="how to set it in a training script, before perforate_model")
    aliases: list[str] = Field(default=[], description="older names that still work (mid-2025, 2024 camelCase)")
    upstream: str = Field(default="", description="the upstream release that has this name, or pai's own")
    inert: bool = Field(default=False, description="accepted for upstream scripts and ignored by pai")


class ConfigOptionList(BaseModel):
    options: list[ConfigOption]
    total: int = Field(description="number of options in the configuration, before filtering")


