"""`pai`: one front door for every capability of the project.

Each subcommand lives in the package that owns its logic and is imported only when it runs, so
`pai --help` and `pai --version` stay instant and never import torch. A subcommand module exposes
`main(argv: list[str]) -> int` and parses its own arguments (its `--help` shows them). What every command
shares is handled here once: arguments no path can be, a closed output pipe, Ctrl-C, and the exit statuses.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib import metadata

from codemods.exit_status import BAD_INPUT, CLOSED_PIPE, EXIT_STATUSES, INTERRUPTED

MAX_ARGUMENT = 4096  # PATH_MAX on Linux: no path or option value is longer

# name -> (module with a `main(argv)` function, one-line summary). Order is the order in `pai --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "analyze-script": ("codemods.analysis.cli", "Analyze a training script: model, optimizer, loop, metric, integration."),
    "perforate": ("codemods.cli", "Rewrite training scripts to train with dendrites (diff; --write to apply)."),
    "check": ("codemods.check_cli", "Verify a dendrite integration statically; findings with lines."),
    "diagnose": ("codemods.diagnosis.cli", "Explain a pasted traceback or log: likely cause, exact fix, lines."),
    "mcp": ("mcp_server.__main__", "Serve the MCP tools to a coding assistant (stdio, or --transport http)."),
    "install-skills": ("mcp_server.skillset.cli", "Copy the Claude skills into .claude/skills (--user: ~/.claude)."),
    "analyze-results": ("pai_core.results.cli", "Analyze a run folder: dendrite impact, problems, config changes."),
    "compare": ("pai_core.results.compare_cli", "Compare run folders (e.g. baseline vs dendrites): table + plot."),
    "demo": ("mcp_server.demo.cli", "Run the whole story on bundled digits data: analyze, perforate, train, analyze."),
    "export": ("pai_core.export_cli", "Export a run's best model, fused for inference: TorchScript, torch.export, ONNX."),
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv[:1])  # handles --help/--version and names an unknown command
        parser.print_help()
        return 0 if not argv else 2
    problem = next(filter(None, (_unusable(i, a) for i, a in enumerate(argv[1:], 1))), None)
    if problem:
        print(f"pai {argv[0]}: error: {problem}", file=sys.stderr)
        return BAD_INPUT
    module_name, _ = COMMANDS[argv[0]]
    try:
        command = importlib.import_module(module_name)
        status = int(command.main(argv[1:]) or 0)
        sys.stdout.flush()  # a closed pipe shows here rather than at interpreter exit
    except BrokenPipeError:  # `pai ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
    except KeyboardInterrupt:
        print(f"pai {argv[0]}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except OSError as error:  # a path the command could not use (no permission, a name too long, ...)
        where = f": {error.filename}" if error.filename else ""
        print(f"pai {argv[0]}: error: {error.strerror or error}{where}. Check the path and its permissions.",
              file=sys.stderr)
        return BAD_INPUT
    return status


def _unusable(position: int, argument: str) -> str | None:
    """Why an argument can be neither a path nor an option value, or None."""
    if "\x00" in argument:
        return f"argument {position} contains a NUL byte; pass the path or value without it"
    if len(argument) > MAX_ARGUMENT:
        return (f"argument {position} is {len(argument):,} characters long; paths and option values have at most "
                f"{MAX_ARGUMENT}")
    return None


if __name__ == "__main__":
    raise SystemExit(main())
