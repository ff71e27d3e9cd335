"""Bad input through every `pai` subcommand that takes a path (issue 15): one clear line on stderr, a status
from the documented table, never a traceback or a signal.

Every case is one `pai` process of its own, with its own copy of its input; they run a few at a time (a
module fixture) so the whole table stays well under a minute on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from codemods.analysis.source import MAX_BYTES
from mcp_server.cli.exit_status import BAD_INPUT, EXIT_STATUSES, FINDINGS, OK, REFUSED

MNIST = Path(__file__).parent / "codemods" / "fixtures" / "mnist_cnn.in.py"
TRACEBACK = Path(__file__).parent / "codemods" / "tracebacks" / "upstream_dataparallel.log"
LONG_NAME = "a" * 300 + ".py"  # one path component over NAME_MAX: every open fails with ENAMETOOLONG
BAD_ARGUMENTS = {"nul": '"train\\x00.py"', "10mb": '"x" * 10_000_000'}  # no shell can pass these: see _command

# input name -> what to write (bytes), a folder (None), or nothing at all ("missing")
INPUTS: dict[str, bytes | None | str] = {
    "empty.py": b"",
    "binary.py": bytes(range(256)) * 8,
    "non_utf8.py": 'print("\u00e9t\u00e9")\n'.encode("latin-1"),  # latin-1 bytes without a coding line
    "python2.py": b'import torch\nprint "epoch", 1\n',
    "nested.py": b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n",  # SIGSEGV in libcst's native parser
    "and_chain.py": b"x = " + b" and ".join([b"a"] * 10_000) + b"\n",  # SIGSEGV too, though CPython accepts it
    "huge.py": b"x = 1\n" * (MAX_BYTES // 6 + 1),
    "latin1.py": b"# -*- coding: latin-1 -*-\n" + MNIST.read_bytes() + 'print("\u00e9t\u00e9")\n'.encode("latin-1"),
    "folder": None,
    "missing.py": "missing",
    LONG_NAME: "missing",
    "notes.txt": b"notes\n",
    "busy": None,  # a folder holding a file of the user's
}
SCRIPT_FAILURES = ["empty.py", "binary.py", "non_utf8.py", "python2.py", "nested.py", "and_chain.py", "huge.py",
                   "folder", "missing.py", LONG_NAME]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]  # "{}" is the input's path, "BAD" an argument only a program can pass
    inputs: tuple[str, ...]
    statuses: frozenset[int] = frozenset({BAD_INPUT})

    @property
    def failure(self) -> bool:
        return self.statuses <= {BAD_INPUT, REFUSED}


def _cases() -> list[Case]:
    cases = []
    for name in SCRIPT_FAILURES:
        for argv in (("analyze-script", "{}"), ("perforate", "--write", "{}"), ("check", "{}"),
                     ("migrate", "--write", "{}")):
            cases.append(Case(f"{argv[0]}-{name[:20]}", argv, (name,)))
    cases += [
        Case("analyze-script-latin1", ("analyze-script", "{}"), ("latin1.py",), frozenset({OK})),
        Case("perforate-latin1", ("perforate", "--write", "{}"), ("latin1.py",), frozenset({OK})),
        Case("check-latin1", ("check", "{}"), ("latin1.py",), frozenset({FINDINGS})),
        Case("migrate-latin1", ("migrate", "--write", "{}"), ("latin1.py",), frozenset({OK})),
        Case("diagnose-missing", ("diagnose", "{}"), ("missing.py",)),
        Case("diagnose-folder", ("diagnose", "{}"), ("folder",)),
        Case("diagnose-long-name", ("diagnose", "{}"), (LONG_NAME,)),
        Case("diagnose-binary-log", ("diagnose", "{}"), ("binary.py",), frozenset({OK, FINDINGS})),
        Case("diagnose-script-missing", ("diagnose", "--script", "{}", str(TRACEBACK)), ("missing.py",)),
        Case("diagnose-script-folder", ("diagnose", "--script", "{}", str(TRACEBACK)), ("folder",)),
        # the diagnosis goes on with a line scan of a script the analysis refuses: a one-line warning
        Case("diagnose-script-nested", ("diagnose", "--script", "{}", str(TRACEBACK)), ("nested.py",),
             frozenset({OK})),
        Case("diagnose-script-and-chain", ("diagnose", "--script", "{}", str(TRACEBACK)), ("and_chain.py",),
             frozenset({OK})),
        Case("analyze-results-missing", ("analyze-results", "{}"), ("missing.py",)),
        Case("analyze-results-file", ("analyze-results", "{}"), ("notes.txt",)),
        Case("analyze-results-nested", ("analyze-results", "{}"), ("nested.py",)),
        Case("analyze-results-binary", ("analyze-results", "{}"), ("binary.py",)),
        Case("analyze-results-python2", ("analyze-results", "{}"), ("python2.py",)),
        Case("analyze-results-long-name", ("analyze-results", "{}"), (LONG_NAME,)),
        Case("compare-missing", ("compare", "{}", "{}"), ("folder", "missing.py")),
        Case("export-missing", ("export", "{}", "--model", "net.py:Net", "--input-shape", "1,4"), ("missing.py",)),
        Case("install-skills-file", ("install-skills", "--target", "{}"), ("notes.txt",)),
        Case("install-skills-long-name", ("install-skills", "--target", "{}"), (LONG_NAME,)),
        Case("demo-file", ("demo", "--out", "{}"), ("notes.txt",)),
        Case("demo-long-name", ("demo", "--out", "{}"), (LONG_NAME,)),
        Case("demo-busy-folder", ("demo", "--out", "{}"), ("busy",), frozenset({REFUSED})),
        Case("mcp-missing-root", ("mcp", "--root", "{}"), ("missing.py",)),
        Case("mcp-file-root", ("mcp", "--root", "{}"), ("notes.txt",)),
    ]
    path_commands = [("analyze-script", "BAD"), ("perforate", "BAD"), ("check", "BAD"), ("migrate", "BAD"),
                     ("diagnose", "BAD"),
                     ("diagnose", "--script", "BAD", str(TRACEBACK)), ("analyze-results", "BAD"),
                     ("compare", "BAD", "BAD"), ("export", "BAD", "--model", "BAD", "--input-shape", "1,4"),
                     ("install-skills", "--target", "BAD"), ("demo", "--out", "BAD"), ("mcp", "--root", "BAD")]
    for kind in BAD_ARGUMENTS:
        for argv in path_commands:
            option = "-script" if "--script" in argv else ""
            cases.append(Case(f"{argv[0]}{option}-{kind}", argv, (kind,)))
    return cases


CASES = _cases()


def _command(case: Case, folder: Path) -> list[str]:
    if case.inputs[0] in BAD_ARGUMENTS:  # execve refuses NUL bytes and arguments over 128 kB: call main()
        code = ("import sys\nfrom mcp_server.cli import main\n"
                f"bad = {BAD_ARGUMENTS[case.inputs[0]]}\n"
                "sys.exit(main([bad if a == 'BAD' else a for a in sys.argv[1:]]))")
        return [sys.executable, "-c", code, *case.argv]
    paths = iter(case.inputs)
    argv = [str(folder / next(paths)) if a == "{}" else a for a in case.argv]
    return [sys.executable, "-m", "mcp_server.cli", *argv]


def _prepare(case: Case, folder: Path) -> None:
    folder.mkdir()
    for name in case.inputs:
        content = INPUTS.get(name, "missing")
        if content is None:
            (folder / name).mkdir()
            if name == "busy":
                (folder / name / "thesis.tex").write_text("mine")
        elif isinstance(content, bytes):
            (folder / name).write_bytes(content)


def _run(case: Case, folder: Path) -> subprocess.CompletedProcess:
    _prepare(case, folder)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                                     os.environ.get("PYTHONPATH")])))
    return subprocess.run(_command(case, folder), cwd=folder, capture_output=True, text=True, errors="replace",
                          timeout=120, stdin=subprocess.DEVNULL, env=env, check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    root = tmp_path_factory.mktemp("bad_inputs")
    folders = {case.id: root / f"case{i}" for i, case in enumerate(CASES)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = {case.id: pool.submit(_run, case, folders[case.id]) for case in CASES}
    return {key: (future.result(), folders[key]) for key, future in done.items()}


def test_case_ids_are_unique():
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_gets_one_clear_line_and_a_documented_status(runs, case):
    run, folder = runs[case.id]
    assert run.returncode >= 0, f"killed by signal {-run.returncode}"
    assert run.returncode in case.statuses and run.returncode in EXIT_STATUSES, (run.returncode, run.stderr)
    assert "Traceback (most recent call last)" not in run.stderr
    lines = run.stderr.strip().splitlines()
    if case.failure:
        assert len(lines) == 1 and len(lines[0]) < 2000, run.stderr[:2000]  # no 10 MB path echoed
        assert lines[0].startswith("pai") or ": error: " in lines[0], lines[0]  # it names the command or file
    elif case.argv[0] == "diagnose":
        assert len(lines) <= 1, run.stderr[:2000]
    if case.failure:  # nothing on disk changed: no backup, no output folder, inputs byte-identical
        for name in case.inputs:
            content = INPUTS.get(name, "missing")
            if isinstance(content, bytes):
                assert (folder / name).read_bytes() == content
        assert not list(folder.glob("*.orig*")) and not (folder / ".claude").exists()


def test_perforate_rewrote_the_latin1_script_in_its_encoding(runs):
    run, folder = runs["perforate-latin1"]
    written = (folder / "latin1.py").read_bytes()
    assert "\u00e9t\u00e9".encode("latin-1") in written and b"UPA.perforate_model(" in written
    assert (folder / "latin1.py.orig").read_bytes() == INPUTS["latin1.py"]


def test_a_refused_demo_leaves_the_users_folder_alone(runs):
    run, folder = runs["demo-busy-folder"]
    assert run.returncode == REFUSED
    assert sorted(p.name for p in (folder / "busy").iterdir()) == ["thesis.tex"]
