"""`pai compare RUN_A RUN_B ... [--json] [--plot PNG]`: runs side by side in one table and one plot."""

from __future__ import annotations

import argparse

from mcp_server.cli.analyze_results import resolve_target
from mcp_server.cli.exit_status import OK, CommandError
from mcp_server.cli.output import emit

DESCRIPTION = ("Compare run folders (e.g. a baseline and a dendritic run): best score, parameters, epochs to best, "
               "and whether the difference exceeds run-to-run variance. The first run is the reference.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", help="run folders or training scripts; the first is the reference")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.add_argument("--plot", metavar="PNG", help="write the overlay plot to this PNG")
    parser.add_argument("--max-rows", type=int, default=2_000_000, help="read at most this many rows per CSV")


def run(args: argparse.Namespace) -> int:
    from pai_core.results.compare import compare_runs
    from pai_core.results.errors import ResultsError

    try:
        comparison = compare_runs([resolve_target(r) for r in args.runs], plot=args.plot, max_rows=args.max_rows)
    except ResultsError as error:
        raise CommandError(str(error)) from None
    emit(comparison.model_dump_json(indent=2) if args.json else comparison.to_text())
    return OK
