"""An HF Accelerate training loop (the "no_trainer" examples' shape) with dendrites, on 2 CPU processes:
`python -m torch.distributed.run --nproc_per_node 2 accelerate_ddp_job.py OUT`. Written as the pai-distributed
skill tells a user to: perforate before `prepare`, feed the unwrapped model on every process, and after a
restructure prepare the grown model and a new optimizer again. Saves OUT/result<rank>.pt.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from accelerate import Accelerator  # noqa: E402
from framework_support import DATA, DendriteProbe  # noqa: E402
from torch import nn  # noqa: E402

from pai_core import globals_perforatedai as GPA  # noqa: E402
from pai_core import utils_perforatedai as UPA  # noqa: E402
from pai_core.config import PAIConfig  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 8)
        self.fc2 = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def main() -> None:
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    work = out / f"rank{accelerator.process_index}"
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)
    torch.manual_seed(100 + accelerator.process_index)
    config = PAIConfig(module_names_to_perforate=["Linear"], output_dimensions=[-1, 0])
    model = UPA.perforate_model(Net(), save_name="accelerate_ddp", maximizing_score=True, config=config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(DATA.x_train, DATA.y_train), batch_size=32,
                                        shuffle=True)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(DATA.x_val, DATA.y_val), batch_size=100)
    model, optimizer, train, val = accelerator.prepare(model, optimizer, train, val)
    GPA.pai_tracker.set_optimizer_instance(optimizer.optimizer)
    probe = DendriteProbe()
    for epoch in range(40):
        probe.epoch_begins(accelerator.unwrap_model(model))
        model.train()
        for x, y in train:
            optimizer.zero_grad()
            accelerator.backward(F.cross_entropy(model(x), y))
            optimizer.step()
        probe.epoch_ends(accelerator.unwrap_model(model))
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in val:
                hits = accelerator.gather_for_metrics((model(x).argmax(-1) == y).float())
                correct, total = correct + hits.sum().item(), total + hits.numel()
        bare = accelerator.unwrap_model(model)
        bare, restructured, complete = GPA.pai_tracker.add_validation_score(100 * correct / total, bare)
        if complete:
            break
        if restructured:  # a new DDP wrapper over the grown model, a new optimizer over its parameters
            optimizer = torch.optim.Adam(bare.parameters(), lr=1e-2)
            GPA.pai_tracker.set_optimizer_instance(optimizer)
            accelerator.wait_for_everyone()
            model, optimizer = accelerator.prepare(bare, optimizer)
    bare = accelerator.unwrap_model(model)
    torch.save({"weights": {k: v.detach().clone() for k, v in bare.state_dict().items()},
                "state": GPA.pai_tracker.state.as_dict(), "unchanged": probe.unchanged, "checked": probe.checked_epochs},
               out / f"result{accelerator.process_index}.pt")
    accelerator.wait_for_everyone()
    os._exit(0)  # torch 2.13's gloo threads can abort at interpreter exit; the results are on disk


if __name__ == "__main__":
    main()
