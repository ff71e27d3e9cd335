"""Is a rewrite a complete integration? `pai perforate` writes all of it or nothing.

The rewritten text is analysed again and checked in memory the way `pai check` checks a file. A required
step that is missing, or any error `pai check` reports, turns the rewrite into a refusal whose findings name
the step, why it could not be placed (the rule's own skip message when it gave one) and how to do it by hand.
"""

from __future__ import annotations

import libcst as cst

from codemods.rules._base import FRAMEWORKS
from codemods.rules.config_block import InsertConfigBlock
from codemods.rules.hf_trainer import AddTrainerCallback
from codemods.rules.imports import AddDendriteImports
from codemods.rules.lightning import AddLightningCallback
from codemods.rules.optimizer import ConvertOptimizer
from codemods.rules.perforate_model import PerforateModel
from codemods.rules.training_loop import ConvertTrainingLoop
from pai_core.findings import Finding

__all__ = ["integration_gaps"]

# step of the analysis (codemods.analysis.integration) -> (rule that places it, what to write by hand); the
# callback's rule is the framework's, in CALLBACK_RULES
RECIPES: dict[str, tuple[str, str]] = {
    "imports": (AddDendriteImports.CODE, "add `from pai_core import globals_perforatedai as GPA` and `from "
                "pai_core import utils_perforatedai as UPA` to the first import block"),
    "config": (InsertConfigBlock.CODE, "before the model is built, `GPA.pc.set_testing_dendrite_capacity(True)` "
               "plus the module names and output dimensions `pai analyze-script` recommends"),
    "perforate_model": (PerforateModel.CODE, "right after the model is built, before `.to(device)`, any wrapper "
                        "and the optimizer: `model = UPA.perforate_model(model, save_name=\"run\", "
                        "maximizing_score=...)`"),
    "optimizer_registration": (ConvertOptimizer.CODE, "replace the optimizer construction by "
                               "`GPA.pai_tracker.set_optimizer(<OptimizerClass>)` and `optimizer = "
                               "GPA.pai_tracker.setup_optimizer(model, {\"params\": model.parameters(), \"lr\": "
                               "...})`"),
    "add_validation_score": (ConvertTrainingLoop.CODE, "once per epoch, after validation: `model, restructured, "
                             "training_complete = GPA.pai_tracker.add_validation_score(score, model)`"),
    "restructure_optimizer_rebuild": (ConvertTrainingLoop.CODE, "right after add_validation_score: `if "
                                      "restructured:` run the same setup_optimizer call again (the old optimizer "
                                      "holds old parameters)"),
    "training_complete_break": (ConvertTrainingLoop.CODE, "`if training_complete: break` out of the epoch loop "
                                "(make it `while True:` so it does not end first)"),
    "callback": ("", "add the pai callback to the Trainer: `callbacks=[PAITrainerCallback(...)]` (HF) or "
                 "`callbacks=[PAILightningCallback(monitor=..., mode=...)]` (Lightning)"),
}
PLAIN_REQUIRED = ("imports", "config", "perforate_model", "optimizer_registration", "add_validation_score",
                  "restructure_optimizer_rebuild", "training_complete_break")
FRAMEWORK_REQUIRED = ("callback",)  # the callback perforates, registers and feeds the tracker itself
CALLBACK_RULES = {"huggingface_trainer": AddTrainerCallback.CODE, "lightning": AddLightningCallback.CODE}


def integration_gaps(new_source: str, module: cst.Module, filename: str,
                     not_made: dict[str, list[str]]) -> list[Finding]:
    """What keeps `new_source` from being a complete, `pai check`-clean integration (empty: it is one), as
    error findings of the rule that places each missing step.

    `not_made` maps a rule code to the reasons it gave for a change it did not make; they explain a missing step.
    """
    from codemods.analysis import analyze_source
    from codemods.analysis.facts import collect_facts
    from codemods.check import check_integration

    facts = collect_facts(module, filename)  # one pass over the rewrite, read by the analysis and the check
    report = analyze_source(new_source, filename=filename, facts=facts)
    gaps = []
    for step in _missing_steps(report):
        code, recipe = RECIPES[step]
        code = code or CALLBACK_RULES[report.training_library.kind]
        why = " ".join(not_made.get(code, ()))
        because = f": {why}" if why else ""
        gaps.append(Finding(code=code, severity="error", file=filename,
                            message=f"refused: the step `{step}` could not be placed{because}. By hand: {recipe}."))
    for finding in check_integration(new_source, filename=filename, report=report, facts=facts).errors:
        where = f" at line {finding.line} of the rewrite" if finding.line else ""
        gaps.append(Finding(code=finding.code, severity="error", file=filename, message=(
            f"refused: `pai check` would report {finding.code}{where}: {finding.message}")))
    return gaps


def _missing_steps(report) -> list[str]:
    library = report.training_library
    steps = {s.name: s.status for s in report.integration.steps}
    if library.kind in FRAMEWORKS:
        return [] if library.pai_callback is not None else list(FRAMEWORK_REQUIRED)
    return [name for name in PLAIN_REQUIRED if steps.get(name, "missing") != "present"]
