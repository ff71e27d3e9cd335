"""The real-script corpus: every `complete` fixture is rewritten, compiles, is idempotent, passes `pai check`
and trains on pai_core through the capacity test; every `refused` fixture is left byte-identical, exit 3.

Fixtures live in `corpus/`: `<slug>.py` or `<slug>/train.py` (siblings are the user's own modules), each with
`<slug>.expect.json` (outcome, refusal substring, facts, run). A run whose label says `"slow": true` is in the
slow suite. Runs go one at a time, each on one thread: two at a time was measured slower on the shared
2-core machine (`python benchmarks/bench_fidelity.py --serial` compares both).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from codemods.check import check_integration
from mcp_server.cli import run_command

perforate_main = functools.partial(run_command, "perforate")
from codemods.perforate import perforate_file

CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]
SUCCESS = "Successfully added 3 dendrites"
REFUSED = 3  # `pai perforate` exit status for a refusal

# Fixtures labelled with the outcome the finished product must reach that it does not reach yet (slug -> why).
PENDING: dict[str, str] = {}


@dataclass(frozen=True)
class Fixture:
    slug: str
    entry: Path  # the training script
    label: dict

    @property
    def folder(self) -> bool:
        return self.entry.name == "train.py" and self.entry.parent != CORPUS

    def copy_to(self, tmp: Path) -> Path:
        """A copy of the script (and its folder) in `tmp`; returns the copied entry point."""
        if self.folder:
            shutil.copytree(self.entry.parent, tmp / self.slug)
            return tmp / self.slug / "train.py"
        target = tmp / self.entry.name
        shutil.copyfile(self.entry, target)
        return target


def fixtures() -> list[Fixture]:
    found = []
    for label_path in sorted(CORPUS.glob("*.expect.json")):
        slug = label_path.name.removesuffix(".expect.json")
        entry = CORPUS / f"{slug}.py"
        if not entry.exists():
            entry = CORPUS / slug / "train.py"
        found.append(Fixture(slug, entry, json.loads(label_path.read_text())))
    return found


ALL = fixtures()


def _param(f: Fixture, *, run: bool = False):
    marks = []
    if f.slug in PENDING:
        marks.append(pytest.mark.xfail(reason=f"needs {PENDING[f.slug]}", strict=False))
    if run and (f.label.get("run") or {}).get("slow"):
        marks.append(pytest.mark.slow)
    return pytest.param(f, id=f.slug, marks=marks)


COMPLETE = [_param(f) for f in ALL if f.label["outcome"] == "complete"]
RUNS = [_param(f, run=True) for f in ALL if f.label["outcome"] == "complete" and f.label.get("run")]
REFUSALS = [_param(f) for f in ALL if f.label["outcome"] == "refused"]


def test_every_fixture_is_labelled_and_has_an_entry_point():
    assert len(ALL) >= 20
    for f in ALL:
        assert f.entry.is_file(), f"{f.slug}: no {f.slug}.py nor {f.slug}/train.py"
        assert f.label["outcome"] in ("complete", "refused"), f.slug
        assert f.label.get("shape"), f"{f.slug}: say which real-world shape it models"
        if f.label["outcome"] == "refused":
            assert f.label.get("refusal"), f"{f.slug}: name the refusal reason"


def rewrite(f: Fixture, tmp: Path) -> Path:
    """Rewrite a tmp copy with the default options (capacity test on) and return it."""
    entry = f.copy_to(tmp)
    result = perforate_file(entry, write=True, backup=False)
    problems = [x.message for x in result.findings if x.severity == "error"]
    assert not result.refused and result.written, f"{f.slug} was refused: {problems}"
    return entry


@pytest.mark.parametrize("fixture", COMPLETE)
def test_complete_fixture_rewrite_compiles_is_idempotent_and_checks_clean(fixture, tmp_path):
    entry = rewrite(fixture, tmp_path)
    text = entry.read_text()
    compile(text, str(entry), "exec")
    again = perforate_file(entry)
    assert not again.changed and not again.refused, f"second run changed it:\n{again.diff}"
    report = check_integration(entry)
    assert report.ok, [f"{e.code} line {e.line}: {e.message}" for e in report.errors]


@pytest.mark.parametrize("fixture", REFUSALS)
def test_refused_fixture_is_left_byte_identical_with_exit_3(fixture, tmp_path, capsys):
    entry = fixture.copy_to(tmp_path)
    before = {p: p.read_bytes() for p in entry.parent.rglob("*") if p.is_file()}
    assert perforate_main([str(entry), "--write"]) == REFUSED
    assert {p: p.read_bytes() for p in entry.parent.rglob("*") if p.is_file()} == before
    result = perforate_file(entry)
    assert result.refused and result.new_source == entry.read_text()
    reasons = " ".join(x.message for x in result.findings if x.severity == "error")
    assert fixture.label["refusal"].lower() in reasons.lower(), reasons
    capsys.readouterr()


# ------------------------------------------------------------------------------------------------- runs
def train(fixture: Fixture, tmp: Path) -> subprocess.CompletedProcess:
    """Rewrite a copy and run it as the user would, on pai_core, with the fixture's own arguments."""
    entry = rewrite(fixture, tmp)
    run = fixture.label["run"]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, str(entry), *run.get("argv", [])], cwd=entry.parent, env=env,
                          capture_output=True, text=True, timeout=run.get("timeout_s", 120), check=False)


@pytest.mark.parametrize("fixture", RUNS)
def test_complete_fixture_trains_through_the_capacity_test(fixture, tmp_path):
    done = train(fixture, tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert SUCCESS in out, out[-3000:]
