"""How faithful `pai perforate` is over the real-script corpus (tests/codemods/corpus, every prefix).

For each fixture: rewrite a tmp copy with the default options, then classify it
- complete: written, compiles, a second run changes nothing, `pai check` has no error, and (when the label
  has a run) the script trains to the capacity test's "3 dendrites";
- refused: nothing written (exit 3);
- written-broken: written but fails compile, idempotency, check or the run.
Prints the counts, the share of in-scope (label `complete`) fixtures that came out complete, the share that
trained with dendrites, the runs' wall time two at a time (and one at a time with --serial: the test harness
runs them one at a time, which measured faster on the shared 2-core machine), and `perforate_source` next to
a bare libcst parse+render on a ~1,000-line script (target <= 3x). `--no-run` skips the training runs;
run_all.py reports the static part (`figures`).
Run: python benchmarks/bench_fidelity.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_codemods import measure  # noqa: E402
from benchmarks.common import Figure  # noqa: E402
from codemods.analysis.fidelity import field_accuracy  # noqa: E402
from codemods.check import check_integration  # noqa: E402
from codemods.perforate import perforate_file  # noqa: E402
from tests.codemods.test_corpus import ALL, CORPUS, SUCCESS, Fixture, train  # noqa: E402


def classify(fixture: Fixture) -> tuple[str, str]:
    """(complete | refused | written-broken, why) for the static part: rewrite, compile, idempotency, check."""
    with tempfile.TemporaryDirectory() as tmp:
        entry = fixture.copy_to(Path(tmp))
        result = perforate_file(entry, write=True, backup=False)
        if result.refused or not result.written:
            if not result.refused and not result.changed:
                return "complete", "already integrated"
            return "refused", next((f.message for f in result.findings if f.severity == "error"), "")
        try:
            compile(entry.read_text(), str(entry), "exec")
        except SyntaxError as error:
            return "written-broken", f"does not compile: {error}"
        if perforate_file(entry).changed:
            return "written-broken", "not idempotent"
        errors = check_integration(entry).errors
        if errors:
            return "written-broken", f"pai check: {errors[0].code} {errors[0].message}"
        return "complete", ""


def run_all(fixtures: list[Fixture], workers: int) -> tuple[dict[str, bool], float]:
    """Train every fixture (rewrite + run); returns slug -> reached 3 dendrites, and the wall time."""
    start = time.perf_counter()

    def one(f: Fixture) -> bool:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                done = train(f, Path(tmp))
            except Exception:  # refused, timed out: it did not train
                return False
            return done.returncode == 0 and SUCCESS in done.stdout + done.stderr

    with ThreadPoolExecutor(max_workers=workers) as pool:
        trained = dict(zip([f.slug for f in fixtures], pool.map(one, fixtures), strict=True))
    return trained, time.perf_counter() - start


def outcomes(run: bool) -> tuple[list[tuple[Fixture, str, str]], dict[str, bool], float]:
    """(fixture, outcome, why) for every fixture, slug -> trained to 3 dendrites (with `run`), runs' wall time."""
    rows = [(f, *classify(f)) for f in ALL]
    runnable = [f for f, outcome, _ in rows if outcome == "complete" and f.label.get("run")]
    trained, wall = run_all(runnable, workers=2) if run else ({}, 0.0)
    return rows, trained, wall


