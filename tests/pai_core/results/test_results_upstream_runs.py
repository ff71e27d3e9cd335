"""The analyzer on the three real upstream perforatedai 3.2.9 run folders (capacity test, history, loss)."""

import pytest
from results_writer import FIXTURES

from pai_core.results import analyze_run
from pai_core.results.files import load_run_folder


def changes(report, confidence=None):
    return [r.change for r in report.recommendations if confidence is None or r.confidence == confidence]


def test_capacity_test_run():
    report = analyze_run(FIXTURES / "testing")
    s = report.summary
    assert s.save_name == "up_testing"
    assert s.written_by == "perforatedai"
    assert s.switch_epochs == [0, 1, 2]
    assert s.dendrites_added == 3
    assert s.param_counts == [460, 936, 1460, 2016]
    assert s.capacity_test and s.status == "capacity_test"
    assert (
        "switch at every epoch" in s.status_reason
    )  # no config JSON in capacity mode: recognised from the data
    assert s.direction == "maximize" and "inferred" in s.direction_source
    assert s.epochs == 4
    assert "GPA.pc.set_testing_dendrite_capacity(False)" in changes(report, "high")
    # one epoch per architecture: no claims about dendrite value, premature switches or overfitting
    assert {f.code for f in report.findings} == {"PAI501"}  # the capacity test passed


def test_history_run():
    report = analyze_run(FIXTURES / "history")
    s = report.summary
    assert s.direction == "maximize" and "config" in s.direction_source
    assert s.switch_mode == "DOING_HISTORY"
    assert s.switch_epochs == [38]
    assert s.dendrites_added == 1
    assert s.param_counts == [460, 936]
    assert s.baseline_score == pytest.approx(91.3333, abs=1e-3)
    assert s.best_score == pytest.approx(92.6667, abs=1e-3)
    assert s.absolute_gain == pytest.approx(1.3333, abs=1e-3)
    assert s.relative_gain == pytest.approx(1.3333 / 91.3333, rel=1e-3)
    assert s.best_dendrites == 1 and s.best_epoch == 47
    assert s.epochs == 48
    # rewound epochs: 10 after the switch reload, 32 in phase 1 after its best, 41 in each failed round
    assert s.epochs_trained == 48 + 10 + 32 + 41 + 41
    assert s.failed_rounds == 2
    assert [r.dendrites_tried for r in report.failed_rounds] == [2, 2]
    assert all(r.start_epoch == 48 and r.epochs == 41 for r in report.failed_rounds)
    assert s.status == "completed" and "max_dendrite_tries=2" in s.status_reason
    # architectures: test scores per dendrite count
    assert [a.extra_scores["test"] for a in report.architectures] == pytest.approx([83.165, 84.512], abs=1e-3)
    assert report.finding("PAI511") is not None
    assert report.finding("PAI512") is None  # the beforeSwitch snapshot shows a 10-epoch plateau
    assert report.finding("PAI503") is None
    assert "GPA.pc.set_max_dendrites(1)" in changes(report)
    impact = report.finding("PAI505")
    assert "91.33" in impact.message and "92.67" in impact.message


def test_loss_run():
    report = analyze_run(FIXTURES / "loss")
    s = report.summary
    assert s.direction == "minimize"
    assert s.switch_mode == "DOING_FIXED_SWITCH"
    assert s.switch_epochs == [14, 52, 54]
    assert s.param_counts == [460, 936, 1460, 2016]
    assert s.baseline_score == pytest.approx(0.45396, abs=1e-4)
    assert s.best_score == pytest.approx(0.26012, abs=1e-4)
    assert s.absolute_gain > 0 and s.relative_gain == pytest.approx((0.45396 - 0.26012) / 0.45396, rel=1e-3)
    assert s.status == "completed" and "max_dendrites (3) reached" in s.status_reason
    assert report.finding("PAI507") is not None
    overfit = report.finding("PAI516")
    assert overfit is not None and overfit.confidence == "high"
    assert "train loss" in overfit.message and "test" in overfit.message
    # gains 38.7 % / 5.1 % / 1.5 % and the test loss worsens after 1 dendrite
    diminishing = report.finding("PAI508")
    assert diminishing.fix == "GPA.pc.set_max_dendrites(1)"
    assert diminishing.confidence == "high"
    assert "+38.7%" in diminishing.why
    # the fixed 15-epoch interval cut the baseline while the loss still fell 25 % in 5 epochs
    premature = report.finding("PAI512")
    assert "epoch 14" in premature.message and "epoch 52" not in premature.message
    assert premature.fix == "GPA.pc.set_first_fixed_switch_num(30)"
    assert [a.dendrites for a in report.architectures] == [0, 1, 2, 3]


def test_history_without_config_infers_direction_and_still_completes(upstream_copy):
    folder = upstream_copy("loss")
    (folder / "up_loss_config.json").unlink()
    report = analyze_run(folder)
    assert report.summary.direction == "minimize"
    assert "inferred" in report.summary.direction_source
    assert report.summary.status == "completed"  # before_final snapshot, even without the config


def test_snapshot_sets_are_classified():
    run = load_run_folder(FIXTURES / "history")
    kinds = sorted((s.kind, s.index) for s in run.sets)
    assert kinds == [
        ("before_switch", 0),
        ("before_switch", 2),
        ("main", None),
        ("no_improve", None),
        ("no_improve", None),
    ]
    assert run.save_name == "up_history"


def test_every_recommendation_says_what_why_and_how_sure():
    for name in ("testing", "history", "loss"):
        report = analyze_run(FIXTURES / name)
        for rec in report.recommendations:
            assert rec.change and rec.why and rec.confidence in {"high", "medium", "low"}
        text = report.to_text()
        assert report.summary.save_name in text
        assert "Recommendations:" in text
