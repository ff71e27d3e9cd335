"""Run a training script as `__main__` and keep, after every tracker decision that changes the model
(restructure, completion), this process's copy of the perforated model: `python decision_probe.py OUT SCRIPT
ARGS...`, once per rank under `torchrun` / `accelerate launch`. Writes OUT/decisions<rank>.pt, a list of
{"restructured", "complete", "dendrites", "world", "weights"}, so a test can compare the ranks' replicas.
"""
from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

import torch

from pai_core import distributed
from pai_core.tracker import Tracker


def main() -> None:
    out, script = Path(sys.argv[1]), sys.argv[2]
    sys.argv = [script, *sys.argv[3:]]
    decide = Tracker.add_validation_score
    decisions: list[dict] = []
    rank, depth = [], [0]  # rank 0's decision calls the single-process path again inside: record the outer call

    def observed(self, score, model, force_switch=False):
        rank[:] = [distributed.get_rank()]
        depth[0] += 1
        try:
            returned, restructured, complete = decide(self, score, model, force_switch)
        finally:
            depth[0] -= 1
        if (restructured or complete) and depth[0] == 0:
            bare = distributed.unwrap(returned)
            decisions.append({"restructured": restructured, "complete": complete, "world": distributed.get_world_size(),
                              "dendrites": self.state["num_dendrites_added"],
                              "weights": {k: v.detach().clone() for k, v in bare.state_dict().items()}})
        return returned, restructured, complete

    Tracker.add_validation_score = observed
    runpy.run_path(script, run_name="__main__")
    torch.save(decisions, out / f"decisions{rank[0] if rank else 0}.pt")
    sys.stdout.flush()
    os._exit(0)  # torch 2.13's gloo threads can abort at interpreter exit; the decisions are on disk


if __name__ == "__main__":
    main()
