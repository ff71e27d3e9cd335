"""Upstream-style scripts of both API generations (tests/pai_core/upstream_scripts/) run to "training complete"
on pai_core when their `from perforatedai import ...` lines are the only change, and every 2024-API one, rewritten
to the current API by `pai migrate`, trains exactly as it did before."""
from __future__ import annotations

import contextlib
import io
import re
import runpy
import warnings
from pathlib import Path

import pytest
import torch

from pai_core.config import pc

SCRIPTS = sorted((Path(__file__).parent / "upstream_scripts").glob("*/*.py"))


def ported(text: str) -> str:
    """The only change a user makes: the import lines."""
    return "\n".join(line.replace("from perforatedai import", "from pai_core import")
                     if line.startswith("from perforatedai import") else line for line in text.splitlines())


def run(text: str, folder: Path, name: str, monkeypatch) -> str:
    """Run a script in `folder` from the same seed; returns what it printed."""
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)
    (folder / name).write_text(text, encoding="utf-8")
    pc.reset()
    torch.manual_seed(0)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runpy.run_path(str(folder / name), run_name="__main__")
    finally:
        pc.reset()
    return out.getvalue()


def ported_only_in_imports(script: Path) -> str:
    original = script.read_text(encoding="utf-8")
    text = ported(original)
    changed = [(a, b) for a, b in zip(original.splitlines(), text.splitlines()) if a != b]
    assert changed and all(a.startswith("from perforatedai import") for a, _ in changed)
    return text


CURRENT = [p for p in SCRIPTS if p.parent.name == "current"]
API2024 = [p for p in SCRIPTS if p.parent.name == "api2024"]


@pytest.mark.parametrize("script", CURRENT, ids=[p.stem for p in CURRENT])
def test_upstream_script_runs_to_training_complete(script: Path, tmp_path, monkeypatch):
    printed = run(ported_only_in_imports(script), tmp_path, script.name, monkeypatch)
    assert "training complete" in printed, printed[-2000:]


@pytest.mark.parametrize("script", [pytest.param(p, id=p.stem, marks=[] if p.stem == "save_and_resume" else [pytest.mark.slow])
                                    for p in API2024])  # one in the default suite: each trains twice
def test_a_2024_script_runs_and_its_migration_trains_exactly_as_it(script: Path, tmp_path, monkeypatch):
    """The 2024 script runs to training complete with its import lines changed; `pai migrate` turns it into
    current-API names only, and that script gives the same run: same printed results, the same scores epoch by
    epoch in every CSV log but the wall-clock times, the same dendrites added."""
    from codemods.migrate import migrate_source

    old = ported_only_in_imports(script)
    result = migrate_source(old, filename=script.name)
    assert result.changed and not result.refused, result.findings
    assert not re.search(r"^(from|import) .*\b(pb_globals|pb_utils|pb_models|globalsFile)\b", result.new_source, re.M)
    assert not re.search(r"\b(PBG|PBU|PBM|gf)\.", result.new_source)
    before = run(old, tmp_path / "before", script.name, monkeypatch)
    assert "training complete" in before, before[-2000:]
    after = run(result.new_source, tmp_path / "after", script.name, monkeypatch)
    assert after == before, (before[-1500:], after[-1500:])
    logs = sorted(p.relative_to(tmp_path / "before") for p in (tmp_path / "before").rglob("*.csv")
                  if not p.name.endswith("Times.csv"))
    assert len(logs) >= 2, "the run wrote no score logs"
    for log in logs:
        assert (tmp_path / "after" / log).read_text() == (tmp_path / "before" / log).read_text(), log


def test_there_are_five_scripts_per_generation():
    assert {g: sum(p.parent.name == g for p in SCRIPTS) for g in ("current", "api2024")} == {"current": 5,
                                                                                            "api2024": 5}
