"""Fuzz every MCP tool through a real client over stdio: bad input is an error result, never a crash.

One `python -m mcp_server --root <project>` process serves the whole module, and its client declares the
roots `file:///` and the project (a client trying to widen `--root`). The tools are listed from the server,
so a new tool gets the generic cases (missing and wrong-typed arguments, huge strings) automatically; its
path parameters must be named in PATH_PARAMS or TEXT_PARAMS below, or `test_every_parameter_is_classified`
fails. After every call: the result is an error whose text says something (not the bare "Error executing
tool X", not an internal error), no file changed unless the call reported a successful rewrite, no marker
file was written, and the server still answers a normal call.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ListRootsResult, Root

from mcp_server.workspace import MAX_SCRIPT_BYTES

pytestmark = pytest.mark.anyio

HERE = Path(__file__).resolve().parent
RUNS = HERE.parent / "pai_core" / "results" / "fixtures" / "upstream_runs"
HUGE = "a" * 10_000_000

# How each string parameter is fuzzed: a script path, a folder/file path, a model spec, or plain text.
PATH_PARAMS = {"path": "script", "script_path": "script", "folder": "folder", "folders": "folder",
               "source": "folder", "output_dir": "folder", "model": "spec"}
TEXT_PARAMS = {"text", "log", "name", "model_var", "contains", "save_name", "head", "layers", "block_names", "backend", "plot",
               "architecture", "input_dtype", "formats"}

# Valid arguments for the tools as they are today; a new tool gets arguments generated from its schema.
VALID = {
    "pai_analyze_script": {"path": "train_digits.py"},
    "pai_check_integration": {"path": "train_digits.py"},
    "pai_preview_perforation": {"path": "train_digits.py"},
    "pai_apply_perforation": {"path": "train_digits.py"},
    "pai_set_capacity_test": {"path": "train_digits.py", "enabled": True},
    "pai_migrate_script": {"path": "train_digits.py"},
    "pai_diagnose_traceback": {"text": "Traceback (most recent call last):\nValueError: boom\n"},
    "pai_analyze_run": {"folder": "runs/history", "plot": "none"},
    "pai_compare_runs": {"folders": ["runs/history", "runs/history"], "plot": "none"},
    "pai_explain_config_option": {"name": "max_dendrites"},
    "pai_recommend_config": {"architecture": "cnn"},
    "pai_export_model": {"source": "PAI", "model": "models/net.py:Net", "input_shapes": [[1, 64]]},
}

MODEL_FILE = "from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n" \
             "        self.fc = nn.Linear(64, 10)\n\n    def forward(self, x):\n        return self.fc(x)\n"


CONTENT_CASES = {"binary", "non_utf8", "python2", "nested"}  # files that exist in the roots but are not Python 3


def _bad_scripts(project: Path, outside: Path) -> dict[str, str]:
    """Files a script parameter must refuse, by case name -> path as the client sends it."""
    files = {
        "binary.py": bytes(range(256)) * 8,
        "non_utf8.py": b"import torch\nname = '\xff\xfe\xfa'\n",
        "python2.py": b"import torch\nprint 'training'\nexcept_ = 0777\n",
        "nested.py": b"x = " + b"[" * 3000 + b"\n",
        "huge.py": b"x = 1\n" * (MAX_SCRIPT_BYTES // 6 + 10),
        "notes.txt": b"not python\n",
    }
    for name, data in files.items():
        (project / name).write_bytes(data)
    (project / "adir.py").mkdir()
    os.mkfifo(project / "pipe.py")  # reading it would block forever
    (outside / "secret.py").write_text("TOKEN = 'x'\n")
    os.symlink(outside / "secret.py", project / "link_out.py")
    os.symlink(project / "loop_a.py", project / "loop_b.py")
    os.symlink(project / "loop_b.py", project / "loop_a.py")
    return {**{name.removesuffix(".py"): name for name in files}, "directory": "adir.py", "fifo": "pipe.py",
            "missing": "no_such_script.py", "outside": str(outside / "secret.py"), "dotdot": "../outside/secret.py",
            "symlink_out": "link_out.py", "symlink_loop": "loop_a.py", "nul": "train_digits\x00.py",
            "etc_passwd": "/etc/passwd", "long_name": "x" * 300 + ".py", "long_path": "a/" * 2100 + "t.py"}


WHERE_CASES = {"missing", "outside", "dotdot", "symlink_out", "nul", "root", "long_path"}  # refused by path alone


def _bad_folders(project: Path, outside: Path) -> dict[str, str]:
    """Folders a run-folder parameter must refuse."""
    (project / "empty_run").mkdir()
    garbage = project / "garbage_run"
    garbage.mkdir()
    (garbage / "PAIScores.csv").write_bytes(b"\x00\xff" * 500)
    (garbage / "PAIparam_counts.csv").write_text("not,a\ncsv,\"file\n")
    (outside / "run").mkdir()
    os.symlink(outside / "run", project / "run_link_out")
    leaky = project / "leaky_run"
    shutil.copytree(RUNS / "history", leaky)
    os.symlink(outside / "secret.py", leaky / "up_historyScores.csv.link")
    return {"empty": "empty_run", "garbage": "garbage_run", "file": "train_digits.py", "missing": "PAI_missing",
            "outside": str(outside / "run"), "dotdot": "../outside/run", "symlink_out": "run_link_out",
            "symlink_inside_leaks": "leaky_run", "nul": "runs\x00/history", "root": "/",
            "long_path": "a/" * 2100}


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("fuzz")
    project, outside = base / "project", base / "outside"
    shutil.copytree(HERE / "data" / "scripts", project)
    shutil.copytree(RUNS / "history", project / "runs" / "history")
    outside.mkdir()
    (project / "empty.py").write_bytes(b"")
    (project / "latin1.py").write_bytes("# -*- coding: latin-1 -*-\nimport torch\nlabel = 'été'\n".encode("latin-1"))
    (project / "models").mkdir()
    (project / "models" / "net.py").write_text(MODEL_FILE)
    (project / "PAI").mkdir()
    (project / "PAI" / "best_model.pt").write_bytes(b"not really weights")  # the spec is checked before it
    return {"base": base, "project": project, "outside": outside, "scripts": _bad_scripts(project, outside),
            "folders": _bad_folders(project, outside)}


@pytest.fixture(scope="module")
async def session(world):
    async def roots(_context) -> ListRootsResult:  # an attempt to widen --root to the whole disk
        return ListRootsResult(roots=[Root(uri="file:///", name="disk"), Root(uri=world["project"].as_uri())])

    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server", "--root", str(world["project"])],
                                   cwd=str(world["project"]), env=env)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the roots capability is deprecated in the 2026-07-28 protocol
        async with Client(params, mode="legacy", list_roots_callback=roots) as client:
            tools = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}
            yield {"client": client, "tools": tools, **world}


# ------------------------------------------------------------------------------------------------- helpers
def _snapshot(base: Path) -> dict[str, bytes]:
    """Every regular file's bytes; bytecode caches (written when export imports the model file) aside."""
    files = {}
    for folder, _, names in os.walk(base):
        if Path(folder).name == "__pycache__":
            continue
        for name in names:
            path = Path(folder) / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                files[str(path)] = path.read_bytes()
    return files


