"""Script tools: analyze a training script, preview and apply the perforation, toggle the capacity test,
check an integration, migrate a 2024-API script. Each one resolves the path inside the roots, then calls one
codemods function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from codemods.analysis.errors import ScriptError
from codemods.analysis.report import ScriptReport
from codemods.check import CheckReport
from codemods.migrate import MigrateResult
from codemods.perforate import PerforateResult
from mcp_server.tools import Workers, edits_files, read_only
from mcp_server.workspace import MAX_PATH_CHARS, Workspace

ScriptPath = Annotated[str, Field(description="path of the training script (.py), relative to the project "
                                  "folder or absolute inside it", min_length=1, max_length=MAX_PATH_CHARS)]
PERFORATE = "codemods.perforate:perforate_file"
MIGRATE = "codemods.migrate:migrate_file"
SCRIPT_ADVICE = ("Such a file is not a training script as written by hand (generated code, data, very deep nesting): "
                 "pass the script that builds the model and runs the training loop.")
Backend = Annotated[Literal["pai_core", "perforatedai"], Field(
    description="library the rewritten script imports: pai_core (this project) or upstream perforatedai")]
SaveName = Annotated[str | None, Field(description="run folder name passed to perforate_model; default: "
                                       "derived from the script name", max_length=100)]
KeepForLoop = Annotated[bool, Field(description="keep the `for epoch in ...` header (given a large bound) "
                                    "instead of converting the loop to `while True` ending on training_complete")]
ExtraScores = Annotated[bool, Field(description="also evaluate on the script's test loader each epoch and record "
                                    "it as the 'test' extra score. Without it, the train metric is recorded as "
                                    "'train' only when the train step already returns one of the validation "
                                    "metric's kind (accuracy or loss); no extra pass is added for it")]
ModelVar = Annotated[str | None, Field(description="the variable holding the model to perforate when the script "
                                   "builds several (e.g. netG of a GAN); default: the one the validation metric measures",
                                   max_length=100)]


def register(server: MCPServer, workspace: Workspace, workers: Workers) -> None:
    locks: dict[Path, anyio.Lock] = {}

    async def run(doing: str, script: Path, target: str, /, *args, **kwargs):
        """The codemods call in a worker: a script that crashes or floods the parser never reaches the server."""
        return await workers.run(f"{doing} {script.name}", target, script, *args, advice=SCRIPT_ADVICE,
                                 expected=(ScriptError,), **kwargs)

    def lock_for(path: Path) -> anyio.Lock:
        """One writer per file: two edits of the same script never interleave."""
        return locks.setdefault(path, anyio.Lock())

    @server.tool(name="pai_analyze_script", annotations=read_only("Analyze a training script"))
    async def pai_analyze_script(path: ScriptPath, ctx: Context) -> ScriptReport:
        """Read a PyTorch training script without running it and report what a dendrite integration needs:
        model classes and architecture, recommended config, optimizer and scheduler, epoch loop, validation
        metric and its direction, DataParallel/DDP/Accelerate, HF Trainer/Lightning, and which integration steps are
        already present or missing (with line numbers). Call this first."""
        script = workspace.script(path, await workspace.roots(ctx))
        return await run("analyzing", script, "codemods.analysis:analyze_script")

    @server.tool(name="pai_check_integration", annotations=read_only("Check an integration"))
    async def pai_check_integration(path: ScriptPath, ctx: Context) -> CheckReport:
        """Verify a perforated script without running it: every required piece present, in the right place
        and consistent (tracker called, optimizer rebuilt after a restructure, loop ending on
        training_complete, maximizing_score matching the metric, extra scores before add_validation_score,
        scheduler not stepped twice). Findings carry a code, severity and line."""
        script = workspace.script(path, await workspace.roots(ctx))
        return await run("checking", script, "codemods.check:check_integration")

    @server.tool(name="pai_preview_perforation", annotations=read_only("Preview the perforation diff"))
    async def pai_preview_perforation(
        path: ScriptPath,
        ctx: Context,
        backend: Backend = "pai_core",
        save_name: SaveName = None,
        keep_for_loop: KeepForLoop = False,
        extra_scores: ExtraScores = False,
        model_var: ModelVar = None,
    ) -> PerforateResult:
        """Show, as a unified diff, how the script would be rewritten to train with dendrites (imports,
        config block, perforate_model, optimizer registration, validation hookup with the restructure branch,
        a loop that runs until training is complete; a re-wrap under DDP and DataParallel, `prepare` again in
        Accelerate loops; the pai callback for HF
        Trainer and Lightning scripts). Writes nothing. `refused` is true when no complete integration can be written
        (FSDP/DeepSpeed, a step that cannot be placed, several models and no `model_var`, a rewrite `pai check`
        would flag): the findings say which step and what to do by hand."""
        script = workspace.script(path, await workspace.roots(ctx))
        return await run("previewing the perforation of", script, PERFORATE, write=False, backend=backend,
                         save_name=save_name, keep_for_loop=keep_for_loop, extra_scores=extra_scores,
                         model_var=model_var)

    @server.tool(name="pai_apply_perforation", annotations=edits_files("Apply the perforation"))
    async def pai_apply_perforation(
        path: ScriptPath,
        ctx: Context,
        backend: Backend = "pai_core",
        save_name: SaveName = None,
        keep_for_loop: KeepForLoop = False,
        extra_scores: ExtraScores = False,
        model_var: ModelVar = None,
    ) -> PerforateResult:
        """Rewrite the script in place to train with dendrites: the same change pai_preview_perforation
        shows (call that first and get the user's agreement). The write is atomic and the original is kept
        as `<script>.orig`; on an already perforated script nothing changes."""
        script = workspace.script(path, await workspace.roots(ctx))
        async with lock_for(script):
            result = await run("perforating", script, PERFORATE, write=True, backup=True, backend=backend,
                               save_name=save_name, keep_for_loop=keep_for_loop, extra_scores=extra_scores,
                               model_var=model_var)
        if result.refused:
            reasons = " ".join(f.message for f in result.findings if f.severity == "error")
            raise ToolError(f"{script.name} was left unchanged: {reasons or 'unsupported setup'} Integrate by "
                            "hand following the matching skill (pai-distributed, pai-hf-trainer or pai-lightning).")
        return result

    @server.tool(name="pai_set_capacity_test", annotations=edits_files("Toggle the capacity test"))
    async def pai_set_capacity_test(
        path: ScriptPath,
        enabled: Annotated[bool, Field(description="true for the quick smoke test (a dendrite every epoch, "
                                       "stop after three), false for the real experiment")],
        ctx: Context,
    ) -> PerforateResult:
        """Turn the dendrite capacity test on or off in a perforated script
        (GPA.pc.set_testing_dendrite_capacity). Run the capacity test first; turn it off once the user
        reports the success message. Edits the file atomically, keeping `<script>.orig`."""
        script = workspace.script(path, await workspace.roots(ctx))
        async with lock_for(script):
            result = await run("setting the capacity test in", script, "codemods.perforate:set_capacity_test",
                               enabled, write=True, backup=True)
        skipped = [f.message for f in result.errors]
        if not result.changed and skipped:
            raise ToolError(f"{script.name} was left unchanged: {' '.join(skipped)}. From the assistant: show "
                            "pai_preview_perforation and apply it with pai_apply_perforation first.")
        return result

    @server.tool(name="pai_migrate_script", annotations=edits_files("Migrate a 2024-API script"))
    async def pai_migrate_script(
        path: ScriptPath,
        ctx: Context,
        apply: Annotated[bool, Field(description="false (default): only show the diff; true: rewrite the file "
                                     "(atomically, keeping `<script>.orig`) after the user agreed to the diff")] = False,
    ) -> MigrateResult:
        """Rewrite a script of the 2024 camelCase API (`pb_globals as PBG`, `pb_utils as PBU`, `pb_models as PBM`,
        `globalsFile as gf`: `PBG.nEpochsToSwitch = 10`, `PBU.initializePB`, `PBG.pbTracker.addValidationScore`)
        to today's names (`GPA.pc.set_n_epochs_to_switch(10)`, `UPA.perforate_model`,
        `GPA.pai_tracker.add_validation_score`), including the older four-value return shape. Call it with
        apply=false first and show the diff; do this before any other change when pai_analyze_script reports
        `integration.old_api`. `refused` is true when a name cannot be mapped: the findings name each one with its
        line, and apply leaves the file untouched and answers with an error."""
        script = workspace.script(path, await workspace.roots(ctx))
        async with lock_for(script):
            result = await run("migrating" if apply else "previewing the migration of", script, MIGRATE,
                               write=apply, backup=True)
        if apply and result.refused:
            reasons = " ".join(f"line {f.line}: {f.message}." for f in result.findings)
            raise ToolError(f"{script.name} was left unchanged: {reasons}")
        return result
