"""output_dimensions that do not describe a perforated module's output: wrong rank, an exact size, no
or several 0s, the 0 on the wrong axis, channel counts that change."""

from __future__ import annotations

from codemods.diagnosis.models import Pattern
from codemods.diagnosis.patterns.common import doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="output-dims-rank",
        code="PAI301",
        title="output_dimensions do not match the rank of a module's output",
        category="shapes",
        exception_types=["OutputDimensionsError"],
        signals=[
            r"(has not|not) properly set (the )?this_?(output|input)_?dimensions",
            r"output_dimensions (has|have) \d+ (entries|axes|dims)[^\n]*(output|tensor) (has|is) \d+",
            r"(expecting|expected)[^\n]{0,80}\n?[^\n]{0,80}but (received|got)[^\n]*(torch\.Size|shape)",
            r"output_dimensions[^\n]{0,120}(rank|ndim|number of dimensions)",
            r"output_dimensions \[[^\]]*\] describe rank \d+",
        ],
        point_at=["output_dimensions_line", "perforate_model_line"],
        cause="A perforated module produced an output with {received_rank} axes but the configured "
        "output_dimensions vector {expected} has a different length. The vector must describe the module's "
        "OUTPUT: one 0 on the neuron/channel axis, -1 everywhere else.",
        fix="For the shape {received_shape} use {suggested_dims}. {dims_scope} "
        "`GPA.pc.set_debugging_output_dimensions(1)` lists every offending module in one run.",
        doc=doc_for("output-dimensions"),
        confidence=0.95,
    ),
    Pattern(
        id="output-dims-size",
        code="PAI302",
        title="output_dimensions hold an exact size that does not match the output",
        category="shapes",
        signals=[
            r"this_?(output|input)_?dimensions with this incorrect shape",
            r"output_dimensions \[[^\]]*\] expects size \d+ on axis \d+",
            r"output_dimensions[^\n]{0,80}entry[^\n]{0,60}(must be|should be) (-1|0)",
        ],
        point_at=["output_dimensions_line"],
        cause="The vector has the right length but one entry is a concrete size (the old exact-size format) that "
        "differs from the real output size.",
        fix="Use only -1 (axis reduced) and a single 0 (neuron axis), e.g. {suggested_dims}: "
        "`GPA.pc.set_output_dimensions({suggested_dims})` or `{module_attr}.set_this_output_dimensions(...)`.",
        doc=doc_for("output-dimensions"),
        confidence=0.85,
    ),
    Pattern(
        id="output-dims-zero-count",
        code="PAI303",
        title="output_dimensions must contain exactly one 0",
        category="shapes",
        signals=[
            r"Need exactly one 0",
            r"exactly one 0 in (the )?(input|output)[ _]dimensions",
            r"output_dimensions (needs|must contain) exactly one 0",
            r"output_dimensions[^\n]{0,80}(exactly one|one and only one) (0|zero)",
        ],
        point_at=["output_dimensions_line"],
        cause="The output_dimensions vector has no 0 or several 0s; the 0 marks the one axis that indexes "
        "output neurons/channels.",
        fix="Put exactly one 0 at the channel/feature axis and -1 elsewhere: [-1, 0] for Linear outputs "
        "[batch, features], [-1, 0, -1, -1] for Conv2d [batch, channels, H, W], [-1, -1, 0] for "
        "[batch, seq, features]. Fix the call{output_dims_at}.",
        doc=doc_for("output-dimensions"),
        confidence=0.9,
    ),
    Pattern(
        id="broadcast-shape-mismatch",
        code="PAI305",
        title="a perforated layer receives tensors of different ranks",
        category="shapes",
        signals=[r"output with shape \[[^\]]*\] doesn't match the broadcast shape"],
        context=[r"normal_?[Pp]ass|[Aa]verage_?[Dd]|dendrite|perforat|pai_core|PAI"],
        cause="The same perforated layer is called with inputs of different ranks at different call sites, so "
        "its per-channel statistics cannot be combined.",
        fix="Wrap the layer in a small nn.Module used at one call site only, so each perforated module always "
        "sees one output layout; or track the layer: `GPA.pc.append_module_ids_to_track(['{module}'])`.",
        doc=doc_for("output-dimensions"),
        confidence=0.75,
    ),
    Pattern(
        id="neuron-axis-wrong",
        code="PAI306",
        title="the 0 of output_dimensions is on the wrong axis",
        category="shapes",
        signals=[
            r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\) at non-singleton dimension"
        ],
        context=[r"pai_core|perforatedai|PAINeuron|dendrite|modules\.py", r"set_output_dimensions"],
        point_at=["output_dimensions_line"],
        cause="The per-channel dendrite weights are sized along the axis marked 0, but that is not the axis that "
        "indexes output channels (e.g. channels-last images or [batch, features, seq] layouts).",
        fix="Move the 0 to the axis of the output that indexes neurons/channels, e.g. [-1, -1, 0] for "
        "[batch, seq, features] or [-1, 0, -1] for [batch, channels, length]: "
        "`GPA.pc.set_output_dimensions([...])`{output_dims_at}, or per module with `set_this_output_dimensions`.",
        doc=doc_for("output-dimensions"),
        confidence=0.6,
    ),
    # errors pai_core itself raises
    Pattern(
        id="output-dims-channels-changed",
        code="PAI391",
        title="the module's channel count changed after dendrites were added",
        category="shapes",
        signals=[r"has dendrites for \d+ channels but its output", r"along the neuron axis"],
        context=[r"dendrite|set_this_output_dimensions"],
        point_at=["output_dimensions_line", "perforate_model_line"],
        cause="Dendrites were sized for one channel count, but the module now outputs another along the neuron "
        "axis: output_dimensions were changed after dendrites existed, or the module was replaced/resized "
        "after perforate_model.",
        fix="Set output dimensions (`{module_attr}.set_this_output_dimensions([...])`) right after perforate_model "
        "and before any training; do not modify the model after perforating it.",
        doc=doc_for("output-dimensions"),
        confidence=0.85,
    ),
]
