"""`pai check PATH...`: each finding of an integration with its line; status 1 when there are errors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mcp_server.cli.exit_status import BAD_INPUT, FINDINGS, OK
from mcp_server.cli.output import emit
from mcp_server.cli.perforate import located

DESCRIPTION = ("Verify a dendrite integration statically: components present, optimizer rebuilt on restructure, "
               "loop runs until complete, consistent metric direction...")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")


def run(args: argparse.Namespace) -> int:
    import libcst as cst

    from codemods.analysis import ScriptError
    from codemods.check import check_integration

    reports, status = [], OK
    for path in args.paths:
        try:
            report = check_integration(path if path.endswith((".py", ".pyw")) else Path(path))
        except (ScriptError, cst.ParserSyntaxError, OSError, UnicodeDecodeError) as error:
            emit(f"pai check: error: {located(path, error)}", file=sys.stderr)
            status = BAD_INPUT
            continue
        reports.append(report.model_dump())
        if report.errors and status == OK:
            status = FINDINGS
        if not args.json:
            for f in report.findings:
                where = f"{path}:{f.line}" if f.line else path
                emit(f"{where}: {f.code} {f.severity}: {f.message}")
            verdict = "OK" if report.ok else f"{len(report.errors)} error(s)"
            emit(f"{path}: {verdict}")
    if args.json:
        emit(json.dumps(reports, indent=2))
    return status
