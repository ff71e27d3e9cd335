"""Devices, dtypes, AMP and numerics: tensors left on another device or dtype after a restructure,
GradScaler misuse, NaN or infinite scores, broken autograd graphs."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern
from codemods.diagnosis.patterns.common import doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="device-mismatch",
        code="PAI340",
        title="tensors on different devices (usually after a restructure)",
        category="device",
        signals=[
            r"Expected all tensors to be on the same device",
            r"Input type \(\S*cuda\S*\) and weight type \(\S*(cpu|Float)\S*\)",
            r"Input type \([^)]*\) and weight type \([^)]*\) should be the same or input should be a MKLDNN",
            r"found at least two devices",
        ],
        facts=[
            FactRule(
                fact="to_device_after_validation",
                equals=False,
                effect="confirms",
                note="the script does not move the model to the device again after add_validation_score",
            )
        ],
        point_at=["add_validation_score_line", "perforate_model_line"],
        cause="The model returned by add_validation_score (reloaded, with new dendrites) or the dendrite tensors "
        "live on another device than the inputs: the library's device default, no `.to(device)` after a "
        "restructure, or tensors created on a device in __init__/forward.",
        fix="Right after `model, restructured, training_complete = GPA.pai_tracker.add_validation_score(...)`"
        "{validation_at} add `model = model.to(device)`; set the library device once: "
        "`GPA.pc.set_device(device)` before perforate_model.",
        doc=doc_for("devices"),
        confidence=0.85,
    ),
    Pattern(
        id="value-tracker-no-device",
        code="PAI341",
        title="optimizer step after a restructure before any forward",
        category="device",
        signals=[r"'(DendriteValueTracker|pbValueTracker|\w*ValueTracker)' object has no attribute 'device'"],
        cause="optimizer.step() ran right after a restructure before any forward/backward (seen with skorch) or with "
        "gradient checkpointing.",
        fix="Do one forward + backward after a restructure before stepping; disable gradient checkpointing.",
        doc=doc_for("devices"),
        confidence=0.8,
    ),
    Pattern(
        id="dtype-mismatch",
        code="PAI342",
        title="dendrite tensors have another dtype than the model",
        category="device",
        signals=[
            r"\(was torch\.\S*HalfTensor got torch\.\S*FloatTensor\)",
            r"Input type \(\S*Double\S*\) and weight type \(\S*Float\S*\)",
            r"expected (scalar type|m1 and m2 to have the same dtype)[^\n]*(Double|Half|BFloat16|Float)",
            r"mat1 and mat2 must have the same dtype",
        ],
        cause="Dendrite weights use the library dtype (float32 by default) while the model/input use another.",
        fix="Set the dtype before perforate_model, e.g. `GPA.pc.set_d_type(torch.double)`; or cast inputs and model "
        "to float32.",
        doc=doc_for("devices"),
        confidence=0.7,
    ),
    Pattern(
        id="amp-scaler-no-inf-checks",
        code="PAI343",
        title="AMP GradScaler sees no inf checks",
        category="device",
        signals=[r"No inf checks were recorded for this optimizer"],
        facts=[
            FactRule(
                fact="grad_scaler_line", equals="set", effect="confirms", note="the script uses a GradScaler"
            )
        ],
        point_at=["grad_scaler_line", "restructure_branch_line"],
        cause="The scaler's optimizer has no gradients that went through scaler.scale (dendrite parameters get "
        "their gradient from another backward, or the scaler belongs to a previous optimizer).",
        fix="Rebuild the GradScaler together with the optimizer in the restructure branch; in a dendrite-only phase "
        "step the optimizer without the scaler.",
        doc=doc_for("amp"),
        confidence=0.85,
    ),
    Pattern(
        id="amp-scaler-type-changed",
        code="PAI344",
        title="a loss-scaling utility changed a tensor's type after graph creation",
        category="device",
        signals=[r"has changed the type of value", r"(ApexScaler|NativeScaler)"],
        context=[r"type of value|Scaler"],
        point_at=["grad_scaler_line"],
        cause="timm/apex style loss scalers mutate tensors after the graph is built; dendrite copies are not updated.",
        fix="Disable that loss scaling for perforated training.",
        doc=doc_for("amp"),
        confidence=0.6,
    ),
    Pattern(
        id="amp-scaler-type-error",
        code="PAI345",
        title="GradScaler used with the wrong object",
        category="device",
        signals=[
            r"(GradScaler|scaler)[^\n]{0,80}(expected|must be)[^\n]{0,40}(Tensor|optimizer)",
            r"unscale_\(\) has already been called on this optimizer",
            r"Attempting to unscale FP16 gradients",
        ],
        point_at=["grad_scaler_line", "optimizer_line"],
        cause="The AMP scaler is used with an optimizer or tensors it does not expect (scaler kept from before a "
        "restructure, fp16 parameters).",
        fix="Create model parameters in float32, create the scaler together with the optimizer in one helper and "
        "call it again in the restructure branch.",
        doc=doc_for("amp"),
        confidence=0.6,
    ),
    Pattern(
        id="rmsprop-centered-nan",
        code="PAI346",
        title="NaN scores with centered RMSprop",
        category="device",
        signals=[r"centered\s*=\s*True"],
        context=[r"nan|NaN"],
        cause="Centered RMSprop is known to produce NaNs with dendrites.",
        fix="Use `centered=False` or another optimizer.",
        doc=doc_for("optimizer"),
        confidence=0.5,
    ),
    Pattern(
        id="zero-or-nan-correlation",
        code="PAI347",
        title="scores are zero, NaN or infinite",
        category="device",
        exception_types=["NonFiniteScoreError"],
        signals=[
            r"Didn'?t get any non zero scores or a score is nan or inf",
            r"entire layer got exactly 0 Correlation",
            r"(score|loss|validation)[^\n]{0,40}(is|was|became) -?(nan|inf)",
            r"non-?finite (score|loss|value)",
            r"has probably diverged",
        ],
        cause="Activations or weights overflow, a layer is dead, or the validation score itself is NaN.",
        fix="Add normalization, lower the learning rate, check that the layer is used and that the score passed to "
        "add_validation_score is finite.",
        doc=doc_for("tracker"),
        confidence=0.7,
    ),
    Pattern(
        id="inplace-modification",
        code="PAI348",
        title="an in-place operation broke the graph",
        category="device",
        signals=[r"modified by an inplace operation"],
        cause="`+=`-style math or inplace modules (ReLU(inplace=True)) overwrite tensors the dendrites' backward needs.",
        fix="Use out-of-place math (`x = x + y`) and `inplace=False` on ReLU/Dropout.",
        doc=doc_for("debugging"),
        confidence=0.75,
    ),
    Pattern(
        id="backward-twice",
        code="PAI349",
        title="backward through the graph a second time",
        category="device",
        signals=[r"Trying to backward through the graph a second time"],
        cause="A tensor from an earlier step (kept state, a cached hidden state, a module called twice) is reused in "
        "this step's graph.",
        fix="Detach carried state (`h = h.detach()`), do not reuse outputs across steps, and give a module used twice "
        "in forward its own copy.",
        doc=doc_for("debugging"),
        confidence=0.7,
    ),
]