def _rewritten(result) -> set[str]:
    """The files a successful rewrite reports writing (the script and its backup); none for anything else."""
    data = result.structured_content or {}
    if result.is_error or not data.get("written"):
        return set()
    return {data["filename"], *([data["backup"]] if data.get("backup") else [])}


async def call(s, tool: str, arguments: dict[str, Any], *, must_fail: bool = True):
    """One call with every invariant checked; returns the result."""
    before = _snapshot(s["base"])
    result = await s["client"].call_tool(tool, arguments)
    text = " ".join(getattr(block, "text", "") for block in result.content)
    shown = {k: (v[:80] if isinstance(v, str) else v) for k, v in arguments.items()}
    if must_fail:
        assert result.is_error, f"{tool}({shown}) should fail: {text[:300]}"
    if result.is_error:
        assert text.strip() not in (f"Error executing tool {tool}", f"Error executing tool {tool}:"), shown
        assert "Internal error" not in text and "bug in pai" not in text, text[:500]
        assert len(text) < 20_000, f"{tool}({shown}) echoes its input: {len(text)} characters"
    after = _snapshot(s["base"])
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed <= _rewritten(result), f"{tool}({shown}) changed {sorted(changed - _rewritten(result))}"
    return result


async def still_serves(s) -> None:
    result = await s["client"].call_tool("pai_analyze_script", {"path": "train_digits.py"})
    assert not result.is_error and result.structured_content["model"]["architecture"] == "cnn", result.content


