"""Dendrite wrappers: the math of a perforated module (open-source "GD dendrites").

    out = main(x) + sum_i W[i] * act(d_i(x) + sum_{j<i} V_i[j] * a_j)

W (`dendrites_to_top`, shape (k, C)) and V (`dendrite_module.dendrites_to_dendrites[i-1]`, shape (i, C)) hold
one weight per channel c of the neuron axis (the single 0 of output_dimensions); d_i is a full copy of the
wrapped module. A new dendrite starts with its W row at exactly zero, so adding one never changes the output.
All state lives in the module (parameters and buffers, including the dendrite count), so checkpoints are
self-describing and two models in one process never share anything.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from pai_core.dendrite_init import init_dendrite
from pai_core.errors import DendriteError, OutputDimensionsError, ProcessorError, TupleOutputError
from pai_core.fused import fused_forward, plan, worth_fusing

__all__ = [
    "DendriteValueTracker",
    "PAIDendriteModule",
    "PAINeuronModule",
    "TrackedNeuronModule",
    "count_params",
    "filter_backward",
    "init_params",
    "neuron_modules",
    "prepare_to_load",
    "set_tracked_params",
    "set_wrapped_params",
    "tracked_modules",
]


def _module_expression(name: str) -> str:
    """".layer1.0.conv1" -> "model.layer1[0].conv1" (how the user reaches that module in code)."""
    text = "model"
    for part in name.split(".")[1:] if name else []:
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


def _channel_axis_first(module: nn.Module | None) -> bool:
    first = module
    if first is not None and type(first).__name__ == "PAISequential" and len(first.model):
        first = first.model[0]
    return isinstance(first, nn.modules.conv._ConvNd)


def suggest_output_dimensions(shape: Iterable[int], channel_first: bool) -> list[int]:
    """A template for an output of `shape`: channel axis 1 for conv-like outputs, else the last axis."""
    rank = len(tuple(shape))
    dims = [-1] * rank
    dims[1 if channel_first and rank > 1 else rank - 1] = 0
    return dims


def check_output_shape(shape: torch.Size, dims: list[int], name: str, module: nn.Module | None = None) -> int:
    """Check an output shape against an output_dimensions template; return C (size of the neuron axis)."""
    shape = tuple(shape)
    where = f"module {name!r}" if name else "the root module"
    kind = f" ({type(module).__name__})" if module is not None else ""
    suggestion = suggest_output_dimensions(shape, _channel_axis_first(module))
    fix = (f"Fix: after perforate_model call {_module_expression(name)}.set_this_output_dimensions({suggestion}) "
           f"for this module only, or before perforate_model GPA.pc.set_output_dimensions({suggestion}) for "
           f"every module. One entry per output axis; the single 0 marks the neuron (channel) axis, -1 axes "
           f"are shared.")
    if len(shape) != len(dims):
        raise OutputDimensionsError(
            f"Perforated {where}{kind} returned a tensor of shape {list(shape)} (rank {len(shape)}), but its "
            f"output_dimensions {dims} describe rank {len(dims)}. {fix}")
    for axis, (want, got) in enumerate(zip(dims, shape)):
        if want not in (0, -1, 1) and want != got:
            raise OutputDimensionsError(
                f"Perforated {where}{kind} returned a tensor of shape {list(shape)}; output_dimensions {dims} "
                f"expects size {want} on axis {axis}. {fix}")
    return int(shape[dims.index(0)])


def set_wrapped_params(model: nn.Module) -> None:
    """Tag every parameter of `model` as wrapped by a neuron module (upstream's `wrapped` marker)."""
    for param in nn.Module.parameters(model):
        param.wrapped = True


def set_tracked_params(model: nn.Module) -> None:
    """Tag every parameter of `model` as tracked (accounted for, no dendrites)."""
    for param in nn.Module.parameters(model):
        param.tracked = True


@torch.no_grad()
def init_params(module: nn.Module, neuron_main_module: nn.Module, multiplier: float = 0.01,
                init_by_main: bool = False, rules: dict[str, str] | None = None) -> None:
    """Re-initialise a fresh dendrite copy by parameter kind (pai_core.dendrite_init): weights ~ N(0, multiplier),
    time constants / thresholds of other modules perturbed relatively, `rules` (dendrite_init_rules) override.

    With `init_by_main` the std is also scaled by the mean absolute parameter value of the main module,
    so dendrites start in proportion to the layer they extend. Buffers are left as copied.
    """
    if init_by_main:
        total = sum(float(p.detach().abs().sum()) for p in nn.Module.parameters(neuron_main_module))
        count = sum(p.numel() for p in nn.Module.parameters(neuron_main_module))
        multiplier = multiplier * (total / count if count else 1.0)
    init_dendrite(module, multiplier, rules)


class DendriteValueTracker(nn.Module):
    """Learns, at the first forward, how many channels C the module's output has along the neuron axis.

    The count lives in the buffer `channels` (-1 = not seen yet), so it travels with checkpoints.
    """

    def __init__(self, layer_name: str, output_dimensions: list[int]) -> None:
        super().__init__()
        self.layer_name = layer_name
        self.this_output_dimensions = list(output_dimensions)
        self.register_buffer("channels", torch.tensor(-1, dtype=torch.long))

    @property
    def this_node_index(self) -> int:
        return self.this_output_dimensions.index(0)

    @property
    def out_channels(self) -> int | None:
        value = int(self.channels)
        return None if value < 0 else value

    @property
    def current_d_init(self) -> bool:
        return self.out_channels is not None

    def set_this_output_dimensions(self, dims: list[int]) -> None:
        self.this_output_dimensions = list(dims)

    def set_out_channels(self, value: int | torch.Size) -> None:
        """Store C, given directly or as the full output shape."""
        if not isinstance(value, int):
            value = int(tuple(value)[self.this_node_index])
        self.channels.fill_(value)

    def discover(self, shape: torch.Size, module: nn.Module | None = None) -> int:
        """Check `shape` against the template and store C; raises OutputDimensionsError on a mismatch."""
        channels = check_output_shape(shape, self.this_output_dimensions, self.layer_name, module)
        self.set_out_channels(channels)
        return channels


def filter_backward(grad_out: torch.Tensor, values: nn.ModuleList | list[DendriteValueTracker],
                    module: nn.Module | None = None) -> None:
    """Upstream's shape check on a gradient: learn C from it if the tracker has not seen an output yet.

    pai does this check at the first forward already; this function remains for code that calls it.
    """
    if not values[0].current_d_init:
        values[0].discover(grad_out.shape, module)


class PAIDendriteModule(nn.Module):
    """The accepted dendrite copies of one module, their dendrite-to-dendrite weights and processors."""

    def __init__(self, name: str, output_dimensions: list[int]) -> None:
        super().__init__()
        self.name = name
        self.layers = nn.ModuleList()
        self.dendrites_to_dendrites = nn.ParameterList()  # entry i-1 has shape (i, C): weights into dendrite i
        self.register_buffer("dendrite_count", torch.tensor(0, dtype=torch.long))
        self.dendrite_values = nn.ModuleList([DendriteValueTracker(name, output_dimensions)])
        self.candidate: nn.Module | None = None
        self.processors: list[Any] = []
        self.candidate_processor: Any = None

    def set_this_output_dimensions(self, dims: list[int]) -> None:
        self.dendrite_values[0].set_this_output_dimensions(dims)

    def clear_processors(self) -> None:
        for processor in [*self.processors, self.candidate_processor]:
            if processor is not None:
                processor.clear_processor()

    def pre_activations(self, args: tuple, kwargs: dict) -> list[torch.Tensor]:
        """d_i(x) for every accepted dendrite, each reduced to one tensor by its processor."""
        if not self.processors:
            return [layer(*args, **kwargs) for layer in self.layers]
        outs = []
        for layer, processor in zip(self.layers, self.processors):
            d_args, d_kwargs = processor.pre_d(*args, **kwargs)
            outs.append(_single_tensor(processor.post_d(layer(*d_args, **d_kwargs)), processor, "post_d",
                                       self.name))
        return outs


def _single_tensor(value: Any, processor: Any, stage: str, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ProcessorError(
            f"{type(processor).__name__}.{stage} for module {name!r} returned {type(value).__name__}, but it "
            f"must return the single tensor to combine with the dendrite outputs. Check that the processor "
            f"registered for this module matches what the module returns.")
    return value


class _FallsThroughToMain:
    """Attribute reads and indexing the wrapper lacks go to `main_module` (`wrapper.weight`, `wrapper[0]`)."""

    def __getattr__(self, attr: str) -> Any:
        try:
            return super().__getattr__(attr)
        except AttributeError:
            main = self.__dict__["_modules"].get("main_module")
            if main is None:
                raise
            return getattr(main, attr)

    def __getitem__(self, index: Any) -> Any:
        return self.main_module[index]


class PAINeuronModule(_FallsThroughToMain, nn.Module):
    """A module that grows dendrites: the original module (`main_module`) plus k dendrite copies.

    Attribute reads fall through to the wrapped module (`wrapper.weight`, `wrapper.in_features`,
    `wrapper[i]`), so user code that reaches into layers keeps working.
    """

    def __init__(self, start_module: nn.Module, name: str = "", *, config: Any = None,
                 processor_class: Callable[[], Any] | None = None,
                 output_dimensions: list[int] | None = None) -> None:
        super().__init__()
        if not isinstance(start_module, nn.Module):
            raise TypeError(f"PAINeuronModule wraps an nn.Module; {name!r} is {type(start_module).__name__}.")
        if config is None:
            from pai_core.config import pc
            config = pc.config
        self.main_module = start_module
        self.name = name
        self.type = "neuron_module"
        self.mode = "n"
        self.pai_config = config
        self.activation = config.pai_forward_function
        self.processor_class = processor_class
        self.processor = processor_class() if processor_class is not None else None
        self.create_dendrite: Callable[[nn.Module], nn.Module] | None = None
        dims = list(output_dimensions if output_dimensions is not None else config.output_dimensions)
        dims = _trimmed_dimensions(start_module, dims)
        _check_template(dims, name)
        self.register_buffer("this_output_dimensions", torch.tensor(dims, dtype=torch.long))
        self.register_buffer("this_node_index", torch.tensor(dims.index(0), dtype=torch.long))
        self.register_parameter("dendrites_to_top", None)
        self.dendrite_module = PAIDendriteModule(name, dims)
        set_wrapped_params(start_module)
        self._k = 0
        self._channels: int | None = None
        self._fuse: bool | None = None
        self._refresh()

    # ---- display ----
    def __repr__(self) -> str:
        return f"PAIModule({self.main_module!r})"

    # ---- read-only views used by the tracker ----
    @property
    def num_dendrites(self) -> int:
        return self._k

    @property
    def dendrite_modules_added(self) -> int:
        return self._k

    @property
    def out_channels(self) -> int | None:
        return self._channels

    @property
    def output_dimensions(self) -> list[int]:
        return self.dendrite_module.dendrite_values[0].this_output_dimensions

    @property
    def fuse_dendrites(self) -> bool:
        """Whether a Linear/Conv and its dendrites may run fused (pai_core.fused); the run's `fused_dendrites`
        option unless set on this module (None: follow the option again)."""
        return self._fuse if self._fuse is not None else bool(getattr(self.pai_config, "fused_dendrites", True))

    @fuse_dendrites.setter
    def fuse_dendrites(self, enabled: bool | None) -> None:
        self._fuse = None if enabled is None else bool(enabled)
        self._refresh()

    def _refresh(self) -> None:
        """Recompute the plain-Python caches the forward pass reads (after any structural change)."""
        dims = self.output_dimensions
        self._node = dims.index(0)
        self._node_last = self._node == len(dims) - 1
        self._expand = bool(getattr(self.pai_config, "confirm_correct_sizes", False))
        self._fused = plan(self) if self.fuse_dendrites else None
        # nothing to add yet: forward is the main module's call (no processor, output already checked)
        self._plain = not self._k and self.processor is None and self._channels is not None

    # ---- forward ----
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self._plain:
            return self._modules["main_module"](*args, **kwargs)
        if self._fused is not None and len(args) == 1 and not kwargs and worth_fusing(self._fused, args[0]):
            out = fused_forward(self, self._fused, args[0])
            if out is not None:
                return out
        out = self._modules["main_module"](*args, **kwargs)
        processor = self.processor
        if processor is not None:
            out = _single_tensor(processor.post_n1(out), processor, "post_n1", self.name)
        if self._channels is None:
            self._discover(out)
        k = self._k
        if k:
            if not isinstance(out, torch.Tensor):
                self._discover(out)
            shape = None  # the neuron axis is last: weight rows broadcast as they are
            if not self._node_last:
                shape = [1] * out.dim()
                shape[self._node] = -1
            zs = self.dendrite_module.pre_activations(args, kwargs)
            rows = self.dendrites_to_top.unbind(0) if k > 1 else (self.dendrites_to_top,)
            for row, act in zip(rows, self._connect(zs, shape)):
                if shape is not None:
                    row = row.reshape(shape)
                if self._expand:
                    row = row.expand_as(out)
                out = torch.addcmul(out, row, act)
        if processor is not None:
            out = processor.post_n2(out)
        return out

    def _connect(self, zs: list[torch.Tensor], shape: list[int] | None) -> list[torch.Tensor]:
        """a_i = act(z_i + sum_{j<i} V_i[j] * a_j); rows broadcast along the neuron axis only."""
        act = self.activation
        links = self.dendrite_module.dendrites_to_dendrites
        acts: list[torch.Tensor] = []
        for i, z in enumerate(zs):
            if i:
                for j, v in enumerate(links[i - 1].unbind(0) if i > 1 else (links[i - 1],)):
                    z = torch.addcmul(z, v if shape is None else v.reshape(shape), acts[j])
            acts.append(act(z))
        return acts

    def _discover(self, out: Any) -> None:
        if not isinstance(out, torch.Tensor):
            where = f"{self.name!r}" if self.name else "(the root module)"
            raise TupleOutputError(
                f"Perforated module {where} ({type(self.main_module).__name__}) returned "
                f"{type(out).__name__}, not one tensor, so dendrite outputs cannot be added to it. Register a "
                f"processor before perforate_model, e.g. for outputs like (output, state, ...): "
                f"GPA.pc.append_modules_with_processing([{type(self.main_module).__name__}]) and "
                f"GPA.pc.append_modules_processing_classes([MultiOutputProcessor]) (or by class name: "
                f"append_module_names_with_processing / append_module_by_name_processing_classes); "
                f"LSTMProcessor / GRUProcessor / LSTMCellProcessor exist for recurrent modules. Or track the "
                f"module instead (append_module_names_to_track).")
        channels = self.dendrite_module.dendrite_values[0].discover(out.shape, self.main_module)
        if self._k and self.dendrites_to_top.shape[1] != channels:
            raise OutputDimensionsError(
                f"Module {self.name!r} has dendrites for {self.dendrites_to_top.shape[1]} channels but its output "
                f"{list(out.shape)} has {channels} along the neuron axis {self._node}; set the output "
                f"dimensions it was perforated with (set_this_output_dimensions) before adding dendrites.")
        self._channels = channels
        self._refresh()

    # ---- output dimensions ----
    def set_this_output_dimensions(self, new_output_dimensions: list[int] | torch.Tensor) -> None:
        """Per-module template of the output shape (call after perforate_model, before training)."""
        dims = [int(v) for v in (new_output_dimensions.tolist() if isinstance(new_output_dimensions, torch.Tensor)
                                 else new_output_dimensions)]
        _check_template(dims, self.name)
        self.this_output_dimensions = torch.tensor(dims, dtype=torch.long, device=self.this_node_index.device)
        self.this_node_index.fill_(dims.index(0))
        self.dendrite_module.set_this_output_dimensions(dims)
        self._channels = None  # re-checked against the next output
        self._refresh()

    set_this_input_dimensions = set_this_output_dimensions  # mid-2025 name

    # ---- growing dendrites ----
    def set_create_dendrite(self, factory: Callable[[nn.Module], nn.Module] | None) -> None:
        """Use `factory(main_module)` instead of a deep copy to build new dendrites."""
        self.create_dendrite = factory

    def _require_channels(self) -> int:
        if self._channels is None:
            raise DendriteError(
                f"Cannot add a dendrite to module {self.name!r} ({type(self.main_module).__name__}): its output "
                f"has not been seen yet, so the number of output channels is unknown. Likely causes: the module "
                f"never ran in a forward pass (unused branch, or not reached by the training loop) or no "
                f"training step ran before the switch. Run at least one forward pass first, track the module "
                f"instead (append_module_ids_to_track(['{self.name}'])), or set checked_skipped_modules=True to "
                f"skip such modules.")
        return self._channels

    def set_mode(self, mode: str) -> bool:
        """'p': get ready to create a dendrite candidate; 'n': accept the candidate (if any), back to training."""
        if mode == "p":
            self._require_channels()
        elif mode == "n":
            if self.dendrite_module.candidate is not None:
                self._accept_candidate()
        else:
            raise ValueError(f"mode must be 'n' (neuron training) or 'p' (dendrite creation), got {mode!r}")
        self.mode = mode
        return True

    def create_new_dendrite_module(self) -> None:
        """A new candidate: a copy of the main module re-initialised with small random weights."""
        self._require_channels()
        self.clear_processors()
        main = self.main_module
        candidate = self.create_dendrite(main) if self.create_dendrite is not None else copy.deepcopy(main)
        cfg = self.pai_config
        init_params(candidate, main, cfg.resolve("candidate_weight_initialization_multiplier", self._k),
                    bool(cfg.resolve("candidate_weight_init_by_main", self._k)),
                    getattr(cfg, "dendrite_init_rules", None))
        self.dendrite_module.candidate = candidate
        self.dendrite_module.candidate_processor = (
            self.processor_class() if self.processor_class is not None else None)

    def add_dendrite(self) -> None:
        """Grow one dendrite; its output weight starts at exactly zero, so the function is unchanged."""
        self.set_mode("p")
        self.create_new_dendrite_module()
        self.set_mode("n")

    def _accept_candidate(self) -> None:
        dm = self.dendrite_module
        channels = self._require_channels()
        k = self._k
        device = _module_device(self.main_module, self.pai_config)
        dtype = self.pai_config.d_type
        dm.layers.append(dm.candidate)
        dm.candidate = None
        if dm.candidate_processor is not None:
            dm.processors.append(dm.candidate_processor)
        dm.candidate_processor = None
        if k:
            dm.dendrites_to_dendrites.append(nn.Parameter(torch.zeros(k, channels, device=device, dtype=dtype)))
        weights = torch.zeros(k + 1, channels, device=device, dtype=dtype)
        if k:
            weights[:k] = self.dendrites_to_top.detach()
        self.dendrites_to_top = nn.Parameter(weights)
        self._k = k + 1
        dm.dendrite_count.fill_(self._k)
        self._refresh()

    def clear_dendrites(self) -> None:
        """Remove every dendrite (the main module is untouched)."""
        dm = self.dendrite_module
        dm.layers = nn.ModuleList()
        dm.dendrites_to_dendrites = nn.ParameterList()
        dm.candidate = None
        dm.processors = []
        dm.candidate_processor = None
        dm.dendrite_count.fill_(0)
        self.dendrites_to_top = None
        self._k = 0
        self.mode = "n"
        self._refresh()

    def set_num_dendrites(self, n: int, out_channels: int | None = None) -> None:
        """Give the module exactly `n` dendrites (structure only; load weights afterwards)."""
        if out_channels is not None:
            self.dendrite_module.dendrite_values[0].set_out_channels(int(out_channels))
            self._channels = int(out_channels)
        self.clear_dendrites()
        dm = self.dendrite_module
        for _ in range(int(n)):
            self._require_channels()
            base = self.main_module
            dm.candidate = self.create_dendrite(base) if self.create_dendrite is not None else copy.deepcopy(base)
            dm.candidate_processor = self.processor_class() if self.processor_class is not None else None
            self._accept_candidate()

    def clear_processors(self) -> None:
        """Drop tensors processors stashed during the last forward (needed before deep copies)."""
        if self.processor is not None:
            self.processor.clear_processor()
        self.dendrite_module.clear_processors()

    # ---- loading ----
    def resize_from_state_dict(self, state_dict: dict[str, torch.Tensor], prefix: str = "") -> None:
        """Match dendrite count, channel count and output template to those stored in `state_dict`."""
        dims_key = prefix + "this_output_dimensions"
        if dims_key in state_dict:
            dims = [int(v) for v in state_dict[dims_key].tolist()]
            if dims != self.output_dimensions:
                _check_template(dims, self.name)
                self.this_output_dimensions = torch.tensor(dims, dtype=torch.long,
                                                           device=self.this_node_index.device)
                self.this_node_index.fill_(dims.index(0))
                self.dendrite_module.set_this_output_dimensions(dims)
        channels_key = prefix + "dendrite_module.dendrite_values.0.channels"
        channels = int(state_dict[channels_key]) if channels_key in state_dict else None
        count_key = prefix + "dendrite_module.dendrite_count"
        if count_key in state_dict:
            count = int(state_dict[count_key])
            if channels is None and count:
                channels = int(state_dict[prefix + "dendrites_to_top"].shape[1])
            if count != self._k or (count and channels != self._channels):
                self.set_num_dendrites(count, channels if channels is not None and channels >= 0 else None)
        if channels is not None and channels >= 0:
            self.dendrite_module.dendrite_values[0].set_out_channels(channels)
            self._channels = channels
        self._refresh()

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
        # Grow/shrink to the stored structure first, so load_state_dict works strictly on any checkpoint.
        self.resize_from_state_dict(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args)


class TrackedNeuronModule(_FallsThroughToMain, nn.Module):
    """A transparent wrapper for modules that are accounted for but never get dendrites (e.g. norm layers)."""

    def __init__(self, start_module: nn.Module, name: str = "") -> None:
        super().__init__()
        if not isinstance(start_module, nn.Module):
            raise TypeError(f"TrackedNeuronModule wraps an nn.Module; {name!r} is {type(start_module).__name__}.")
        self.main_module = start_module
        self.name = name
        self.type = "tracked_module"
        set_tracked_params(start_module)

    def __repr__(self) -> str:
        return f"PAITrackedModule({self.main_module!r})"

    def set_mode(self, mode: str) -> bool:
        return True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.main_module(*args, **kwargs)


def _check_template(dims: list[int], name: str) -> None:
    if dims.count(0) != 1:
        raise OutputDimensionsError(
            f"output_dimensions {dims} for module {name!r} must contain exactly one 0 (the neuron axis), e.g. "
            f"[-1, 0, -1, -1] for (batch, channels, H, W) or [-1, -1, 0] for (batch, seq, features).")


def _trimmed_dimensions(module: nn.Module, dims: list[int]) -> list[int]:
    """Linear outputs are (batch, features) and Conv1d ones (batch, channels, length): drop trailing -1s."""
    first = module.model[0] if type(module).__name__ == "PAISequential" and len(module.model) else module
    for cls, keep in ((nn.Linear, 2), (nn.Conv1d, 3)):
        if isinstance(first, cls) and len(dims) > keep and all(v == -1 for v in dims[keep:]) and 0 in dims[:keep]:
            return dims[:keep]
    return dims


def _module_device(module: nn.Module, config: Any) -> torch.device:
    for tensor in nn.Module.parameters(module):
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device(config.device)


def neuron_modules(model: nn.Module) -> list[PAINeuronModule]:
    """Every dendrite-growing module of `model`, in module order."""
    return [m for m in nn.Module.modules(model) if isinstance(m, PAINeuronModule)]


def tracked_modules(model: nn.Module) -> list[TrackedNeuronModule]:
    """Every tracked (no-dendrite) wrapper of `model`."""
    return [m for m in nn.Module.modules(model) if isinstance(m, TrackedNeuronModule)]


def count_params(model: nn.Module) -> int:
    """Number of parameter elements, each shared storage counted once (trainable and frozen)."""
    seen: set[tuple[int, int, int]] = set()
    total = 0
    for param in nn.Module.parameters(model):
        key = (param.data_ptr(), param.numel(), param.storage_offset()) if param.numel() else (id(param), 0, 0)
        if key not in seen:
            seen.add(key)
            total += param.numel()
    return total


def prepare_to_load(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Resize every neuron module of `model` to the dendrites stored in `state_dict`.

    Returns the state dict with a leading "module." (DataParallel/DDP) stripped from its keys, ready for
    `model.load_state_dict(...)`. (load_state_dict also resizes by itself; this makes it explicit.)
    """
    if state_dict and all(key.startswith("module.") for key in state_dict):
        state_dict = {key[len("module."):]: value for key, value in state_dict.items()}
    for path, module in nn.Module.named_modules(model):
        if isinstance(module, PAINeuronModule):
            module.resize_from_state_dict(state_dict, f"{path}." if path else "")
    return state_dict
