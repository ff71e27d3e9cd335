"""add_validation_score and the switch between neuron and dendrite training: scores that are not numbers
or come in the wrong order, switches that never happen, results around a switch."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern
from codemods.diagnosis.patterns.common import NO_VALIDATION, doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="scores-jump-at-switch",
        code="PAI337",
        title="scores jump when a dendrite is added",
        category="tracker",
        signals=[r"(score|accuracy|loss)[^\n]{0,40}(jump|drop|spike)s?[^\n]{0,40}(switch|dendrite)"],
        log_only=True,
        cause="Expected: at a switch the best checkpoint is reloaded, so the curve continues from the best "
        "epoch, not from the last one.",
        fix="Nothing to fix; compare against the best score before the switch (best_arch_scores CSV).",
        doc=doc_for("run-analysis"),
        confidence=0.45,
        informational=True,
    ),
    Pattern(
        id="extra-score-after-validation",
        code="PAI357",
        title="extra score added after the validation score",
        category="tracker",
        signals=[r"list index out of range"],
        context=[r"save_graphs|write_run_files|run_files|graph"],
        point_at=["add_validation_score_line"],
        cause="add_extra_score/add_test_score ran after add_validation_score in that epoch, so the score lists have "
        "different lengths when the graphs are written.",
        fix="Call every `add_extra_score` / `add_test_score` of an epoch BEFORE `add_validation_score`{validation_at}.",
        doc=doc_for("tracker"),
        confidence=0.7,
    ),
    Pattern(
        id="save-name-none",
        code="PAI358",
        title="save_name is None",
        category="tracker",
        signals=[
            r"stat: path should be string, bytes, os\.PathLike or integer, not NoneType",
            r"save_name[^\n]{0,40}(must be a (non-empty )?str|is None|got None)",
        ],
        point_at=["perforate_model_line"],
        cause="perforate_model got `save_name=None` (typically an argparse option without a default).",
        fix="Pass a string: `UPA.perforate_model(model, save_name='run1', ...)` or give the argparse option a default.",
        doc=doc_for("run-files"),
        confidence=0.85,
    ),
    Pattern(
        id="score-not-scalar",
        code="PAI359",
        title="the score passed to the tracker is not a number",
        category="tracker",
        exception_types=["InvalidScoreError"],
        signals=[
            r"Scores added for add_validation_score should be float, int, or tensor",
            r"score[^\n]{0,60}(must be|should be) (a )?(float|number|scalar|real number)",
            r"(one|a single) element tensors can be converted to Python scalars",
            r"float\(\) argument must be a string or a (real )?number, not '(dict|list|tuple|NoneType)'",
            r"score is an? (bool|dict|list|tuple|tensor of shape)",
            r"score (is a \w+ of \d+ values|has type \w+)",
            r"pass (one|the single) number",
        ],
        context=[r"score|add_validation_score|add_extra_score"],
        point_at=["add_validation_score_line"],
        cause="A dict, list or multi-element tensor (e.g. a metrics dict) was passed where one number is needed.",
        fix="Pass one scalar{score_key}, e.g. `metrics['eval_accuracy']` or `acc.item()`, to "
        "add_validation_score/add_extra_score.",
        doc=doc_for("tracker"),
        confidence=0.85,
    ),
    Pattern(
        id="switch-mode-invalid",
        code="PAI360",
        title="invalid switch mode",
        category="tracker",
        signals=[
            r"A switch mode must be set",
            r"Unknown switch_mode",
            r"switch_mode[^\n]{0,80}(must be one of|invalid|not a valid)",
        ],
        cause="switch_mode holds a value that is not one of the four modes.",
        fix="Use `GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)` (or DOING_FIXED_SWITCH, DOING_SWITCH_EVERY_TIME, "
        "DOING_NO_SWITCH).",
        doc=doc_for("configuration"),
        confidence=0.9,
    ),
    Pattern(
        id="no-new-best",
        code="PAI361",
        title="new best scores never register",
        category="tracker",
        signals=[r"Not saving new best because"],
        log_only=True,
        cause="The improvement threshold is too strict for this score scale or maximizing_score is wrong "
        "(a loss with maximizing_score=True never improves).",
        fix="Pass `maximizing_score=False` for losses/errors; relax the threshold, e.g. "
        "`GPA.pc.set_improvement_threshold([0.0001, 0.0])`.",
        doc=doc_for("tracker"),
        confidence=0.6,
    ),
    Pattern(
        id="dendrites-never-added",
        code="PAI362",
        title="dendrites were never added",
        category="tracker",
        signals=[
            r"noImprove_lr",
            r"(no|zero|0) dendrites (were |have been )?added",
            r"switch_epochs\.csv[^\n]{0,40}empty",
            r"dendrites never (added|grew)",
            r"never add(ed|s)? (a |any )?dendrites?",
            r"Returning False - ",
        ],
        absent=[
            r"Returning True",
            r"Switching back to N",
            r"Dendrites successfully integrated",
            r"Successfully added \d+ dendrites",
            r"Importing best Model for switch",
            r"Traceback \(most recent call last\)",
        ],
        log_only=True,
        facts=[
            NO_VALIDATION,
            FactRule(
                fact="while_true_loop",
                equals=False,
                effect="confirms",
                note="the training loop is a fixed `for ... in range(...)`, so it can end before a plateau",
            ),
        ],
        point_at=["add_validation_score_line", "for_range_loop_line"],
        cause="No switch ever happened: add_validation_score is not called every epoch, the loop ends (fixed "
        "range) before the score plateaus for n_epochs_to_switch epochs, or the model is too large to plateau.",
        fix="Call `GPA.pai_tracker.add_validation_score(score, model)` once per epoch and loop `while True:` until "
        "training_complete; bound time with `GPA.pc.set_switch_mode(GPA.pc.DOING_FIXED_SWITCH)` + "
        "`set_fixed_switch_num(n)` or `set_max_dendrites(n)`; lower `set_n_epochs_to_switch`.",
        doc=doc_for("run-analysis"),
        confidence=0.75,
    ),
    Pattern(
        id="lr-search-lock",
        code="PAI365",
        title="switches blocked by the learning-rate search",
        category="tracker",
        signals=[r"learning rate optimization in progress"],
        log_only=True,
        point_at=["setup_optimizer_line"],
        cause="After a dendrite the tracker waits for the scheduler to lower the learning rate before it allows the "
        "next switch; a scheduler that never lowers it (long StepLR, constant LR) blocks switching forever.",
        fix="Use a scheduler that lowers the LR within a phase (ReduceLROnPlateau with patience below "
        "n_epochs_to_switch), or `GPA.pc.set_find_best_lr(False)` / "
        "`GPA.pc.set_dont_give_up_unless_learning_rate_lowered(False)`.",
        doc=doc_for("optimizer"),
        confidence=0.8,
    ),
    Pattern(
        id="results-worse-with-dendrites",
        code="PAI366",
        title="scores got worse after dendrites were added",
        category="tracker",
        signals=[
            r"(worse|lower|dropped|decreas\w+)[^\n]{0,60}after (the )?(dendrites?|switch)",
            r"dendrites?[^\n]{0,40}(made|make)[^\n]{0,20}worse",
        ],
        log_only=True,
        facts=[
            FactRule(
                fact="maximizing_score",
                equals=None,
                effect="confirms",
                note="maximizing_score is not passed; the default True is wrong for losses",
            )
        ],
        point_at=["perforate_model_line"],
        cause="Usually maximizing_score does not match the metric (or the score is negated), a wrapped Softmax "
        "feeds NLL, or the model overfits.",
        fix="Pass the raw metric with the right `maximizing_score` (False for losses); keep Softmax outside the "
        "perforated modules; regularize.",
        doc=doc_for("run-analysis"),
        confidence=0.5,
    ),
    Pattern(
        id="ema-stale-copy",
        code="PAI367",
        title="EMA/shadow model out of date after restructure",
        category="tracker",
        signals=[r"(ema|EMA|shadow|swa)[^\n]{0,80}(size mismatch|Missing key|Unexpected key|shape)"],
        cause="The EMA copy was made before perforate_model or not re-created after a restructure.",
        fix="Create the EMA model after perforate_model and re-create it in the restructure branch.",
        doc=doc_for("integration"),
        confidence=0.55,
    ),
    # errors pai_core itself raises
    Pattern(
        id="validation-args-swapped",
        code="PAI395",
        title="add_validation_score got its arguments in the wrong order",
        category="tracker",
        signals=[r"Expected the perforated nn\.Module as second argument"],
        point_at=["add_validation_score_line"],
        cause="The second argument of add_validation_score must be the model; the call passes something else "
        "(arguments swapped, or the optimizer/score passed instead).",
        fix="Call `model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, model)`"
        "{validation_at}.",
        doc=doc_for("tracker"),
        confidence=0.9,
    ),
]
