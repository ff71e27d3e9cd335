"""The tools' worker pool: what a worker does wrong reaches the model as a ToolError saying what happened and
what to do, and the next call on the same pool works."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from codemods.analysis.errors import ScriptError
from codemods.analysis.report import ScriptReport
from mcp_server.tools import Workers

pytestmark = pytest.mark.anyio

# Standard-library functions stand in for an input that hangs, crashes or floods memory in native code.
ALLOWED = ("codemods.", "time:", "faulthandler:", "builtins:")
ADVICE = "Pass the training script."
SCRIPT = "import torch\nmodel = torch.nn.Linear(2, 2)\n"


@pytest.fixture
async def workers():
    pool = Workers(size=1, timeout_s=20, memory_mb=512, allowed=ALLOWED)
    yield pool
    await pool.aclose()


async def _still_works(workers: Workers) -> None:
    report = await workers.run("analyzing a script", "codemods.analysis:analyze_source", SCRIPT, advice=ADVICE)
    assert isinstance(report, ScriptReport) and report.line_count == 2


@pytest.mark.parametrize(("target", "args", "happened"), [
    ("time:sleep", (60,), "longer than the 1 s limit"),
    ("faulthandler:_sigsegv", (), "crashed (SIGSEGV)"),
    ("builtins:bytearray", (2 * 1024**3,), "more than the 512 MB memory limit"),
])
async def test_a_hang_a_crash_or_a_memory_hog_is_a_tool_error_and_the_pool_recovers(workers, target, args, happened):
    await _still_works(workers)
    with pytest.raises(ToolError) as caught:
        await workers.run("analyzing train.py", target, *args, timeout_s=1, advice=ADVICE)
    message = str(caught.value)
    assert message.startswith("Stopped analyzing train.py: ")
    assert happened in message and ADVICE in message and "next call works" in message
    await _still_works(workers)


async def test_bad_input_keeps_its_own_message_and_a_bug_says_so(workers):
    with pytest.raises(ToolError, match="^<string>:1: cannot parse the script"):
        await workers.run("analyzing a script", "codemods.analysis:analyze_source", "def f(:\n",
                          advice=ADVICE, expected=(ScriptError,))
    with pytest.raises(ToolError, match="Internal error while analyzing a script: AttributeError: .*bug in pai"):
        await workers.run("analyzing a script", "codemods.analysis:analyze_source", 12345, advice=ADVICE)
    await _still_works(workers)
