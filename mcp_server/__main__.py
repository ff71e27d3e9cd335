"""`pai-mcp` / `python -m mcp_server`: the `pai mcp` command under its own name (mcp_server.cli.serve)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from mcp_server.cli import run_command  # pai's own package: safe before serve drops the project's sys.path

    return run_command("mcp", sys.argv[1:] if argv is None else argv, prog="pai-mcp")


if __name__ == "__main__":
    raise SystemExit(main())
