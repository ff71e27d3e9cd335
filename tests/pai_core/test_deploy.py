"""Inference loading: a run's best weights in a fresh plain model, lean (fused) dendrite layers that compute
exactly what the eager perforated model computes, for MLP, sequence and CNN layouts and k = 0..3."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from test_training_support import DATA, Net, evaluate, run_config
from torch import nn

from pai_core.blocks import PAISequential
from pai_core.checkpoint import load_checkpoint, load_into_model
from pai_core.deploy import load_for_inference, to_inference
from pai_core.errors import CheckpointError
from pai_core.inference_layers import DendriteCopies, FusedDendrites, StackedLayerNorm
from pai_core.modules import PAINeuronModule, TrackedNeuronModule, neuron_modules
from pai_core.perforate import convert_network, perforate_model
from pai_core.processors import GRUProcessor
from pai_core.tracker import tracker_for

torch.set_num_threads(1)


class SeqNet(nn.Module):
    """(batch, seq, features) through Linear layers: the neuron axis is last, [-1, -1, 0]."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, 12)
        self.norm = nn.LayerNorm(12)
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        return self.head(torch.tanh(self.norm(self.embed(x))))


class ConvNet(nn.Module):
    """8x8 digits CNN: conv+BN+ReLU grouped in a PAISequential (BN folded at inference), a conv, a Linear."""

    def __init__(self, grouped: bool = True) -> None:
        super().__init__()
        first = [nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU()]
        self.block = PAISequential(first) if grouped else first[0]
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1, padding_mode="reflect")
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = F.relu(self.block(x.view(-1, 1, 8, 8)))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


class NormNet(nn.Module):
    """Linear + LayerNorm + GELU as one perforation unit, on (batch, seq, features)."""

    def __init__(self) -> None:
        super().__init__()
        self.block = PAISequential([nn.Linear(8, 12), nn.LayerNorm(12), nn.GELU()])
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        return self.head(self.block(x))


class GRUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(8, 6, batch_first=True)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


