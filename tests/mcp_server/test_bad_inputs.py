"""Every bad input comes back as a tool error (is_error, actionable text) and the server keeps serving."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.anyio


async def _error(client, tool: str, arguments: dict) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool}({arguments}) should fail: {result.content}"
    text = result.content[0].text
    assert text.startswith(f"Error executing tool {tool}: "), text
    return text


async def test_missing_file(client):
    text = await _error(client, "pai_analyze_script", {"path": "no_such_script.py"})
    assert "does not exist" in text and "relative to" in text


async def test_outside_the_roots(client, project):
    outside = project.parent / "elsewhere.py"
    outside.write_text("print('hi')\n")
    text = await _error(client, "pai_analyze_script", {"path": str(outside)})
    assert "outside the folders this server may access" in text and "--root" in text
    text = await _error(client, "pai_analyze_script", {"path": "../elsewhere.py"})
    assert "outside" in text


async def test_symlink_pointing_out_of_the_roots(client, project):
    secret = project.parent / "secret.py"
    secret.write_text("TOKEN = 'x'\n")
    os.symlink(secret, project / "innocent.py")
    text = await _error(client, "pai_analyze_script", {"path": "innocent.py"})
    assert "outside" in text and str(secret) in text


async def test_not_python(client, project):
    (project / "notes.ipynb").write_text("{}")
    text = await _error(client, "pai_analyze_script", {"path": "notes.ipynb"})
    assert "not a Python file" in text and "nbconvert" in text


async def test_a_folder_instead_of_a_script(client):
    text = await _error(client, "pai_analyze_script", {"path": "runs"})
    assert "is a folder" in text


async def test_unparseable_script_names_the_line(client, project):
    (project / "broken.py").write_text("import torch\n\ndef train(:\n    pass\n")
    text = await _error(client, "pai_analyze_script", {"path": "broken.py"})
    assert "broken.py:3:" in text and "def train(:" in text


async def test_huge_script(client, project):
    (project / "huge.py").write_text("x = 1\n" * 400_000)
    text = await _error(client, "pai_analyze_script", {"path": "huge.py"})
    assert "limit" in text


async def test_empty_traceback(client):
    text = await _error(client, "pai_diagnose_traceback", {"text": "   "})
    assert "Paste the full text" in text


async def test_huge_traceback(client):
    text = await _error(client, "pai_diagnose_traceback", {"text": "x" * 2_000_001})
    assert "limit" in text


async def test_missing_run_folder(client):
    text = await _error(client, "pai_analyze_run", {"folder": "PAI"})
    assert "does not exist" in text and "save_name" in text


async def test_folder_without_run_files(client, project):
    (project / "empty_run").mkdir()
    text = await _error(client, "pai_analyze_run", {"folder": "empty_run"})
    assert "No run files" in text


async def test_compare_needs_two_runs(client):
    result = await client.call_tool("pai_compare_runs", {"folders": ["runs/history"]})
    assert result.is_error  # validated by the input schema before the tool runs


async def test_server_keeps_working_after_errors(client):
    await _error(client, "pai_analyze_script", {"path": "nope.py"})
    result = await client.call_tool("pai_analyze_script", {"path": "train_digits.py"})
    assert not result.is_error
