"""Cost of the framework callbacks per epoch: the digits MLP (64-16-10, batch 64, 1 thread) trained by the stock
HF Trainer and by Lightning, with and without the pai callback, measured side by side (alternating runs).

With the callback the model is perforated and the tracker records every evaluation (CSVs, checkpoints,
pai_run.json at most every second) but never switches (switch_mode DOING_NO_SWITCH), so the ratio is the
callback's and the perforated modules' overhead on an epoch of the framework's own loop. No target is set by the
issue; the figures say how much of a tiny epoch the bookkeeping takes (on a real model it is far less). Most of
the difference is the tracker's, not the callback's: a profile of the Lightning run shows the PNG the tracker
draws at the first epoch (~0.65 s, i.e. ~30 ms per epoch over 20 epochs) as the largest item; the callback's
own code is well under a millisecond per evaluation (profiled: ~0.05 ms).

    MPLBACKEND=Agg python benchmarks/bench_integrations.py [--epochs 20]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import Figure
from pai_core.datasets import load_digits_splits

torch.set_num_threads(1)
DATA = load_digits_splits()
OPTIONS = {"module_names_to_perforate": ["Linear"], "output_dimensions": [-1, 0], "testing_dendrite_capacity": False,
           "switch_mode": 3}  # DOING_NO_SWITCH: bookkeeping only


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, pixels, labels=None):
        logits = self.fc2(F.relu(self.fc1(pixels)))
        return {"logits": logits, "loss": F.cross_entropy(logits, labels)} if labels is not None else logits


def hf_epoch_seconds(epochs: int, with_pai: bool, folder: Path) -> float:
    from transformers import Trainer, TrainingArguments

    from pai_core.integrations.huggingface import PAITrainerCallback

    class DigitsSet(torch.utils.data.Dataset):
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return {"pixels": self.x[i], "labels": self.y[i]}

    torch.manual_seed(0)
    args = TrainingArguments(output_dir=str(folder / "hf"), num_train_epochs=epochs, per_device_train_batch_size=64,
                             eval_strategy="epoch", save_strategy="no", report_to=[], learning_rate=1e-2,
                             use_cpu=True, disable_tqdm=True, logging_strategy="no")
    callbacks = [PAITrainerCallback(save_name=f"hf_{time.monotonic_ns()}", **OPTIONS)] if with_pai else []
    trainer = Trainer(model=DigitsNet(), args=args, train_dataset=DigitsSet(DATA.x_train, DATA.y_train),
                      eval_dataset=DigitsSet(DATA.x_val, DATA.y_val), callbacks=callbacks)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        trainer.train()
    return (time.perf_counter() - start) / epochs


def lightning_epoch_seconds(epochs: int, with_pai: bool, folder: Path) -> float:
    import lightning as L

    from pai_core.integrations.lightning import PAILightningCallback

    class LitDigits(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = DigitsNet()

        def training_step(self, batch, batch_idx):
            return F.cross_entropy(self.net(batch[0]), batch[1])

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", F.cross_entropy(self.net(batch[0]), batch[1]))

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-2)

    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset
    train = torch.utils.data.DataLoader(data(DATA.x_train, DATA.y_train), batch_size=64)
    val = torch.utils.data.DataLoader(data(DATA.x_val, DATA.y_val), batch_size=300)
    callbacks = [PAILightningCallback(save_name=f"pl_{time.monotonic_ns()}", **OPTIONS)] if with_pai else []
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        callbacks=callbacks, default_root_dir=str(folder))
    start = time.perf_counter()
    trainer.fit(LitDigits(), train, val)
    return (time.perf_counter() - start) / epochs


def measure(run, epochs: int, repeats: int) -> tuple[float, float]:
    """Median seconds per epoch (plain, with pai), runs alternating so drift hits both alike."""
    plain, pai = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            run(2, False, Path(tmp))  # warm-up: imports, first-call costs
            for _ in range(repeats):
                plain.append(run(epochs, False, Path(tmp)))
                pai.append(run(epochs, True, Path(tmp)))
        finally:
            os.chdir(cwd)
    return statistics.median(plain), statistics.median(pai)


def hf_two_process_epoch_seconds(epochs: int, with_pai: bool, folder: Path) -> float:
    """Median epoch (train + evaluation) of the HF Trainer job under torchrun, 2 gloo processes, on rank 0."""
    import socket
    import subprocess

    job = Path(__file__).resolve().parents[1] / "tests" / "pai_core" / "integrations" / "hf_ddp_job.py"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = folder / ("pai" if with_pai else "plain")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(port), str(job), str(out), "--epochs", str(epochs), "--no-switch",
               *([] if with_pai else ["--no-pai"])]
    subprocess.run(command, check=True, capture_output=True, timeout=900,
                   env={**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"})
    seconds = torch.load(out / "result0.pt", weights_only=False)["epoch_seconds"]
    return statistics.median(seconds[1:] or seconds)


def figures(quick: bool = False, epochs: int | None = None) -> list[Figure]:
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    epochs, repeats = (epochs or 5, 1) if quick else (epochs or 20, 3)
    out = []
    for name, run, module in (("HF Trainer", hf_epoch_seconds, "transformers"),
                              ("Lightning", lightning_epoch_seconds, "lightning"),
                              ("HF Trainer, torchrun 2 processes,", hf_two_process_epoch_seconds, "transformers")):
        try:
            __import__(module)
        except ImportError:
            continue
        plain, pai = measure(run, epochs, repeats)
        out.append(Figure(benchmark="framework callback", case=f"{name} digits epoch",
                          ours=f"{pai * 1e3:.1f} ms", reference=f"no callback {plain * 1e3:.1f} ms",
                          ratio=pai / plain))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 20, quick 5)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for figure in figures(quick=args.quick, epochs=args.epochs):
        print(f"{figure.case:28s} with pai {figure.ours:>10s}   {figure.reference:>22s}   ratio {figure.ratio:.2f}x")


if __name__ == "__main__":
    main()
