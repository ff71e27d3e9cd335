"""The one error the analysis raises for input it cannot read: the message says what to do."""

from __future__ import annotations

__all__ = ["ScriptError"]


class ScriptError(ValueError):
    """The script cannot be analyzed (missing, not Python, too big, does not parse).

    `line` is the 1-based line of a syntax problem when there is one.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
