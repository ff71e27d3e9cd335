"""One rank of an HF Trainer job launched with `torchrun --nproc_per_node 2` (gloo on CPU), as a user runs it.

`python -m torch.distributed.run --nproc_per_node 2 hf_ddp_job.py OUT [--resume] [--die-after-restructure]`:
each rank trains with the unmodified Trainer and PAITrainerCallback in OUT/rank<N>, then saves what it ended
with to OUT/result<N>.pt. `--die-after-restructure` kills the job at the first epoch after a restructure. For
benchmarks/bench_integrations.py: `--epochs N`, `--no-pai` (the same job without the callback) and `--no-switch`
(the tracker's bookkeeping only).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from framework_support import DATA, DendriteProbe, DigitsNet, DigitsSet  # noqa: E402
from transformers import Trainer, TrainerCallback, TrainingArguments  # noqa: E402

from pai_core.integrations.huggingface import PAITrainerCallback  # noqa: E402
from pai_core.modules import neuron_modules  # noqa: E402


class Probe(TrainerCallback):
    def __init__(self, die_after_restructure: bool):
        self.probe = DendriteProbe()
        self.die = die_after_restructure
        self.dendrites = 0
        self.epoch_seconds: list[float] = []

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        self.started = time.perf_counter()
        now = max((m.num_dendrites for m in neuron_modules(model)), default=0)
        if self.die and now > self.dendrites:
            os._exit(3)  # killed right after a restructure: no flush, no clean shutdown
        self.dendrites = now
        self.probe.epoch_begins(model)

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        self.probe.epoch_ends(model)

    def on_evaluate(self, args, state, control, **kwargs):  # after the callbacks listed before this one
        self.epoch_seconds.append(time.perf_counter() - self.started)


def accuracy(prediction) -> dict:
    return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}


def main() -> None:
    out = Path(sys.argv[1])
    rank = int(os.environ["RANK"])
    torch.set_num_threads(1)
    work = out / f"rank{rank}"
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)  # each rank in its own folder, like nodes without a shared file system
    torch.manual_seed(100 + rank)  # different initial weights: DDP's broadcast must unify them
    flag = sys.argv.__contains__
    epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if flag("--epochs") else 40
    options = {"switch_mode": 3, "testing_dendrite_capacity": False} if flag("--no-switch") else {}
    pai = PAITrainerCallback(save_name="hf_ddp", module_names_to_perforate=["Linear"], output_dimensions=[-1, 0],
                             resume=flag("--resume"), **options)
    probe = Probe(flag("--die-after-restructure"))
    args = TrainingArguments(output_dir=str(work / "hf_out"), num_train_epochs=epochs, per_device_train_batch_size=32,
                             eval_strategy="epoch", save_strategy="no", report_to=[], learning_rate=1e-2,
                             use_cpu=True, ddp_backend="gloo", disable_tqdm=True, logging_strategy="no",
                             metric_for_best_model="accuracy", dataloader_num_workers=0)
    trainer = Trainer(model=DigitsNet(), args=args, train_dataset=DigitsSet(DATA.x_train, DATA.y_train),
                      eval_dataset=DigitsSet(DATA.x_val, DATA.y_val), compute_metrics=accuracy,
                      callbacks=[probe] if flag("--no-pai") else [pai, probe])
    trainer.train()
    model = trainer.model
    torch.save({"weights": {k: v.detach().clone() for k, v in model.state_dict().items()},
                "state": pai.tracker.state.as_dict() if pai.tracker else {}, "unchanged": probe.probe.unchanged,
                "epoch_seconds": probe.epoch_seconds,
                "checked": probe.probe.checked_epochs, "world": int(os.environ["WORLD_SIZE"]),
                "wrapped": type(trainer.model_wrapped).__name__}, out / f"result{rank}.pt")
    torch.distributed.barrier()
    os._exit(0)  # torch 2.13's gloo threads can abort at interpreter exit; the results are on disk


if __name__ == "__main__":
    main()
