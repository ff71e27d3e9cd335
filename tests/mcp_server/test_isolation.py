"""The worker pool: a crash, a hang or a memory hog in a child is one caller's error, and the next call works."""

from __future__ import annotations

import os

import pytest

from mcp_server.isolation import IsolatedError, WorkerPool, run_in_fresh_process

pytestmark = pytest.mark.anyio

# Functions from the standard library stand in for work that misbehaves; the pool only runs what it allows.
TEST_TARGETS = ("codemods.", "faulthandler:", "time:", "os:", "operator:", "builtins:")


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def pool():
    workers = WorkerPool(size=1, timeout_s=10, memory_mb=512, allowed=TEST_TARGETS)
    yield workers
    await workers.aclose()


async def test_result_comes_back_and_the_worker_is_reused(pool):
    assert await pool.call("operator:add", 2, 3) == 5
    first = await pool.call("os:getpid")
    assert first != os.getpid()  # it ran in a child
    assert await pool.call("os:getpid") == first  # warm worker reused


async def test_an_exception_travels_back_as_itself(pool):
    with pytest.raises(ZeroDivisionError):
        await pool.call("operator:truediv", 1, 0)
    assert await pool.call("operator:add", 1, 1) == 2


async def test_a_native_crash_is_reported_and_the_worker_replaced(pool):
    before = await pool.call("os:getpid")
    with pytest.raises(IsolatedError, match="crashed"):
        await pool.call("faulthandler:_sigsegv")
    after = await pool.call("os:getpid")
    assert after != before


async def test_time_limit_kills_the_call(pool):
    with pytest.raises(IsolatedError, match="longer than the 0.5 s limit"):
        await pool.call("time:sleep", 30, timeout_s=0.5)
    assert await pool.call("operator:add", 1, 2) == 3


async def test_memory_limit_stops_a_hog(pool):
    with pytest.raises((IsolatedError, MemoryError)):
        await pool.call("builtins:bytearray", 4 * 1024**3)
    assert await pool.call("operator:add", 2, 2) == 4


async def test_anything_but_allowed_code_is_refused_before_a_child_sees_it():
    default = WorkerPool()
    for target in ("os:system", "subprocess:getoutput", "builtins:exec", "nocolon"):
        with pytest.raises(ValueError, match="refusing"):
            await default.call(target, "touch marker")
    with pytest.raises(ValueError, match="refusing"):
        await run_in_fresh_process("os:system", "true", timeout_s=5)


async def test_fresh_process_answers_in_json_and_errors_carry_their_class_names(tmp_path):
    missing = tmp_path / "nope.py"
    with pytest.raises(IsolatedError) as raised:
        await run_in_fresh_process("codemods.analysis.source:read_script", missing, timeout_s=30)
    assert "ScriptError" in raised.value.kinds and "nope.py" in str(raised.value)


async def test_fresh_process_runs_our_function_and_reports_a_crash(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import torch\nmodel = torch.nn.Linear(2, 2)\n", encoding="utf-8")
    assert await run_in_fresh_process("codemods.analysis.source:read_script", script, timeout_s=30) == (
        script.read_text(encoding="utf-8"))
    with pytest.raises(IsolatedError, match="longer than"):
        await run_in_fresh_process("codemods.analysis.source:read_script", script, timeout_s=0.001)