class Block(nn.Module):
    """No single Linear/Conv: dendrites stay copies that are called one by one."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(64, 16)
        self.b = nn.Linear(16, 10)

    def forward(self, x):
        return self.b(torch.sigmoid(self.a(x)))


class BlockNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return self.block(x)


CASES = {
    # name: (plain model factory, config options, example input)
    "mlp": (lambda: Net(6), {"module_names_to_perforate": ["Linear"], "output_dimensions": [-1, 0]},
            lambda: DATA.x_val[:16]),
    "sequence": (SeqNet, {"module_names_to_perforate": ["Linear"], "module_names_to_track": ["LayerNorm"],
                          "output_dimensions": [-1, -1, 0]}, lambda: torch.randn(4, 7, 8)),
    "cnn": (ConvNet, {"module_names_to_perforate": ["PAISequential", "Conv2d", "Linear"],
                      "output_dimensions": [-1, 0, -1, -1]}, lambda: DATA.x_val[:16]),
    "layernorm": (NormNet, {"module_names_to_perforate": ["PAISequential", "Linear"],
                            "output_dimensions": [-1, -1, 0]}, lambda: torch.randn(4, 7, 8)),
    "root": (lambda: nn.Linear(64, 10), {"module_names_to_perforate": ["Linear"], "output_dimensions": [-1, 0]},
             lambda: DATA.x_val[:16]),
    "generic": (BlockNet, {"module_names_to_perforate": ["Block"], "output_dimensions": [-1, 0]},
                lambda: DATA.x_val[:16]),
}


def _config(options: dict):
    config = run_config(unwrapped_modules_confirmed=True)
    for name, value in options.items():
        setattr(config, name, value)
    return config


def _perforated_with_dendrites(case: str, k: int, seed: int = 0):
    """A perforated model of `case` with k dendrites per layer and random (non-zero) dendrite weights."""
    factory, options, example = CASES[case]
    torch.manual_seed(seed)
    config = _config(options)
    model = convert_network(factory(), config)
    x = example()
    model.train()
    model(x)  # learns the channel counts; also moves BatchNorm statistics away from their defaults
    for module in neuron_modules(model):
        for _ in range(k):
            module.add_dendrite()
        with torch.no_grad():
            if k:
                module.dendrites_to_top.normal_()
                for links in module.dendrite_module.dendrites_to_dendrites:
                    links.normal_()
                for dendrite in module.dendrite_module.layers:
                    for param in dendrite.parameters():
                        param.normal_(0, 0.3)
    model.train()
    model(x)  # BatchNorm copies get their own running statistics
    return model.eval(), config, x


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_inference_layers_compute_what_the_perforated_model_computes(case, k):
    model, config, x = _perforated_with_dendrites(case, k)
    with torch.no_grad():
        expected = model(x)
        fused = to_inference(model)
        loaded = load_for_inference(CASES[case][0](), model.state_dict(), config=config)
        unfused = load_for_inference(CASES[case][0](), model.state_dict(), config=config, fuse=False)
        for inference in (fused, loaded, unfused):
            assert not any(isinstance(m, (PAINeuronModule, TrackedNeuronModule)) for m in inference.modules())
            assert not inference.training
            torch.testing.assert_close(inference(x), expected, rtol=1e-5, atol=1e-5)
    kinds = {type(m) for m in loaded.modules()}
    if k == 0:
        assert not kinds & {FusedDendrites, DendriteCopies}  # a layer without dendrites is the layer again
    elif case == "generic":
        assert DendriteCopies in kinds and FusedDendrites not in kinds
    else:
        assert FusedDendrites in kinds and DendriteCopies not in kinds
        layers = [m for m in loaded.modules() if isinstance(m, FusedDendrites)]
        assert all(m.num_dendrites == k for m in layers)
    if case == "cnn" and k:
        assert [type(m) for m in loaded.block.stacked] == [nn.Conv2d, nn.ReLU]  # BatchNorm folded into the conv
        assert loaded.block.stacked[0].out_channels == 6 * (k + 1)
        assert loaded.conv2.stacked.padding_mode == "reflect"
    if case == "layernorm" and k:  # one LayerNorm call normalises each of the k+1 blocks on its own
        assert [type(m) for m in loaded.block.stacked] == [nn.Linear, StackedLayerNorm, nn.GELU]
    assert tracker_for(model) is None and tracker_for(loaded) is None


def test_fused_layer_is_one_matmul_of_stacked_weights():
    model, _, _ = _perforated_with_dendrites("mlp", 2)
    layer = to_inference(model).fc1
    original = model.fc1
    assert layer.stacked.weight.shape == (6 * 3, 64)
    torch.testing.assert_close(layer.stacked.weight[:6], original.main_module.weight)
    torch.testing.assert_close(layer.stacked.weight[12:], original.dendrite_module.layers[1].weight)
    assert not any(p.requires_grad for p in layer.parameters())
    assert original.dendrites_to_top.requires_grad  # the training model is left as it was


def gru_with_dendrites():
    """A GRU (tuple output, so a GRUProcessor) with 2 dendrites: (perforated model, config, input)."""
    options = {"module_names_to_perforate": ["GRU"], "output_dimensions": [-1, -1, 0],
               "modules_with_processing": [nn.GRU], "modules_processing_classes": [GRUProcessor]}
    CASES["gru"] = (GRUNet, options, lambda: torch.randn(3, 5, 8))
    try:
        return _perforated_with_dendrites("gru", 2)
    finally:
        del CASES["gru"]


def test_processor_modules_keep_their_copies_and_processors():
    model, config, x = gru_with_dendrites()
    with torch.no_grad():
        expected = model(x)
        loaded = load_for_inference(GRUNet(), model.state_dict(), config=config)
        assert isinstance(loaded.gru, DendriteCopies) and loaded.gru.processor is not None
        assert isinstance(loaded.head, nn.Linear)
        torch.testing.assert_close(loaded(x), expected, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A real capacity-test run on digits: 3 dendrites grown by the tracker, best_model.pt on disk."""
    tmp_path = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        patch.setenv("MPLBACKEND", "Agg")
        return _train_digits_run(tmp_path / "digits")


