"""Rules the three real fixtures do not trigger, on folders written in upstream's exact file format."""

import numpy as np
import pytest
from results_writer import write_upstream_run

from pai_core.results import analyze_run
from pai_core.results.facts import collapse_pairs


def rising(n, start=50.0, stop=90.0, tau=8.0):
    """An accuracy curve that rises and saturates."""
    return [stop - (stop - start) * float(np.exp(-i / tau)) for i in range(n)]


def test_collapse_pairs():
    assert collapse_pairs([19, 19, 31, 31]) == [19, 31]
    assert collapse_pairs([19, 31]) == [19, 31]
    assert collapse_pairs([610, 1238, 1238], leading=1) == [610, 1238]
    assert collapse_pairs([]) == []


def test_no_dendrites_from_a_fixed_length_loop(tmp_path):
    validation = rising(30)  # still creeping up when the loop ended
    folder = write_upstream_run(
        tmp_path / "run",
        "run",
        validation,
        config={"maximizing_score": True, "switch_mode": 1, "n_epochs_to_switch": 10},
    )
    report = analyze_run(folder)
    finding = report.finding("PAI503")
    assert finding.severity == "error"
    assert "fewer than n_epochs_to_switch=10" in finding.message
    assert "while True" in finding.fix
    assert finding.confidence == "high"
    assert report.summary.status == "ended_early"


def test_no_dendrites_fixed_mode_loop_shorter_than_the_interval(tmp_path):
    # upstream's "earlystop" variant: range(12) with a fixed switch every 15 epochs
    folder = write_upstream_run(
        tmp_path / "run",
        "run",
        rising(12),
        config={"switch_mode": 2, "fixed_switch_num": 15, "first_fixed_switch_num": -1},
    )
    report = analyze_run(folder)
    finding = report.finding("PAI503")
    assert "needs 15 epochs before the first switch, the run had 12" in finding.message
    assert "while True" in finding.fix
    assert "GPA.pc.set_fixed_switch_num(6)" in finding.fix
    assert report.summary.status == "ended_early"


def test_unknown_validation_column_name(tmp_path):
    folder = write_upstream_run(tmp_path / "run", "run", rising(30), switch_epochs=[20])
    scores = folder / "runScores.csv"
    scores.write_text(scores.read_text().replace("Validation Scores", "Accuracy", 1))
    report = analyze_run(folder)
    assert report.summary.epochs == 30 and report.summary.best_score == pytest.approx(max(rising(30)))


def test_no_dendrites_with_switching_disabled(tmp_path):
    folder = write_upstream_run(tmp_path / "run", "run", rising(60), config={"switch_mode": 3})
    finding = analyze_run(folder).finding("PAI503")
    assert "GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)" in finding.fix


def test_no_dendrites_with_plateau_means_tracker_not_called(tmp_path):
    validation = rising(20) + [rising(20)[-1]] * 40  # long flat tail: a switch was due
    folder = write_upstream_run(tmp_path / "run", "run", validation, config={"switch_mode": 1})
    finding = analyze_run(folder).finding("PAI503")
    assert "add_validation_score" in finding.fix


def test_premature_switch_in_history_mode_from_snapshot(tmp_path):
    folder = tmp_path / "run"
    phase0 = rising(30, 50, 90, tau=20)  # still rising ~1 point per epoch at epoch 29
    phase1 = [phase0[-1] + 0.2 * i for i in range(1, 21)]
    config = {"maximizing_score": True, "switch_mode": 1, "n_epochs_to_switch": 10, "max_dendrites": 1}
    write_upstream_run(folder, "run", phase0 + phase1, switch_epochs=[29], config=config)
    write_upstream_run(folder, "run", phase0, infix="_beforeSwitch_0")
    report = analyze_run(folder)
    premature = report.finding("PAI512")
    assert premature is not None and "switch at epoch 29" in premature.message
    assert premature.fix == "GPA.pc.set_n_epochs_to_switch(15)"
    assert premature.confidence == "high"


