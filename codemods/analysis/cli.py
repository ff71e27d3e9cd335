"""`pai analyze-script PATH [--json]`: what a training script contains, before anything is changed."""

from __future__ import annotations

import argparse
import sys

from codemods.exit_status import BAD_INPUT, EXIT_STATUS_HELP, OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pai analyze-script",
        description="Statically analyze a PyTorch training script (never runs it): model and architecture, "
        "optimizer/scheduler, epoch loop, validation metric and direction, parallelism, training library and "
        "existing dendrite integration.",
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument("path", help="the training script (.py); local modules beside it are followed")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)

    from codemods.analysis import ScriptError, analyze_script

    try:
        report = analyze_script(args.path)
    except ScriptError as exc:
        print(f"pai analyze-script: {exc}", file=sys.stderr)
        return BAD_INPUT
    print(report.model_dump_json(indent=2) if args.json else report.to_text())
    return OK


if __name__ == "__main__":
    raise SystemExit(main())
