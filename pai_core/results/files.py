"""Find and read the files of one run folder, tolerant of every naming the library ever used.

Upstream writes `<save><infix><kind>` files: `up_runScores.csv`, `up_run_best_arch_scores.csv`,
`up_runBest PBScores.csv` (with a space), `up_runswitch_epochs.csv`; snapshots insert an infix such as
`_beforeSwitch_2`, `_20.11.2026.23.59.12_noImprove_lr_0` or `before_final`. Series are stacked in
blocks (one block per column, blanks elsewhere), so every column is parsed on its own.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from pai_core.results.errors import ResultsError

# Longest, most specific suffixes first: "Best PBScores.csv" and "_best_arch_scores.csv" also end in "scores.csv".
KIND_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("best pbscores.csv", "pb_scores"),
    ("best_pbscores.csv", "pb_scores"),
    ("bestpbscores.csv", "pb_scores"),
    ("_best_arch_scores.csv", "best_arch"),
    ("best_arch_scores.csv", "best_arch"),
    ("best_test_scores.csv", "best_arch"),
    ("besttestscores.csv", "best_arch"),
    ("switch_epochs.csv", "switch_epochs"),
    ("switchepochs.csv", "switch_epochs"),
    ("param_counts.csv", "param_counts"),
    ("paramcounts.csv", "param_counts"),
    ("learning_rate.csv", "learning_rate"),
    ("learningrate.csv", "learning_rate"),
    ("times.csv", "times"),
    ("scores.csv", "scores"),
    ("_config.json", "config"),
)
SUMMARY_FILE_NAMES = ("pai_run.json", "run_summary.json")
DEFAULT_MAX_ROWS = 2_000_000

_BEFORE_SWITCH = re.compile(r"beforeSwitch_(\d+)", re.IGNORECASE)
_NO_IMPROVE = re.compile(r"(\d{2}\.\d{2}\.\d{4}\.\d{2}\.\d{2}\.\d{2})?_?noImprove_lr_?(\d+)?", re.IGNORECASE)


def classify_file(name: str) -> tuple[str, str] | None:
    """(kind, prefix) of a run file name, or None for files we do not read (PNGs, checkpoints)."""
    lower = name.lower()
    for suffix, kind in KIND_SUFFIXES:
        if lower.endswith(suffix):
            return kind, name[: len(name) - len(suffix)]
    return None


def classify_infix(infix: str) -> tuple[str, int | None]:
    """Which graph set an infix names: main, before_switch (with index), no_improve, before_final, lr_trial."""
    if not infix.strip("_"):
        return "main", None
    if match := _BEFORE_SWITCH.search(infix):
        return "before_switch", int(match.group(1))
    if "noimprove" in infix.lower():
        return "no_improve", None
    if "before_final" in infix.lower():
        return "before_final", None
    if "pbcount" in infix.lower():
        return "lr_trial", None
    return "other", None


@dataclass
class Table:
    """One CSV read leniently: numeric columns, plus what had to be dropped or cut."""

    frame: pd.DataFrame
    path: Path
    non_numeric_cells: int = 0
    truncated_at: int | None = None


def read_table(path: Path, max_rows: int = DEFAULT_MAX_ROWS) -> Table:
    """Read a CSV into numeric columns; non-numeric cells become NaN and are counted, never raised."""
    try:
        frame = pd.read_csv(path, nrows=max_rows + 1, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        return Table(pd.DataFrame(), path)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
        raise ResultsError(
            f"{path.name} could not be parsed as CSV ({error.__class__.__name__}: {str(error)[:200]}). "
            "The file is probably truncated or was written by something else; delete it or re-run training."
        ) from None
    truncated = None
    if len(frame) > max_rows:
        frame = frame.iloc[:max_rows]
        truncated = max_rows
    bad = 0
    for column in frame.columns:
        if frame[column].dtype.kind not in "fiub":
            raw = frame[column]
            numeric = pd.to_numeric(raw, errors="coerce")
            bad += int((numeric.isna() & raw.notna() & (raw.astype(str).str.strip() != "")).sum())
            frame[column] = numeric
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype("float64")
    infinite = np.isinf(frame.to_numpy())
    if infinite.any():  # "inf" parses as a number but no score, epoch or count can be infinite
        bad += int(infinite.sum())
        frame = frame.mask(infinite)
    return Table(frame, path, bad, truncated)


def stacked_series(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Each non-Epochs column as a Series indexed by epoch (blank rows of other blocks dropped)."""
    if frame.empty:
        return {}
    epochs_column = next((c for c in frame.columns if c.lower() == "epochs"), None)
    result: dict[str, pd.Series] = {}
    for column in frame.columns:
        if column == epochs_column:
            continue
        values = frame[column]
        keep = values.notna().to_numpy()
        if not keep.any():
            result[column] = pd.Series(dtype="float64", name=column)
            continue
        kept = values[keep]
        if epochs_column is not None:
            epochs = frame[epochs_column][keep]
            if epochs.isna().any():  # damaged epoch cells: fall back to the position inside the block
                epochs = pd.Series(range(len(kept)), index=kept.index, dtype="float64")
        else:
            epochs = pd.Series(range(len(kept)), index=kept.index, dtype="float64")
        series = pd.Series(kept.to_numpy(), index=epochs.to_numpy().astype("int64"), name=column)
        if not series.index.is_unique:
            series = series[~series.index.duplicated(keep="last")]
        result[column] = series
    return result


