"""Dendrite math on real torch modules: exactness, the formula, gradients, state_dict round trips, errors."""
import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from pai_core.config import PAIConfig
from pai_core.errors import DendriteError, OutputDimensionsError
from pai_core.modules import (
    PAINeuronModule,
    TrackedNeuronModule,
    count_params,
    neuron_modules,
    prepare_to_load,
)
from pai_core.perforate import convert_network

torch.set_num_threads(1)


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


class SeqModel(nn.Module):
    """(batch, seq, features) through Linear layers: the neuron axis is the last one."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(5, 8)
        self.out = nn.Linear(8, 4)

    def forward(self, x):
        return self.out(torch.tanh(self.proj(x)))


def grow(model, k):
    for module in neuron_modules(model):
        for _ in range(k):
            module.add_dendrite()


def perforated(model, **options):
    options.setdefault("unwrapped_params_action", "ignore")
    return convert_network(model, PAIConfig(**options))


def test_mlp_adding_dendrites_keeps_output_exactly():
    torch.manual_seed(0)
    model = perforated(mlp())
    x = torch.randn(9, 6)
    before = model(x)
    for k in range(1, 4):
        grow(model, 1)
        assert all(m.num_dendrites == k for m in neuron_modules(model))
        assert torch.equal(model(x), before)
    assert model[0].dendrites_to_top.shape == (3, 16)
    assert model[4].out_channels == 3 and model[4].dendrite_module.dendrites_to_dendrites[1].shape == (2, 3)


def test_cnn_channel_axis_broadcast_and_unchanged():
    torch.manual_seed(0)
    model = perforated(CNN())
    x = torch.randn(2, 1, 7, 7)
    before = model(x)
    assert model.conv1.output_dimensions == [-1, 0, -1, -1] and model.fc.output_dimensions == [-1, 0]
    grow(model, 2)
    assert torch.equal(model(x), before)
    assert model.conv2.out_channels == 6 and model.conv2.dendrites_to_top.shape == (2, 6)


def test_sequence_model_needs_last_axis_template():
    model = perforated(SeqModel(), output_dimensions=[-1, -1, 0])
    x = torch.randn(3, 7, 5)
    before = model(x)
    grow(model, 3)
    assert torch.allclose(model(x), before, atol=0, rtol=0)
    assert model.proj.out_channels == 8


def test_forward_matches_the_dendrite_formula():
    torch.manual_seed(1)
    layer = nn.Conv2d(2, 3, 3)
    module = PAINeuronModule(layer, ".c", config=PAIConfig())
    x = torch.randn(2, 2, 5, 5)
    module(x)
    for _ in range(3):
        module.add_dendrite()
    with torch.no_grad():
        module.dendrites_to_top.normal_()
        for v in module.dendrite_module.dendrites_to_dendrites:
            v.normal_()
    W = module.dendrites_to_top
    V = module.dendrite_module.dendrites_to_dendrites
    acts = []
    expected = layer(x)
    for i, d in enumerate(module.dendrite_module.layers):
        z = d(x)
        for j in range(i):
            z = z + V[i - 1][j].view(1, 3, 1, 1) * acts[j]
        acts.append(torch.sigmoid(z))
        expected = expected + W[i].view(1, 3, 1, 1) * acts[i]
    assert torch.allclose(module(x), expected, atol=1e-6)


def test_last_axis_outputs_match_the_formula():
    torch.manual_seed(2)
    layer = nn.Linear(5, 4)
    module = PAINeuronModule(layer, ".l", config=PAIConfig(), output_dimensions=[-1, -1, 0])
    x = torch.randn(3, 6, 5)
    module(x)
    for _ in range(2):
        module.add_dendrite()
    with torch.no_grad():
        for p in [module.dendrites_to_top, *module.dendrite_module.dendrites_to_dendrites]:
            p.normal_()
    W, V = module.dendrites_to_top, module.dendrite_module.dendrites_to_dendrites[0]
    d0, d1 = module.dendrite_module.layers
    a0 = torch.sigmoid(d0(x))
    a1 = torch.sigmoid(d1(x) + V[0] * a0)
    assert torch.allclose(module(x), layer(x) + W[0] * a0 + W[1] * a1, atol=1e-6)


def test_new_dendrite_is_small_random_copy_with_buffers():
    torch.manual_seed(3)
    unit = nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8))
    unit[1].running_mean.fill_(0.5)
    module = PAINeuronModule(unit, ".u", config=PAIConfig(candidate_weight_initialization_multiplier=0.01))
    module(torch.randn(2, 1, 6, 6))
    module.add_dendrite()
    dendrite = module.dendrite_module.layers[0]
    weight = dendrite[0].weight
    assert weight.data_ptr() != unit[0].weight.data_ptr()
    assert 0.003 < weight.std().item() < 0.03 and abs(weight.mean().item()) < 0.01
    assert dendrite[1].weight.abs().max() < 0.1  # norm gammas are re-initialised too
    assert torch.equal(dendrite[1].running_mean, unit[1].running_mean)
    assert torch.count_nonzero(module.dendrites_to_top) == 0


def test_init_by_main_scales_with_main_weights():
    torch.manual_seed(4)
    layer = nn.Linear(50, 50)
    with torch.no_grad():
        layer.weight.fill_(10.0)
        layer.bias.fill_(10.0)
    module = PAINeuronModule(layer, ".l", config=PAIConfig(candidate_weight_init_by_main=True))
    module(torch.randn(2, 50))
    module.add_dendrite()
    assert 0.05 < module.dendrite_module.layers[0].weight.std().item() < 0.2


def test_gradients_reach_output_weight_first_then_dendrites():
    torch.manual_seed(5)
    model = perforated(mlp())
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    model(x)
    grow(model, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x), y).backward()
    head = model[4]
    assert head.dendrites_to_top.grad.abs().sum() > 0
    assert torch.count_nonzero(head.dendrite_module.layers[0].weight.grad) == 0  # multiplied by W = 0
    opt.step()
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    assert head.dendrite_module.layers[0].weight.grad.abs().sum() > 0
    assert model[0].dendrite_module.layers[0].weight.grad.abs().sum() > 0


def test_training_with_dendrites_lowers_the_loss():
    torch.manual_seed(6)
    model = perforated(mlp())
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    model(x)
    grow(model, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_state_dict_round_trip_into_fresh_model():
    torch.manual_seed(7)
    model = perforated(CNN())
    x = torch.randn(2, 1, 7, 7)
    model(x)
    grow(model, 2)
    with torch.no_grad():
        for m in neuron_modules(model):
            m.dendrites_to_top.normal_()
    state = model.state_dict()
    assert state["conv1.dendrite_module.dendrite_count"].item() == 2
    fresh = perforated(CNN())
    result = fresh.load_state_dict(prepare_to_load(fresh, state))
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(fresh(x), model(x))
    again = perforated(CNN())  # load_state_dict resizes by itself too
    again.load_state_dict(state)
    assert torch.equal(again(x), model(x)) and again.conv2.num_dendrites == 2
    shrunk = perforated(CNN())
    shrunk(x)
    grow(shrunk, 3)
    shrunk.load_state_dict(state)
    assert shrunk.fc.num_dendrites == 2 and torch.equal(shrunk(x), model(x))


def test_prepare_to_load_strips_data_parallel_prefix_and_output_dims():
    model = perforated(SeqModel(), output_dimensions=[-1, -1, 0])
    x = torch.randn(2, 3, 5)
    model(x)
    grow(model, 1)
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    fresh = perforated(SeqModel())  # default template: Linear trims to [-1, 0]
    fresh.load_state_dict(prepare_to_load(fresh, state))
    assert fresh.proj.output_dimensions == [-1, -1, 0]
    assert torch.equal(fresh(x), model(x))


def test_wrong_output_dimensions_error_names_module_shape_and_fix():
    model = perforated(SeqModel())  # [-1, 0] for a rank-3 output
    with pytest.raises(OutputDimensionsError) as info:
        model(torch.randn(2, 3, 5))
    text = str(info.value)
    assert "'.proj'" in text and "[2, 3, 8]" in text
    assert "model.proj.set_this_output_dimensions([-1, -1, 0])" in text
    assert "GPA.pc.set_output_dimensions([-1, -1, 0])" in text
    assert isinstance(info.value, ValueError)
    model.proj.set_this_output_dimensions([-1, -1, 0])
    model.out.set_this_input_dimensions([-1, -1, 0])  # legacy name
    assert model(torch.randn(2, 3, 5)).shape == (2, 3, 4)


def test_conv_error_suggests_channel_axis():
    module = PAINeuronModule(nn.Conv2d(1, 2, 3), ".features.0", config=PAIConfig(output_dimensions=[-1, 0]))
    with pytest.raises(OutputDimensionsError, match=r"model\.features\[0\]\.set_this_output_dimensions\(\[-1, 0, -1, -1\]\)"):
        module(torch.randn(1, 1, 5, 5))
    with pytest.raises(OutputDimensionsError, match="expects size 5 on axis 0"):
        PAINeuronModule(nn.Linear(2, 3), ".l", config=PAIConfig(output_dimensions=[5, 0]))(torch.randn(1, 2))
    with pytest.raises(OutputDimensionsError, match="exactly one 0"):
        module.set_this_output_dimensions([-1, -1])


def test_add_dendrite_before_any_forward_is_a_dendrite_error():
    module = PAINeuronModule(nn.Linear(3, 2), ".unused", config=PAIConfig())
    with pytest.raises(DendriteError, match=r"'\.unused'.*never ran in a forward"):
        module.add_dendrite()
    with pytest.raises(DendriteError):
        module.set_mode("p")


def test_upstream_switch_protocol_and_clear():
    module = PAINeuronModule(nn.Linear(3, 2), ".l", config=PAIConfig())
    x = torch.randn(4, 3)
    before = module(x)
    assert module.set_mode("p") is True
    module.create_new_dendrite_module()
    assert module.num_dendrites == 0
    module.set_mode("n")
    assert module.num_dendrites == 1 and torch.equal(module(x), before)
    module.clear_dendrites()
    assert module.num_dendrites == 0 and module.dendrites_to_top is None
    assert "dendrites_to_top" not in module.state_dict()
    assert torch.equal(module(x), before)


def test_attribute_fall_through_indexing_and_repr():
    linear = nn.Linear(3, 2)
    module = PAINeuronModule(linear, ".l", config=PAIConfig())
    assert module.weight is linear.weight and module.in_features == 3
    seq = PAINeuronModule(nn.Sequential(nn.Linear(3, 3), nn.ReLU()), ".s", config=PAIConfig())
    assert isinstance(seq[1], nn.ReLU)
    assert repr(module) == f"PAIModule({linear!r})"
    tracked = TrackedNeuronModule(nn.LayerNorm(3), ".n")
    assert repr(tracked).startswith("PAITrackedModule(") and tracked.normalized_shape == (3,)
    assert torch.equal(tracked(torch.ones(1, 3)), nn.functional.layer_norm(torch.ones(1, 3), (3,)))
    with pytest.raises(AttributeError):
        _ = module.no_such_attribute


def test_count_params_counts_shared_storage_once():
    model = perforated(mlp())
    base = count_params(model)
    assert base == sum(p.numel() for p in mlp().parameters())
    model(torch.randn(1, 6))
    grow(model, 1)
    # each wrapped layer: one more copy + C output weights
    assert count_params(model) == 2 * base + 16 + 16 + 3
    tied = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
    tied[1].weight = tied[0].weight
    assert count_params(tied) == 40


def test_two_models_in_one_process_are_independent():
    torch.manual_seed(8)
    a = perforated(mlp(), candidate_weight_initialization_multiplier=0.5)
    b = perforated(mlp(), output_dimensions=[-1, -1, 0])
    xa, xb = torch.randn(3, 6), torch.randn(2, 5, 6)
    a(xa)
    b(xb)
    grow(a, 2)
    assert all(m.num_dendrites == 0 for m in neuron_modules(b))
    assert a[0].dendrite_module.layers[0].weight.std() > 0.2
    b_before = b(xb)
    grow(b, 1)
    assert torch.equal(b(xb), b_before) and b[0].output_dimensions == [-1, -1, 0]
    assert a[0].output_dimensions == [-1, 0]


def test_deepcopy_and_pickle_of_a_grown_model():
    import io
    model = perforated(mlp())
    x = torch.randn(2, 6)
    model(x)
    grow(model, 2)
    clone = copy.deepcopy(model)
    assert torch.equal(clone(x), model(x))
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    restored = torch.load(buffer, weights_only=False)
    assert torch.equal(restored(x), model(x))


@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 4), channels=st.integers(1, 6), length=st.integers(3, 8), k=st.integers(1, 3),
       conv=st.booleans(), seed=st.integers(0, 2**16))
def test_random_shapes_and_dendrite_counts_preserve_outputs(batch, channels, length, k, conv, seed):
    torch.manual_seed(seed)
    if conv:
        layer, x, dims = nn.Conv1d(2, channels, 3), torch.randn(batch, 2, length), None
    else:
        layer, x, dims = nn.Linear(2, channels), torch.randn(batch, length, 2), [-1, -1, 0]
    module = PAINeuronModule(layer, ".m", config=PAIConfig(), output_dimensions=dims)
    before = module(x)
    for _ in range(k):
        module.add_dendrite()
    assert torch.equal(module(x), before)
    assert module.out_channels == channels and module.dendrites_to_top.shape == (k, channels)
