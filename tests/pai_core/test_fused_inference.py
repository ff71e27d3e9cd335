"""Inference without gradients computes exactly what calling the 1+k copies computes: eager evaluation of a
perforated layer at small and large batches, in float64 for Linear and Conv1d/2d/3d with and without bias,
groups, stride, padding and dilation, k = 0..4, links zero and nonzero, after every kind of parameter change
(fused Adam among them: it updates parameters without bumping their version counters); and the deployed
layers (pai_core.fused_inference under pai_core.inference_layers) whichever mix and batch rule they run."""
from __future__ import annotations

import copy

import pytest
import torch
from test_fused import LAYERS, grown
from torch import nn

from pai_core import fused_inference
from pai_core.config import PAIConfig
from pai_core.deploy import to_inference
from pai_core.fused import set_fused
from pai_core.inference_layers import FusedDendrites
from pai_core.perforate import convert_network

torch.set_num_threads(1)


def _unfused(model):
    reference = copy.deepcopy(model)
    set_fused(reference, False)
    return reference


def _batches(x):
    """The example input, and one of more than STACK_MAX_BATCH rows (the copy-by-copy side of the rule)."""
    big = x.repeat(fused_inference.STACK_MAX_BATCH + 1, *([1] * (x.dim() - 1)))
    return x, big + 0.01 * torch.randn_like(big)


@pytest.mark.parametrize("links", ["zero", "nonzero"])
@pytest.mark.parametrize("k", range(5))
@pytest.mark.parametrize("case", LAYERS)
def test_eager_evaluation_matches_the_copies(case, k, links):
    torch.manual_seed(k)
    module, x = grown(*LAYERS[case], k)
    if links == "zero":
        with torch.no_grad():
            for row in module.dendrite_module.dendrites_to_dendrites:
                row.zero_()
    reference = _unfused(module).eval()
    module.eval()
    with torch.no_grad():
        for batch in _batches(x):
            torch.testing.assert_close(module(batch), reference(batch), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("activation", [torch.tanh, torch.relu, nn.Sigmoid()])
def test_other_activations_match_in_evaluation(activation):
    torch.manual_seed(0)
    module, x = grown(*LAYERS["conv2d dilation groups"], 3, activation=activation)
    reference = _unfused(module).eval()
    module.eval()
    with torch.no_grad():
        for batch in _batches(x):
            torch.testing.assert_close(module(batch), reference(batch), rtol=1e-6, atol=1e-6)


def test_evaluation_sees_every_parameter_change():
    torch.manual_seed(0)
    module, x = grown(*LAYERS["conv1d stride padding"], 2)
    module.eval()

    def check():
        with torch.no_grad():
            for batch in _batches(x):
                torch.testing.assert_close(module(batch), _unfused(module)(batch), rtol=1e-6, atol=1e-6)

    check()
    for optimizer in (torch.optim.SGD(module.parameters(), lr=0.5), torch.optim.Adam(module.parameters(), fused=True)):
        module.train()
        optimizer.zero_grad()
        module(x).square().sum().backward()
        optimizer.step()  # every weight, W and V changed in place
        module.eval()
        check()
    with torch.no_grad():
        module.dendrite_module.dendrites_to_dendrites[0].zero_()  # links gone: the one-pass activation
    check()
    module.add_dendrite()  # a new plan
    with torch.no_grad():
        module.dendrites_to_top.normal_()
    check()
    module.float()
    x = x.float()
    with torch.no_grad():
        torch.testing.assert_close(module(x), _unfused(module)(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("small_batch", [0, 1 << 30])  # the addcmul_ chain, the single reduction
@pytest.mark.parametrize("links", ["zero", "nonzero"])
def test_deployed_layers_match_whichever_mix_they_run(monkeypatch, small_batch, links):
    monkeypatch.setattr(fused_inference, "SMALL_BATCH", small_batch)
    torch.manual_seed(0)
    net = convert_network(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 5)),
                          PAIConfig(unwrapped_params_action="ignore", d_type=torch.float64,
                                    module_settings={"Conv2d": {"output_dimensions": [-1, 0, -1, -1]}}))
    net.double()(torch.randn(2, 3, 4, 4, dtype=torch.float64))
    for module in net.modules():
        if hasattr(module, "add_dendrite"):
            for _ in range(3):
                module.add_dendrite()
            with torch.no_grad():
                module.dendrites_to_top.normal_()
                into_2, into_3 = module.dendrite_module.dendrites_to_dendrites
                for block in (into_2, into_3):
                    block.normal_() if links == "nonzero" else block.zero_()
                into_3[0].zero_()  # V_3[1] is zero either way: left out
    deployed = to_inference(net)
    layers = [m for m in deployed.modules() if isinstance(m, FusedDendrites)]
    assert len(layers) == 2
    assert all(len(m.mix.link_pairs) == (2 if links == "nonzero" else 0) for m in layers)
    reference = _unfused(net).eval()
    with torch.no_grad():
        for batch in (1, fused_inference.STACK_MAX_BATCH + 1):
            x = torch.randn(batch, 3, 4, 4, dtype=torch.float64)
            torch.testing.assert_close(deployed(x), reference(x), rtol=1e-6, atol=1e-6)
            torch.testing.assert_close(net.eval()(x), reference(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ["conv1d stride padding", "conv3d stride"])
def test_stacked_convolutions_match_the_copies_in_blocks_of_any_size(monkeypatch, case):
    """Eager and deployed stacked convolutions: one block, a probe block and the rest, and many small blocks."""
    torch.manual_seed(0)
    module, x = grown(*LAYERS[case], 3)
    reference = _unfused(module).eval()
    module.eval()
    deployed = to_inference(nn.Sequential(module))
    assert isinstance(deployed[0], FusedDendrites)
    big = x.repeat(9, *([1] * (x.dim() - 1)))  # 18 rows
    big = big + 0.01 * torch.randn_like(big)
    for block_bytes in (fused_inference.BLOCK_BYTES, 1):  # 1: every block is STACK_MAX_BATCH rows
        monkeypatch.setattr(fused_inference, "BLOCK_BYTES", block_bytes)
        with torch.no_grad():
            for batch in (x, big):
                torch.testing.assert_close(module(batch), reference(batch), rtol=1e-6, atol=1e-6)
                torch.testing.assert_close(deployed(batch), reference(batch), rtol=1e-6, atol=1e-6)

