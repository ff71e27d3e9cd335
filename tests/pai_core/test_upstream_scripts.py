"""Upstream-style scripts of both API generations (tests/pai_core/upstream_scripts/) run to "training complete"
on pai_core when their `from perforatedai import ...` lines are the only change."""
from __future__ import annotations

import contextlib
import io
import runpy
import warnings
from pathlib import Path

import pytest

from pai_core.config import pc

SCRIPTS = sorted((Path(__file__).parent / "upstream_scripts").glob("*/*.py"))


def ported(text: str) -> str:
    """The only change a user makes: the import lines."""
    return "\n".join(line.replace("from perforatedai import", "from pai_core import")
                     if line.startswith("from perforatedai import") else line for line in text.splitlines())


@pytest.mark.parametrize("script", SCRIPTS, ids=[f"{p.parent.name}/{p.stem}" for p in SCRIPTS])
def test_upstream_script_runs_to_training_complete(script: Path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    original = script.read_text(encoding="utf-8")
    text = ported(original)
    changed = [(a, b) for a, b in zip(original.splitlines(), text.splitlines()) if a != b]
    assert changed and all(a.startswith("from perforatedai import") for a, _ in changed)
    (tmp_path / script.name).write_text(text, encoding="utf-8")
    pc.reset()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runpy.run_path(str(tmp_path / script.name), run_name="__main__")
    finally:
        pc.reset()
    assert "training complete" in out.getvalue(), out.getvalue()[-2000:]


def test_there_are_five_scripts_per_generation():
    assert {g: sum(p.parent.name == g for p in SCRIPTS) for g in ("current", "api2024")} == {"current": 5,
                                                                                            "api2024": 5}
