"""When a run's logs (CSVs, pai_run.json, the PNG) are written: rendered from the state alone, so they can wait.

They are produced as bytes and written by a background thread at most every `interval_s` seconds of wall time
(LOG_INTERVAL_S), always at the first epoch, at switches, at completion and on `flush()`; `interval_s = 0`
writes them every epoch (upstream behaviour). The PNG is drawn at the first epoch, at switches, at the end and
at most every PNG_INTERVAL_S otherwise (upstream redraws a large figure every epoch). At interpreter exit the
deferred logs catch up.
"""
from __future__ import annotations

import atexit
import logging
import math
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pai_core.run_files import RunFiles
from pai_core.run_state import RunState

logger = logging.getLogger("pai_core.run_logs")

PNG_INTERVAL_S = 120.0
LOG_INTERVAL_S = 1.0

_DUE: weakref.WeakSet[RunLogs] = weakref.WeakSet()  # logs that may hold deferred writes


@atexit.register  # registered after checkpoint's writer flush, so it runs first (atexit is LIFO)
def _write_due_logs() -> None:
    for logs in list(_DUE):
        try:
            logs.catch_up()
        except Exception as exc:  # noqa: BLE001  # pragma: no cover - best effort at interpreter exit
            logger.warning("could not write the last run files of %s: %s", logs.files.save_name, exc)


class RunLogs:
    """The log files of one run, written from `state()` (and `summary()`) when due."""

    def __init__(self, files: RunFiles, *, state: Callable[[], RunState], summary: Callable[[], dict[str, Any]],
                 module_names: Callable[[], list[str]], making_graphs: bool, zooming: bool):
        self.files = files
        self._state, self._summary, self._module_names = state, summary, module_names
        self.making_graphs = making_graphs
        self.zooming = zooming
        self.interval_s = LOG_INTERVAL_S
        self._last_output = -math.inf
        self._last_draw = -math.inf
        self.due = False  # an epoch closed whose logs are not written yet

    def epoch_closed(self, *, draw: bool, force: bool) -> None:
        """Write now if `force` or the interval passed, else mark the logs due."""
        now = time.monotonic()
        if not force and now - self._last_output < self.interval_s:
            self.due = True
            _DUE.add(self)
            return
        self._last_output, self.due = now, False
        self.write(draw=draw)

    def catch_up(self) -> None:
        """Write the deferred logs, if any."""
        if self.due:
            self._last_output, self.due = time.monotonic(), False
            self.write(draw=False)

    def write(self, *, draw: bool) -> None:
        state = self._state()
        if self.making_graphs:
            self.files.write_csvs(state, self._module_names())
            if draw or state.completed or time.monotonic() - self._last_draw > PNG_INTERVAL_S:
                self.draw()
        self.files.write_summary(self._summary())

    def draw(self, extra: str = "") -> Path | None:
        """Render <save><extra>.png now."""
        if not self.making_graphs:
            return None
        if not extra:
            self._last_draw = time.monotonic()
        return self.files.write_png(self._state(), extra, zooming=self.zooming)

    def snapshot(self, extra: str) -> None:
        """The CSVs under names carrying `extra` (upstream's per-switch copies)."""
        if self.making_graphs:
            self.files.write_csvs(self._state(), self._module_names(), extra)

    def unique(self, extra: str) -> str:
        """Upstream's timestamped names collide when two rounds fail within one second; suffix the later one."""
        candidate, index = extra, 1
        while self.files.path(f"{candidate}Scores.csv").exists():
            candidate, index = f"{extra}_{index}", index + 1
        return candidate
