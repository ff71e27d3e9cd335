"""`pai analyze-results RUN_FOLDER_OR_SCRIPT [--json] [--plot PNG]`: what the dendrites bought, what to change."""

from __future__ import annotations

import argparse
from pathlib import Path

from mcp_server.cli.exit_status import OK, CommandError
from mcp_server.cli.output import emit

DESCRIPTION = ("Analyze a finished (or stopped) run folder written by pai_core or perforatedai: training summary, "
               "dendrite impact, problems found and the config changes to make.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="run folder (named after save_name), or the training script (.py) whose "
                        "perforate_model(...) call names it")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--plot", metavar="PNG",
                        help="write a summary plot to this PNG (default with --plot-auto: "
                        "<folder>/<save_name>_analysis.png)")
    parser.add_argument("--plot-auto", action="store_true", help="write the plot next to the run files")
    parser.add_argument("--log", metavar="FILE",
                        help="the training output of the run (a saved log): epochs and dendrites it reports are "
                        "checked against the folder, which shows when the folder is not that run")
    parser.add_argument("--max-rows", type=int, default=2_000_000,
                        help="read at most this many rows per CSV (huge files are cut and the report says so)")


def resolve_target(target: str) -> Path:
    """A folder as is; a .py script through its save_name."""
    path = Path(target)
    if path.suffix == ".py" and path.is_file():
        from pai_core.results.locate import run_folder_from_script

        return run_folder_from_script(path)
    return path


def _read_log(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-5_000_000:]  # the tail holds the end of the run
    except OSError as error:
        raise CommandError(f"Cannot read the log {path!r} ({error.strerror}); pass a saved training log.") from None


def run(args: argparse.Namespace) -> int:
    from pai_core.results.analyze import analyze_run
    from pai_core.results.errors import ResultsError
    from pai_core.results.files import locate_run_folder

    try:
        folder = resolve_target(args.target)
        plot = args.plot
        if plot is None and args.plot_auto:
            located = locate_run_folder(folder)
            plot = located / f"{located.name}_analysis.png"
        log = _read_log(args.log) if args.log else None
        report = analyze_run(folder, plot=plot, max_rows=args.max_rows, log=log)
    except ResultsError as error:
        raise CommandError(str(error)) from None
    emit(report.model_dump_json(indent=2) if args.json else report.to_text())
    return OK
