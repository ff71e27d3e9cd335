"""The frameworks across two processes (gloo on CPU), launched the way users launch them: `torchrun` for the
HF Trainer and an Accelerate loop, Lightning's own `strategy="ddp"` launcher. Every rank feeds the tracker, rank 0
decides and writes one run folder, and the ranks end bit-identical with every new dendrite trained."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    return {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join([str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])}


def torchrun(job: str, out: Path, *flags: str, timeout: float = 400) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr",
               "127.0.0.1", "--master_port", str(_free_port()), str(HERE / job), str(out), *flags]
    return subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=timeout, check=False)


def _results(out: Path) -> list[dict]:
    return [torch.load(out / f"result{rank}.pt", weights_only=False) for rank in (0, 1)]


def _assert_one_run_identical_and_trained(out: Path, save_name: str) -> dict:
    first, second = _results(out)
    assert first["weights"].keys() == second["weights"].keys()
    for key, value in first["weights"].items():
        assert torch.equal(value, second["weights"][key]), f"{key} differs between the ranks"
    state = first["state"]
    assert state["completed"] and state["num_dendrites_added"] == 3, state.get("completion_reason")
    assert second["state"]["num_dendrites_added"] == 3 and second["state"]["accuracies"] == state["accuracies"]
    assert first["unchanged"] == [] and first["checked"] >= 3  # the new dendrites trained on every epoch
    assert (out / "rank0" / save_name / "best_model.pt").exists()
    assert not (out / "rank1" / save_name).exists() or not any((out / "rank1" / save_name).glob("*.csv"))
    return first


@pytest.mark.slow
def test_hf_trainer_under_torchrun_stays_identical_across_restructures(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    done = torchrun("hf_ddp_job.py", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    first = _assert_one_run_identical_and_trained(tmp_path, "hf_ddp")
    assert first["world"] == 2 and first["wrapped"] == "DistributedDataParallel"


@pytest.mark.slow
def test_hf_trainer_under_torchrun_resumes_after_a_kill(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    killed = torchrun("hf_ddp_job.py", tmp_path, "--die-after-restructure")
    assert killed.returncode != 0 and not (tmp_path / "result0.pt").exists()
    assert (tmp_path / "rank0" / "hf_ddp" / "latest.pt").exists()
    done = torchrun("hf_ddp_job.py", tmp_path, "--resume")
    assert done.returncode == 0, done.stderr[-3000:]
    _assert_one_run_identical_and_trained(tmp_path, "hf_ddp")


@pytest.mark.slow
def test_accelerate_loop_stays_identical_across_restructures(tmp_path):
    pytest.importorskip("accelerate")
    done = torchrun("accelerate_ddp_job.py", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    _assert_one_run_identical_and_trained(tmp_path, "accelerate_ddp")


def lightning(out: Path, *flags: str, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HERE / "lightning_ddp_job.py"), str(out), *flags], env=_env(),
                          cwd=out, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.slow
def test_lightning_ddp_strategy_stays_identical_across_restructures(tmp_path):
    pytest.importorskip("lightning")
    done = lightning(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = _results(tmp_path)
    for key, value in first["weights"].items():
        assert torch.equal(value, second["weights"][key]), f"{key} differs between the ranks"
    assert first["state"]["completed"] and first["state"]["num_dendrites_added"] == 3
    assert first["unchanged"] == [] and first["checked"] >= 3
    assert sorted(p.name for p in tmp_path.glob("lightning_ddp/*.csv"))  # one run folder, written by rank 0


@pytest.mark.slow
def test_lightning_ddp_strategy_resumes_after_a_kill(tmp_path):
    pytest.importorskip("lightning")
    killed = lightning(tmp_path, "--die-after-restructure")
    assert killed.returncode != 0 and not (tmp_path / "result0.pt").exists()
    assert (tmp_path / "lightning_ddp" / "latest.pt").exists()
    done = lightning(tmp_path, "--resume")
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = _results(tmp_path)
    for key, value in first["weights"].items():
        assert torch.equal(value, second["weights"][key]), f"{key} differs between the ranks"
    assert first["state"]["completed"] and first["state"]["num_dendrites_added"] == 3


@pytest.mark.slow
def test_lightning_ddp_spawn_is_refused_with_the_reason(tmp_path):
    pytest.importorskip("lightning")
    done = lightning(tmp_path, "--spawn")
    assert done.returncode != 0
    assert "strategy='ddp_spawn'" in done.stderr and "Use strategy='ddp'" in done.stderr
    assert not (tmp_path / "result0.pt").exists()
