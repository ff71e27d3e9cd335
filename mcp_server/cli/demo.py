"""`pai demo [--out DIR] [--quick]`: narrate the steps of mcp_server.demo.story on the bundled digits script."""

from __future__ import annotations

import argparse
import textwrap
import time
from pathlib import Path

from mcp_server.cli.exit_status import OK, REFUSED, CommandError
from mcp_server.cli.output import emit

CAPACITY_SUCCESS = "Successfully added 3 dendrites"

DESCRIPTION = ("The whole story in about a minute on a CPU: a plain PyTorch training script (a tiny MLP on "
               "scikit-learn's bundled 8x8 digits, nothing downloaded) is analyzed, rewritten to train with "
               "dendrites, put through the capacity test, trained with pai_core until complete, and its run folder "
               "analyzed and plotted.")
EPILOG = "A step that fails stops the demo with status 3 and names the log to read."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="pai_demo", metavar="DIR",
                        help="output folder (default ./pai_demo; a previous demo's folder is replaced)")
    parser.add_argument("--quick", action="store_true",
                        help="stop after the capacity test (a few seconds) and analyze that run instead")
    parser.add_argument("--timeout", type=float, default=900.0, metavar="S",
                        help="stop a training run that takes longer than this (default 900 s)")


def run(args: argparse.Namespace) -> int:
    if Path(args.out).expanduser().exists() and not Path(args.out).expanduser().is_dir():
        raise CommandError(f"--out {args.out} is a file; pass a new or empty folder.")
    from mcp_server.demo import story

    start = time.perf_counter()
    steps = 5 if args.quick else 6
    step = iter(range(1, steps + 1))

    def header(text: str) -> None:
        emit(f"\n[{next(step)}/{steps}] {text}", flush=True)

    try:
        paths = story.prepare(args.out)
        emit("pai demo: from a plain PyTorch script to a network with dendrites, on the real 8x8 digits data "
              "(1,797 scans bundled with scikit-learn; CPU only, nothing downloaded).")
        emit(f"Output folder: {paths.out}")

        header(f"Analyze the baseline script {paths.script.name} (as `pai analyze-script` does; nothing runs)")
        emit(_indent(story.analyze(paths).to_text()))

        header("Rewrite a copy to train with dendrites (as `pai perforate --write --extra-scores` does)")
        result = story.perforate(paths)
        emit(_indent(result.diff.rstrip()))
        emit(f"  rules applied: {', '.join(result.applied)}; the original is kept as {Path(result.backup).name}")
        for finding in result.findings:
            emit(f"  {finding.code} {finding.severity}: {finding.message}")

        header("Capacity test: run the rewritten script until 3 dendrites were added (proves the integration)")
        capacity = story.train(paths, "capacity_test.log", "capacity test", timeout_s=args.timeout)
        if CAPACITY_SUCCESS not in capacity.output_tail:
            raise story.DemoError(f"The capacity test ended without its success line; see {capacity.log}.")
        emit(f"  {CAPACITY_SUCCESS}: {capacity.epochs} epochs in {capacity.seconds:.1f} s")
        folder, training = paths.run_folder, capacity

        if not args.quick:
            header("Switch the capacity test off (as `pai perforate --capacity-test off --write` does) and train "
                   "with pai_core until it says training is complete")
            aside = story.set_capacity_test_aside(paths)
            emit(_indent(story.capacity_test_off(paths).diff.rstrip()))
            training = story.train(paths, "training.log", "training", timeout_s=args.timeout)
            emit(f"  training complete: {training.epochs} epochs in {training.seconds:.1f} s; best validation "
                  f"{_pct(training.best_valid)}, test accuracy of the model kept {_pct(training.test_accuracy)}")
            emit(f"  (the capacity test's run folder was moved to {aside.name})")

        header(f"Analyze the run folder {folder.name} (as `pai analyze-results --plot-auto` does)")
        report = story.analyze_results(folder, paths.plot)
        emit(_indent(report.to_text()))

        header("Where everything is")
        emit(_where(paths, training, args.quick))
    except story.DemoError as error:
        raise CommandError(str(error), REFUSED) from None
    emit(f"\nDemo finished in {time.perf_counter() - start:.0f} s.")
    emit(_next_steps())
    return OK


def _where(paths, training, quick: bool) -> str:
    rows = [
        (paths.original, "the plain PyTorch baseline, untouched"),
        (paths.script, "the same script rewritten to train with dendrites"),
        (paths.run_folder, "the run folder: Scores/param_counts/switch_epochs CSVs, best_model.pt, pai_run.json"),
        (paths.plot, "the analysis plot"),
        (training.log, "the training output"),
    ]
    if not quick:
        rows.insert(3, (paths.capacity_folder, "the capacity test's run folder"))
        rows.append((paths.out / "capacity_test.log", "the capacity test's output"))
    width = max(len(_rel(path)) for path, _ in rows)
    lines = [f"  {_rel(path):<{width}}  {what}" for path, what in rows]
    lines.append(f"  Re-run the training yourself: cd {_rel(paths.out)} && python {paths.script.name}")
    lines.append(f"  Ship the best model: cd {_rel(paths.out)} && pai export {paths.run_folder.name} --model "
                 f"{paths.script.name}:DigitsMLP --model-kwargs '{{\"hidden\": 8}}' --input-shape 1,64 --format all")
    return "\n".join(lines)


def _next_steps() -> str:
    return textwrap.dedent("""
        Now with your own training script:
          pai analyze-script YOUR_SCRIPT.py     what the integration needs to know
          pai perforate YOUR_SCRIPT.py          the diff (add --write to apply it; YOUR_SCRIPT.py.orig is kept)
          python YOUR_SCRIPT.py                 the capacity test, then `pai perforate --capacity-test off --write`
          pai analyze-results RUN_FOLDER        what the dendrites bought and what to change
        Or let your coding assistant do it through the MCP server (`pai mcp`, also installed as `pai-mcp`):
          claude mcp add pai -- pai-mcp         Claude Code, run in your project: the server may read and edit the
                                                files under the folder it starts in (`pai-mcp --root DIR` to
                                                choose it); from a virtual environment give `which pai-mcp`
          pai install-skills                    the Claude skills that drive those tools
        then ask: "add dendrites to YOUR_SCRIPT.py".""").rstrip()


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _indent(text: str) -> str:
    return textwrap.indent(text, "  ")


if __name__ == "__main__":
    raise SystemExit(main())
