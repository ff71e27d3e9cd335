"""Recommended perforation settings per architecture (workflow s.2.3) and their rendering as code.

The codemods insert exactly the lines `PerforationConfig.config_lines()` returns (before `perforate_model`)
and `override_lines()` (right after it); the MCP server exposes `recommend_config` on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
    if arch == "resnet":
        draft = _resnet(block_names, stem)
    elif arch == "cnn":
        draft = _cnn(kinds)
    elif arch in ("transformer", "rnn"):
        draft = _sequence(arch, kinds)
    elif arch == "mlp":
        draft = _Draft(["Linear"], [-1, -1, 0] if node_features else [-1, 0, -1, -1], [
            "Perforate the Linear layers; their (batch, features) outputs are trimmed to [-1, 0] automatically."])
    elif custom:  # custom / unknown, built from the user's own weight layers
        draft = _Draft(custom + ["Linear"], [-1, -1, 0] if node_features else [-1, 0, -1, -1], [
            f"Perforate the model's own layer classes ({', '.join(custom)}): they hold its weights, and no "
            "torch.nn layer class would give the model dendrites."])
    else:
        draft = _unrecognised(kinds, node_features)
    if custom:
        _own_layers(draft, arch, custom, output_rank)
    if draft.dims == [-1, -1, 0]:
        _override_2d(draft, list(dict.fromkeys([*([head] if head and head_is_2d else []), *pooled])))
    draft.explanation.insert(
        0, "Start with the dendrite capacity test on; set it to False after the success message."
    )
    return PerforationConfig(
        architecture=arch,
        module_names_to_perforate=draft.names,
        module_ids_to_track=draft.ids_to_track,
        output_dimensions=draft.dims,
        output_dimension_overrides=draft.overrides,
        processors=draft.processors,
        max_dendrites=draft.max_dendrites,
        explanation=draft.explanation,
    )


@dataclass
class _Draft:
    """The settings of one architecture family as `recommend_config` refines them."""

    names: list[str]
    dims: list[int]
    explanation: list[str]
    ids_to_track: list[str] = field(default_factory=list)
    processors: list[ProcessorSpec] = field(default_factory=list)
    overrides: list[OutputDimensionOverride] = field(default_factory=list)
    max_dendrites: int | None = None


def _resnet(block_names: Iterable[str], stem: Iterable[str] | None) -> _Draft:
    """Whole residual blocks get dendrites; the stem is tracked, so it keeps none."""
    blocks = list(dict.fromkeys(block_names)) or ["BasicBlock", "Bottleneck"]
    ids_to_track = [".conv1", ".bn1"] if stem is None else list(dict.fromkeys(stem))
    return _Draft(blocks + ["Linear"], [-1, 0, -1, -1], [
        (
            f"Wrap whole residual blocks ({', '.join(blocks)}) so each conv+norm pair gets dendrites together; "
            "outer blocks convert first, so their inner layers are not converted separately."
        ),
        f"Track the stem ({', '.join(ids_to_track)}): it stays without dendrites."
        if ids_to_track else "The model class owns no convolution outside its blocks: nothing to track.",
        "Image feature maps are (batch, channels, H, W): the neuron axis is 1.",
    ], ids_to_track=ids_to_track)


def _cnn(kinds: set[str]) -> _Draft:
    """Convolutions and Linear layers, channel-major; a 3-D-only CNN gets the 5-D vector."""
    convs = [c for c in _CONVS if c in kinds]
    dims = [-1, 0, -1, -1] if "Conv3d" not in convs or "Conv2d" in convs else [-1, 0, -1, -1, -1]
    draft = _Draft((convs or ["Conv2d"]) + ["Linear"], dims, [
        f"Perforate the convolutions ({', '.join(convs or ['Conv2d'])}) and Linear layers.",
        (
            "Conv outputs are channel-major (batch, channels, ...): the neuron axis is 1; Linear and Conv1d "
            "outputs are trimmed to their rank automatically."
        ),
    ])
    if "Conv3d" in convs and "Conv2d" in convs:
        draft.explanation.append("Conv3d layers have 5-D outputs: give them [-1, 0, -1, -1, -1] per module.")
    return draft


def _sequence(arch: str, kinds: set[str]) -> _Draft:
    """Transformers and RNNs output (batch, seq, features); recurrent layers also need processors."""
    draft = _Draft(["Linear"], [-1, -1, 0],
                   ["Sequence outputs are (batch, seq, features): the neuron axis is the last one."])
    if arch == "rnn":
        _recurrent(draft, kinds)
    else:
        draft.explanation.append("Perforate the Linear layers (attention projections and feed-forward).")
    return draft


def _recurrent(draft: _Draft, kinds: set[str]) -> None:
    """Every recurrent class the model may build, each with the processor that picks one tensor of its tuple;
    a model of cells alone, stepped by hand, is 2-D."""
    recurrent = [k for k in ("LSTM", "GRU", "RNN", "LSTMCell") if k in kinds]
    for kind in recurrent:
        draft.names.append(kind)
        draft.processors.append(ProcessorSpec(module_name=kind, processor_class=_PROCESSORS[kind]))
    if len(recurrent) > 1:
        draft.explanation.append(
            f"The recurrent class is one of {', '.join(recurrent)} (chosen at run time or by a flag): all "
            "are listed, each with its processor, so whichever the run builds gets dendrites.")
    if recurrent:
        draft.explanation.append(
            f"{', '.join(recurrent)} return tuples: register processors so one tensor reaches the "
            "dendrites."
        )
    if kinds & _CELLS and not kinds & (_RECURRENT - _CELLS):
        draft.dims = [-1, 0]
        draft.explanation.append("Only recurrent cells, stepped one time step at a time: they and the layers "
                                 "fed their state output (batch, hidden), so the neuron axis is 1 of 2.")
    elif "LSTMCell" in kinds:
        draft.explanation.append(
            "LSTMCell outputs are 2-D (batch, hidden): override its dimensions to [-1, 0]."
        )


def _unrecognised(kinds: set[str], node_features: bool) -> _Draft:
    """No known family and no own weight layers: Linear only, few dendrites, until a first run shows more."""
    sequence = kinds & _RECURRENT or "MultiheadAttention" in kinds or node_features
    return _Draft(["Linear"], [-1, -1, 0] if sequence else [-1, 0, -1, -1], [
        (
            "Unrecognised architecture: start conservative with Linear layers only and at most 5 dendrites; "
            "expand to convolutions once the first run works."
        ),
        "Decide which modules to track from the first run's conversion summary.",
    ], max_dendrites=5)


def _own_layers(draft: _Draft, arch: str, custom: list[str], output_rank: int | None) -> None:
    """The user's own weight layer classes are perforated in every family, and their output rank sets the
    vector where no torch.nn family does."""
    if arch not in ("custom", "unknown"):
        draft.names = [*custom, *(n for n in draft.names if n not in custom)]
        draft.explanation.append(f"Also perforate the model's own layer classes that hold weights: {', '.join(custom)}.")
    if output_rank in _DIMS_BY_RANK and arch in ("custom", "unknown", "mlp"):
        draft.dims = _DIMS_BY_RANK[output_rank]
        draft.explanation.append(
            f"{', '.join(custom)} return{'s' if len(custom) == 1 else ''} {output_rank}-D tensors: output "
            f"dimensions {draft.dims}, the neuron axis {'last' if output_rank != 4 else '1'}."
        )


def _override_2d(draft: _Draft, two_d: list[str]) -> None:
    """Modules fed a pooled 2-D tensor under the sequence vector are not trimmed: each gets [-1, 0]."""
    for path in two_d:
        draft.overrides.append(
            OutputDimensionOverride(
                module_path=path,
                dimensions=[-1, 0],
                reason="fed a pooled 2-D (batch, features) tensor",
            )
        )
        draft.explanation.append(
            f"'{path}' outputs (batch, features): a 2-D module under the [-1, -1, 0] vector is not "
            "trimmed automatically, so it gets [-1, 0] after perforate_model."
        )
