"""The optimizer and scheduler the tracker works with: registering them, rebuilding them when dendrites
restructure the model, and the parameters they own."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern
from codemods.diagnosis.patterns.common import doc_for

_NO_REBUILD = FactRule(
    fact="optimizer_rebuilt_on_restructure",
    equals=False,
    effect="confirms",
    note="the script does not build a new optimizer in its `if restructured:` branch",
)

_REBUILDS = FactRule(
    fact="optimizer_rebuilt_on_restructure",
    equals=True,
    effect="rules_out",
    note="the script already rebuilds the optimizer when the model is restructured",
)

PATTERNS: list[Pattern] = [
    Pattern(
        id="optimizer-not-rebuilt",
        code="PAI328",
        title="optimizer not rebuilt after the model was restructured",
        category="optimizer",
        exception_types=["OptimizerNotRebuiltError"],
        signals=[
            r"'NoneType' object has no attribute 'param_groups'",
            r"(no optimizer|optimizer (is |was )?(not|never) (registered|set)|optimizer instance (is )?None)",
            r"rebuild the optimizer",
            r"set_optimizer_instance[^\n]{0,60}(after|every) (each )?restructur",
            r"new parameters[^\n]{0,200}did not change",
            r"dendrite (parameters|weights)[^\n]{0,60}(never|do not|don't) (change|move|train)",
        ],
        facts=[_NO_REBUILD, _REBUILDS],
        point_at=["restructure_branch_line", "optimizer_line", "add_validation_score_line"],
        cause="A restructure (add_validation_score returning restructured=True) adds new dendrite parameters; an "
        "optimizer built over model.parameters() before it keeps stepping only the old ones, so without a "
        "check the run ends normally with the dendrites untrained. pai_core raises at the next score when "
        "the optimizer it had registered was not replaced, and within an epoch or two when new parameters "
        "got gradients but did not change (a hand-built optimizer kept, or the old instance registered "
        "again). Upstream instead fails with 'NoneType' object has no attribute 'param_groups'.",
        fix="Rebuild exactly as at the start in the restructure branch, after `model, restructured, "
        "training_complete = GPA.pai_tracker.add_validation_score(score, model)`{validation_at}: "
        "`if restructured: optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optim_args, sched_args)` "
        "(or build it yourself and call `GPA.pai_tracker.set_optimizer_instance(optimizer)`){optimizer_at}.",
        doc=doc_for("optimizer"),
        confidence=0.95,
    ),
    Pattern(
        id="set-optimizer-missing",
        code="PAI329",
        title="setup_optimizer called before set_optimizer",
        category="optimizer",
        signals=[
            r"'list' object is not callable",
            r"'NoneType' object is not callable",
            r"(optimizer|scheduler) class (is )?(not set|missing|None)",
            r"call set_optimizer\(",
            r"set_optimizer\(\) (first|before)",
            r"set_optimizer\([^)]*\)[^\n]{0,60}before setup_optimizer",
        ],
        context=[r"setup_optimizer|setupOptimizer|set_optimizer|optimizer_class|optim"],
        point_at=["setup_optimizer_line"],
        cause="setup_optimizer builds the optimizer from the class given to set_optimizer, which was never called.",
        fix="Call `GPA.pai_tracker.set_optimizer(torch.optim.Adam)` (your class) and, with a scheduler, "
        "`GPA.pai_tracker.set_scheduler(...)` before `setup_optimizer`{setup_optimizer_at}.",
        doc=doc_for("optimizer"),
        confidence=0.8,
    ),
    Pattern(
        id="setup-optimizer-unpack",
        code="PAI330",
        title="unpacking setup_optimizer's result",
        category="optimizer",
        signals=[
            r"cannot unpack non-iterable \w+ object",
            r"not enough values to unpack \(expected 2, got 1\)",
            r"too many values to unpack \(expected 1\)",
        ],
        context=[
            r"setup_optimizer|setupOptimizer|non-iterable (Adam\w*|SGD|RMSprop|Adagrad|Adadelta|Adamax|NAdam|RAdam|LBFGS|\w*Optim\w*) object"
        ],
        point_at=["setup_optimizer_line"],
        cause="Upstream returns only the optimizer when no scheduler arguments are passed, but the script unpacks "
        "two values (or the other way round).",
        fix="Without a scheduler assign one value (`optimizer = GPA.pai_tracker.setup_optimizer(model, optim_args)`); "
        "with sched_args unpack two (`optimizer, scheduler = ...`).",
        doc=doc_for("optimizer"),
        confidence=0.8,
    ),
    Pattern(
        id="optimizer-owns-no-perforated-params",
        code="PAI331",
        title="the registered optimizer does not own the perforated parameters",
        category="optimizer",
        signals=[
            r"cannot access local variable 'learning_rate'",
            r"local variable 'learning_rate' referenced before assignment",
            r"optimizer[^\n]{0,80}(does not|doesn't) (own|contain|include)[^\n]{0,40}(perforated|dendrite|model)",
            r"optimizer has no param",
        ],
        point_at=["optimizer_line"],
        cause="The optimizer given to the tracker holds no parameters of the perforated model (built on another "
        "object, on an old model, or nothing was perforated).",
        fix="Build the optimizer from the returned model's parameters (`model.parameters()` AFTER perforate_model "
        "and after every restructure) and register it with `set_optimizer_instance` / `setup_optimizer`.",
        doc=doc_for("optimizer"),
        confidence=0.75,
    ),
    Pattern(
        id="optimizer-wrong-class-args",
        code="PAI332",
        title="tracker builds the optimizer with another optimizer's arguments",
        category="optimizer",
        signals=[
            r"__init__\(\) got an unexpected keyword argument '(momentum|betas|nesterov|amsgrad|eps|dampening|alpha|centered)'"
        ],
        context=[r"setup_optimizer|setupOptimizer|optim"],
        point_at=["setup_optimizer_line", "restructure_branch_line"],
        cause="Several optimizers with different argument sets are used; the tracker still holds the class given "
        "to the last set_optimizer call.",
        fix="Call `GPA.pai_tracker.set_optimizer(<class>)` right before each setup_optimizer, including as the first "
        "line of the restructure branch.",
        doc=doc_for("optimizer"),
        confidence=0.75,
    ),
    Pattern(
        id="scheduler-past-horizon",
        code="PAI333",
        title="a fixed-horizon scheduler ran past its end",
        category="optimizer",
        signals=[
            r"argument alpha must not be a complex number",
            r"Tried to step \d+ times\. The specified number of total steps is \d+",
        ],
        cause="Dendrite training extends the run beyond the horizon the scheduler (OneCycleLR, cosine with a "
        "total step count) was built for.",
        fix="Bound the run with fixed switching (`GPA.pc.set_switch_mode(GPA.pc.DOING_FIXED_SWITCH)`, "
        "`set_fixed_switch_num(n)`, `set_first_fixed_switch_num(n)` with your epoch count), or use "
        "ReduceLROnPlateau.",
        doc=doc_for("optimizer"),
        confidence=0.8,
    ),
    Pattern(
        id="scheduler-stepped-twice",
        code="PAI334",
        title="the scheduler is stepped twice (or never)",
        category="optimizer",
        signals=[
            r"Detected call of `lr_scheduler\.step\(\)` before `optimizer\.step\(\)`",
            r"scheduler[^\n]{0,40}stepped (twice|two times)",
        ],
        point_at=["scheduler_step_line", "setup_optimizer_line"],
        cause="With setup_optimizer + set_scheduler the tracker steps the scheduler inside add_validation_score "
        "(and fast-forwards a new one after a restructure); a `scheduler.step()` of your own steps it again. "
        "With set_optimizer_instance the tracker never steps it.",
        fix="Remove your `scheduler.step()` call{scheduler_step_at} when the scheduler comes from "
        "setup_optimizer; keep it when you register the optimizer with set_optimizer_instance.",
        doc=doc_for("optimizer"),
        confidence=0.6,
    ),
    Pattern(
        id="stale-model-after-restructure",
        code="PAI335",
        title="training continues on stale objects after a restructure",
        category="optimizer",
        signals=[
            r"(stops?|stopped) (learning|improving) after (a |the |each )?(restructure|switch|dendrite)",
            r"(optimizer|scheduler)[^\n]{0,60}(stale|was not rebuilt|not re-?registered|from before the restructure)",
            r"dendrites? (never|do not|don't) train",
        ],
        log_only=True,
        facts=[_NO_REBUILD, _REBUILDS],
        point_at=["restructure_branch_line", "add_validation_score_line", "optimizer_line"],
        cause="After a restructure the returned model is a different set of parameters; an optimizer, "
        "scheduler, EMA copy or `self.model` reference built before it keeps training the old ones.",
        fix="Always use the returned model (`model, restructured, training_complete = ...`), and when "
        "restructured rebuild optimizer, scheduler (and scaler/EMA) with one helper; return them from any "
        "validation helper.",
        doc=doc_for("optimizer"),
        confidence=0.6,
    ),
    Pattern(
        id="split-across-optimizers",
        code="PAI336",
        title="perforated modules split across several optimizers",
        category="optimizer",
        signals=[
            r"perforated (modules?|parameters?)[^\n]{0,60}(split|spread) across[^\n]{0,30}optimizers",
            r"additional_optimizers[^\n]{0,80}(must|should|cannot)",
        ],
        point_at=["set_optimizer_instance_line", "optimizer_line"],
        cause="Only the first (main) optimizer may own perforated modules; extra optimizers passed as "
        "additional_optimizers only get freeze handling.",
        fix="Give every perforated module's parameters to the main optimizer: "
        "`GPA.pai_tracker.set_optimizer_instance(main_opt, additional_optimizers=[other])`, and re-create the "
        "other optimizers yourself after each restructure.",
        doc=doc_for("optimizer"),
        confidence=0.6,
    ),
    Pattern(
        id="weight-decay-warning",
        code="PAI338",
        title="weight decay warning",
        category="optimizer",
        signals=[
            r"recommended to not use weight decay",
            r"optimizer uses weight decay",
            r"weight[_ ]decay[^\n]{0,60}(not recommended|discouraged)",
        ],
        log_only=True,
        point_at=["optimizer_line"],
        cause="Informational: weight decay can hold back new dendrites.",
        fix="Keep your arguments; if dendrites do not help, try without weight decay. Silence with "
        "`GPA.pc.set_weight_decay_accepted(True)`.",
        doc=doc_for("optimizer"),
        confidence=0.5,
        informational=True,
    ),
    # errors pai_core itself raises
    Pattern(
        id="optimizer-instance-type",
        code="PAI396",
        title="set_optimizer_instance got something that is not an optimizer",
        category="optimizer",
        signals=[r"set_optimizer_instance expects a torch\.optim\.Optimizer, got (?P<got>\w+)"],
        point_at=["set_optimizer_instance_line", "optimizer_line"],
        cause="set_optimizer_instance received {got} instead of the optimizer object (often the "
        "(optimizer, scheduler) tuple, or the optimizer class).",
        fix="Pass the optimizer instance: `optimizer = torch.optim.Adam(model.parameters(), lr=...)` then "
        "`GPA.pai_tracker.set_optimizer_instance(optimizer)`; classes go to `set_optimizer(...)` instead.",
        doc=doc_for("optimizer"),
        confidence=0.9,
    ),
    Pattern(
        id="optimizer-args",
        code="PAI397",
        title="setup_optimizer got unusable parameters",
        category="optimizer",
        signals=[
            r"setup_optimizer needs optim_args\['params'\]",
            r"mixes tensors and param-group dicts",
            r"optimizer got an empty parameter list",
        ],
        point_at=["setup_optimizer_line"],
        cause="The optimizer arguments hold no parameters, or mix tensors and param-group dicts (an empty list "
        "also happens when every parameter is frozen).",
        fix="Pass `{'params': model.parameters(), 'lr': ...}` (the perforated model's parameters) or a list of "
        "param-group dicts only.",
        doc=doc_for("optimizer"),
        confidence=0.85,
    ),
]
