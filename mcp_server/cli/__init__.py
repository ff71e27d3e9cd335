"""`pai`: one front door for every capability of the project.

Every subcommand is a module of this package holding its whole presentation: `DESCRIPTION` (and an optional
`EPILOG`), `add_arguments(parser)` and `run(args) -> int`. It is imported only when it runs and imports the
package that does the work (codemods, pai_core, mcp_server) inside `run`, so `pai --help` and `pai --version`
stay instant and never import torch. What every command shares is decided here once: arguments no path can
be, the error line (`pai COMMAND: error: ...` on stderr, from `CommandError` or an unusable path), a closed
output pipe, Ctrl-C, and the exit statuses of `exit_status.EXIT_STATUSES`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib import metadata

from mcp_server.cli.exit_status import (
    BAD_INPUT,
    CLOSED_PIPE,
    EXIT_STATUS_HELP,
    EXIT_STATUSES,
    INTERRUPTED,
    CommandError,
)
from mcp_server.cli.output import emit

MAX_ARGUMENT = 4096  # PATH_MAX on Linux: no path or option value is longer

# name -> (module of this package, one-line summary). Order is the order in `pai --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "analyze-script": ("analyze_script", "Analyze a training script: model, optimizer, loop, metric, integration."),
    "perforate": ("perforate", "Rewrite training scripts to train with dendrites (diff; --write to apply)."),
    "migrate": ("migrate", "Rewrite a 2024-API script (pb_globals, pb_utils) to the current API."),
    "check": ("check", "Verify a dendrite integration statically; findings with lines."),
    "diagnose": ("diagnose", "Explain a pasted traceback or log: likely cause, exact fix, lines."),
    "config": ("config", "Explain, list or recommend configuration options (GPA.pc.set_...)."),
    "mcp": ("serve", "Serve the MCP tools to a coding assistant (stdio, or --transport http)."),
    "install-skills": ("install_skills", "Copy the Claude skills into .claude/skills (--user: ~/.claude)."),
    "analyze-results": ("analyze_results", "Analyze a run folder: dendrite impact, problems, config changes."),
    "compare": ("compare", "Compare run folders (e.g. baseline vs dendrites): table + plot."),
    "demo": ("demo", "Run the whole story on bundled digits data: analyze, perforate, train, analyze."),
    "export": ("export", "Export a run's best model, fused for inference: TorchScript, torch.export, ONNX."),
}


def _version() -> str:
    try:
        return metadata.version("pai")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def _parser() -> argparse.ArgumentParser:
    width = max((len(name) for name in COMMANDS), default=0)
    listing = "\n".join(f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items())
    statuses = "\n".join(f"  {code:<3}  {meaning}" for code, meaning in EXIT_STATUSES.items())
    parser = argparse.ArgumentParser(
        prog="pai",
        description="Artificial dendrites for PyTorch: perforate models, rewrite training scripts, "
        "diagnose failures and analyze runs.",
        epilog=f"commands:\n{listing}\n\nexit status (the same for every command):\n{statuses}\n\n"
        "Run `pai COMMAND --help` for the options of one command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pai {_version()}")
    parser.add_argument("command", nargs="?", choices=list(COMMANDS), metavar="COMMAND", help=argparse.SUPPRESS)
    return parser


def command_parser(name: str, prog: str | None = None) -> tuple[argparse.ArgumentParser, object]:
    """The parser of one subcommand and its module: its own options, its epilog, then the exit-status table."""
    module = importlib.import_module(f"{__name__}.{COMMANDS[name][0]}")
    epilog = getattr(module, "EPILOG", "")
    parser = argparse.ArgumentParser(
        prog=prog or f"pai {name}", description=module.DESCRIPTION,
        epilog=f"{epilog}\n\n{EXIT_STATUS_HELP}" if "\n" in epilog else f"{epilog} {EXIT_STATUS_HELP}".lstrip(),
        formatter_class=argparse.RawDescriptionHelpFormatter if "\n" in epilog else argparse.HelpFormatter)
    module.add_arguments(parser)
    return parser, module


def run_command(name: str, argv: list[str], prog: str | None = None) -> int:
    """Parse and run one subcommand under the shared error and exit-status policy."""
    prog = prog or f"pai {name}"
    problem = next(filter(None, (_unusable(i, a) for i, a in enumerate(argv, 1))), None)
    if problem:
        emit(f"{prog}: error: {problem}", file=sys.stderr)
        return BAD_INPUT
    parser, module = command_parser(name, prog)
    args = parser.parse_args(argv)
    try:
        status = int(module.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here rather than at interpreter exit
    except CommandError as error:
        emit(f"{prog}: error: {error}", file=sys.stderr)
        return error.status
    except BrokenPipeError:  # `pai ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
    except KeyboardInterrupt:
        emit(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except OSError as error:  # a path the command could not use (no permission, a name too long, ...)
        where = f": {error.filename}" if error.filename else ""
        emit(f"{prog}: error: {error.strerror or error}{where}. Check the path and its permissions.",
              file=sys.stderr)
        return BAD_INPUT
    return status


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        parser = _parser()
        parser.parse_args(argv[:1])  # handles --help/--version and names an unknown command
        parser.print_help()
        return 0 if not argv else 2
    return run_command(argv[0], argv[1:])


def _unusable(position: int, argument: str) -> str | None:
    """Why an argument can be neither a path nor an option value, or None."""
    if "\x00" in argument:
        return f"argument {position} contains a NUL byte; pass the path or value without it"
    if len(argument) > MAX_ARGUMENT:
        return (f"argument {position} is {len(argument):,} characters long; paths and option values have at most "
                f"{MAX_ARGUMENT}")
    return None
