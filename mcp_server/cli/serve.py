"""`pai mcp` (also `pai-mcp`, `python -m mcp_server`): serve the pai tools over stdio (default) or streamable HTTP.

The server module is imported only after the arguments parse, so `--help` is instant. Nothing here writes
to stdout: on stdio that stream is the protocol.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from mcp_server.cli.exit_status import OK, CommandError

DESCRIPTION = ("MCP server for pai: analyze and perforate training scripts, diagnose tracebacks, analyze run "
               "folders. Register it in your assistant (see README) rather than running it by hand.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio",
                        help="stdio for local hosts (default); http serves streamable HTTP at /mcp")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument("--root", action="append", default=[], metavar="FOLDER",
                        help="folder the tools may read and edit (repeatable); default: the working directory. "
                        "A ceiling: roots the client declares can only narrow it, never widen it.")
    parser.add_argument("--no-code-execution", action="store_true",
                        help="leave out every tool that runs project code (today pai_export_model, which imports "
                        "the model file); they are not listed at all")
    parser.add_argument("--log-level", default="WARNING",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level (default WARNING)")


def no_project_imports() -> None:
    """`python -m mcp_server` puts the working directory (the user's project) first on sys.path: drop it, so no
    project file named like a module the server imports later (libcst.py, random.py) runs in the server. A
    source checkout run from its own folder keeps it: that is where pai itself lives."""
    home = os.path.realpath(Path(__file__).resolve().parents[2])
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != os.path.realpath(os.getcwd())
                   or os.path.realpath(p or ".") == home]


def run(args: argparse.Namespace) -> int:
    no_project_imports()  # before the server, codemods or pai_core are imported
    missing = next((root for root in args.root if not Path(root).expanduser().is_dir()), None)
    if missing is not None:  # stderr only: on stdio, stdout is the protocol
        raise CommandError(f"--root {missing} is not an existing folder; pass the project folder.")
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from mcp_server.server import create_server  # deferred: keeps --help instant

    server = create_server(roots=args.root, log_level=args.log_level, code_execution=not args.no_code_execution)
    try:
        if args.transport == "http":
            server.run("streamable-http", host=args.host, port=args.port)
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    return OK
