"""Prompts for the three ways a user starts: perforate a model, debug a perforated model, analyze results.

Each prompt states the user's goal and points the assistant at the matching skill and tools; the skill
holds the full workflow, so the prompt text stays short and cannot drift far from it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, Prompt
from pydantic import Field, ValidationError

from mcp_server.workspace import MAX_PATH_CHARS, MAX_TEXT_CHARS

PathText = Annotated[str, Field(max_length=MAX_PATH_CHARS)]
_NEVER_RUN = ("Do not run my training script yourself: tell me what to run and I will paste the output.")


def register(server: MCPServer) -> None:
    server.prompt(name="perforate_my_model", title="Perforate my model",
                  description="Add artificial dendrites to a PyTorch training script, step by step.")(
        perforate_my_model)
    server.prompt(name="debug_my_perforated_model", title="Debug my perforated model",
                  description="Find and fix why a perforated training script crashes or adds no dendrites.")(
        debug_my_perforated_model)
    server.prompt(name="analyze_my_perforated_results", title="Analyze my perforated results",
                  description="Read a finished run folder and say what the dendrites did and what to try next.")(
        analyze_my_perforated_results)


def check_arguments(prompt: Prompt | None, name: str, arguments: dict[str, Any] | None) -> None:
    """Refuse an unknown prompt, a missing required argument or an unknown one before rendering."""
    if prompt is None:
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt {name[:100]!r}. The prompts are: "
                       "perforate_my_model, debug_my_perforated_model, analyze_my_perforated_results.")
    given = set(arguments or {})
    expected = {argument.name: argument for argument in prompt.arguments or []}
    missing = [arg for arg, spec in expected.items() if spec.required and arg not in given]
    unknown = sorted(given - set(expected))
    if missing or unknown:
        problem = " and ".join([*([f"needs the argument {', '.join(missing)}"] if missing else []),
                                *([f"has no argument {', '.join(a[:100] for a in unknown)}"] if unknown else [])])
        usage = ", ".join(f"{arg} ({spec.description})" + ("" if spec.required else " optional")
                          for arg, spec in expected.items())
        raise MCPError(code=INVALID_PARAMS, message=f"Prompt {name} {problem}. Pass: {usage}.")


def invalid_arguments(name: str, error: BaseException) -> MCPError:
    """The rendering error as invalid params: a bad value (e.g. too long) is the only way rendering fails."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ValidationError):
        cause = cause.__cause__
    if cause is None:
        return MCPError(code=INVALID_PARAMS, message=f"Prompt {name} could not be rendered: {error}")
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in cause.errors())
    return MCPError(code=INVALID_PARAMS, message=f"Prompt {name} got an invalid argument ({problems}). Pass a "
                    "project-relative path and at most the tail of the output.")


def perforate_my_model(
    script: Annotated[PathText, Field(description="path of the training script, relative to the project")],
    goal: Annotated[Literal["accuracy", "efficiency"], Field(
        description="'accuracy' (default) or 'efficiency' (a smaller model)")] = "accuracy",
) -> str:
    return (
        f"Perforate my model: add artificial dendrites to {script}. My goal is {goal}.\n"
        "Follow the pai-setup skill (resource pai://skills/pai-setup). Start with pai:pai_analyze_script on the "
        "script, tell me what you found and which baseline number to record, show me the change with "
        "pai:pai_preview_perforation and apply it with pai:pai_apply_perforation only after I agree. The first "
        f"run is a capacity test (pai:pai_set_capacity_test). {_NEVER_RUN}"
    )


def debug_my_perforated_model(
    script: Annotated[PathText, Field(description="path of the perforated training script")],
    output: Annotated[str, Field(description="the traceback or log the run printed (may be empty)",
                                 max_length=MAX_TEXT_CHARS)] = "",
) -> str:
    pasted = f"\nHere is what the run printed:\n```\n{output}\n```\n" if output.strip() else (
        "\nAsk me for the full output of the failing run before you guess.\n")
    return (
        f"Debug my perforated model in {script}.{pasted}"
        "Follow the pai-debugging skill (resource pai://skills/pai-debugging): call "
        "pai:pai_diagnose_traceback with the output and the script, then pai:pai_check_integration on the "
        f"script, explain the cause with the lines involved, and propose the smallest fix. {_NEVER_RUN}"
    )


def analyze_my_perforated_results(
    run_folder: Annotated[PathText, Field(description="the run folder, named after save_name (default PAI)")],
    baseline: Annotated[PathText, Field(description="optional run folder of a baseline run to compare with")] = "",
) -> str:
    compare = (f" Compare it with the baseline in {baseline} using pai:pai_compare_runs." if baseline.strip()
               else "")
    return (
        f"Analyze my perforated results in {run_folder}.{compare}\n"
        "Follow the pai-results-analysis skill (resource pai://skills/pai-results-analysis): call "
        "pai:pai_analyze_run, look at the graph, then tell me plainly whether the dendrites helped, by how "
        "much for how many extra parameters, and the one or two config changes worth trying next "
        "(pai:pai_explain_config_option for the details of each)."
    )
