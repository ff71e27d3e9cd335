"""Write run folders in upstream perforatedai 3.2.9's file format, for scenarios the real fixtures lack.

Mirrors the layout of the real fixtures in fixtures/upstream_runs (stacked Scores blocks, doubled switch rows,
`Best PBScores.csv` with a space, best_arch rows per dendrite count) so the analyzer sees what upstream writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

FIXTURES = Path(__file__).parent / "fixtures" / "upstream_runs"


def _stacked(series: dict[str, list[float]]) -> pd.DataFrame:
    blocks = []
    for name, values in series.items():
        block = pd.DataFrame({"Epochs": range(len(values))})
        for other in series:
            block[other] = list(values) if other == name else [None] * len(values)
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def write_upstream_run(
    folder: Path,
    save: str,
    validation: list[float],
    *,
    extras: dict[str, list[float]] | None = None,
    switch_epochs: list[int] = (),
    param_counts: list[int] | None = None,
    maximize: bool = True,
    learning_rates: list[float] | None = None,
    pb_scores: dict[str, list[float]] | None = None,
    config: dict | None = None,
    infix: str = "",
) -> Path:
    """One graph set `<save><infix>*` in `folder`; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    extras = extras or {}
    base = folder / f"{save}{infix}"
    series = {"Validation Scores": validation, "Validation Running Scores": validation, **extras}
    _stacked(series).to_csv(f"{base}Scores.csv", index=False)
    doubled = [e for e in switch_epochs for _ in (0, 1)]
    pd.DataFrame({"Switch Number": range(len(doubled)), "Switch Epoch": doubled}).to_csv(
        f"{base}switch_epochs.csv", index=False
    )
    counts = param_counts or [100 * (i + 1) for i in range(len(switch_epochs) + 1)]
    doubled_counts = counts[:1] + [c for c in counts[1:] for _ in (0, 1)]
    pd.DataFrame({"Switch Number": range(len(doubled_counts)), "Param Count": doubled_counts}).to_csv(
        f"{base}param_counts.csv", index=False
    )
    rows, start = [], 0
    for index, end in enumerate([*switch_epochs, len(validation) - 1]):
        window = validation[start : end + 1]
        if not window:
            continue
        best = max(window) if maximize else min(window)
        epoch = start + window.index(best)
        row = {"Param Counts": counts[min(index, len(counts) - 1)], "Max Valid Scores": best}
        row.update({name: values[epoch] for name, values in extras.items()})
        rows.append(row)
        start = end + 1
    pd.DataFrame(rows, columns=["Param Counts", "Max Valid Scores", *extras]).to_csv(
        f"{base}_best_arch_scores.csv", index=False
    )
    if learning_rates is not None:
        pd.DataFrame({"Epochs": range(len(learning_rates)), "learning_rate": learning_rates}).to_csv(
            f"{base}learning_rate.csv", index=False
        )
    pb_columns = {}
    for module, values in (pb_scores or {}).items():
        pb_columns[f"Best ever for all nodes Layer {module}"] = values
        pb_columns[f"Best current for all nodes Layer {module}"] = values
    if pb_columns:
        _stacked(pb_columns).to_csv(f"{base}Best PBScores.csv", index=False)
    else:
        Path(f"{base}Best PBScores.csv").write_text("Epochs\n")
    if config is not None and not infix:
        (folder / f"{save}_config.json").write_text(json.dumps(config))
    return folder