def test_history_mode_without_snapshot_does_not_guess_premature(tmp_path):
    phase0 = rising(30, 50, 90, tau=20)
    folder = write_upstream_run(
        tmp_path / "run", "run", phase0 + [phase0[-1] + 1] * 5, switch_epochs=[29], config={"switch_mode": 1}
    )
    assert analyze_run(folder).finding("PAI512") is None


def test_instability_after_switch(tmp_path):
    phase0 = rising(40)
    after = [phase0[-1] - 12, phase0[-1] - 8, phase0[-1] - 3] + [phase0[-1] + 0.5] * 10
    folder = write_upstream_run(
        tmp_path / "run",
        "run",
        phase0 + after,
        switch_epochs=[39],
        config={"candidate_weight_initialization_multiplier": 0.01},
    )
    finding = analyze_run(folder).finding("PAI513")
    assert finding.fix == "GPA.pc.set_candidate_weight_initialization_multiplier(0.001)"
    assert "epoch 39" in finding.message


def test_learning_rate_decayed_too_fast(tmp_path):
    validation = rising(40)
    lrs = [0.1 * 0.5**i for i in range(40)]  # halved every epoch: < 1 % of the start by epoch 7
    folder = write_upstream_run(tmp_path / "run", "run", validation, switch_epochs=[35], learning_rates=lrs)
    finding = analyze_run(folder).finding("PAI514")
    assert finding is not None and "epoch 7" in finding.message


def test_learning_rate_search_lock(tmp_path):
    validation = rising(20) + [rising(20)[-1] + 1] * 60
    lrs = [0.01] * 80
    folder = write_upstream_run(
        tmp_path / "run",
        "run",
        validation,
        switch_epochs=[19],
        learning_rates=lrs,
        config={"n_epochs_to_switch": 10, "find_best_lr": True},
    )
    finding = analyze_run(folder).finding("PAI515")
    assert finding.fix == "GPA.pc.set_find_best_lr(False)"


def test_steady_gains_suggest_more_dendrites(tmp_path):
    folder = tmp_path / "run"
    validation = rising(20, 50, 70) + rising(20, 70, 80) + rising(20, 80, 88)
    write_upstream_run(folder, "run", validation, switch_epochs=[19, 39], config={"max_dendrites": 2})
    write_upstream_run(folder, "run", validation, switch_epochs=[19, 39], infix="before_final")
    report = analyze_run(folder)
    assert report.summary.status == "completed"
    assert report.finding("PAI510").fix == "GPA.pc.set_max_dendrites(4)"


def test_fraction_scores_overfitting(tmp_path):
    validation = [0.5 + 0.3 * (1 - np.exp(-i / 5)) for i in range(30)]
    train = [v + 0.15 for v in validation]
    folder = write_upstream_run(
        tmp_path / "run", "run", validation, extras={"train": train}, switch_epochs=[20]
    )
    finding = analyze_run(folder).finding("PAI516")
    assert "15.0 points" in finding.message and finding.confidence == "high"


def test_per_module_scores(tmp_path):
    folder = write_upstream_run(
        tmp_path / "run",
        "run",
        rising(30),
        switch_epochs=[20],
        pb_scores={".fc1": [0.0001, 0.0002], ".fc2": [0.05, 0.1]},
    )
    report = analyze_run(folder)
    assert ".fc2 0.1" in report.finding("PAI518").message
    assert (
        report.finding("PAI519").fix == "GPA.pc.append_module_ids_to_track(['.fc1'])"
    )


def test_dendrites_that_did_not_help(tmp_path):
    phase0 = rising(30)
    folder = write_upstream_run(tmp_path / "run", "run", phase0 + [phase0[-1] - 2] * 15, switch_epochs=[29])
    report = analyze_run(folder)
    assert report.finding("PAI506") is not None
    assert report.summary.absolute_gain == pytest.approx(0, abs=1e-9)
