import functools
"""Bad input never produces a traceback: a ResultsError that says what to do, or a partial report."""

import shutil
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pai_core.results import ResultsError, analyze_run
from mcp_server.cli import run_command

analyze_main = functools.partial(run_command, "analyze-results")


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match="does not exist.*save_name"):
        analyze_run(tmp_path / "nope")


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match="No run files"):
        analyze_run(tmp_path)


def test_file_instead_of_folder(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    with pytest.raises(ResultsError, match="is a file"):
        analyze_run(path)


def test_parent_folder_with_one_run_is_accepted(upstream_copy):
    folder = upstream_copy("history")
    report = analyze_run(folder.parent)
    assert report.summary.save_name == "up_history"


def test_parent_folder_with_several_runs_names_them(upstream_copy):
    upstream_copy("history")
    folder = upstream_copy("loss")
    with pytest.raises(ResultsError, match="several run folders.*history.*loss"):
        analyze_run(folder.parent)


def test_header_only_scores_gives_a_partial_report(upstream_copy):
    folder = upstream_copy("history")
    (folder / "up_historyScores.csv").write_text(
        "Epochs,Validation Scores,Validation Running Scores,train,test\n"
    )
    report = analyze_run(folder)
    assert any("no validation scores" in m for m in report.missing)
    # the best-arch file still tells the architectures
    assert report.summary.baseline_score == pytest.approx(91.333, abs=1e-3)
    assert report.summary.switch_epochs == [38]


def test_zero_byte_files_give_a_partial_report(upstream_copy):
    folder = upstream_copy("loss")
    for name in ("up_lossScores.csv", "up_loss_best_arch_scores.csv", "up_lossswitch_epochs.csv"):
        (folder / name).write_text("")
    report = analyze_run(folder)
    assert any("no validation scores" in m for m in report.missing)
    assert any("best_arch" in m for m in report.missing)
    assert report.summary.dendrites_added == 0


def test_truncated_csv_mid_row(upstream_copy):
    folder = upstream_copy("history")
    path = folder / "up_historyScores.csv"
    text = path.read_text()
    path.write_text(text[: len(text) // 2 + 7])  # cut in the middle of a row
    report = analyze_run(folder)  # the cut row becomes a short row; nothing crashes
    assert report.summary.epochs > 0


def test_non_numeric_cells_are_ignored_and_reported(upstream_copy):
    folder = upstream_copy("history")
    path = folder / "up_historyScores.csv"
    lines = path.read_text().splitlines()
    lines[5] = "4,oops,,,"
    path.write_text("\n".join(lines) + "\n")
    report = analyze_run(folder)
    assert any("non-numeric" in m for m in report.missing)
    assert report.summary.best_score == pytest.approx(92.667, abs=1e-3)


def test_huge_file_is_cut_and_says_so(upstream_copy):
    folder = upstream_copy("history")
    report = analyze_run(folder, max_rows=100)
    assert any("only the first 100" in m for m in report.missing)


def test_missing_switch_and_param_files(upstream_copy):
    folder = upstream_copy("history")
    (folder / "up_historyswitch_epochs.csv").unlink()
    (folder / "up_historyparam_counts.csv").unlink()
    report = analyze_run(folder)
    assert any("switch_epochs.csv is missing" in m for m in report.missing)
    assert report.summary.param_counts == [460, 936]  # from best_arch


def test_older_best_test_scores_name(upstream_copy):
    folder = upstream_copy("history")
    (folder / "up_history_best_arch_scores.csv").rename(folder / "up_historybest_test_scores.csv")
    report = analyze_run(folder)
    assert report.summary.param_counts == [460, 936]
    assert report.summary.best_score == pytest.approx(92.667, abs=1e-3)


def test_only_snapshots_left(upstream_copy):
    folder = upstream_copy("loss")
    for path in folder.iterdir():
        if path.name.startswith("up_loss") and "before" not in path.name and "config" not in path.name:
            path.unlink()
    report = analyze_run(folder)
    assert any("no main file set" in m for m in report.missing)
    assert report.summary.dendrites_added == 3


def test_cli_prints_error_without_traceback(tmp_path, capsys):
    code = analyze_main([str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert code == 2  # bad input in the table of mcp_server.cli.exit_status
    assert err.startswith("pai analyze-results: error: ") and "Traceback" not in err


CSV_NAMES = [
    "runScores.csv",
    "run_best_arch_scores.csv",
    "runswitch_epochs.csv",
    "runparam_counts.csv",
    "runlearning_rate.csv",
    "runBest PBScores.csv",
    "run_config.json",
]
cells = st.one_of(
    st.integers(-5, 300).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(string.ascii_letters + ' ,.-"', max_size=6),
    st.just(""),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    contents=st.dictionaries(
        st.sampled_from(CSV_NAMES),
        st.lists(st.lists(cells, min_size=0, max_size=5).map(",".join), max_size=8).map("\n".join),
        min_size=1,
    )
)
def test_garbage_files_never_crash(tmp_path_factory, contents):
    folder = tmp_path_factory.mktemp("run")
    for name, text in contents.items():
        (folder / name).write_text(text)
    try:
        report = analyze_run(folder)
    except ResultsError as error:
        assert str(error)
    else:
        report.to_text()
        report.model_dump_json()
    shutil.rmtree(folder)
