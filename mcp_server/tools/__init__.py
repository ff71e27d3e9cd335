"""The MCP tools: thin adapters from a validated request to one capability function of codemods or pai_core.

Each module registers the tools of one capability with `register(server, workspace, ...)`. The capability is
imported inside the tool body (or in a worker process), never at registration, so starting the server and
listing tools stays fast and torch-free; only the output models (pydantic, light) are imported up front, for
the output schemas. Work on untrusted input (parsing a script, reading run logs) runs in `Workers`, never in
the server process.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from mcp_server.isolation import IsolatedError, WorkerPool
from mcp_server.workspace import WORKER_MEMORY_MB, WORKER_TIMEOUT_S

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


class Workers:
    """The server's pool of warm worker processes, started by the first call that needs one.

    A capability runs there as `package.module:function` (our code only). What it raises for bad input
    (`expected`, e.g. ScriptError) reaches the model as its own message; a crash, a timeout or a memory hog
    kills that worker, comes back as a ToolError saying what happened, and the next call gets a fresh one.
    """

    def __init__(self, **pool_options: Any) -> None:
        self._options = {"size": 2, "timeout_s": WORKER_TIMEOUT_S, "memory_mb": WORKER_MEMORY_MB, **pool_options}
        self._pool: WorkerPool | None = None

    async def run(self, what: str, target: str, /, *args: Any, advice: str,
                  expected: tuple[type[BaseException], ...] = (), **kwargs: Any) -> Any:
        """Call `target` in a worker. `what` names the work ("analyzing train.py") and `advice` says what to
        pass instead, in the message of a call that had to be stopped."""
        if self._pool is None:
            self._pool = WorkerPool(**self._options)
        try:
            return await self._pool.call(target, *args, **kwargs)
        except IsolatedError as error:
            raise ToolError(f"Stopped {what}: {error}. {advice} The server is fine and the next call works.") from None
        except ToolError:
            raise
        except expected as error:
            raise ToolError(str(error)) from None
        except Exception as error:  # noqa: BLE001 - a bug met on this input: say so rather than crash the call
            raise ToolError(
                f"Internal error while {what}: {type(error).__name__}: {error}. This is a bug in pai; report it "
                "with the input. The server is fine and the next call works."
            ) from None

    async def aclose(self) -> None:
        if self._pool is not None:
            with anyio.CancelScope(shield=True):  # the server is stopping: finish killing the workers
                await self._pool.aclose()
