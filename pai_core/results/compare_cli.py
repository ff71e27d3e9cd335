"""`pai compare RUN_A RUN_B ... [--json] [--plot PNG]`: runs side by side in one table and one plot."""

from __future__ import annotations

import argparse
import sys

from pai_core.exit_status import BAD_INPUT, EXIT_STATUS_HELP, OK
from pai_core.results.errors import ResultsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pai compare",
        description="Compare run folders (e.g. a baseline and a dendritic run): best score, parameters, epochs to "
        "best, and whether the difference exceeds run-to-run variance. The first run is the reference.",
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument("runs", nargs="+", help="run folders or training scripts; the first is the reference")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.add_argument("--plot", metavar="PNG", help="write the overlay plot to this PNG")
    parser.add_argument("--max-rows", type=int, default=2_000_000, help="read at most this many rows per CSV")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from pai_core.results.cli import emit, resolve_target
    from pai_core.results.compare import compare_runs

    try:
        comparison = compare_runs(
            [resolve_target(r) for r in args.runs], plot=args.plot, max_rows=args.max_rows
        )
    except ResultsError as error:
        print(f"pai compare: error: {error}", file=sys.stderr)
        return BAD_INPUT
    emit(comparison, as_json=args.json)
    return OK


if __name__ == "__main__":
    raise SystemExit(main())