def _string_params(schema: dict) -> dict[str, dict]:
    """Parameters that take a string or a list of strings, with their (sub)schema."""
    found = {}
    for name, spec in schema.get("properties", {}).items():
        options = spec.get("anyOf", [spec])
        if any(o.get("type") == "string" or o.get("items", {}).get("type") == "string" for o in options):
            found[name] = spec
    return found


def _is_list(spec: dict) -> bool:
    return any(o.get("type") == "array" for o in spec.get("anyOf", [spec]))


def _valid(tool: str, schema: dict) -> dict[str, Any]:
    if tool in VALID:
        return dict(VALID[tool])
    fill = {"string": "x", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}
    return {name: schema["properties"][name].get("enum", [fill.get(schema["properties"][name].get("type"), "x")])[0]
            for name in schema.get("required", [])}


def _wrong(spec: dict) -> Any:
    """A value of the wrong JSON type for `spec`."""
    types = {o.get("type") for o in spec.get("anyOf", [spec])}
    if "string" in types or "enum" in spec:
        return {"not": "a string"} if "array" in types else 12345
    if "boolean" in types:
        return "definitely"
    if "array" in types:
        return "not a list"
    if "integer" in types or "number" in types:
        return "many"
    return [1, 2]


# --------------------------------------------------------------------------------------------------- tests
async def test_every_parameter_is_classified(session):
    """A new tool's path parameters must be named above, so the path cases below reach them."""
    for tool, schema in session["tools"].items():
        for name in _string_params(schema):
            assert name in PATH_PARAMS or name in TEXT_PARAMS, (
                f"{tool}.{name}: add it to PATH_PARAMS (with its kind) or TEXT_PARAMS in {Path(__file__).name}")
    assert set(VALID) <= set(session["tools"])


async def test_missing_and_wrong_typed_arguments(session):
    for tool, schema in session["tools"].items():
        if schema.get("required"):
            await call(session, tool, {})
        valid = _valid(tool, schema)
        for name, spec in schema.get("properties", {}).items():
            await call(session, tool, {**valid, name: _wrong(spec)})
            if "enum" in spec:
                await call(session, tool, {**valid, name: "no-such-choice"})
    await still_serves(session)


def _params(session, kind: str | None = None):
    """(tool, valid arguments, parameter, schema) for every string parameter, or those of one path kind."""
    for tool, schema in session["tools"].items():
        for name, spec in _string_params(schema).items():
            if kind is None or PATH_PARAMS.get(name) == kind:
                yield tool, _valid(tool, schema), name, spec


async def test_huge_strings_are_refused_without_being_echoed(session):
    for tool, valid, name, spec in _params(session):
        await call(session, tool, {**valid, name: [HUGE] if _is_list(spec) else HUGE})
    await still_serves(session)


async def test_bad_files_for_every_script_parameter(session):
    for tool, valid, name, _ in _params(session, "script"):
        for case, path in session["scripts"].items():
            # An optional script beside pasted text may be unreadable: the diagnosis then uses the text
            # alone. A path it cannot even open is still refused.
            lenient = name == "script_path" and case in CONTENT_CASES
            await call(session, tool, {**valid, name: path}, must_fail=not lenient)
    await still_serves(session)


async def test_odd_but_valid_scripts_never_crash_or_corrupt(session):
    """Empty and latin-1 files are Python: a tool may answer or refuse, never crash or garble the file."""
    for tool, valid, name, _ in _params(session, "script"):
        for path in ("empty.py", "latin1.py"):
            await call(session, tool, {**valid, name: path}, must_fail=False)
    compile(session["project"].joinpath("latin1.py").read_bytes(), "latin1.py", "exec")
    await still_serves(session)


