"""Perforated models under DDP: real 2-process gloo jobs on loopback, plus the single-process facts they rely on."""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from test_training_support import DATA, Net, perforate, run_config

from pai_core import distributed
from pai_core.errors import DistributedError, StaleWrapperError
from pai_core.modules import neuron_modules

torch.set_num_threads(1)
RUN_FILES = ("ddp_runScores.csv", "latest.pt", "best_model.pt", "pai_run.json", "ddp_run.png")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(root: Path, options: dict | None = None, *, world_size: int = 2, timeout: float = 120.0) -> None:
    """Run ddp_worker.run on `world_size` spawned processes; fail (and kill them) after `timeout` seconds."""
    import ddp_worker
    import torch.multiprocessing as mp

    init_method = f"tcp://127.0.0.1:{_free_port()}"
    context = mp.start_processes(ddp_worker.run, args=(world_size, init_method, str(root), options or {}),
                                 nprocs=world_size, join=False, start_method="spawn")
    deadline = time.monotonic() + timeout
    try:
        while not context.join(timeout=1.0):
            assert time.monotonic() < deadline, f"the {world_size}-process job did not finish in {timeout} s"
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()


def _results(root: Path, world_size: int = 2) -> list[dict]:
    return [torch.load(root / f"result{rank}.pt", weights_only=False) for rank in range(world_size)]


def _assert_identical(results: list[dict]) -> None:
    first = results[0]["weights"]
    for other in results[1:]:
        assert first.keys() == other["weights"].keys()
        for key, value in first.items():
            assert torch.equal(value, other["weights"][key]), f"{key} differs between ranks"
        assert other["state"] == results[0]["state"]
        assert other["lr"] == results[0]["lr"]  # the schedulers stepped together
        assert [e[2:] for e in other["events"]] == [e[2:] for e in results[0]["events"]]


def test_two_rank_job_restructures_completes_identically_and_rank0_alone_writes(tmp_path):
    launch(tmp_path, {"probe_errors": True})
    results = _results(tmp_path)
    _assert_identical(results)
    # a bad call on one rank, a stale DDP wrapper, drifted replicas: every rank raises, none hangs
    assert results[0]["errors"] == ["DistributedError", "StaleWrapperError", "DistributedError"]
    assert results[1]["errors"] == ["InvalidScoreError", "StaleWrapperError", "DistributedError"]
    state = results[0]["state"]
    assert state["completed"] and state["num_dendrites_added"] >= 1
    assert results[0]["lr"] < 0.01  # the tracker stepped the scheduler (rank 1 mirrored it: lr equal above)
    restructures = sum(e[2] for e in results[0]["events"])
    assert restructures >= 1 and results[0]["events"][-1][3]
    assert results[0]["dendrites"] == results[1]["dendrites"] == [state["num_dendrites_added"]] * 2
    # the two ranks validated on different shards; the tracker recorded the mean of their scores
    local = [[e[1] for e in r["events"]] for r in results]
    assert local[0] != local[1]
    assert pytest.approx(state["accuracies"][-1]) == (local[0][-1] + local[1][-1]) / 2
    # one set of outputs: rank 0's folder has the run files, rank 1's (its own cwd) has none of them
    rank0, rank1 = tmp_path / "rank0" / "ddp_run", tmp_path / "rank1" / "ddp_run"
    for name in RUN_FILES:
        assert (rank0 / name).exists(), name
    written_by_rank1 = {p.name for p in rank1.rglob("*")} if rank1.exists() else set()
    assert not {n for n in written_by_rank1 if n.endswith((".csv", ".pt", ".png")) or n == "pai_run.json"}


@pytest.mark.slow
def test_a_wrapper_rebuilt_in_place_keeps_the_ranks_identical(tmp_path):
    """What the framework callbacks rely on: the framework's own DDP object, refreshed after each restructure."""
    launch(tmp_path, {"in_place": True})
    results = _results(tmp_path)
    _assert_identical(results)
    state = results[0]["state"]
    assert state["completed"] and state["num_dendrites_added"] >= 1
    assert sum(e[2] for e in results[0]["events"]) >= 1


@pytest.mark.slow
def test_killed_two_rank_job_resumes_from_rank0_files_and_finishes(tmp_path):
    launch(tmp_path, {"exit_early_after_restructure": True})
    assert not (tmp_path / "result0.pt").exists()  # it really died before the end
    assert (tmp_path / "rank0" / "ddp_run" / "latest.pt").exists()
    launch(tmp_path, {"resume": True})
    results = _results(tmp_path)
    _assert_identical(results)
    state = results[0]["state"]
    assert results[1]["start_epoch"] == results[0]["start_epoch"] > 0
    assert state["completed"] and state["switch_epochs"] and state["switch_epochs"][0] < results[0]["start_epoch"]
    assert not (tmp_path / "rank1" / "ddp_run" / "latest.pt").exists()  # rank 1 resumed from rank 0's file


