"""The one exception of the results package: a message that always says what to do next."""

from __future__ import annotations


class ResultsError(Exception):
    """A run folder (or training script) cannot be analyzed; the message names the fix."""
