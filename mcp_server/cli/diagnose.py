"""`pai diagnose`: read a pasted traceback or log (file or stdin) and print the likely cause and fix."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcp_server.cli.exit_status import FINDINGS, OK, CommandError
from mcp_server.cli.output import emit

MAX_READ = 50_000_000  # bytes; diagnose() itself keeps only the tail

DESCRIPTION = ("Explain a traceback or console log of a failing perforated run: likely cause, exact fix, the "
               "lines of your script involved, and how sure the diagnosis is. Offline and deterministic.")
EPILOG = ("When the log is not recognised a checklist is printed (status 1). A --script the analysis cannot read "
          "is named in one warning line and the diagnosis goes on with a line scan of it.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", default="-",
                        help="file holding the pasted text, or - for stdin (default)")
    parser.add_argument("--script", type=Path, help="the training script, to point at lines and weigh causes")
    parser.add_argument("--json", action="store_true", help="print the Diagnosis model as JSON")


def _read(source: str) -> str:
    if source == "-":
        if sys.stdin.isatty():
            raise CommandError("paste the traceback on stdin (end with Ctrl-D) or pass a FILE")
        return sys.stdin.read(MAX_READ)
    path = Path(source)
    if not path.is_file():
        raise CommandError(f"{path} is not a file; pass the file holding the traceback, or - for stdin")
    with path.open("rb") as fh:
        size = path.stat().st_size
        if size > MAX_READ:
            fh.seek(size - MAX_READ)
        return fh.read().decode("utf-8", errors="replace")


def run(args: argparse.Namespace) -> int:
    from codemods.diagnosis import diagnose

    text = _read(args.file)
    if args.script is not None and not args.script.is_file():
        raise CommandError(f"--script {args.script} is not a file; pass the path of your training script")
    try:
        result = diagnose(text, script=args.script)
    except ValueError as error:
        raise CommandError(str(error)) from None
    emit(result.model_dump_json(indent=2) if args.json else result.to_text())
    return OK if result.recognised else FINDINGS
