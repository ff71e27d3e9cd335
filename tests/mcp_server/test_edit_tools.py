"""Preview, apply and capacity-test toggling on real scripts: what the client sees and what lands on disk."""

from __future__ import annotations

import pytest

from codemods.perforate import PerforateResult

pytestmark = pytest.mark.anyio


async def test_preview_shows_the_diff_and_writes_nothing(client, project):
    script = project / "train_digits.py"
    before = script.read_bytes()
    result = await client.call_tool("pai_preview_perforation", {"path": "train_digits.py"})
    assert not result.is_error, result.content
    preview = PerforateResult.model_validate(result.structured_content)
    assert preview.changed and not preview.written and preview.backup is None
    assert "+from pai_core import globals_perforatedai as GPA" in preview.diff
    assert "UPA.perforate_model(model" in preview.diff
    assert "add_validation_score(val_acc, model)" in preview.diff
    assert script.read_bytes() == before
    assert not (project / "train_digits.py.orig").exists()


async def test_the_train_score_is_recorded_when_the_train_step_returns_one_as_the_tool_says(client, project):
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    promise = tools["pai_preview_perforation"].input_schema["properties"]["extra_scores"]["description"]
    assert "only when the train step already returns" in promise and "always" not in promise
    returned = PerforateResult.model_validate((await client.call_tool(
        "pai_preview_perforation", {"path": "train_digits.py"})).structured_content)
    assert '+        GPA.pai_tracker.add_extra_score(train_acc, "train")' in returned.diff  # train() returns train_acc
    script = project / "train_digits.py"
    script.write_text(script.read_text().replace("train_acc = train_one_epoch(", "train_one_epoch(").replace(
        "train {train_acc:.2f}% ", ""))
    silent = PerforateResult.model_validate((await client.call_tool(
        "pai_preview_perforation", {"path": "train_digits.py"})).structured_content)
    assert silent.changed and "add_extra_score" not in silent.diff


async def test_preview_for_the_upstream_library(client):
    result = await client.call_tool("pai_preview_perforation",
                                    {"path": "train_digits.py", "backend": "perforatedai", "save_name": "digits"})
    preview = PerforateResult.model_validate(result.structured_content)
    assert "+from perforatedai import globals_perforatedai as GPA" in preview.diff
    assert 'save_name="digits"' in preview.diff


async def test_apply_writes_atomically_with_a_backup_and_is_idempotent(client, project):
    script = project / "train_digits.py"
    original = script.read_text()
    preview = PerforateResult.model_validate(
        (await client.call_tool("pai_preview_perforation", {"path": "train_digits.py"})).structured_content)
    result = await client.call_tool("pai_apply_perforation", {"path": "train_digits.py"})
    assert not result.is_error, result.content
    applied = PerforateResult.model_validate(result.structured_content)
    assert applied.written and applied.changed
    assert applied.diff == preview.diff  # apply does exactly what the preview showed
    assert script.read_text() == preview.new_source
    assert (project / "train_digits.py.orig").read_text() == original
    compile(script.read_text(), str(script), "exec")
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]

    again = PerforateResult.model_validate(
        (await client.call_tool("pai_apply_perforation", {"path": "train_digits.py"})).structured_content)
    assert not again.changed and not again.written
    assert script.read_text() == preview.new_source

    check = await client.call_tool("pai_analyze_script", {"path": "train_digits.py"})
    assert check.structured_content["integration"]["level"] == "complete"


async def test_capacity_test_toggle(client, project):
    script = project / "train_digits.py"
    await client.call_tool("pai_apply_perforation", {"path": "train_digits.py"})
    assert "set_testing_dendrite_capacity(True)" in script.read_text()

    result = await client.call_tool("pai_set_capacity_test", {"path": "train_digits.py", "enabled": False})
    assert not result.is_error, result.content
    off = PerforateResult.model_validate(result.structured_content)
    assert off.written and "-    GPA.pc.set_testing_dendrite_capacity(True)" in off.diff
    assert "set_testing_dendrite_capacity(False)" in script.read_text()
    compile(script.read_text(), str(script), "exec")

    same = PerforateResult.model_validate((await client.call_tool(
        "pai_set_capacity_test", {"path": "train_digits.py", "enabled": False})).structured_content)
    assert not same.changed
    assert [f.severity for f in same.findings if "already off" in f.message] == ["warning"]  # says so, not an error

    await client.call_tool("pai_set_capacity_test", {"path": "train_digits.py", "enabled": True})
    assert "set_testing_dendrite_capacity(True)" in script.read_text()


async def test_capacity_test_on_a_script_that_is_not_perforated(client, project):
    before = (project / "train_digits.py").read_bytes()
    result = await client.call_tool("pai_set_capacity_test", {"path": "train_digits.py", "enabled": True})
    assert result.is_error
    assert "perforate_model" in result.content[0].text and "pai_apply_perforation" in result.content[0].text
    assert (project / "train_digits.py").read_bytes() == before


async def test_ddp_script_is_refused_and_left_alone(client, project):
    script = project / "train_ddp.py"
    before = script.read_bytes()
    preview = PerforateResult.model_validate(
        (await client.call_tool("pai_preview_perforation", {"path": "train_ddp.py"})).structured_content)
    assert preview.refused and not preview.changed
    assert any(f.code == "PAI008" for f in preview.findings)
    result = await client.call_tool("pai_apply_perforation", {"path": "train_ddp.py"})
    assert result.is_error and "pai-distributed" in result.content[0].text
    assert script.read_bytes() == before
    assert not (project / "train_ddp.py.orig").exists()


async def test_check_integration_before_and_after_apply(client):
    from codemods.check import CheckReport

    before = CheckReport.model_validate(
        (await client.call_tool("pai_check_integration", {"path": "train_digits.py"})).structured_content)
    assert not before.integrated
    assert {"PAI103", "PAI106"} <= {f.code for f in before.findings if f.severity == "error"}
    await client.call_tool("pai_apply_perforation", {"path": "train_digits.py"})
    result = await client.call_tool("pai_check_integration", {"path": "train_digits.py"})
    assert not result.is_error, result.content
    after = CheckReport.model_validate(result.structured_content)
    assert after.integrated and not [f for f in after.findings if f.severity == "error"]
    capacity = [f for f in after.findings if f.code == "PAI115"]
    assert capacity and capacity[0].line  # the capacity test is still on, and the check says where