@dataclass
class GraphSet:
    """The files written together under one infix (the main set, or one snapshot)."""

    infix: str
    kind: str
    index: int | None
    files: dict[str, Path] = field(default_factory=dict)
    max_rows: int = DEFAULT_MAX_ROWS
    problems: list[str] = field(default_factory=list)

    def _table(self, kind: str) -> Table | None:
        path = self.files.get(kind)
        if path is None:
            return None
        table = read_table(path, self.max_rows)
        if table.non_numeric_cells:
            self.problems.append(f"{path.name}: {table.non_numeric_cells} non-numeric cell(s) ignored")
        if table.truncated_at:
            self.problems.append(
                f"{path.name}: more than {table.truncated_at} rows; only the first {table.truncated_at} were read"
            )
        return table

    @cached_property
    def scores(self) -> dict[str, pd.Series]:
        table = self._table("scores")
        return stacked_series(table.frame) if table else {}

    @cached_property
    def pb_scores(self) -> dict[str, pd.Series]:
        table = self._table("pb_scores")
        return {k: v for k, v in stacked_series(table.frame).items() if len(v)} if table else {}

    @cached_property
    def learning_rate(self) -> pd.Series | None:
        table = self._table("learning_rate")
        if not table:
            return None
        series = stacked_series(table.frame)
        return next((s for s in series.values() if len(s)), None)

    @cached_property
    def epoch_times(self) -> pd.Series | None:
        """Seconds per epoch (train+validation), summed over the train/val columns of manual timing."""
        table = self._table("times")
        if not table:
            return None
        series = [s for s in stacked_series(table.frame).values() if len(s)]
        return pd.concat(series, axis=1).sum(axis=1) if series else None

    @cached_property
    def switch_epochs(self) -> list[int]:
        return self._last_column_ints("switch_epochs")

    @cached_property
    def param_counts(self) -> list[int]:
        return self._last_column_ints("param_counts")

    @cached_property
    def best_arch(self) -> pd.DataFrame | None:
        table = self._table("best_arch")
        return table.frame if table else None

    def _last_column_ints(self, kind: str) -> list[int]:
        table = self._table(kind)
        if not table or table.frame.empty:
            return []
        values = table.frame.iloc[:, -1].dropna()
        return [int(v) for v in values]

    @property
    def validation(self) -> pd.Series | None:
        return validation_series(self.scores)

    @property
    def length(self) -> int:
        validation = self.validation
        return 0 if validation is None or validation.empty else int(validation.index.max()) + 1


def validation_series(scores: dict[str, pd.Series]) -> pd.Series | None:
    """The raw validation column (not the running average)."""
    for name, series in scores.items():
        lowered = name.lower()
        if "valid" in lowered and "running" not in lowered:
            return series
    # unknown naming: the first score column that is not a running average, train or test score
    for name, series in scores.items():
        if not any(word in name.lower() for word in ("running", "train", "test")):
            return series
    return None


@dataclass
class RunFolder:
    """All graph sets of one run folder, with the save name they share."""

    folder: Path
    save_name: str
    sets: list[GraphSet]
    config: dict | None
    summary: dict | None
    other_files: list[str]
    notes: list[str]

    @property
    def main(self) -> GraphSet | None:
        return next((s for s in self.sets if s.kind == "main"), None)

    def of_kind(self, kind: str) -> list[GraphSet]:
        return [s for s in self.sets if s.kind == kind]


def _load_json(path: Path, notes: list[str]) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        notes.append(f"{path.name} is not valid JSON ({error.__class__.__name__}); ignored")
        return None
    return data if isinstance(data, dict) else None


_INFIX_START = re.compile(
    r"_?beforeSwitch|before_final|_\d{2}\.\d{2}\.\d{4}|_?noImprove|_?PBCount", re.IGNORECASE
)


def _common_save_name(prefixes: list[str], folder_name: str, config_prefix: str | None) -> str:
    """The save name: from the config JSON, else the folder name, else the prefix shared by all files."""
    if config_prefix and all(p.startswith(config_prefix) for p in prefixes):
        return config_prefix
    if folder_name in prefixes and all(p.startswith(folder_name) for p in prefixes):
        return folder_name
    common = os.path.commonprefix(prefixes)
    if match := _INFIX_START.search(common):
        common = common[: match.start()]
    if common:
        return common
    counts: dict[str, int] = {}
    for prefix in prefixes:
        counts[prefix] = counts.get(prefix, 0) + 1
    return max(counts, key=lambda p: (counts[p], -len(p)))


