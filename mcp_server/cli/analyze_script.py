"""`pai analyze-script PATH [--json]`: what a training script contains, before anything is changed."""

from __future__ import annotations

import argparse

from mcp_server.cli.exit_status import OK, CommandError
from mcp_server.cli.output import emit

DESCRIPTION = ("Statically analyze a PyTorch training script (never runs it): model and architecture, "
               "optimizer/scheduler, epoch loop, validation metric and direction, parallelism, training library "
               "and existing dendrite integration.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the training script (.py); local modules beside it are followed")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")


def run(args: argparse.Namespace) -> int:
    from codemods.analysis import ScriptError, analyze_script

    try:
        report = analyze_script(args.path)
    except ScriptError as error:
        raise CommandError(str(error)) from None
    emit(report.model_dump_json(indent=2) if args.json else report.to_text())
    return OK
