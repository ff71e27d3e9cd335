"""The fused dendrite path (pai_core.fused) computes exactly what calling the 1+k copies computes: outputs and
every gradient in float64, for Linear on 2-D and 3-D inputs and Conv1d/2d/3d with and without bias, groups,
stride, padding and dilation, k = 0..4; and it can be switched off without touching parameters."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from pai_core import fused as fused_module
from pai_core.config import PAIConfig
from pai_core.fused import set_fused
from pai_core.modules import PAINeuronModule, neuron_modules
from pai_core.perforate import convert_network
from pai_core.processors import MultiOutputProcessor

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def fuse_small_inputs(monkeypatch):
    """These inputs are tiny: fuse them anyway (in training the rule sends small inputs and k = 1 to the copies)."""
    monkeypatch.setattr(fused_module, "MIN_TRAINING_INPUT", 0)
    monkeypatch.setattr(fused_module, "MIN_TRAINING_DENDRITES", 1)

LAYERS = {  # name: (layer factory, output_dimensions, input shape)
    "linear": (lambda: nn.Linear(5, 7), [-1, 0], (4, 5)),
    "linear no bias": (lambda: nn.Linear(5, 7, bias=False), [-1, 0], (4, 5)),
    "linear 3-D input": (lambda: nn.Linear(5, 7), [-1, -1, 0], (3, 4, 5)),
    "conv1d stride padding": (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1), [-1, 0, -1], (2, 4, 9)),
    "conv2d dilation groups": (lambda: nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2), [-1, 0, -1, -1],
                               (2, 4, 7, 6)),
    "conv2d depthwise no bias": (lambda: nn.Conv2d(6, 6, 3, groups=6, bias=False), [-1, 0, -1, -1],
                                 (2, 6, 5, 5)),
    "conv3d stride": (lambda: nn.Conv3d(2, 4, 2, stride=(1, 2, 1)), [-1, 0, -1, -1, -1], (2, 2, 5, 5, 4)),
    "conv2d no bias": (lambda: nn.Conv2d(3, 5, 3, padding=1, bias=False), [-1, 0, -1, -1], (2, 3, 6, 6)),
}


def grown(factory, dims, x_shape, k, activation=torch.sigmoid, **options):
    """A float64 perforated layer with k dendrites and every weight random (not the zero start values)."""
    config = PAIConfig(d_type=torch.float64, pai_forward_function=activation, **options)
    module = PAINeuronModule(factory().double(), ".layer", config=config, output_dimensions=dims)
    x = torch.randn(*x_shape, dtype=torch.float64)
    module(x)
    for _ in range(k):
        module.add_dendrite()
    with torch.no_grad():
        for param in module.parameters():
            param.normal_()
    return module, x


def outputs_and_grads(module, x):
    x = x.clone().requires_grad_()
    out = module(x)
    assert (type(out.grad_fn).__name__ == "_FusedLayerBackward") == (module._fused is not None)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view(out.shape)  # every output counts differently
    (out * weights).sum().backward()
    return out.detach(), x.grad, {name: p.grad for name, p in module.named_parameters()}


def assert_same(fused, unfused, x):
    out, grad_x, grads = outputs_and_grads(fused, x)
    out_ref, grad_x_ref, grads_ref = outputs_and_grads(unfused, x)
    torch.testing.assert_close(out, out_ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(grad_x, grad_x_ref, rtol=1e-6, atol=1e-6)
    assert grads.keys() == grads_ref.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, grads_ref[name], rtol=1e-6, atol=1e-6, msg=lambda m, n=name: f"{n}: {m}")
    with torch.no_grad():
        torch.testing.assert_close(fused(x), unfused(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("k", range(5))
@pytest.mark.parametrize("case", LAYERS)
def test_fused_outputs_and_every_gradient_match_the_copies(case, k):
    torch.manual_seed(k)
    fused, x = grown(*LAYERS[case], k)
    unfused = copy.deepcopy(fused)
    unfused.fuse_dendrites = False
    assert (fused._fused is not None) == (k > 0) and unfused._fused is None
    assert_same(fused, unfused, x)


@pytest.mark.parametrize("activation", [torch.tanh, torch.relu, nn.Sigmoid()])
def test_other_dendrite_activations_are_fused_exactly(activation):
    torch.manual_seed(0)
    fused, x = grown(*LAYERS["conv2d dilation groups"], 3, activation=activation)
    unfused = copy.deepcopy(fused)
    unfused.fuse_dendrites = False
    assert fused._fused is not None
    assert_same(fused, unfused, x)


@pytest.mark.parametrize("case", ["linear", "conv2d dilation groups", "conv1d stride padding"])
def test_a_second_backward_through_a_retained_graph_gets_the_same_gradients(case):
    """Backward writes the dendrites' gradients over their activations and frees them; a second backward
    through the same graph (retain_graph=True) must still see the forward's activations, and the tensors the
    node saved stay readable."""
    torch.manual_seed(0)
    fused, x = grown(*LAYERS[case], 3)
    unfused = copy.deepcopy(fused)
    unfused.fuse_dendrites = False
    grads = []
    for module in (fused, unfused):
        out = module(x)
        assert (type(out.grad_fn).__name__ == "_FusedLayerBackward") == (module is fused)
        weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view(out.shape)
        (out * weights).sum().backward(retain_graph=True)
        first = {name: p.grad.clone() for name, p in module.named_parameters()}
        if module is fused:  # what the node keeps is still readable after its backward: input and parameters
            kept = out.grad_fn.saved_tensors
            assert len(kept) == 1 + len(list(module.parameters())) and torch.equal(kept[0], x)  # x, to_top, ...
            assert all(t.untyped_storage().nbytes() for t in kept)
        (out * weights).sum().backward()
        grads.append((first, {name: p.grad for name, p in module.named_parameters()}))
    (first, twice), (first_ref, twice_ref) = grads
    for name in first_ref:
        torch.testing.assert_close(first[name], first_ref[name], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(twice[name], twice_ref[name], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(twice[name], 2 * first[name], rtol=1e-6, atol=1e-6)


def test_small_training_inputs_and_single_dendrites_run_the_copies_and_evaluation_is_always_fused(monkeypatch):
    monkeypatch.setattr(fused_module, "MIN_TRAINING_INPUT", 8192)
    monkeypatch.setattr(fused_module, "MIN_TRAINING_DENDRITES", 2)
    module, x = grown(*LAYERS["linear"], 2)
    assert module._fused is not None
    assert type(module(x).grad_fn).__name__ == "AddcmulBackward0"  # 20 input values: the copies
    big = torch.randn(2048, 5, dtype=torch.float64)
    assert type(module(big).grad_fn).__name__ == "_FusedLayerBackward"
    single, _ = grown(*LAYERS["linear"], 1)
    assert type(single(big).grad_fn).__name__ == "AddcmulBackward0"
    unfused = copy.deepcopy(module)
    unfused.fuse_dendrites = False
    with torch.no_grad():
        torch.testing.assert_close(module(x), unfused(x), rtol=1e-12, atol=1e-12)


def test_layers_the_fused_path_cannot_express_keep_the_copies():
    cases = [
        grown(lambda: nn.Conv1d(2, 3, 3, padding=1, padding_mode="reflect"), [-1, 0, -1], (2, 2, 6), 2),
        grown(lambda: nn.Conv1d(2, 3, 3, padding="same"), [-1, 0, -1], (2, 2, 6), 2),
        grown(lambda: nn.Linear(4, 3), [-1, 0], (2, 4), 2, activation=lambda z: z * torch.sigmoid(z)),
        grown(lambda: nn.Linear(4, 3), [-1, 0], (2, 4), 2, confirm_correct_sizes=True),
    ]
    for module, x in cases:
        assert module._fused is None
        assert module(x).shape[module._node] == 3


def test_a_multi_output_module_with_a_processor_is_not_fused():
    class TwoOutputs(nn.Linear):
        def forward(self, x):
            out = super().forward(x)
            return out, out.detach()

    module = PAINeuronModule(TwoOutputs(4, 3), ".m", config=PAIConfig(), output_dimensions=[-1, 0],
                             processor_class=MultiOutputProcessor)
    module(torch.randn(2, 4))
    module.add_dendrite()
    assert module._fused is None and isinstance(module(torch.randn(2, 4)), tuple)


def test_the_switch_turns_fusion_off_per_run_and_per_module_and_leaves_parameters_alone():
    def model(**options):
        torch.manual_seed(0)
        net = convert_network(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)),
                              PAIConfig(unwrapped_params_action="ignore", **options))
        net(torch.randn(2, 6))
        for module in neuron_modules(net):
            module.add_dendrite()
        return net

    fused, off = model(), model(fused_dendrites=False)
    assert all(m._fused is not None for m in neuron_modules(fused))
    assert all(m._fused is None and not m.fuse_dendrites for m in neuron_modules(off))
    assert fused.state_dict().keys() == off.state_dict().keys()
    assert [n for n, _ in fused.named_parameters()] == [n for n, _ in off.named_parameters()]
    first = neuron_modules(fused)[0]
    first.fuse_dendrites = False
    assert first._fused is None and neuron_modules(fused)[1]._fused is not None
    set_fused(off, True)
    assert all(m._fused is not None for m in neuron_modules(off))
    x = torch.randn(5, 6)
    torch.testing.assert_close(fused(x), off(x))


def test_a_fused_model_trains_and_its_checkpoint_loads_into_an_unfused_one():
    torch.manual_seed(0)
    config = PAIConfig(unwrapped_params_action="ignore")
    net = convert_network(nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3)), config)
    x, y = torch.randn(32, 2, 6), torch.randint(0, 3, (32,))
    net(x)
    for module in neuron_modules(net):
        module.add_dendrite()
        module.add_dendrite()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(m.dendrites_to_top.abs().sum().item() > 0 for m in neuron_modules(net))
    assert all(m.dendrite_module.dendrites_to_dendrites[0].abs().sum().item() > 0 for m in neuron_modules(net))
    fresh = convert_network(nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3)),
                            PAIConfig(unwrapped_params_action="ignore", fused_dendrites=False))
    fresh.load_state_dict(net.state_dict())
    torch.testing.assert_close(fresh(x), net(x))


def test_a_deployed_convolution_is_the_same_stacked_or_copy_by_copy():
    from pai_core.deploy import to_inference
    from pai_core.fused_inference import STACK_MAX_BATCH
    from pai_core.inference_layers import FusedDendrites

    torch.manual_seed(0)
    net = convert_network(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, stride=2)),
                          PAIConfig(unwrapped_params_action="ignore"))
    net(torch.randn(2, 3, 8, 8))
    for module in neuron_modules(net):
        module.add_dendrite()
        module.add_dendrite()
        with torch.no_grad():
            module.dendrites_to_top.normal_()
            module.dendrite_module.dendrites_to_dendrites[0].normal_()
    deployed = to_inference(net)
    layers = [m for m in deployed.modules() if isinstance(m, FusedDendrites)]
    assert len(layers) == 2 and all(m.blocked for m in layers)
    with torch.no_grad():
        for batch in (1, STACK_MAX_BATCH + 1):
            x = torch.randn(batch, 3, 8, 8)
            torch.testing.assert_close(deployed(x), net.eval()(x), rtol=1e-5, atol=1e-5)


def test_layers_with_hooks_run_the_copies_so_every_hook_sees_its_call():
    """Pruning, activation capture and backward hooks act through the layer's own call, which the fused node
    skips: while a layer or one of its copies has hooks (or global module hooks exist), the copies run."""
    from torch.nn.utils import prune

    def step(module, x):
        module.zero_grad(set_to_none=True)
        out = module(x.clone().requires_grad_())
        (out * out).sum().backward()
        return out.detach(), type(out.grad_fn).__name__, {n: p.grad for n, p in module.named_parameters()}

    def pair():
        torch.manual_seed(0)
        module, x = grown(*LAYERS["conv2d no bias"], 2)
        reference = copy.deepcopy(module)
        reference.fuse_dendrites = False
        assert module._fused is not None
        return module, reference, x

    module, reference, x = pair()
    seen = []
    handles = [module.main_module.register_forward_hook(lambda m, i, o: seen.append("main")),
               module.dendrite_module.layers[1].register_full_backward_hook(lambda m, gi, go: seen.append("back"))]
    out, node, grads = step(module, x)
    ref_out, _, ref_grads = step(reference, x)
    assert node != "_FusedLayerBackward" and seen == ["main", "back"]
    torch.testing.assert_close(out, ref_out)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, ref_grads[name])
    for handle in handles:
        handle.remove()
    assert step(module, x)[1] == "_FusedLayerBackward"

    module, reference, x = pair()
    for layer in (module.main_module, reference.main_module):
        prune.l1_unstructured(layer, "weight", amount=0.5)
    out, node, grads = step(module, x)
    ref_out, _, ref_grads = step(reference, x)
    assert node != "_FusedLayerBackward"
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(grads["main_module.weight_orig"], ref_grads["main_module.weight_orig"])
    pruned = module.main_module.weight_mask == 0
    assert pruned.any() and (grads["main_module.weight_orig"][pruned] == 0).all()  # the mask reached the gradient

    handle = torch.nn.modules.module.register_module_forward_pre_hook(lambda m, i: seen.append(type(m).__name__))
    try:
        fresh, x = grown(*LAYERS["linear"], 2)
        seen.clear()
        with torch.no_grad():
            fresh(x)
        assert seen == ["PAINeuronModule", "Linear", "Linear", "Linear"]  # the layer and both copies
    finally:
        handle.remove()


def test_a_deployed_layer_with_hooks_keeps_its_copies_and_its_hooks():
    from pai_core.deploy import to_inference
    from pai_core.inference_layers import DendriteCopies

    torch.manual_seed(0)
    net = convert_network(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)),
                          PAIConfig(unwrapped_params_action="ignore"))
    net(torch.randn(2, 6))
    for module in neuron_modules(net):
        module.add_dendrite()
    seen = []
    neuron_modules(net)[0].main_module.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    deployed = to_inference(net)
    assert [type(m).__name__ for m in deployed if not isinstance(m, nn.ReLU)] == ["DendriteCopies", "FusedDendrites"]
    x = torch.randn(4, 6)
    with torch.no_grad():
        torch.testing.assert_close(deployed(x), net.eval()(x))
    assert seen == [torch.Size([4, 8])] * 2 and isinstance(deployed[0], DendriteCopies)