def test_every_dendrite_parameter_gets_a_gradient_so_ddp_needs_no_unused_parameter_search(tmp_path, monkeypatch):
    """Why wrap_ddp keeps find_unused_parameters as the user set it: fresh dendrites (zero output weights)
    and older ones all take part in the graph, in every phase."""
    monkeypatch.chdir(tmp_path)
    model, tracker = perforate("ddp_grads", run_config())
    F.cross_entropy(model(DATA.x_train[:20]), DATA.y_train[:20]).backward()
    for phase in range(3):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(DATA.x_train[:20]), DATA.y_train[:20]).backward()
        missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
        assert not missing, f"phase {phase}: no gradient for {missing}"
        for module in neuron_modules(model):
            module.add_dendrite()
    tracker.flush()


def test_helpers_are_single_process_safe_and_refuse_without_a_process_group():
    model = Net(4)
    assert not distributed.is_distributed()
    assert (distributed.get_rank(), distributed.get_world_size(), distributed.is_rank_zero()) == (0, 1, True)
    assert distributed.unwrap(torch.nn.DataParallel(model)) is model
    with pytest.raises(DistributedError, match="init_process_group"):
        distributed.wrap_ddp(model)


@pytest.fixture
def one_rank_group():
    """A real gloo process group of one rank in this process (destroyed afterwards, so other tests see none)."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


def _decisions(tracker) -> dict:
    keep = ("accuracies", "switch_epochs", "param_counts", "completion_reason", "num_dendrites_added",
            "num_epochs_run", "best_epoch", "training_learning_rates")
    return {key: getattr(tracker.state, key) for key in keep}


def test_the_distributed_path_decides_exactly_like_a_single_process(tmp_path, monkeypatch):
    """Same data, same seed: a one-rank job (collectives, rank-0 decision, broadcast) and a plain process end
    with the same history, the same dendrites and the same weights; only the plain one never touches dist."""
    import torch.distributed as dist
    from test_training_support import train

    monkeypatch.chdir(tmp_path)
    config = {"switch_mode": 2, "fixed_switch_num": 3, "max_dendrites": 1}
    runs = []
    for distributed_run in (False, True):
        if distributed_run:
            dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
        try:
            model, tracker = perforate(f"same_{distributed_run}", run_config(**config), seed=5)
            model, _, done, _ = train(model, tracker, max_epochs=30, scheduler=torch.optim.lr_scheduler.StepLR,
                                      sched_args={"step_size": 2, "gamma": 0.5})
            tracker.flush()
            runs.append((_decisions(tracker), model.state_dict(), done))
        finally:
            if distributed_run:
                dist.destroy_process_group()
    (plain, plain_weights, plain_done), (dist_run, dist_weights, dist_done) = runs
    assert plain_done and dist_done and plain["num_dendrites_added"] == 1
    assert plain == dist_run
    assert plain_weights.keys() == dist_weights.keys()
    assert all(torch.equal(plain_weights[k], dist_weights[k]) for k in plain_weights)


def test_rewrap_keeps_the_ddp_settings_and_trains_the_new_dendrites(one_rank_group, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, tracker = perforate("rewrap", run_config())
    ddp_model, optimizer = distributed.rewrap_ddp(model, lambda params: torch.optim.SGD(params, lr=0.1),
                                                  find_unused_parameters=True, gradient_as_bucket_view=True)
    assert tracker.optimizer is optimizer and ddp_model.module is model
    F.cross_entropy(ddp_model(DATA.x_train[:20]), DATA.y_train[:20]).backward()
    optimizer.step()
    for module in neuron_modules(model):  # what a restructure does to the model
        module.add_dendrite()
    new_model, new_optimizer = distributed.rewrap_ddp(ddp_model, lambda params: torch.optim.SGD(params, lr=0.1))
    assert new_model is not ddp_model and new_model.module is model
    assert new_model.find_unused_parameters and new_model.gradient_as_bucket_view  # carried over
    assert tracker.optimizer is new_optimizer
    with pytest.raises(StaleWrapperError, match="wrap_ddp"):  # the old wrapper no longer trains silently
        F.cross_entropy(ddp_model(DATA.x_train[:20]), DATA.y_train[:20]).backward()
    owned = {id(p) for group in new_optimizer.param_groups for p in group["params"]}
    assert owned == {id(p) for p in model.parameters()}
    before = {n: p.detach().clone() for n, p in model.named_parameters() if "dendrite" in n}
    new_optimizer.zero_grad()
    F.cross_entropy(new_model(DATA.x_train[:20]), DATA.y_train[:20]).backward()
    new_optimizer.step()
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters() if n in before)
    tracker.flush()
