"""The framework-independent parts of the callbacks, on plain torch models (no extra needed): the run config,
perforating in place, the optimizer refresh after a restructure and the Linear output templates."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from pai_core.config import PAIConfig
from pai_core.errors import UnknownOptionError
from pai_core.integrations._common import (
    IntegrationError,
    groups_by_name,
    perforate_in_place,
    refresh_optimizer,
    run_config,
)
from pai_core.modules import neuron_modules

torch.set_num_threads(1)


class Seq(nn.Module):
    """A sequence model: (batch, time, features) inside, a 2-D classifier head."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 6)
        self.norm = nn.LayerNorm(6)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.norm(self.proj(x)).mean(1))


def perforated(tmp_path, monkeypatch, **options):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    model = Seq()
    config = run_config(None, {"module_names_to_perforate": ["Linear"], "output_dimensions": [-1, -1, 0],
                               "unwrapped_params_action": "ignore", **options})
    tracker = perforate_in_place(model, config, save_name="run", maximizing_score=True)
    return model, tracker


def test_run_config_copies_and_checks_option_names():
    base = PAIConfig()
    config = run_config(base, {"testing_dendrite_capacity": False, "switchMode": 0})
    assert config is not base and config.testing_dendrite_capacity is False and config.switch_mode == 0
    assert base.testing_dendrite_capacity is True
    assert run_config(None, {}) is None  # perforate_model then takes the GPA.pc defaults itself
    with pytest.raises(UnknownOptionError, match="n_epochs_to_switch"):
        run_config(None, {"n_epochs_to_swich": 3})


def test_linear_layers_take_the_template_of_their_output_rank(tmp_path, monkeypatch):
    model, _ = perforated(tmp_path, monkeypatch)
    model(torch.randn(2, 5, 4)).sum().backward()
    assert model.proj.output_dimensions == [-1, -1, 0] and model.head.output_dimensions == [-1, 0]
    assert model.head.out_channels == 3 and not model.head.main_module._forward_hooks  # the hook is gone


def test_refresh_puts_new_dendrites_in_the_right_groups_and_clears_the_state(tmp_path, monkeypatch):
    model, _ = perforated(tmp_path, monkeypatch)
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and "norm" not in n]
    rest = [p for n, p in model.named_parameters() if not (n.endswith("weight") and "norm" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}])
    known = groups_by_name(optimizer, model)
    model(torch.randn(2, 5, 4)).sum().backward()
    optimizer.step()
    assert optimizer.state
    for module in neuron_modules(model):
        module.add_dendrite()
    known = refresh_optimizer(optimizer, model, known)
    assert not optimizer.state
    assert known["proj.dendrite_module.layers.0.weight"] == 0 and known["proj.dendrite_module.layers.0.bias"] == 1
    assert known["head.dendrites_to_top"] == 1  # the group with the least weight decay
    optimized = [p for group in optimizer.param_groups for p in group["params"]]
    assert {id(p) for p in optimized} == {id(p) for p in model.parameters()} and len(optimized) == len(known)
    for module in neuron_modules(model):  # a second round replaces dendrites_to_top: it keeps its group
        module.add_dendrite()
    known = refresh_optimizer(optimizer, model, known)
    assert known["head.dendrites_to_top"] == 1 and known["proj.dendrite_module.dendrites_to_dendrites.0"] == 1
    assert {id(p) for g in optimizer.param_groups for p in g["params"]} == {id(p) for p in model.parameters()}


def test_parameters_the_optimizer_never_trained_stay_out_and_outside_ones_stay_in(tmp_path, monkeypatch):
    model, _ = perforated(tmp_path, monkeypatch)
    frozen = model.proj.main_module.weight
    temperature = nn.Parameter(torch.ones(()))  # e.g. a learnable loss temperature outside the model
    optimizer = torch.optim.SGD([*(p for p in model.parameters() if p is not frozen), temperature], lr=0.1)
    known = groups_by_name(optimizer, model)
    model(torch.randn(2, 5, 4)).sum().backward()
    for module in neuron_modules(model):
        module.add_dendrite()
    refresh_optimizer(optimizer, model, known)
    optimized = {id(p) for p in optimizer.param_groups[0]["params"]}
    assert id(frozen) not in optimized and id(model.proj.dendrite_module.layers[0].weight) not in optimized
    assert id(model.proj.dendrite_module.layers[0].bias) in optimized and id(temperature) in optimized


def test_an_already_perforated_model_keeps_its_tracker_unless_the_direction_differs(tmp_path, monkeypatch):
    model, tracker = perforated(tmp_path, monkeypatch)
    assert perforate_in_place(model, None, save_name="other", maximizing_score=True) is tracker
    with pytest.raises(IntegrationError, match="maximizing_score=False"):
        perforate_in_place(model, None, save_name="other", maximizing_score=False)


def test_a_perforated_root_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = run_config(None, {"module_names_to_perforate": ["Linear"], "output_dimensions": [-1, 0]})
    with pytest.raises(IntegrationError, match="root"):
        perforate_in_place(nn.Linear(3, 2), config, save_name="root", maximizing_score=True)


@pytest.mark.parametrize("make", [
    lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 - step / 10),
    lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
])
def test_restart_scheduler_gives_the_first_rate_again(make):
    from pai_core.integrations._common import restart_scheduler

    weight = nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([{"params": [weight], "lr": 0.4}], lr=0.4)
    scheduler = make(optimizer)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] < 0.4
    assert restart_scheduler(scheduler, optimizer)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.4) and scheduler.last_epoch == 0
    optimizer.step()
    scheduler.step()
    lambda_schedule = isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.36 if lambda_schedule else 0.4)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    assert not restart_scheduler(plateau, optimizer)


def test_a_tied_output_layer_is_left_without_dendrites(tmp_path, monkeypatch):
    from pai_core.integrations._common import tied_module_ids

    class TiedLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.mix = nn.Linear(8, 8)
            self.head = nn.Linear(8, 20, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, ids):
            return self.head(self.mix(self.embed(ids)))

    monkeypatch.chdir(tmp_path)
    model = TiedLM()
    assert tied_module_ids(model) == [".head"]
    config = run_config(None, {"module_names_to_perforate": ["Linear"], "output_dimensions": [-1, -1, 0]})
    perforate_in_place(model, config, save_name="tied", maximizing_score=False)
    assert [m.name for m in neuron_modules(model)] == [".mix"] and isinstance(model.head, nn.Linear)
    assert model.head.weight is model.embed.weight