async def test_bad_folders_for_every_folder_parameter(session):
    for tool, valid, name, spec in _params(session, "folder"):
        for case, folder in session["folders"].items():
            if name not in ("folder", "folders") and case not in WHERE_CASES:
                continue  # export's folders hold no run logs: only where they lead matters (each call costs a torch)
            await call(session, tool, {**valid, name: [folder, "runs/history"] if _is_list(spec) else folder})
    await still_serves(session)


async def test_paths_outside_the_ceiling_stay_refused_although_the_client_declares_the_disk(session):
    for path in (session["scripts"]["outside"], session["scripts"]["etc_passwd"], "../outside/secret.py"):
        result = await call(session, "pai_analyze_script", {"path": path})
        assert "outside the folders" in result.content[0].text and str(session["project"]) in result.content[0].text
    result = await call(session, "pai_apply_perforation", {"path": session["scripts"]["outside"]})
    assert "outside the folders" in result.content[0].text


def _marker(s, name: str) -> Path:
    return s["base"] / f"marker_{name}"


async def test_export_specs_outside_the_roots_are_refused(session):
    evil = session["outside"] / "evil.py"
    marker = _marker(session, "outside_file")
    evil.write_text(f"open({str(marker)!r}, 'w').close()\n\nclass Net:\n    pass\n")
    for spec in (f"{evil}:Net", "../outside/evil.py:Net", "models/../../outside/evil.py:Net", "models/net\x00.py:Net",
                 "models/missing.py:Net", "models:Net"):
        await call(session, "pai_export_model", {**VALID["pai_export_model"], "model": spec})
    assert not marker.exists()
    await still_serves(session)


async def test_export_never_calls_a_callable_it_cannot_vouch_for(session):
    (session["project"] / "models" / "alias.py").write_text("import os\n\nBuild = os.system\n")
    cases = {
        "os_system": ("os:system", lambda m: {"command": f"touch {m}"}),
        "getoutput": ("subprocess:getoutput", lambda m: {"cmd": f"touch {m}"}),
        "exec": ("builtins:exec", lambda m: {"source": f"open({str(m)!r}, 'w').close()"}),
        "not_a_module": ("codecs:open", lambda m: {"filename": str(m), "mode": "w"}),
        "alias_in_project": ("models/alias.py:Build", lambda m: {"command": f"touch {m}"}),
    }
    for name, (spec, kwargs) in cases.items():
        marker = _marker(session, name)
        await call(session, "pai_export_model", {**VALID["pai_export_model"], "model": spec,
                                                 "model_kwargs": kwargs(marker)})
        assert not marker.exists(), f"{spec} ran: it wrote {marker}"
    await still_serves(session)


async def test_prompts_answer_bad_arguments_with_invalid_params(session):
    client = session["client"]
    prompts = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}
    assert prompts
    for name, prompt in prompts.items():
        required = {a.name: "train_digits.py" for a in prompt.arguments or [] if a.required}
        bad_calls = [{}, {**required, "no_such_argument": "x"}, {key: HUGE for key in required}]
        for arguments in bad_calls if required else bad_calls[1:2]:
            with pytest.raises(MCPError) as caught:
                await client.get_prompt(name, arguments)
            assert caught.value.error.code == INVALID_PARAMS, caught.value.error
            assert len(caught.value.error.message) < 5_000
        assert (await client.get_prompt(name, required)).messages
    with pytest.raises(MCPError) as caught:
        await client.get_prompt("no_such_prompt", {})
    assert caught.value.error.code == INVALID_PARAMS and "perforate_my_model" in caught.value.error.message


async def test_unknown_resources_are_invalid_params(session):
    client = session["client"]
    for uri in ("pai://skills/no-such-skill", "file:///etc/passwd", "pai://reference/" + "x" * 5000):
        with pytest.raises(MCPError) as caught:
            await client.read_resource(uri)
        assert caught.value.error.code == INVALID_PARAMS
    resources = (await client.list_resources()).resources
    assert resources and (await client.read_resource(resources[0].uri)).contents
    await still_serves(session)
