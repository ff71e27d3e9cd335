"""Every `pai check` finding code: what it means and its own examples, as the rewrite rules carry theirs.

`VALID` scripts `check_integration` does not flag with the code, `INVALID` scripts it flags with it
(`expected=None`: a check reports, it never rewrites). Each example is a complete integration (`LOOP`, the
shape `pai perforate` writes for a pytorch/examples-style loop, or `ACCELERATE` for an HF Accelerate loop) with
the one mistake the code is about, so what the code catches reads as a diff against the integration.
This is the one list of check codes: `check.py` refuses to add a code not declared here, and `REQUIRED`
(the codes of a script not integrated at all) comes from each code's `required`.
`tests/codemods/test_rule_examples.py` runs every example and fails when check.py emits a code listed nowhere
here.
"""

from __future__ import annotations

from dataclasses import dataclass

from codemods.examples import Invalid, Valid

__all__ = ["CHECK_CODES", "CODES", "REQUIRED", "CheckCode", "declared"]

LOOP = """
import torch
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA


def main(model, train_loader, val_loader, device):
    GPA.pc.set_testing_dendrite_capacity(False)
    model = UPA.perforate_model(model, save_name="run", maximizing_score=True)
    model = model.to(device)
    GPA.pai_tracker.set_optimizer(torch.optim.SGD)
    optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
    while True:
        train_accuracy = train(model, train_loader, optimizer, device)
        accuracy = evaluate(model, val_loader, device)
        GPA.pai_tracker.add_extra_score(train_accuracy, "train")
        model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
        model.to(device)
        if training_complete:
            break
        elif restructured:
            optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
"""
ACCELERATE = """
import torch
from accelerate import Accelerator
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA


def main(model, train_dl, eval_dl):
    accelerator = Accelerator()
    GPA.pc.set_testing_dendrite_capacity(False)
    model = UPA.perforate_model(model, save_name="run", maximizing_score=True)
    GPA.pai_tracker.set_optimizer(torch.optim.AdamW)
    optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 2e-5})
    model, optimizer, train_dl = accelerator.prepare(model, optimizer, train_dl)
    while True:
        train(model, train_dl, optimizer, accelerator)
        accuracy = evaluate(model, eval_dl, accelerator)
        unwrapped, restructured, training_complete = GPA.pai_tracker.add_validation_score(
            accuracy, accelerator.unwrap_model(model))
        if training_complete:
            break
        elif restructured:
            model = unwrapped
            optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 2e-5})
            accelerator.wait_for_everyone()
            model, optimizer = accelerator.prepare(model, optimizer)
"""


def _mistake(script: str, *edits: tuple[str, str]) -> str:
    """`script` with each (old, new) edit made; an edit that no longer matches fails loudly."""
    for old, new in edits:
        if old not in script:
            raise ValueError(f"example edit does not match: {old!r}")
        script = script.replace(old, new, 1)
    return script


_PERFORATE = '    model = UPA.perforate_model(model, save_name="run", maximizing_score=True)\n'
_SETUP = '    optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})\n'
_REBUILD = "        elif restructured:\n            " + _SETUP.strip() + "\n"
_SCORE = ("        model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, "
          "model)\n")
_EXTRA = '        GPA.pai_tracker.add_extra_score(train_accuracy, "train")\n'
_STOP = "        if training_complete:\n            break\n"
_CAPACITY = "    GPA.pc.set_testing_dendrite_capacity(False)\n"
_IMPORTS = ("from pai_core import globals_perforatedai as GPA\nfrom pai_core import utils_perforatedai as UPA\n")
_LOSS = (("accuracy = evaluate(", "val_loss = evaluate("), ("score(accuracy,", "score(val_loss,"))
_IDS = "    GPA.pc.set_module_ids_to_perforate(['{}'])\n"
_PREPARE = "    model, optimizer, train_dl = accelerator.prepare(model, optimizer, train_dl)\n"


@dataclass(frozen=True)
class CheckCode:
    code: str
    description: str
    valid: tuple[Valid, ...]
    invalid: tuple[Invalid, ...]
    required: bool = False  # a script with this code is not integrated at all (CheckReport.integrated is False)


def _code(code: str, description: str, mistake: str, valid: str = LOOP, *, required: bool = False) -> CheckCode:
    return CheckCode(code, description, (Valid(valid),), (Invalid(mistake, expected=None),), required)


