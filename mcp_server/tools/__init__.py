"""The MCP tools: thin adapters from a validated request to one capability function of codemods or pai_core.

Each module registers the tools of one capability with `register(server, workspace)`. The capability is
imported inside the tool body, never at registration, so starting the server and listing tools stays fast
and torch-free; only the output models (pydantic, light) are imported up front, for the output schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from mcp.types import ToolAnnotations

T = TypeVar("T")


def read_only(title: str) -> ToolAnnotations:
    """Looks at files and answers; changes nothing, touches nothing outside the machine."""
    return ToolAnnotations(title=title, read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                           open_world_hint=False)


def edits_files(title: str) -> ToolAnnotations:
    """Rewrites a user's file in place (with a backup); running it twice changes nothing more."""
    return ToolAnnotations(title=title, read_only_hint=False, destructive_hint=True, idempotent_hint=True,
                           open_world_hint=False)


async def in_worker(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking capability (libcst, pandas, matplotlib) off the event loop."""
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))
