"""Run work that untrusted input can crash or exhaust in a child process, so no input takes the server down.

libcst's native parser can overflow its stack on a crafted script, a huge file can take minutes and
gigabytes, and exporting a model imports the user's model file (its top-level code runs). None of that may
happen in the server process. A `WorkerPool` keeps a few warm child processes (`python -m
mcp_server.isolation`); each call gets a time limit, and each child an address-space limit, and a child
that crashes, times out or runs out of memory is killed and replaced, its caller told why in one sentence.
`run_in_fresh_process` does the same in a child used once, for work that must not leave anything behind
(user code imported by an export).

The target is always one of *our* functions named as "package.module:function" by the tool code, never a
string a client sent; arguments cross the pipe pickled, results pickled from the pool's workers (which parse but
never run user code) and as JSON from a fresh process (which may run it).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import struct
import sys
from collections.abc import Sequence
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

__all__ = ["IsolatedError", "WorkerPool", "run_in_fresh_process"]

_HEADER = struct.Struct("!Q")
_NO_LIMIT = 0
OUR_CODE = ("codemods.", "pai_core.", "mcp_server.")


def _check_target(target: str, allowed: Sequence[str]) -> None:
    """Defence in depth: only our own functions are ever sent to a child."""
    module_name, _, name = target.partition(":")
    if not name or not name.isidentifier() or not target.startswith(tuple(allowed)):
        raise ValueError(f"refusing to run {target!r} in a worker: not one of {', '.join(allowed)}")


class IsolatedError(Exception):
    """The isolated call did not return: it raised, crashed, ran out of time or of memory. The text says which.

    `kinds` names the classes of an exception the work raised (its MRO, e.g. ["ExportError", "PAIError", ...])
    when it came back as text; empty when the process itself failed.
    """

    def __init__(self, message: str, kinds: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.kinds = tuple(kinds)


class _Worker:
    """One child process and the two ends of its pipe."""

    def __init__(self, process: Process, wire: str) -> None:
        self.process = process
        self.wire = wire
        self.reader = BufferedByteReceiveStream(process.stdout)  # type: ignore[arg-type]

    @classmethod
    async def start(cls, memory_mb: int, wire: str = "pickle") -> _Worker:
        # -P: the working directory (the user's project) is not on sys.path, so a project file named like a module
        # we import (libcst.py, random.py) never runs in a worker; -B: no bytecode written into the project.
        command = [sys.executable, "-P", "-B", "-m", "mcp_server.isolation", str(memory_mb), wire]
        return cls(await anyio.open_process(command, stdin=-1, stdout=-1, stderr=None), wire)

    async def call(self, target: str, args: Sequence[Any], kwargs: dict[str, Any], timeout_s: float) -> Any:
        payload = pickle.dumps((target, tuple(args), kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with anyio.fail_after(timeout_s):
                await self.process.stdin.send(_HEADER.pack(len(payload)) + payload)  # type: ignore[union-attr]
                (size,) = _HEADER.unpack(await self.reader.receive_exactly(_HEADER.size))
                reply = await self.reader.receive_exactly(size)
                status, value = json.loads(reply) if self.wire == "json" else pickle.loads(reply)
        except TimeoutError:
            await self.kill()
            raise IsolatedError(f"it took longer than the {timeout_s:g} s limit") from None
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError, OSError):
            raise IsolatedError(await self._death()) from None
        if status == "ok":
            return value
        if status == "raised":
            raise value
        if isinstance(value, dict):  # the JSON wire: an exception as its class names and text
            raise IsolatedError(value["message"], value["kinds"])
        raise IsolatedError(value)

    async def _death(self) -> str:
        with anyio.move_on_after(5):
            await self.process.wait()
        await self.kill()
        code = self.process.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return f"the worker process crashed ({name})"
        return f"the worker process exited with status {code}"

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            with anyio.move_on_after(5):
                await self.process.wait()
        await self.process.aclose()

    @property
    def alive(self) -> bool:
        return self.process.returncode is None


class WorkerPool:
    """At most `size` warm workers; a call waits for a free one. Broken workers are replaced on the next call."""

    def __init__(self, *, size: int = 2, timeout_s: float = 30.0, memory_mb: int = 2048,
                 allowed: Sequence[str] = OUR_CODE) -> None:
        self.allowed = tuple(allowed)
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._idle: list[_Worker] = []
        self._slots = anyio.Semaphore(size)

    async def call(self, target: str, /, *args: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        _check_target(target, self.allowed)
        async with self._slots:
            worker = None
            while self._idle and worker is None:
                candidate = self._idle.pop()
                worker = candidate if candidate.alive else None
            worker = worker or await _Worker.start(self.memory_mb)
            try:
                result = await worker.call(target, args, kwargs, timeout_s or self.timeout_s)
            except IsolatedError:
                await worker.kill()  # never reuse a worker whose state is unknown
                raise
            except BaseException:
                self._idle.append(worker)  # the target raised: the worker itself is fine
                raise
            self._idle.append(worker)
            return result

    async def aclose(self) -> None:
        while self._idle:
            await self._idle.pop().kill()


async def run_in_fresh_process(target: str, /, *args: Any, timeout_s: float, memory_mb: int = _NO_LIMIT,
                               **kwargs: Any) -> Any:
    """Call `target` (one of our functions) in a child process started for this call alone and ended after it.

    For work that runs the user's code (importing a model file): its result comes back as JSON, never as a
    pickle, so nothing that code leaves in the pipe can run in the server. The target returns plain data (or an
    object with `to_dict()`); an exception comes back as an IsolatedError carrying its class names and text.
    """
    _check_target(target, OUR_CODE)
    worker = await _Worker.start(memory_mb, "json")
    try:
        return await worker.call(target, args, kwargs, timeout_s)
    finally:
        await worker.kill()


# ------------------------------------------------------------------------------------------------ the child
def _limit_memory(memory_mb: int) -> None:
    if memory_mb <= 0:
        return
    try:
        import resource
    except ImportError:  # not POSIX: the time limit still holds
        return
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _resolve(target: str) -> Any:
    import importlib

    module_name, _, name = target.partition(":")
    return getattr(importlib.import_module(module_name), name)


def _reply_for(error: BaseException) -> tuple[str, Any]:
    """The error itself when it pickles (ToolError, ScriptError ...), else its text."""
    try:
        pickle.loads(pickle.dumps(error))
        return "raised", error
    except Exception:  # noqa: BLE001 - anything that does not round-trip travels as text
        return "failed", f"{type(error).__name__}: {error}"


def _plain(value: Any) -> Any:
    return value.to_dict() if hasattr(value, "to_dict") else value


def _json_reply(reply: tuple[str, Any]) -> bytes:
    status, value = reply
    if status == "raised":
        status, value = "failed", {"kinds": [c.__name__ for c in type(value).__mro__], "message": str(value)}
    elif status == "failed":
        value = {"kinds": [], "message": value}
    return json.dumps([status, _plain(value) if status == "ok" else value]).encode()


def _serve(memory_mb: int, wire: str) -> None:
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the work prints (user code, libraries) goes to stderr, never into the pipe
    sys.stdout = sys.stderr
    protocol_in = sys.stdin.buffer
    _limit_memory(memory_mb)
    while True:
        header = protocol_in.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the server closed the pipe: it is done with us
        (size,) = _HEADER.unpack(header)
        target, args, kwargs = pickle.loads(protocol_in.read(size))
        try:
            reply: tuple[str, Any] = ("ok", _resolve(target)(*args, **kwargs))
        except MemoryError:
            reply = ("failed", f"it needed more than the {memory_mb} MB memory limit")
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the caller
            reply = _reply_for(error)
        try:
            data = _json_reply(reply) if wire == "json" else pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - a result that does not serialise
            failed = ("failed", f"the result could not be sent back: {error}")
            data = _json_reply(failed) if wire == "json" else pickle.dumps(failed)
        protocol_out.write(_HEADER.pack(len(data)) + data)
        protocol_out.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else _NO_LIMIT, sys.argv[2] if len(sys.argv) > 2 else "pickle")