def _train_digits_run(folder):
    save_name = folder.name
    torch.manual_seed(2)
    config = run_config(testing_dendrite_capacity=True)
    model = perforate_model(Net(6), save_name=save_name, maximizing_score=True, config=config)
    tracker = tracker_for(model)
    tracker.set_optimizer(torch.optim.Adam)
    optimizer = tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
    for _ in range(10):
        model.train()
        for i in range(0, 1200, 100):
            optimizer.zero_grad()
            F.cross_entropy(model(DATA.x_train[i:i + 100]), DATA.y_train[i:i + 100]).backward()
            optimizer.step()
        model, restructured, done = tracker.add_validation_score(evaluate(model, DATA.x_val, DATA.y_val)[0], model)
        if done:
            break
        if restructured:
            optimizer = tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
    tracker.flush()
    return folder


def test_a_real_run_loads_into_a_fresh_plain_model(digits_run, tmp_path):
    folder = digits_run
    weights, _ = load_checkpoint(folder / "best_model.pt")
    reference = convert_network(Net(6), run_config())  # the eager perforated model with the best weights
    load_into_model(reference, {k: v for k, v in weights.items() if not k.startswith("__")})
    assert [m.num_dendrites for m in neuron_modules(reference)] == [3, 3]

    plain = Net(6)
    inference = load_for_inference(plain, folder)
    assert inference is plain and isinstance(plain.fc1, FusedDendrites) and plain.fc1.num_dendrites == 3
    assert not any(k.startswith("__") or "candidate" in k for k in inference.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(inference(DATA.x_test), reference.eval()(DATA.x_test), rtol=1e-5, atol=1e-5)
    accuracy = evaluate(inference, DATA.x_test, DATA.y_test)[0]
    assert accuracy == pytest.approx(evaluate(reference, DATA.x_test, DATA.y_test)[0])
    assert accuracy > 50  # the trained model, not random weights

    # the same weights from an explicit file, and from a torch.save'd state dict
    again = load_for_inference(Net(6), folder / "best_model.pt")
    torch.save({"model_state_dict": reference.state_dict()}, tmp_path / "weights.pt")
    from_torch = load_for_inference(Net(6), tmp_path / "weights.pt")
    with torch.no_grad():
        torch.testing.assert_close(again(DATA.x_val), from_torch(DATA.x_val))


def test_upstream_load_pretrained_model_can_drop_the_scaffolding(digits_run):
    from pai_core import utils_perforatedai as UPA

    perforated = convert_network(Net(6), run_config())
    loaded = UPA.load_pretrained_model(perforated, str(digits_run), "best_model")
    lean = UPA.load_pretrained_model(convert_network(Net(6), run_config()), str(digits_run), "best_model",
                                     remove_dendrite_scaffolding=True)
    assert isinstance(lean.fc1, FusedDendrites) and not lean.training
    assert not any(isinstance(m, PAINeuronModule) for m in lean.modules())
    with torch.no_grad():
        torch.testing.assert_close(lean(DATA.x_test), loaded.eval()(DATA.x_test), rtol=1e-5, atol=1e-5)


def test_mismatches_and_missing_files_say_what_to_pass(digits_run, tmp_path):
    folder = digits_run
    with pytest.raises(CheckpointError, match="same arguments"):
        load_for_inference(Net(9), folder)  # wrong width
    with pytest.raises(CheckpointError, match="missing keys"):
        load_for_inference(SeqNet(), folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="No best_model.pt"):
        load_for_inference(Net(6), tmp_path / "empty")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_for_inference(Net(6), tmp_path / "nowhere")
    perforated = convert_network(Net(6), run_config())
    with pytest.raises(CheckpointError, match="to_inference"):
        load_for_inference(perforated, folder)
