"""`pai`: one front door for every capability of the project.

Each subcommand lives in the package that owns its logic and is imported only when it runs, so
`pai --help` and `pai --version` stay instant and never import torch. A subcommand module exposes
`main(argv: list[str]) -> int` and parses its own arguments (its `--help` shows them).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib import metadata

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
    parser = argparse.ArgumentParser(
        prog="pai",
        description="Artificial dendrites for PyTorch: perforate models, rewrite training scripts, "
        "diagnose failures and analyze runs.",
        epilog=f"commands:\n{listing}\n\nRun `pai COMMAND --help` for the options of one command.",
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
    module_name, _ = COMMANDS[argv[0]]
    command = importlib.import_module(module_name)
    return int(command.main(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
