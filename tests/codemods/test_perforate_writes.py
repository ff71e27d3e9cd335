"""What `perforate_file(write=True)` leaves on disk: honest backups, the file's own encoding and line endings,
diff headers named `a/<relative name>`."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.perforate import perforate_file, perforate_source, set_capacity_test

FIXTURES = Path(__file__).parent / "fixtures"
MNIST = (FIXTURES / "mnist_cnn.in.py").read_text(encoding="utf-8")
ETE = "\u00e9t\u00e9"  # "été": one byte per letter in latin-1/cp1252, two in UTF-8


def test_a_stale_backup_survives_and_the_new_one_holds_the_real_original(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(MNIST, encoding="utf-8")
    stale = b"# an older train.py the user kept\n"
    (tmp_path / "train.py.orig").write_bytes(stale)
    before = script.read_bytes()

    result = perforate_file(script, write=True)

    assert result.written and result.backup == f"{script}.orig.1"
    assert (tmp_path / "train.py.orig").read_bytes() == stale
    assert Path(result.backup).read_bytes() == before
    assert script.read_text(encoding="utf-8") == result.new_source


def test_every_rewrite_keeps_the_bytes_it_replaced(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(MNIST, encoding="utf-8")
    first = perforate_file(script, write=True)
    integrated = script.read_bytes()
    off = set_capacity_test(script, False, write=True)
    assert first.backup == f"{script}.orig" and Path(first.backup).read_bytes() == MNIST.encode()
    assert off.backup == f"{script}.orig.1" and Path(off.backup).read_bytes() == integrated
    script.write_bytes(integrated)  # back to the version .orig.1 already holds: that backup is the honest one
    again = set_capacity_test(script, False, write=True)
    assert again.backup == f"{script}.orig.1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py", "train.py.orig", "train.py.orig.1"]


def test_the_cli_reports_the_backup_that_holds_the_original(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(MNIST, encoding="utf-8")
    (tmp_path / "train.py.orig").write_text("stale\n")
    run = subprocess.run([sys.executable, "-m", "mcp_server.cli", "perforate", "--write", str(script)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"original kept as {script}.orig.1" in run.stderr
    assert (tmp_path / "train.py.orig.1").read_text(encoding="utf-8") == MNIST


@pytest.mark.parametrize(
    ("name", "encoding", "bom", "newline"),
    [
        ("latin1.py", "latin-1", b"", "\n"),
        ("cp1252_crlf.py", "cp1252", b"", "\r\n"),
        ("bom.py", "utf-8", b"\xef\xbb\xbf", "\n"),
        ("crlf.py", "utf-8", b"", "\r\n"),
    ],
)
def test_rewrites_keep_encoding_bom_and_line_endings_byte_exact(tmp_path, name, encoding, bom, newline):
    coding = f"# -*- coding: {encoding} -*-\n" if encoding != "utf-8" else ""
    text = coding + MNIST + f"print({ETE!r})\n"
    original = bom + text.replace("\n", newline).encode(encoding)
    script = tmp_path / name
    script.write_bytes(original)

    result = perforate_file(script, write=True)
    written = script.read_bytes()

    assert result.written and Path(result.backup).read_bytes() == original
    assert written.startswith(bom) and ETE.encode(encoding) in written
    assert written.count(b"\n") == written.count(newline.encode())  # no line ending changed or added unlike
    # byte-exact outside the edits: every original line the diff does not remove is still there, unchanged
    removed = sum(1 for line in result.diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    old_lines, new_lines = original.splitlines(keepends=True), written.splitlines(keepends=True)
    kept = sum(block.size for block in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
               .get_matching_blocks())
    assert kept == len(old_lines) - removed
    compile(written, name, "exec")


def test_rewritten_non_utf8_scripts_run_and_print_their_text(tmp_path):
    """Run the top level of each rewritten file (imports, pai settings, the print) in a real interpreter."""
    paths = []
    for encoding, newline in (("latin-1", "\n"), ("cp1252", "\r\n")):
        script = tmp_path / f"{encoding}.py"
        script.write_bytes(f"# -*- coding: {encoding} -*-\n{MNIST}print({ETE!r})\n"
                           .replace("\n", newline).encode(encoding))
        assert perforate_file(script, write=True).written
        paths.append(str(script))
    run = subprocess.run(
        [sys.executable, "-c", "import runpy, sys\nfor p in sys.argv[1:]: runpy.run_path(p, run_name='imported')",
         *paths],
        capture_output=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, cwd=tmp_path)
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert run.stdout.decode("utf-8").splitlines() == [ETE, ETE]


def test_diff_headers_name_the_file_relative_to_the_working_folder(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    script = project / "src" / "train.py"
    script.write_text(MNIST, encoding="utf-8")
    monkeypatch.chdir(project)
    headers = perforate_file(script.resolve()).diff.splitlines()[:2]
    assert headers == ["--- a/src/train.py", "+++ b/src/train.py"]
    assert perforate_file("src/train.py").diff.splitlines()[:2] == headers
    monkeypatch.chdir(tmp_path / "project" / "src")
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text(MNIST, encoding="utf-8")
    assert perforate_file(elsewhere).diff.splitlines()[:2] == ["--- a/elsewhere.py", "+++ b/elsewhere.py"]
    assert perforate_source(MNIST, filename="m.py").diff.startswith("--- a/m.py\n+++ b/m.py\n")


def test_a_long_one_line_script_is_text_not_a_file_name():
    line = "x = 1; " * 60 + "\n"  # no newline inside, longer than any file name
    assert not set_capacity_test(line.strip(), False).changed