CHECK_CODES: tuple[CheckCode, ...] = (
    _code("PAI101", "the dendrite library is not imported", _mistake(LOOP, (_IMPORTS, "")), required=True),
    _code("PAI102", "no GPA.pc settings: the library defaults are used", _mistake(LOOP, (_CAPACITY, ""))),
    _code("PAI103", "UPA.perforate_model is never called", _mistake(LOOP, (_PERFORATE, "")), required=True),
    _code("PAI104", "perforate_model runs after the optimizer is built",
          _mistake(LOOP, (_PERFORATE, ""), (_SETUP, _SETUP + _PERFORATE))),
    _code("PAI105", "the optimizer is not registered with the tracker",
          _mistake(LOOP, ("    GPA.pai_tracker.set_optimizer(torch.optim.SGD)\n", ""),
                   (_SETUP, "    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n"),
                   (_REBUILD, "        elif restructured:\n"
                              "            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n")),
          required=True),
    _code("PAI106", "add_validation_score is never called",
          _mistake(LOOP, (_SCORE, "        restructured = training_complete = False\n")), required=True),
    _code("PAI107", "add_validation_score's three results are not unpacked",
          _mistake(LOOP, ("        model, restructured, training_complete = GPA", "        model = GPA"))),
    _code("PAI108", "the optimizer is not re-created after a restructure",
          _mistake(LOOP, (_REBUILD, "        elif restructured:\n            print('restructured')\n"))),
    _code("PAI109", "the restructured model is not moved back to the device",
          _mistake(LOOP, ("        model.to(device)\n", ""))),
    _code("PAI110", "the epoch loop does not stop on training_complete (or may end before it)",
          _mistake(LOOP, (_STOP, "        if epoch_done():\n            break\n"))),
    _code("PAI111", "maximizing_score contradicts the direction of the validation metric",
          _mistake(LOOP, *_LOSS),
          valid=_mistake(LOOP, *_LOSS, ("maximizing_score=True", "maximizing_score=False"))),
    _code("PAI112", "add_extra_score comes after add_validation_score in the epoch",
          _mistake(LOOP, (_EXTRA, ""), (_SCORE, _SCORE + _EXTRA))),
    _code("PAI113", "a scheduler the tracker steps is stepped again by the script",
          _mistake(LOOP, (_SETUP + "    while True:\n",
                          "    GPA.pai_tracker.set_scheduler(torch.optim.lr_scheduler.StepLR)\n"
                          "    optimizer, scheduler = GPA.pai_tracker.setup_optimizer(\n"
                          "        model, {\"params\": model.parameters(), \"lr\": 0.01}, {\"step_size\": 1})\n"
                          "    while True:\n        scheduler.step()\n"))),
    _code("PAI114", "setup_optimizer without set_optimizer first, or unpacked as if it returned a scheduler",
          _mistake(LOOP, ("    GPA.pai_tracker.set_optimizer(torch.optim.SGD)\n", ""))),
    _code("PAI115", "the dendrite capacity test is on (info: turn it off for the real experiment)",
          _mistake(LOOP, ("set_testing_dendrite_capacity(False)", "set_testing_dendrite_capacity(True)"))),
    _code("PAI116", "a module id to perforate does not start with '.'",
          _mistake(LOOP, (_CAPACITY, _CAPACITY + _IDS.format("encoder.fc"))),
          valid=_mistake(LOOP, (_CAPACITY, _CAPACITY + _IDS.format(".encoder.fc")))),
    _code("PAI117", "perforate_model comes after the training loop",
          _mistake(LOOP, (_PERFORATE, ""), (_REBUILD, _REBUILD + _PERFORATE))),
    _code("PAI118", "a name of the dendrite library is used before its import",
          _mistake(LOOP, ("import torch\n" + _IMPORTS, "import torch\nGPA.pc.set_verbose(False)\n" + _IMPORTS))),
    _code("PAI119", "the output dimensions do not fit the perforated layers' outputs",
          _mistake(LOOP, (_CAPACITY, _CAPACITY + "    GPA.pc.set_module_names_to_perforate(['Conv2d'])\n"
                          "    GPA.pc.set_output_dimensions([-1, 0])\n")),
          valid=_mistake(LOOP, (_CAPACITY, _CAPACITY + "    GPA.pc.set_module_names_to_perforate(['Conv2d'])\n"
                                "    GPA.pc.set_output_dimensions([-1, 0, -1, -1])\n"))),
    _code("PAI120", "Accelerate: add_validation_score gets the prepared model, not the unwrapped one",
          _mistake(ACCELERATE, ("accuracy, accelerator.unwrap_model(model))", "accuracy, model)")), ACCELERATE),
    _code("PAI121", "Accelerate: the model and rebuilt optimizer do not go through prepare after a restructure",
          _mistake(ACCELERATE, ("            accelerator.wait_for_everyone()\n"
                                "            model, optimizer = accelerator.prepare(model, optimizer)\n", "")),
          ACCELERATE),
    _code("PAI122", "Accelerate: add_validation_score runs on the main process only",
          _mistake(ACCELERATE, ("        unwrapped, restructured, training_complete = GPA.pai_tracker."
                                "add_validation_score(\n            accuracy, accelerator.unwrap_model(model))\n",
                                "        if accelerator.is_main_process:\n            unwrapped, restructured, "
                                "training_complete = GPA.pai_tracker.add_validation_score(\n                "
                                "accuracy, accelerator.unwrap_model(model))\n")), ACCELERATE),
    _code("PAI123", "Accelerate: perforate_model comes after accelerator.prepare",
          _mistake(ACCELERATE, (_PERFORATE, ""), (_PREPARE, _PREPARE + _PERFORATE)), ACCELERATE),
)

CODES: dict[str, CheckCode] = {c.code: c for c in CHECK_CODES}
REQUIRED: frozenset[str] = frozenset(c.code for c in CHECK_CODES if c.required)


def declared(code: str) -> CheckCode:
    """The declaration of `code`; an undeclared code is a bug in check.py, so it fails loudly."""
    try:
        return CODES[code]
    except KeyError:
        raise ValueError(f"check code {code} is not declared in codemods/check_codes.py") from None
