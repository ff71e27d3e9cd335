"""The server as a client sees it: tools with annotations and schemas, lazy imports, resources, prompts."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from mcp_server.server import INSTRUCTIONS
from mcp_server.skillset import list_skills

pytestmark = pytest.mark.anyio

READ_ONLY = {"pai_analyze_script", "pai_preview_perforation", "pai_check_integration", "pai_diagnose_traceback",
             "pai_analyze_run", "pai_compare_runs", "pai_explain_config_option", "pai_list_config_options",
             "pai_recommend_config"}
EDITING = {"pai_apply_perforation", "pai_set_capacity_test", "pai_export_model", "pai_migrate_script"}


async def test_every_tool_is_prefixed_annotated_and_structured(client):
    tools = (await client.list_tools()).tools
    assert tools, "the server lists no tools"
    for tool in tools:
        assert re.fullmatch(r"pai_[a-z]+(_[a-z0-9]+)+", tool.name), tool.name
        assert tool.description and len(tool.description) > 40, tool.name
        hints = tool.annotations
        assert hints is not None and hints.title, tool.name
        for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            assert getattr(hints, hint) is not None, f"{tool.name} leaves {hint} unset"
        assert hints.open_world_hint is False
        assert tool.output_schema and tool.output_schema.get("type") == "object", tool.name
        assert tool.input_schema["type"] == "object"
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert "$ref" not in prop, f"{tool.name}.{name} is nested; inputs stay flat"
            assert prop.get("description"), f"{tool.name}.{name} has no description"
        if tool.name in READ_ONLY:
            assert hints.read_only_hint is True and hints.destructive_hint is False, tool.name
        elif tool.name in EDITING:
            assert hints.read_only_hint is False and hints.destructive_hint is True, tool.name
            assert hints.idempotent_hint is True, tool.name
        else:
            pytest.fail(f"{tool.name} is in neither READ_ONLY nor EDITING: classify it")


async def test_instructions_name_only_real_tools(client):
    names = {t.name for t in (await client.list_tools()).tools}
    mentioned = set(re.findall(r"\bpai_[a-z_]+[a-z]", INSTRUCTIONS))
    assert mentioned, "the instructions name no tool"
    assert mentioned <= names, f"instructions mention missing tools: {mentioned - names}"


def test_start_up_and_tool_listing_do_not_import_torch():
    code = (
        "import sys, anyio\n"
        "from mcp import Client\n"
        "from mcp_server.server import create_server\n"
        "async def main():\n"
        "    async with Client(create_server()) as c:\n"
        "        assert (await c.list_tools()).tools\n"
        "        await c.list_resources(); await c.list_prompts()\n"
        "anyio.run(main)\n"
        # pandas comes in with pai_core.results' report models (the output schemas); torch must not
        "heavy = [m for m in ('torch', 'matplotlib', 'safetensors') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_server_identifies_itself(client):
    info = client.server_info
    assert info.name == "pai"
    assert info.version


async def test_each_skill_is_a_resource(client):
    resources = {r.uri: r for r in (await client.list_resources()).resources}
    skills = list_skills()
    assert len(skills) >= 6
    for skill in skills:
        uri = f"pai://skills/{skill.name}"
        assert uri in resources, uri
        assert resources[uri].mime_type == "text/markdown"
        text = (await client.read_resource(uri)).contents[0].text
        assert text == skill.skill_md.read_text(encoding="utf-8")


async def test_config_reference_lists_every_option(client):
    from pai_core.config import PAIConfig

    text = (await client.read_resource("pai://reference/config")).contents[0].text
    for name, field in PAIConfig.model_fields.items():
        assert f"## {name}\n" in text
    assert "testing_dendrite_capacity" in text and "Set False for a real run" in text


async def test_unknown_resource_is_a_protocol_error(client):
    from mcp import MCPError

    with pytest.raises(MCPError):
        await client.read_resource("pai://skills/no-such-skill")


async def test_prompts_point_at_skills_and_tools(client):
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert {p.title for p in prompts.values()} == {
        "Perforate my model", "Debug my perforated model", "Analyze my perforated results"}
    names = {t.name for t in (await client.list_tools()).tools}
    for name, args in [("perforate_my_model", {"script": "train.py"}),
                       ("debug_my_perforated_model", {"script": "train.py", "output": "RuntimeError: boom"}),
                       ("analyze_my_perforated_results", {"run_folder": "PAI", "baseline": "baseline"})]:
        result = await client.get_prompt(name, args)
        text = result.messages[0].content.text
        assert "pai://skills/pai-" in text
        for tool in re.findall(r"pai:(pai_[a-z_]+[a-z])", text):
            assert tool in names, f"prompt {name} names missing tool {tool}"
    debug = (await client.get_prompt("debug_my_perforated_model",
                                      {"script": "t.py", "output": "RuntimeError: boom"})).messages[0].content.text
    assert "RuntimeError: boom" in debug and "Do not run" in debug


async def test_bad_prompt_arguments_are_invalid_params_that_say_what_to_pass(client):
    from mcp import MCPError
    from mcp.types import INVALID_PARAMS

    for name, args, says in [("perforate_my_model", {}, "needs the argument script"),
                             ("perforate_my_model", {"script": "t.py", "goal": "speed"}, "goal"),
                             ("analyze_my_perforated_results", {"folder": "PAI"}, "has no argument folder"),
                             ("no_such_prompt", {}, "perforate_my_model")]:
        with pytest.raises(MCPError) as caught:
            await client.get_prompt(name, args)
        assert caught.value.error.code == INVALID_PARAMS and says in caught.value.error.message
    assert (await client.get_prompt("perforate_my_model", {"script": "t.py"})).messages


async def test_api_reference_is_generated_from_pai_core_docstrings(client):
    import inspect

    import pai_core

    text = (await client.read_resource("pai://reference/api")).contents[0].text
    assert text.startswith("# pai_core API reference")
    public = sorted(getattr(pai_core, "__all__", ()))
    assert public, "pai_core declares no public API"
    for name in public:
        assert f"`{name}" in text, name
    first_doc = inspect.getdoc(getattr(pai_core, public[0]))
    if first_doc:
        assert first_doc.splitlines()[0] in text


async def test_debugging_catalogue_lists_every_pattern(client):
    from codemods.diagnosis.catalogue import load_catalogue

    text = (await client.read_resource("pai://reference/debugging")).contents[0].text
    for pattern in load_catalogue():
        assert f"## {pattern.code} {pattern.id}: {pattern.title}" in text