def figures(quick: bool = False) -> list[Figure]:
    """The static classification (rewrite, compile, idempotency, `pai check`) and the labelled facts; the
    training runs take longer than the whole table and stay with `python benchmarks/bench_fidelity.py`."""
    rows, _, _ = outcomes(run=False)
    count = {k: sum(1 for _, outcome, _ in rows if outcome == k) for k in ("complete", "refused", "written-broken")}
    in_scope = [outcome for f, outcome, _ in rows if f.label["outcome"] == "complete"]
    refusals = [outcome for f, outcome, _ in rows if f.label["outcome"] == "refused"]
    facts = field_accuracy(CORPUS)
    right, total = sum(facts.right.values()), sum(facts.total.values())
    name = "codemod fidelity"

    def share(right: int, total: int) -> str:
        return f"{right}/{total} = {right / max(1, total):.0%}"

    return [
        Figure(name, f"{len(rows)} real-script fixtures, written by `pai perforate` (no training runs)",
               f"complete {count['complete']}, refused {count['refused']}, written-broken {count['written-broken']}",
               "", None, "written-broken 0", count["written-broken"] == 0),
        Figure(name, "labelled complete: came out complete", share(in_scope.count("complete"), len(in_scope)),
               "", None, ">= 90%", in_scope.count("complete") >= 0.9 * len(in_scope)),
        Figure(name, "labelled refused: refused", share(refusals.count("refused"), len(refusals)), "", None),
        Figure(name, f"labelled facts the analysis states ({facts.scripts} fixtures)", share(right, total), "",
               None, ">= 95% per field", all(facts.share(n) >= 0.95 for n in facts.total)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-run", action="store_true", help="skip the training runs")
    parser.add_argument("--serial", action="store_true", help="also time the runs one at a time")
    args = parser.parse_args()
    rows, trained, wall = outcomes(run=not args.no_run)
    runnable = [f for f, outcome, _ in rows if outcome == "complete" and f.label.get("run")]
    for f, outcome, why in rows:
        if f.slug in trained and not trained[f.slug]:
            outcome, why = "written-broken", "the rewritten script did not train to 3 dendrites"
        expected = f.label["outcome"]
        mark = "" if outcome == expected else f"  (label: {expected})"
        print(f"{f.slug:<36}{outcome:<16}{why[:90]}{mark}")
    counts = {k: sum(1 for r in rows if _final(r, trained) == k) for k in ("complete", "refused", "written-broken")}
    in_scope = [r for r in rows if r[0].label["outcome"] == "complete"]
    done = sum(1 for r in in_scope if _final(r, trained) == "complete")
    print(f"\nfixtures: {len(rows)}  complete {counts['complete']}  refused {counts['refused']}  "
          f"written-broken {counts['written-broken']} (goal 0)")
    print(f"in scope (labelled complete): {done}/{len(in_scope)} complete = {done / max(1, len(in_scope)):.0%} "
          "(goal >= 90%)")
    refusals_right = sum(1 for r in rows if r[0].label["outcome"] == "refused" and _final(r, trained) == "refused")
    print(f"labelled refused and refused: {refusals_right}/{len(rows) - len(in_scope)}")
    if not args.no_run:
        with_run = [f for f in ALL if f.label["outcome"] == "complete" and f.label.get("run")]
        print(f"trained with dendrites (3 dendrites reached): {sum(trained.values())}/{len(with_run)} of the "
              f"in-scope fixtures with a run = {sum(trained.values()) / max(1, len(with_run)):.0%}")
        print(f"runs wall time, two at a time: {wall:.1f} s")
        if args.serial:
            _, serial = run_all(runnable, workers=1)
            print(f"runs wall time, one at a time: {serial:.1f} s ({serial / wall:.2f}x the parallel time)")
    facts = field_accuracy(CORPUS)
    print(f"\nlabelled facts stated by the analysis over {facts.scripts} fixtures (goal >= 95% per field):")
    print(facts.table())
    m = measure(5)
    print(f"\nperforate_source on a {m['lines']}-line script: {m['total'] * 1000:.0f} ms, bare libcst parse+render "
          f"{m['bare'] * 1000:.0f} ms: {m['total'] / m['bare']:.1f}x (target <= 3x: "
          f"{'met' if m['total'] <= 3 * m['bare'] else 'MISSED'})")


def _final(row, trained: dict[str, bool]) -> str:
    fixture, outcome, _ = row
    if outcome == "complete" and fixture.slug in trained and not trained[fixture.slug]:
        return "written-broken"
    return outcome


if __name__ == "__main__":
    main()
