"""Read-only documents for the assistant: the skills, and references generated from the code itself.

The references are built when read, not when listed: the API reference imports pai_core (and so torch),
which must never happen at server start-up.
"""

from __future__ import annotations

import inspect

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from mcp_server.skillset import Skill, list_skills

MARKDOWN = "text/markdown"


def register(server: MCPServer) -> None:
    for skill in list_skills():
        _register_skill(server, skill)
    server.resource("pai://reference/config", name="config-reference", title="pai configuration reference",
                    description="Every PAIConfig option: type, default and what it does.",
                    mime_type=MARKDOWN)(config_reference)
    server.resource("pai://reference/api", name="api-reference", title="pai_core API reference",
                    description="Public functions and classes of pai_core with their signatures and docstrings.",
                    mime_type=MARKDOWN)(api_reference)
    server.resource("pai://reference/debugging", name="debugging-catalogue", title="pai debugging catalogue",
                    description="Known failures of perforated training: how each shows up, its cause and fix.",
                    mime_type=MARKDOWN)(debugging_catalogue)


def _register_skill(server: MCPServer, skill: Skill) -> None:
    path = skill.skill_md

    def read_skill() -> str:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise ResourceError(f"Skill file {path} could not be read ({error}); reinstall pai.") from error

    server.resource(f"pai://skills/{skill.name}", name=f"skill-{skill.name}", title=f"Skill: {skill.name}",
                    description=skill.description, mime_type=MARKDOWN)(read_skill)


def config_reference() -> str:
    from pai_core.options import reference_markdown

    return reference_markdown()


def api_reference() -> str:
    import pai_core

    lines = ["# pai_core API reference", "", inspect.getdoc(pai_core) or "", ""]
    for name in sorted(getattr(pai_core, "__all__", ())):
        obj = getattr(pai_core, name)
        lines += _describe(name, obj)
    return "\n".join(lines)


def _describe(name: str, obj: object) -> list[str]:
    if inspect.ismodule(obj):
        entries = [f"## module `{name}`", "", inspect.getdoc(obj) or "", ""]
        for member in sorted(getattr(obj, "__all__", ())):
            entries += _describe(f"{name}.{member}", getattr(obj, member))
        return entries
    try:
        signature = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        signature = ""
    kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "value"
    head = f"## {kind} `{name}{signature}`" if kind != "value" else f"## `{name}` = `{obj!r}`"
    doc = inspect.getdoc(obj) if kind != "value" else ""
    return [head, "", doc or "(no docstring)", ""]


def debugging_catalogue() -> str:
    from codemods.diagnosis.catalogue import load_catalogue

    lines = ["# pai debugging catalogue", "",
             "Known failures, grouped by area. `pai_diagnose_traceback` matches pasted output against these.", ""]
    for pattern in sorted(load_catalogue(), key=lambda p: (p.category, p.id)):
        lines += [f"## {pattern.code} {pattern.id}: {pattern.title}", "", f"- area: {pattern.category}",
                  f"- cause: {pattern.cause}", f"- fix: {pattern.fix}", ""]
    return "\n".join(lines)
