"""How a `pai` command writes: its results to stdout, its messages to stderr.

The one place in mcp_server that writes to stdout. The MCP server speaks the protocol on stdout and never
calls it; every `pai` subcommand does, so output policy stays in one spot.
"""
from __future__ import annotations

import sys
from typing import Any, TextIO


def emit(*values: Any, file: TextIO | None = None, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
    """Write `values` like print() would, to stdout unless `file` says otherwise."""
    stream = sys.stdout if file is None else file
    stream.write(sep.join(str(value) for value in values))
    stream.write(end)  # as print() does: a reader that closed early shows on this write too
    if flush:
        stream.flush()
