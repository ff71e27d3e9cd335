"""The exit statuses of every `pai` command (one table: `pai --help` prints it), and the error that carries one.

A command raises `CommandError(message, status)` for input it cannot use; the front door prints
`pai COMMAND: error: MESSAGE` on stderr and exits with the status. Library code never calls sys.exit.
"""

from __future__ import annotations

import textwrap

__all__ = ["BAD_INPUT", "CLOSED_PIPE", "EXIT_STATUSES", "EXIT_STATUS_HELP", "FINDINGS", "INTERRUPTED", "OK",
           "REFUSED", "CommandError"]

OK, FINDINGS, BAD_INPUT, REFUSED, INTERRUPTED, CLOSED_PIPE = 0, 1, 2, 3, 130, 141

EXIT_STATUSES = {
    OK: "success, or nothing to do",
    FINDINGS: "findings or pending changes (check: errors found; perforate: a diff to apply; diagnose: not "
    "recognised)",
    BAD_INPUT: "bad input or usage (a missing, unreadable or unparseable file or folder, a wrong option)",
    REFUSED: "refused: the input is valid but the job cannot be completed safely; nothing was changed and the "
    "message says what to do instead",
    INTERRUPTED: "interrupted (Ctrl-C)",
    CLOSED_PIPE: "the reader of the output went away, as in `pai ... | head` (nothing more is printed)",
}

EXIT_STATUS_HELP = textwrap.fill(
    "exit status (the same for every pai command): " + "; ".join(f"{c} {m}" for c, m in EXIT_STATUSES.items()),
    width=100,
)


class CommandError(Exception):
    """Input a command cannot use: the one line to print, and the exit status from the table."""

    def __init__(self, message: str, status: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.status = status
