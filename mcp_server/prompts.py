"""Prompts for the three ways a user starts: perforate a model, debug a perforated model, analyze results.

Each prompt states the user's goal and points the assistant at the matching skill and tools; the skill
holds the full workflow, so the prompt text stays short and cannot drift far from it.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

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


def perforate_my_model(
    script: Annotated[str, Field(description="path of the training script, relative to the project")],
    goal: Annotated[str, Field(description="'accuracy' (default) or 'efficiency' (a smaller model)")] = "accuracy",
) -> str:
    return (
        f"Perforate my model: add artificial dendrites to {script}. My goal is {goal}.\n"
        "Follow the pai-setup skill (resource pai://skills/pai-setup). Start with pai:pai_analyze_script on the "
        "script, tell me what you found and which baseline number to record, show me the change with "
        "pai:pai_preview_perforation and apply it with pai:pai_apply_perforation only after I agree. The first "
        f"run is a capacity test (pai:pai_set_capacity_test). {_NEVER_RUN}"
    )


def debug_my_perforated_model(
    script: Annotated[str, Field(description="path of the perforated training script")],
    output: Annotated[str, Field(description="the traceback or log the run printed (may be empty)")] = "",
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
    run_folder: Annotated[str, Field(description="the run folder, named after save_name (default PAI)")],
    baseline: Annotated[str, Field(description="optional run folder of a baseline run to compare with")] = "",
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
