"""Rockpool's spiking modules perforated directly: LIFTorch and ExpSynTorch (their call returns
(output, state, record)) get dendrites through MultiOutputProcessor, with no adapter.

Rockpool overrides Module.parameters() (a dict of names) and modules(): pai_core walks torch's own
nn.Module.parameters, and a dendrite copy keeps the time constants and thresholds in range (dendrite_init).
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

rockpool_modules = pytest.importorskip("rockpool.nn.modules", reason="rockpool is not installed: "
                                       "pip install rockpool==3.1.0 (part of the dev extra)")
from rockpool.parameters import Constant  # noqa: E402

from pai_core.config import PAIConfig  # noqa: E402
from pai_core.dendrite_init import parameter_kind  # noqa: E402
from pai_core.perforate import perforate_model  # noqa: E402
from pai_core.processors import MultiOutputProcessor  # noqa: E402
from pai_core.tracker import tracker_for  # noqa: E402

LIFTorch, ExpSynTorch = rockpool_modules.LIFTorch, rockpool_modules.ExpSynTorch
C, T, K = 12, 30, 3


def spike_trains(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Poisson spike trains (n, T, C): class k fires channels 4k..4k+3 at 30% per step, the rest at 5%."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, K, (n,), generator=generator)
    rates = torch.full((n, C), 0.05)
    for k in range(K):
        rates[y == k, 4 * k:4 * k + 4] = 0.3
    return (torch.rand(n, T, C, generator=generator) < rates[:, None, :]).float(), y


TRAIN, VALID = spike_trains(240, 1), spike_trains(120, 2)


class SpikingNet(nn.Module):
    """Linear -> LIFTorch -> ExpSynTorch -> Linear, read out as the mean over time (trainable LIF taus by default)."""

    def __init__(self, hidden: int = 16, trainable_taus: bool = True):
        super().__init__()
        wrap = (lambda v: v) if trainable_taus else Constant
        self.fc_in = nn.Linear(C, hidden)
        self.lif = LIFTorch((hidden,), tau_mem=wrap(0.02), tau_syn=wrap(0.01), threshold=wrap(1.0), dt=1e-3,
                            max_spikes_per_dt=1)
        self.syn = ExpSynTorch((hidden,), tau=Constant(0.01), dt=1e-3)  # a trainable synapse tau diverges
        self.fc_out = nn.Linear(hidden, K)

    def forward(self, x):
        spikes, _, _ = self.lif(self.fc_in(x))
        current, _, _ = self.syn(spikes)
        return self.fc_out(current).mean(1)


def spiking_config(**options) -> PAIConfig:
    config = PAIConfig()
    config.configuration_confirmed = True
    config.module_names_to_perforate = ["Linear", "LIFTorch", "ExpSynTorch"]
    config.output_dimensions = [-1, -1, 0]  # (batch, time, channels)
    config.modules_with_processing = [LIFTorch, ExpSynTorch]
    config.modules_processing_classes = [MultiOutputProcessor, MultiOutputProcessor]
    for name, value in options.items():
        setattr(config, name, value)
    return config


def param_groups(model, lr: float) -> list[dict]:
    """Time constants learn 100x slower than weights (Adam's ~lr steps would push a 10 ms tau below 0)."""
    named = list(model.named_parameters())
    return [{"params": [p for n, p in named if ".tau" not in n]},
            {"params": [p for n, p in named if ".tau" in n], "lr": lr / 100}]


def train_run(model, *, lr: float, max_epochs: int, losses: list | None = None):
    tracker = tracker_for(model)
    tracker.set_optimizer(torch.optim.Adam)
    optimizer = tracker.setup_optimizer(model, {"params": param_groups(model, lr), "lr": lr})
    x, y = TRAIN
    for _ in range(max_epochs):
        model.train()
        for i in range(0, len(x), 40):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[i:i + 40]), y[i:i + 40])
            loss.backward()
            optimizer.step()
            if losses is not None:
                losses.append(loss.item())
        model, restructured, done = tracker.add_validation_score(accuracy(model), model)
        if done:
            return model, tracker
        if restructured:
            optimizer = tracker.setup_optimizer(model, {"params": param_groups(model, lr), "lr": lr})
    return model, tracker


@torch.no_grad()
def accuracy(model) -> float:
    model.eval()
    x, y = VALID
    return (model(x).argmax(1) == y).float().mean().item() * 100


def test_lif_parameters_are_not_weights_and_linear_ones_are():
    lif, linear = LIFTorch((4,)), nn.Linear(2, 2)
    assert [parameter_kind(lif, n) for n, _ in nn.Module.named_parameters(lif)] == ["perturb"] * 4
    assert {parameter_kind(linear, n) for n, _ in linear.named_parameters()} == {"reinit"}
    assert parameter_kind(lif, "tau_mem", {"LIFTorch.tau_*": "keep"}) == "keep"
    assert parameter_kind(lif, "bias", {"bias": "reinit"}) == "reinit"


@pytest.mark.slow
def test_the_capacity_test_adds_three_dendrites_with_finite_loss(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    model = perforate_model(SpikingNet(), save_name="spiking_capacity", maximizing_score=True,
                            config=spiking_config(testing_dendrite_capacity=True))
    losses: list[float] = []
    model, tracker = train_run(model, lr=3e-3, max_epochs=8, losses=losses)
    assert tracker.state.completion_reason == "capacity_test_passed"
    assert model.lif.num_dendrites == 3 and model.syn.num_dendrites == 3
    assert losses and all(math.isfinite(v) for v in losses)
    for copy in model.lif.dendrite_module.layers:  # time constants kept in range, not re-drawn around 0
        for name, param in nn.Module.named_parameters(copy):
            if name.startswith("tau"):
                assert float(param.min()) > 0, name


@pytest.mark.slow
def test_dendrites_improve_a_history_mode_run_and_it_resumes_and_deploys(tmp_path, monkeypatch):
    from pai_core.deploy import load_for_inference

    monkeypatch.chdir(tmp_path)
    options = dict(testing_dendrite_capacity=False, n_epochs_to_switch=4, max_dendrites=2, max_dendrite_tries=1)
    torch.manual_seed(0)
    plain = perforate_model(SpikingNet(hidden=3, trainable_taus=False), save_name="spiking_plain",
                            maximizing_score=True, doing_pai=False, config=spiking_config(**options))
    plain, plain_tracker = train_run(plain, lr=1e-2, max_epochs=80)
    torch.manual_seed(0)
    model = perforate_model(SpikingNet(hidden=3, trainable_taus=False), save_name="spiking",
                            maximizing_score=True, config=spiking_config(**options))
    model, tracker = train_run(model, lr=1e-2, max_epochs=120)
    assert plain_tracker.state.completed and tracker.state.completed
    assert tracker.state.num_dendrites_added >= 1
    assert tracker.summary()["best_validation_score"] > plain_tracker.summary()["best_validation_score"]

    resumed = perforate_model(SpikingNet(hidden=3, trainable_taus=False), save_name="spiking",
                              maximizing_score=True, config=spiking_config(**options), resume=True)
    assert resumed.lif.num_dendrites == model.lif.num_dendrites
    assert tracker_for(resumed).state.completed
    deployed = load_for_inference(SpikingNet(hidden=3, trainable_taus=False), "spiking",
                                  config=spiking_config(**options))
    with torch.no_grad():
        assert torch.allclose(deployed(VALID[0]), model.eval()(VALID[0]), atol=1e-5)
