"""Multi-GPU runs: DataParallel/DDP wrappers around the perforated model, what the tracker must be given,
and ranks that disagree."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern
from codemods.diagnosis.patterns.common import doc_for

_HAS_DP = FactRule(
    fact="tracker_given_wrapper",
    equals=True,
    effect="confirms",
    note="the model handed to add_validation_score is the parallel wrapper, not `.module`",
)

PATTERNS: list[Pattern] = [
    Pattern(
        id="ddp-unused-parameters",
        code="PAI350",
        title="DDP: parameters without gradients",
        category="distributed",
        signals=[
            r"Encountered gradient which is undefined, but still allreduced by DDP reducer",
            r"Expected to have finished reduction in the prior iteration",
            r"find_unused_parameters=True",
        ],
        facts=[
            FactRule(
                fact="ddp_line",
                equals="set",
                effect="confirms",
                note="the script wraps the model in DistributedDataParallel",
            )
        ],
        point_at=["ddp_line"],
        cause="Some parameters get no gradient in a step, which DDP does not allow by default. With pai_core every "
        "dendrite parameter gets a gradient in every phase, so the cause is the base model (an unused branch) or "
        "an old DDP wrapper around a restructured model; upstream's frozen dendrite scaffolding also causes it.",
        fix="Re-wrap after every restructure with `pai_core.distributed.wrap_ddp(ddp_model)`{ddp_at} (it keeps your "
        "DDP settings); if the base model really has unused branches, pass `find_unused_parameters=True` to the "
        "first DistributedDataParallel (wrap_ddp carries it over).",
        doc=doc_for("distributed"),
        confidence=0.85,
    ),
    Pattern(
        id="multi-gpu-tracker-settings",
        code="PAI351",
        title="tracker state missing in a multi-GPU run",
        category="distributed",
        signals=[
            r"object has no attribute 'normal_?[Pp]ass_?[Aa]verage_?[Dd]'",
            r"You must call save_tracker_settings before initialize_tracker_settings",
            r"array_dims\.csv",
        ],
        point_at=["dataparallel_line", "ddp_line", "add_validation_score_line"],
        cause="Dendrite statistics were never initialised in this process: the multi-GPU init pass "
        "(save_tracker_settings) did not run, a dendrite layer is unused in forward, or dendrites were added "
        "before any training step.",
        fix="Run the single-process init pass with the same save_name (`GPA.pai_tracker.save_tracker_settings()` "
        "after the first backward), then `initialize_tracker_settings()` before wrapping; do not call "
        "add_validation_score before the first training epoch.",
        doc=doc_for("distributed"),
        confidence=0.8,
    ),
    Pattern(
        id="dataparallel-passed-to-tracker",
        code="PAI352",
        title="the parallel wrapper was passed to add_validation_score",
        category="distributed",
        exception_types=["WrappedModelError"],
        signals=[
            r"Need to call \.module when using add validation score",
            r"(DataParallel|DistributedDataParallel|DDP|parallel wrapper)[^\n]{0,120}(pass|use|give)[^\n]{0,30}\.module",
            r"(pass|use|give)[^\n]{0,60}\.module[^\n]{0,80}(DataParallel|wrapper|add_validation_score)",
            r"add_validation_score[^\n]{0,40}got (a )?(torch\.nn\.)?(DataParallel|DistributedDataParallel)",
            r"add_validation_score got an? \w+ (wrapper|wrapping)",
            r"pass the bare model",
        ],
        facts=[_HAS_DP],
        point_at=["add_validation_score_line", "dataparallel_line", "ddp_line"],
        cause="The tracker must receive the bare perforated model, not the DataParallel/DDP wrapper (upstream also "
        "refuses any model with a submodule attribute literally named `module`).",
        fix="Pass the inner model and re-wrap the result{validation_at}: {unwrapped_validation}.",
        doc=doc_for("distributed"),
        confidence=0.9,
    ),
    Pattern(
        id="ddp-resume-off-by-one",
        code="PAI353",
        title="DDP resume right after a switch fails",
        category="distributed",
        signals=[r"list index out of range"],
        context=[r"rank\d|torchrun|DistributedDataParallel|load_system|latest"],
        cause="Resuming from `latest` right after a switch reads records that are one epoch off.",
        fix="Resume from the newest `switch_N` checkpoint: `UPA.load_system(model, save_name, 'switch_N', True)`.",
        doc=doc_for("distributed"),
        confidence=0.45,
    ),
    Pattern(
        id="legacy-pai-dataparallel",
        code="PAI354",
        title="old multi-GPU API (PAIDataParallel)",
        category="distributed",
        signals=[r"not using PAIDataParallel", r"PAIDataParallel did not call gather"],
        cause="A message of the old multi-GPU path.",
        fix="Use the save_tracker_settings / initialize_tracker_settings flow, or one GPU (`CUDA_VISIBLE_DEVICES=0`).",
        doc=doc_for("distributed"),
        confidence=0.7,
    ),
    Pattern(
        id="ddp-stale-wrapper",
        code="PAI355",
        title="DDP wrapper not re-applied (or misapplied) around the perforated model",
        category="distributed",
        exception_types=["StaleWrapperError"],
        signals=[
            r"DDP wrapper whose model was restructured",
            r"wrap_ddp (needs an initialized process group|got an nn\.DataParallel)",
            r"make_optimizer must return",
            r"Resume the bare perforated model",
            r"Expected the perforated nn\.Module \(or its DDP wrapper\)",
        ],
        point_at=["add_validation_score_line", "ddp_line"],
        cause="After a restructure the old DDP wrapper does not know the new dendrite parameters (their gradients "
        "would not be synchronised), or the pai_core.distributed helpers got something other than the bare "
        "perforated model inside an initialised process group.",
        fix="In the `elif restructured:` branch re-wrap before rebuilding the optimizer: `ddp_model = "
        "pai_core.distributed.wrap_ddp(ddp_model)` (or `ddp_model, optimizer = rewrap_ddp(ddp_model, "
        "make_optimizer)`); perforate and resume the bare model before the first wrap.",
        doc=doc_for("distributed"),
        confidence=0.9,
    ),
    Pattern(
        id="ddp-ranks-disagree",
        code="PAI356",
        title="ranks of a DDP job disagree (an error on one rank, different weights or models)",
        category="distributed",
        exception_types=["DistributedError"],
        signals=[
            r"Rank \d+ raised \w+",
            r"parameters differ between ranks",
            r"perforated modules, rank 0 has",
        ],
        point_at=["add_validation_score_line", "ddp_line"],
        cause="add_validation_score is collective under torch.distributed: one rank failed (the message names "
        "it and its error), or the replicas drifted apart because some rank trained the bare model instead of "
        "the DDP wrapper, or the ranks perforated different models.",
        fix="Fix the named rank's error first; train only through the DDP wrapper, re-wrap after every restructure "
        "(pai_core.distributed.wrap_ddp) and perforate the same model with the same settings on every rank.",
        doc=doc_for("distributed"),
        confidence=0.85,
    ),
    # errors pai_core itself raises
    Pattern(
        id="already-wrapped-for-parallel",
        code="PAI394",
        title="perforate_model got a DataParallel/DDP-wrapped model",
        category="distributed",
        exception_types=["ConversionError"],
        signals=[
            r"(already|is) wrapped in (DataParallel|DistributedDataParallel|DDP)",
            r"perforate_model got an? (DataParallel|DistributedDataParallel|\w*Parallel\w*)",
            r"perforate_model[^\n]{0,80}(DataParallel|DistributedDataParallel|wrapper)[^\n]{0,60}(first|bare)",
        ],
        point_at=["perforate_model_line", "dataparallel_line", "ddp_line"],
        cause="The model was wrapped for data parallel training before perforate_model.",
        fix="Perforate the bare model first, then wrap{perforate_at}{wrap_at}: `{model} = UPA.perforate_model({model}, ...)`, "
        "`{model} = {model}.to(device)`, then `{model} = torch.nn.DataParallel({model})` / "
        "`DistributedDataParallel({model}, find_unused_parameters=True)`.{wrapped_validation}",
        doc=doc_for("distributed"),
        confidence=0.9,
    ),
]
