import functools
"""The analyzer on folders written by pai_core itself: short real trainings on the digits data set."""

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F
from torch import nn

from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA
from pai_core.config import PAIConfig
from pai_core.datasets import load_digits_splits
from pai_core.results import analyze_run
from pai_core.results.compare import compare_runs


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 6)
        self.fc2 = nn.Linear(6, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def accuracy(model, x, y):
    return (model(x).argmax(1) == y).float().mean().item() * 100


def train(
    save_name, *, capacity=False, doing_pai=True, max_epochs=300, n_epochs_to_switch=5, max_dendrites=2
):
    """The canonical user loop (upstream's digits example), returning the number of epochs it ran."""
    torch.manual_seed(1)
    torch.set_num_threads(1)
    data = load_digits_splits()
    # a run-owned config (not GPA.pc.set_*), so these settings never leak into other tests of the process
    config = PAIConfig(
        configuration_confirmed=True,
        drawing_extra_graphs=True,
        module_names_to_perforate=["Linear"],
        output_dimensions=[-1, 0],
        testing_dendrite_capacity=capacity,
        switch_mode=1,  # DOING_HISTORY
        n_epochs_to_switch=n_epochs_to_switch,
        max_dendrites=max_dendrites,
    )
    model = UPA.perforate_model(
        Net(), doing_pai=doing_pai, save_name=save_name, maximizing_score=True, config=config
    )
    GPA.pai_tracker.set_optimizer(torch.optim.Adam)
    GPA.pai_tracker.set_scheduler(torch.optim.lr_scheduler.StepLR)

    def make(m):
        return GPA.pai_tracker.setup_optimizer(
            m, {"params": m.parameters(), "lr": 0.02}, {"step_size": 40, "gamma": 0.5}
        )

    optimizer, _ = make(model)
    for epoch in range(max_epochs):
        model.train()
        for i in range(0, 1200, 100):
            optimizer.zero_grad()
            F.cross_entropy(model(data.x_train[i : i + 100]), data.y_train[i : i + 100]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            GPA.pai_tracker.add_extra_score(accuracy(model, data.x_train, data.y_train), "train")
            GPA.pai_tracker.add_extra_score(accuracy(model, data.x_test, data.y_test), "test")
            score = accuracy(model, data.x_val, data.y_val)
        model, restructured, done = GPA.pai_tracker.add_validation_score(score, model)
        if done:
            return epoch + 1
        if restructured:
            optimizer, _ = make(model)
    return max_epochs


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_pai_core_capacity_test(in_tmp):
    assert train("cap", capacity=True) == 4
    report = analyze_run(in_tmp / "cap")
    s = report.summary
    assert s.written_by == "pai_core"
    assert s.capacity_test and s.status == "capacity_test"
    assert s.switch_epochs == [0, 1, 2]
    assert len(s.param_counts) == 4 and s.param_counts[0] == 460
    assert report.recommendations[0].change == "GPA.pc.set_testing_dendrite_capacity(False)"


def test_pai_core_history_run_and_comparison_with_a_baseline(in_tmp):
    epochs = train("dendrites")
    report = analyze_run(in_tmp / "dendrites", plot=in_tmp / "dendrites.png")
    s = report.summary
    assert s.written_by == "pai_core" and s.direction == "maximize"
    assert s.status == "completed"
    assert 1 <= s.dendrites_added <= 2 and len(s.switch_epochs) == s.dendrites_added
    assert s.epochs_trained == epochs  # pai_run.json counts the rewound epochs too
    assert s.param_counts[0] == 460 and len(s.param_counts) == s.dendrites_added + 1
    assert s.baseline_score is not None and s.best_score >= s.baseline_score
    assert (in_tmp / "dendrites.png").stat().st_size > 10_000
    assert s.seconds_per_epoch > 0 and s.wall_time_s >= s.seconds_per_epoch  # from dendritesTimes.csv
    assert report.finding("PAI503") is None

    train("baseline", doing_pai=False)
    baseline = analyze_run(in_tmp / "baseline")
    assert baseline.summary.dendrites_added == 0 and baseline.summary.status == "completed"
    comparison = compare_runs([in_tmp / "baseline", in_tmp / "dendrites"])
    assert [r.dendrites for r in comparison.runs] == [0, s.dendrites_added]
    assert comparison.runs[1].delta_vs_first == pytest.approx(s.best_score - baseline.summary.best_score)
    assert "dendrites" in comparison.verdict and "baseline" in comparison.verdict


def test_pai_core_summary_alone_is_enough(in_tmp):
    train("summary_only")
    folder = in_tmp / "summary_only"
    full = analyze_run(folder).summary
    for path in folder.iterdir():
        if path.name != "pai_run.json":
            path.unlink()
    report = analyze_run(folder)
    assert any("pai_run.json only" in m for m in report.missing)
    s = report.summary
    assert (s.switch_epochs, s.param_counts, s.status) == (full.switch_epochs, full.param_counts, full.status)
    assert s.best_score == pytest.approx(full.best_score) and s.epochs == full.epochs


def test_pai_core_fixed_length_loop_that_never_switched(in_tmp):
    assert train("short", max_epochs=8, n_epochs_to_switch=10) == 8
    report = analyze_run(in_tmp / "short")
    assert report.summary.status == "ended_early"
    finding = report.finding("PAI503")
    assert finding.severity == "error"
    assert "while True" in finding.fix


# ---------------------------------------------------------------------------------- the log beside the folder
def _log_of_capacity_run(caplog, save_name):
    """What the user saw: the script's own epoch lines and the tracker's messages."""
    with caplog.at_level("INFO", logger="pai_core"):
        epochs = train(save_name, capacity=True)
    user_lines = [f"Epoch {e + 1}: validation accuracy printed by the script" for e in range(epochs)]
    return epochs, "\n".join([*user_lines, *caplog.messages])


def test_a_log_that_matches_its_folder_raises_nothing(in_tmp, caplog):
    _, log = _log_of_capacity_run(caplog, "cap")
    report = analyze_run(in_tmp / "cap", log=log)
    assert not [f for f in report.findings if f.code.startswith("PAI58")]  # no training-log finding


def test_a_log_from_another_run_is_told_apart(in_tmp, caplog):
    _, log = _log_of_capacity_run(caplog, "cap")
    assert train("short", max_epochs=8, n_epochs_to_switch=10) == 8
    report = analyze_run(in_tmp / "short", log=log)
    codes = [f.code for f in report.findings]
    assert "PAI584" in codes and "PAI583" in codes  # the log's capacity test and dendrites are not the folder's
    longer = "\n".join(f"Train Epoch: {e} [0/1200]" for e in range(1, 41))
    more = analyze_run(in_tmp / "short", log=longer).finding("PAI581")
    assert more is not None and "40 epochs" in more.message, more


def test_cli_log_option_and_missing_folder_reasons(in_tmp, caplog, capsys):
    from mcp_server.cli import run_command

    main = functools.partial(run_command, "analyze-results")

    _, log = _log_of_capacity_run(caplog, "cap")
    (in_tmp / "train.log").write_text(log, encoding="utf-8")
    assert main([str(in_tmp / "cap"), "--log", str(in_tmp / "train.log")]) == 0
    assert "the log" not in capsys.readouterr().out.lower()

    script = in_tmp / "train.py"
    script.write_text("model = UPA.perforate_model(model, save_name='renamed')\n"
                      "GPA.pai_tracker.add_validation_score(1.0, model)\n", encoding="utf-8")
    assert main([str(script)]) != 0
    err = capsys.readouterr().err
    assert "'renamed'" in err and "cap" in err and "save_name differs" in err  # the run sits under another name

    script.write_text("model = UPA.perforate_model(model, save_name='never')\n", encoding="utf-8")
    assert main([str(script)]) != 0
    assert "never calls add_validation_score" in capsys.readouterr().err
