"""pai_core.optim's Adam/AdamW: every update bit-identical to torch.optim's fused one, state_dict unchanged."""
from __future__ import annotations

import copy
import warnings

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from pai_core import optim as pai_optim
from pai_core.modules import neuron_modules
from pai_core.perforate import convert_network
from pai_core.config import PAIConfig


def perforated_mlp() -> nn.Module:
    """A perforated MLP with two dendrites per layer: many small parameter tensors, as in a real run."""
    torch.manual_seed(0)
    config = PAIConfig()
    config.module_names_to_perforate = ["Linear"]
    config.output_dimensions = [-1, 0]
    model = convert_network(nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)), config)
    model(torch.randn(2, 6))
    for module in neuron_modules(model):
        module.add_dendrite()
        module.add_dendrite()
        with torch.no_grad():
            module.dendrites_to_top.normal_(0, 0.3)
    return model


def twins(torch_class: type, groups: bool = False, **args) -> tuple:
    """(model, pai optimizer, same model, torch optimizer) from one start."""
    ours = perforated_mlp()
    theirs = copy.deepcopy(ours)

    def params(model: nn.Module):
        if not groups:
            return list(model.parameters())
        first = list(model[0].parameters())
        return [{"params": first, "lr": 0.05}, {"params": list(model[2].parameters())}]

    built = pai_optim.build_optimizer(torch_class, params(ours), dict(args))
    return ours, built, theirs, torch_class(params(theirs), fused=True, **args)


def train_both(ours, ours_opt, theirs, theirs_opt, steps: int, skip: set[int] = frozenset(), seed: int = 0):
    """Run both side by side on the same data, asserting equal parameters and state after every step."""
    generator = torch.Generator().manual_seed(seed)
    for i in range(steps):
        x = torch.randn(4, 6, generator=generator)
        for model, opt in ((ours, ours_opt), (theirs, theirs_opt)):
            opt.zero_grad(set_to_none=True)
            model(x).square().mean().backward()
            if i in skip:  # one layer without a gradient this step
                for p in model[2].parameters():
                    p.grad = None
            opt.step()
        for a, b in zip(ours.parameters(), theirs.parameters()):
            assert torch.equal(a, b)
        assert_same_state(ours_opt.state_dict(), theirs_opt.state_dict())


def assert_same_state(ours: dict, theirs: dict) -> None:
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for index, entry in ours["state"].items():
        assert entry.keys() == theirs["state"][index].keys()
        for name, value in entry.items():
            assert torch.equal(value, theirs["state"][index][name]), (index, name)


@pytest.mark.parametrize("torch_class, args", [
    (torch.optim.Adam, {"lr": 0.01}),
    (torch.optim.Adam, {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.95)}),
    (torch.optim.Adam, {"lr": 0.01, "maximize": True, "eps": 1e-6}),
    (torch.optim.AdamW, {"lr": 0.01}),
    (torch.optim.AdamW, {"lr": torch.tensor(0.01), "weight_decay": 0.3, "amsgrad": True}),
])
def test_updates_are_bit_identical_to_torch_fused_adam(torch_class, args):
    ours, ours_opt, theirs, theirs_opt = twins(torch_class, **args)
    assert type(ours_opt).__name__ == torch_class.__name__ and isinstance(ours_opt, torch_class)
    train_both(ours, ours_opt, theirs, theirs_opt, steps=6)
    assert ours_opt.__dict__["_steady"], "the steady step never engaged"


def test_groups_lr_changes_missing_grads_and_hooks_follow_torch():
    ours, ours_opt, theirs, theirs_opt = twins(torch.optim.Adam, groups=True, lr=0.01)
    calls = []
    ours_opt.register_step_pre_hook(lambda *_: calls.append("pre"))
    ours_opt.register_step_post_hook(lambda *_: calls.append("post"))
    train_both(ours, ours_opt, theirs, theirs_opt, steps=3)
    assert calls == ["pre", "post"] * 3  # once per step, on the steady path too
    for opt in (ours_opt, theirs_opt):  # what a scheduler does between steps
        opt.param_groups[1]["lr"] = 0.003
    train_both(ours, ours_opt, theirs, theirs_opt, steps=5, skip={1, 2}, seed=1)


def test_load_state_dict_and_state_clear_restart_from_the_loaded_state():
    ours, ours_opt, theirs, theirs_opt = twins(torch.optim.Adam, lr=0.01)
    train_both(ours, ours_opt, theirs, theirs_opt, steps=3)
    saved = copy.deepcopy(theirs_opt.state_dict())
    train_both(ours, ours_opt, theirs, theirs_opt, steps=2, seed=1)
    ours_opt.load_state_dict(copy.deepcopy(saved))  # a copy each: loading keeps the given tensors
    theirs_opt.load_state_dict(copy.deepcopy(saved))
    train_both(ours, ours_opt, theirs, theirs_opt, steps=3, seed=2)
    ours_opt.state.clear()
    theirs_opt.state.clear()
    train_both(ours, ours_opt, theirs, theirs_opt, steps=3, seed=3)


def test_state_dict_tensors_share_no_storage(tmp_path):
    """The shared step buffer stays inside: a state_dict saves with safetensors like torch's (checkpoints)."""
    ours, ours_opt, theirs, theirs_opt = twins(torch.optim.Adam, lr=0.01)
    train_both(ours, ours_opt, theirs, theirs_opt, steps=3)
    tensors, meta = pai_optim.pack_optimizer(ours_opt)
    save_file(tensors, str(tmp_path / "optimizer.safetensors"))
    assert meta["class"] == "Adam" and len(tensors) == 3 * len(list(ours.parameters()))


def test_closure_and_non_adam_classes_use_torch():
    ours, ours_opt, theirs, theirs_opt = twins(torch.optim.Adam, lr=0.01)
    x = torch.randn(3, 6)
    for model, opt in ((ours, ours_opt), (theirs, theirs_opt)):
        for _ in range(3):
            def closure(model=model, opt=opt):
                opt.zero_grad()
                loss = model(x).sum()
                loss.backward()
                return loss
            assert opt.step(closure) is not None
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)
    sgd = pai_optim.build_optimizer(torch.optim.SGD, list(ours.parameters()), {"lr": 0.1})
    assert type(sgd) is torch.optim.SGD and sgd.defaults["foreach"] is True


@pytest.mark.parametrize("torch_class", [torch.optim.Adam, torch.optim.AdamW])
def test_steady_steps_keep_the_schedulers_step_order_check_quiet(torch_class):
    """An LR scheduler wraps the optimizer's step to record that it ran (torch warns when the scheduler steps
    first); the steady step goes through that wrapper, so a normal loop with a scheduler gives no warning."""
    model = perforated_mlp()
    optimizer = pai_optim.build_optimizer(torch_class, list(model.parameters()), {"lr": 0.01})
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            optimizer.zero_grad(set_to_none=True)
            model(torch.randn(4, 6)).square().mean().backward()
            optimizer.step()
            scheduler.step()
    assert optimizer._opt_called and len(optimizer.__dict__["_steady"]) == 1  # the steady step ran
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * 0.5 ** 4)
