"""Recommended perforation settings per architecture (workflow s.2.3) and their rendering as code.

The codemods insert exactly the lines `PerforationConfig.config_lines()` returns (before `perforate_model`)
and `override_lines()` (right after it); the MCP server exposes `recommend_config` on its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from codemods.analysis.vocab import LAYER_KINDS, RESIDUAL_BLOCK

__all__ = ["ConfigRecommendation", "OutputDimensionOverride", "PerforationConfig", "ProcessorSpec", "recommend",
           "recommend_config"]

ARCHITECTURES = ("cnn", "resnet", "transformer", "rnn", "mlp", "custom", "unknown")

# Layers returning a tuple need a processor so one tensor reaches the dendrites (workflow KB #7).
_PROCESSORS = {
    "LSTM": "LSTMProcessor",
    "GRU": "LSTMProcessor",  # (output, h_n) like LSTM: combine on output, re-attach the hidden state
    "RNN": "LSTMProcessor",
    "LSTMCell": "LSTMCellProcessor",
}
_RECURRENT = {"LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"}
_CELLS = {"LSTMCell", "GRUCell", "RNNCell"}
_CONVS = ("Conv1d", "Conv2d", "Conv3d")
_DIMS_BY_RANK = {2: [-1, 0], 3: [-1, -1, 0], 4: [-1, 0, -1, -1]}


class OutputDimensionOverride(BaseModel):
    """A module whose output rank differs from the global vector, fixed after perforate_model."""

    module_path: str = Field(description="attribute path from the model, e.g. 'classifier' or 'fc'")
    dimensions: list[int]
    reason: str = ""


class ProcessorSpec(BaseModel):
    module_name: str = Field(description="class name of the module, e.g. LSTM")
    processor_class: str = Field(description="processor class in the library module, e.g. LSTMProcessor")


class PerforationConfig(BaseModel):
    architecture: str
    module_names_to_perforate: list[str]
    module_ids_to_track: list[str] = []
    output_dimensions: list[int] = [-1, 0, -1, -1]
    output_dimension_overrides: list[OutputDimensionOverride] = []
    processors: list[ProcessorSpec] = []
    max_dendrites: int | None = None
    testing_dendrite_capacity: bool = True
    explanation: list[str] = []

    def config_lines(self, gpa: str = "GPA", lpa: str = "LPA") -> list[str]:
        """`GPA.pc.set_*`/`append_*` calls, in the order they go before `perforate_model`."""
        lines = [f"{gpa}.pc.set_testing_dendrite_capacity({self.testing_dendrite_capacity})"]
        lines.append(f"{gpa}.pc.set_module_names_to_perforate({_list(self.module_names_to_perforate)})")
        if self.module_ids_to_track:
            lines.append(f"{gpa}.pc.append_module_ids_to_track({_list(self.module_ids_to_track)})")
        lines.append(f"{gpa}.pc.set_output_dimensions({self.output_dimensions!r})")
        if self.processors:
            names = [p.module_name for p in self.processors]
            classes = "[" + ", ".join(f"{lpa}.{p.processor_class}" for p in self.processors) + "]"
            lines.append(f"{gpa}.pc.append_module_names_with_processing({_list(names)})")
            lines.append(f"{gpa}.pc.append_module_by_name_processing_classes({classes})")
        if self.max_dendrites is not None:
            lines.append(f"{gpa}.pc.set_max_dendrites({self.max_dendrites})")
        return lines

    def override_lines(self, model: str = "model") -> list[str]:
        """Per-module output-dimension fixes, in the order they go right after `perforate_model`."""
        return [
            f"{model}.{o.module_path}.set_this_output_dimensions({o.dimensions!r})"
            for o in self.output_dimension_overrides
        ]

    def required_imports(self, package: str = "pai_core") -> list[str]:
        """Import lines the rendered code needs (the library module only when processors are used)."""
        lines = [
            f"from {package} import globals_perforatedai as GPA",
            f"from {package} import utils_perforatedai as UPA",
        ]
        if self.processors:
            lines.append(f"from {package} import library_perforatedai as LPA")
        return lines

    def to_code(self, model: str = "model", gpa: str = "GPA", lpa: str = "LPA") -> str:
        """All lines as one snippet, with a placeholder line for perforate_model between the two halves."""
        body = self.config_lines(gpa, lpa)
        if self.output_dimension_overrides:
            body += [f"# {model} = UPA.perforate_model({model}, ...)"] + self.override_lines(model)
        return "\n".join(body)


class ConfigRecommendation(BaseModel):
    config: PerforationConfig
    code: str = Field(description="the GPA.pc lines to put before perforate_model (and overrides after it)")
    imports: list[str] = Field(description="import lines the code needs")


def recommend(
    architecture: str,
    layers: Iterable[str] = (),
    *,
    block_names: Iterable[str] = (),
    head: str | None = None,
    head_is_2d: bool = False,
    backend: str = "pai_core",
) -> ConfigRecommendation:
    """The settings for a model described by its family and layer classes, as code and imports for `backend`.

    A layer class that is not a torch.nn one (`GraphConvolution`) is the user's own and gets dendrites: the
    model was described by the classes it builds.
    """
    layers = list(layers)
    custom = [name for name in layers if name not in LAYER_KINDS and not RESIDUAL_BLOCK.search(name)]
    blocks = [*block_names, *(name for name in layers if RESIDUAL_BLOCK.search(name) and name not in LAYER_KINDS)]
    config = recommend_config(architecture, layers, block_names=blocks, head=head, head_is_2d=head_is_2d,
                              custom_layers=custom)
    return ConfigRecommendation(config=config, code=config.to_code(), imports=config.required_imports(backend))


def _list(items: Iterable[str]) -> str:
    return "[" + ", ".join(repr(i) for i in items) + "]"


def recommend_config(
    architecture: str,
    layers: Iterable[str] = (),
    *,
    block_names: Iterable[str] = (),
    head: str | None = None,
    head_is_2d: bool = False,
    pooled: Iterable[str] = (),
    node_features: bool = False,
    stem: Iterable[str] | None = None,
    custom_layers: Iterable[str] = (),
    output_rank: int | None = None,
) -> PerforationConfig:
    """Settings for an architecture class, refined by the layer kinds the model uses.

    `block_names`: residual block classes to wrap whole (ResNet); `head`: attribute path of the final
    classifier, given an explicit 2-D override when `head_is_2d` under a sequence-shaped global vector;
    `pooled`: every such layer fed a pooled (batch, features) tensor (`fc(out[:, -1, :])`), each overridden;
    `node_features`: graph layers on a dense adjacency output (batch, nodes, features); `stem`: module ids of
    a ResNet's own stem layers to track (default torchvision's `.conv1`, `.bn1`); `custom_layers`: the user's
    own layer classes that hold the weights, perforated; `output_rank`: the rank those layers output.
    """
    arch = architecture.lower().strip()
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; use one of {', '.join(ARCHITECTURES)}")
    kinds = set(layers)
    custom = list(dict.fromkeys(custom_layers))
    convs = [c for c in _CONVS if c in kinds]
    explanation: list[str] = []
    overrides: list[OutputDimensionOverride] = []
    processors: list[ProcessorSpec] = []
    ids_to_track: list[str] = []
    max_dendrites = None

    if arch == "resnet":
        blocks = list(dict.fromkeys(block_names)) or ["BasicBlock", "Bottleneck"]
        names = blocks + ["Linear"]
        ids_to_track = [".conv1", ".bn1"] if stem is None else list(dict.fromkeys(stem))
        dims = [-1, 0, -1, -1]
        explanation += [
            (
                f"Wrap whole residual blocks ({', '.join(blocks)}) so each conv+norm pair gets dendrites together; "
                "outer blocks convert first, so their inner layers are not converted separately."
            ),
            f"Track the stem ({', '.join(ids_to_track)}): it stays without dendrites."
            if ids_to_track else "The model class owns no convolution outside its blocks: nothing to track.",
            "Image feature maps are (batch, channels, H, W): the neuron axis is 1.",
        ]
    elif arch == "cnn":
        names = (convs or ["Conv2d"]) + ["Linear"]
        dims = [-1, 0, -1, -1] if "Conv3d" not in convs or "Conv2d" in convs else [-1, 0, -1, -1, -1]
        explanation += [
            f"Perforate the convolutions ({', '.join(convs or ['Conv2d'])}) and Linear layers.",
            (
                "Conv outputs are channel-major (batch, channels, ...): the neuron axis is 1; Linear and Conv1d "
                "outputs are trimmed to their rank automatically."
            ),
        ]
        if "Conv3d" in convs and "Conv2d" in convs:
            explanation.append("Conv3d layers have 5-D outputs: give them [-1, 0, -1, -1, -1] per module.")
    elif arch in ("transformer", "rnn"):
        names = ["Linear"]
        dims = [-1, -1, 0]
        explanation.append("Sequence outputs are (batch, seq, features): the neuron axis is the last one.")
        if arch == "rnn":
            recurrent = [k for k in ("LSTM", "GRU", "RNN", "LSTMCell") if k in kinds]
            for kind in recurrent:
                names.append(kind)
                processors.append(ProcessorSpec(module_name=kind, processor_class=_PROCESSORS[kind]))
            if len(recurrent) > 1:
                explanation.append(
                    f"The recurrent class is one of {', '.join(recurrent)} (chosen at run time or by a flag): all "
                    "are listed, each with its processor, so whichever the run builds gets dendrites.")
            if recurrent:
                explanation.append(
                    f"{', '.join(recurrent)} return tuples: register processors so one tensor reaches the "
                    "dendrites."
                )
            if kinds & _CELLS and not kinds & (_RECURRENT - _CELLS):
                dims = [-1, 0]
                explanation.append("Only recurrent cells, stepped one time step at a time: they and the layers "
                                   "fed their state output (batch, hidden), so the neuron axis is 1 of 2.")
            elif "LSTMCell" in kinds:
                explanation.append(
                    "LSTMCell outputs are 2-D (batch, hidden): override its dimensions to [-1, 0]."
                )
        else:
            explanation.append("Perforate the Linear layers (attention projections and feed-forward).")
    elif arch == "mlp":
        names = ["Linear"]
        dims = [-1, -1, 0] if node_features else [-1, 0, -1, -1]
        explanation.append(
            "Perforate the Linear layers; their (batch, features) outputs are trimmed to [-1, 0] automatically."
        )
    elif custom:  # custom / unknown, built from the user's own weight layers
        names = custom + ["Linear"]
        dims = [-1, -1, 0] if node_features else [-1, 0, -1, -1]
        explanation.append(
            f"Perforate the model's own layer classes ({', '.join(custom)}): they hold its weights, and no "
            "torch.nn layer class would give the model dendrites."
        )
    else:  # custom / unknown
        names = ["Linear"]
        sequence = kinds & _RECURRENT or "MultiheadAttention" in kinds or node_features
        dims = [-1, -1, 0] if sequence else [-1, 0, -1, -1]
        max_dendrites = 5
        explanation += [
            (
                "Unrecognised architecture: start conservative with Linear layers only and at most 5 dendrites; "
                "expand to convolutions once the first run works."
            ),
            "Decide which modules to track from the first run's conversion summary.",
        ]
    if custom and arch not in ("custom", "unknown"):
        names = [*custom, *(n for n in names if n not in custom)]
        explanation.append(f"Also perforate the model's own layer classes that hold weights: {', '.join(custom)}.")
    if custom and output_rank in _DIMS_BY_RANK and arch in ("custom", "unknown", "mlp"):
        dims = _DIMS_BY_RANK[output_rank]
        explanation.append(
            f"{', '.join(custom)} return{'s' if len(custom) == 1 else ''} {output_rank}-D tensors: output "
            f"dimensions {dims}, the neuron axis {'last' if output_rank != 4 else '1'}."
        )
    two_d = list(dict.fromkeys([*([head] if head and head_is_2d else []), *pooled]))
    if dims == [-1, -1, 0]:
        for path in two_d:
            overrides.append(
                OutputDimensionOverride(
                    module_path=path,
                    dimensions=[-1, 0],
                    reason="fed a pooled 2-D (batch, features) tensor",
                )
            )
            explanation.append(
                f"'{path}' outputs (batch, features): a 2-D module under the [-1, -1, 0] vector is not "
                "trimmed automatically, so it gets [-1, 0] after perforate_model."
            )
    explanation.insert(
        0, "Start with the dendrite capacity test on; set it to False after the success message."
    )
    return PerforationConfig(
        architecture=arch,
        module_names_to_perforate=names,
        module_ids_to_track=ids_to_track,
        output_dimensions=dims,
        output_dimension_overrides=overrides,
        processors=processors,
        max_dendrites=max_dendrites,
        explanation=explanation,
    )
