"""The run folder CSVs are byte-identical to upstream 3.2.9's when rendered from the same history."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from pai_core import run_files
from pai_core.run_state import RunState

FIXTURES = Path(__file__).parent / "results" / "fixtures" / "upstream_runs"
RUNS = {"testing": ("up_testing", True), "history": ("up_history", True), "loss": ("up_loss", False)}


def _series(frame: pd.DataFrame, column: str) -> list:
    return [float(v) for v in frame[column] if not (isinstance(v, float) and math.isnan(v))]


def state_from_upstream(folder: Path, save: str, maximizing: bool) -> dict:
    """Rebuild the tracker state that upstream's final CSVs describe."""
    scores = pd.read_csv(folder / f"{save}Scores.csv")
    state = RunState(maximizing_score=maximizing)
    state.accuracies = _series(scores, "Validation Scores")
    state.running_accuracies = _series(scores, "Validation Running Scores")
    for column in scores.columns[3:]:
        state.extra_scores[column] = _series(scores, column)
    switches = pd.read_csv(folder / f"{save}switch_epochs.csv")["Switch Epoch"].tolist()
    state.switch_epochs = switches[::2]
    counts = pd.read_csv(folder / f"{save}param_counts.csv")["Param Count"].tolist()
    state.param_counts = counts[:1] + counts[1::2]
    return state


@pytest.mark.parametrize("run", sorted(RUNS))
def test_csvs_match_upstream_bytes(run):
    save, maximizing = RUNS[run]
    folder = FIXTURES / run
    state = state_from_upstream(folder, save, maximizing)
    assert state.switch_epochs, "fixture must contain switches"
    assert run_files.scores_csv(state) == (folder / f"{save}Scores.csv").read_text()
    assert run_files.switch_epochs_csv(state) == (folder / f"{save}switch_epochs.csv").read_text()
    assert run_files.param_counts_csv(state) == (folder / f"{save}param_counts.csv").read_text()
    assert run_files.best_arch_csv(state) == (folder / f"{save}_best_arch_scores.csv").read_text()
    assert run_files.best_pb_scores_csv([".fc1", ".fc2"]) == (folder / f"{save}Best PBScores.csv").read_text()


def test_snapshot_before_first_switch_matches_upstream():
    folder = FIXTURES / "loss"
    state = state_from_upstream(folder, "up_loss_beforeSwitch_0", False)
    assert state.switch_epochs == []
    assert run_files.best_arch_csv(state) == (folder / "up_loss_beforeSwitch_0_best_arch_scores.csv").read_text()
    assert run_files.switch_epochs_csv(state) == "Switch Number,Switch Epoch\n"


def test_times_and_learning_rate_csvs_parse(tmp_path):
    state = RunState(maximizing_score=True)
    state.n_epoch_times = [0.5, 0.25]
    state.training_learning_rates = [0.01, None]
    times = tmp_path / "t.csv"
    times.write_text(run_files.times_csv(state))
    frame = pd.read_csv(times)
    assert list(frame.columns) == ["Epochs", "Normal Epoch Times", "PAI Epoch Times"]
    assert frame["Normal Epoch Times"].tolist() == [0.5, 0.25]
    state.manual_train_switch = True
    state.n_train_times, state.n_val_times = [1.0], [2.0]
    times.write_text(run_files.times_csv(state))
    assert list(pd.read_csv(times).columns) == ["Epochs", "Normal Epoch Train Times", "PAI Epoch Train Times",
                                                "Normal Epoch Val Times", "PAI Epoch Val Times"]
    lr = tmp_path / "lr.csv"
    lr.write_text(run_files.learning_rate_csv(state))
    frame = pd.read_csv(lr)
    assert list(frame.columns) == ["Epochs", "learning_rate"]
    assert frame["learning_rate"].iloc[0] == 0.01 and math.isnan(frame["learning_rate"].iloc[1])


def test_unchanged_files_are_not_rewritten(tmp_path):
    files = run_files.RunFiles(tmp_path, "r")
    state = RunState(maximizing_score=True)
    state.accuracies, state.running_accuracies = [1.0], [1.0]
    files.write_csvs(state, [".fc1"])
    target = tmp_path / "rswitch_epochs.csv"
    inode = target.stat().st_ino
    state.accuracies.append(2.0)
    state.running_accuracies.append(2.0)
    files.write_csvs(state, [".fc1"])
    assert target.stat().st_ino == inode  # same content: not rewritten (atomic replace would change the inode)
    assert pd.read_csv(tmp_path / "rScores.csv")["Validation Scores"].dropna().tolist() == [1.0, 2.0]
    state.switch_epochs = [0]
    files.write_csvs(state, [".fc1"])
    assert target.read_text() == "Switch Number,Switch Epoch\n0,0\n1,0\n"
    assert not list(tmp_path.glob(".*.tmp")), "no temporary files left behind"


def test_png_is_rendered(tmp_path):
    state = RunState(maximizing_score=True)
    state.accuracies = state.running_accuracies = [10.0, 20.0, 30.0]
    state.switch_epochs, state.best_epoch = [1], 2
    state.training_learning_rates = [0.1, 0.1, None]
    state.n_epoch_times = [0.1, 0.1, 0.1]
    path = run_files.RunFiles(tmp_path, "r").write_png(state)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
