"""Checkpoints: safetensors + JSON metadata, atomic, readable by plain safetensors, clear errors."""
from __future__ import annotations

import os

import pytest
import torch
from safetensors.torch import load_file

from pai_core import checkpoint
from pai_core.errors import CheckpointError

torch.set_num_threads(1)


def test_roundtrip_with_tracker_state_and_shared_tensors(tmp_path):
    weight = torch.randn(3, 4)
    state_dict = {"a.weight": weight, "tied.weight": weight, "view": weight[:, 1], "step": torch.tensor(3.0),
                  "base_model.x": torch.ones(2)}
    path = tmp_path / "best_model.pt"
    checkpoint.save_checkpoint(path, state_dict, {"state": {"num_epochs_run": 7, "best": None}},
                               not_save=[".base_model"])
    tensors, meta = checkpoint.load_checkpoint(path)
    assert meta == {"state": {"num_epochs_run": 7, "best": None}}
    assert set(tensors) == {"a.weight", "tied.weight", "view", "step"}  # not-save prefix dropped
    assert torch.equal(tensors["tied.weight"], weight) and torch.equal(tensors["view"], weight[:, 1])
    assert set(load_file(path)) == set(tensors)  # a plain safetensors reader can open it
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "latest.pt"
    checkpoint.save_checkpoint(path, {"w": torch.zeros(2)}, {"state": {"n": 1}})

    class Boom(dict):
        def items(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        checkpoint.save_checkpoint(path, Boom(), {"state": {"n": 2}})
    assert checkpoint.load_checkpoint(path)[1] == {"state": {"n": 1}}
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


def test_missing_and_corrupt_checkpoints_raise_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint at"):
        checkpoint.load_checkpoint(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00\x01garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        checkpoint.load_checkpoint(bad)


def test_load_into_model_reports_mismatch(tmp_path):
    model = torch.nn.Linear(3, 2)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        checkpoint.load_into_model(model, {"weight": torch.zeros(2, 3)}, strict=True)
    checkpoint.load_into_model(model, {"module.weight": torch.zeros(2, 3)}, strict=False)
    assert torch.count_nonzero(model.weight) == 0  # "module." prefix stripped, partial load allowed