def _run_files(folder: Path) -> list[tuple[Path, str, str]]:
    found = []
    for path in folder.iterdir():
        if path.is_file():
            classified = classify_file(path.name)
            if classified:
                found.append((path, *classified))
    return found


def _holds_run(folder: Path) -> bool:
    try:
        return any(kind in {"scores", "best_arch", "switch_epochs"} for _, kind, _ in _run_files(folder))
    except OSError:
        return False


def nearby_runs_hint(parent: Path) -> str:
    """' Run folders found in PARENT: a, b (...)' when the run may sit under another save_name, else ''."""
    try:
        runs = sorted(sub.name for sub in parent.iterdir() if sub.is_dir() and _holds_run(sub))
    except OSError:
        return ""
    if not runs:
        return ""
    shown = ", ".join(runs[:8]) + (" ..." if len(runs) > 8 else "")
    return (f" Run folders found in {str(parent)!r}: {shown}: if one of them is this run, the script's save_name "
            "differs from the name given here (or a command-line flag overrode it).")


def locate_run_folder(path: str | Path) -> Path:
    """The folder holding the run files: the path itself, or its only sub-folder that holds some."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise ResultsError(
            f"Run folder {str(folder)!r} does not exist. Pass the folder named after `save_name` "
            "(created next to where the training script ran), or pass the training script itself."
            + nearby_runs_hint(folder.parent)
        )
    if folder.is_file():
        raise ResultsError(
            f"{str(folder)!r} is a file, not a run folder. Pass the folder named after `save_name`, "
            "or a training script (.py) to find that folder from its perforate_model(...) call."
        )
    if any(kind in {"scores", "best_arch", "switch_epochs"} for _, kind, _ in _run_files(folder)) or any(
        (folder / name).is_file() for name in SUMMARY_FILE_NAMES
    ):
        return folder
    candidates = [
        sub
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and any(k in {"scores", "best_arch", "switch_epochs"} for _, k, _ in _run_files(sub))
    ]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(c.name for c in candidates[:10])
        raise ResultsError(f"{str(folder)!r} holds several run folders ({names}); pass one of them.")
    raise ResultsError(
        f"No run files (…Scores.csv, …_best_arch_scores.csv, …switch_epochs.csv) in {str(folder)!r}. "
        "Check that training called add_validation_score at least once and that graphs were not disabled "
        "(making_graphs=False writes no CSVs)."
    )


def load_run_folder(path: str | Path, max_rows: int = DEFAULT_MAX_ROWS) -> RunFolder:
    """Index a run folder: group its files into graph sets by infix; nothing heavy is read yet."""
    folder = locate_run_folder(path)
    notes: list[str] = []
    files = _run_files(folder)
    summary = None
    for name in SUMMARY_FILE_NAMES:
        if (folder / name).is_file():
            summary = _load_json(folder / name, notes)
            break
    csv_prefixes = [prefix for _, kind, prefix in files if kind not in {"config"}]
    config_prefixes = [prefix for _, kind, prefix in files if kind == "config"]
    save_name = (
        _common_save_name(
            csv_prefixes, folder.name, min(config_prefixes, key=len) if config_prefixes else None
        )
        if csv_prefixes
        else folder.name
    )
    config = None
    sets: dict[str, GraphSet] = {}
    for file_path, kind, prefix in files:
        if kind == "config":
            if prefix.startswith(save_name) and prefix[len(save_name) :] in {"", "_"} or config is None:
                config = _load_json(file_path, notes)
            continue
        if kind == "best_arch":
            prefix = prefix.rstrip("_") if prefix.rstrip("_").startswith(save_name) else prefix
        infix = prefix.removeprefix(save_name)
        if kind == "best_arch" and infix.endswith("_"):
            infix = infix[:-1]
        set_kind, index = classify_infix(infix)
        graph_set = sets.setdefault(infix, GraphSet(infix, set_kind, index, max_rows=max_rows))
        if kind in graph_set.files and file_path.name.lower().endswith(
            ("best_test_scores.csv", "besttestscores.csv")
        ):
            continue  # the modern best_arch file wins over the older name
        graph_set.files[kind] = file_path
    other = sorted(p.name for p in folder.iterdir() if p.is_file() and classify_file(p.name) is None)
    if not sets:  # graphs disabled (making_graphs=False): only pai_run.json tells about the run
        notes.append("no CSV files (graphs disabled?): figures come from pai_run.json only")
        save_name = str((summary or {}).get("save_name") or folder.name)
        sets[""] = GraphSet("", "main", None, max_rows=max_rows)
    ordered = sorted(sets.values(), key=lambda s: (s.kind != "main", s.kind, s.index or 0, s.infix))
    if not any(s.kind == "main" for s in ordered) and ordered:
        fallback = max(ordered, key=lambda s: (s.kind == "before_final", s.length))
        notes.append(f"no main file set (without infix) found; using the snapshot {fallback.infix!r} instead")
        fallback.kind = "main"
        ordered.sort(key=lambda s: s.kind != "main")
    return RunFolder(folder, save_name, ordered, config, summary, other, notes)
