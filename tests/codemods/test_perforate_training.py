"""Perforated fixture scripts really train with pai_core on CPU until the capacity test succeeds.

Each output script builds its own small generated data set; it is run as a subprocess in a temporary folder
(the tracker writes its run folder there) and must print the library's success line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
SUCCESS = "Successfully added 3 dendrites"


def train(case: str, tmp_path: Path) -> str:
    script = tmp_path / f"{case}.py"
    script.write_text((FIXTURES / f"{case}.out.py").read_text())
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(check=False, args=[sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout + done.stderr


def test_perforated_mnist_script_trains_to_capacity_success(tmp_path):
    out = train("mnist_cnn", tmp_path)
    assert SUCCESS in out
    assert (tmp_path / "mnist_cnn_dendritic").is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["transformer_classifier", "lstm_lm", "resnet_cifar", "complex_optimizer", "inline_validation"])
def test_other_perforated_scripts_train_to_capacity_success(case, tmp_path):
    assert SUCCESS in train(case, tmp_path)
