"""The one finding model: what every pai check, rewrite, diagnosis and run analysis reports.

A finding says what is wrong or worth knowing (`message`), how much it matters (`severity`), the change to
make when it is stated apart from the message (`fix`), and where (`file`, `line`). Producers that know more
subclass it (a diagnosis adds its confidence and the script lines involved, a run analysis the figures behind
its fix); the six fields keep their names and meaning everywhere. Torch-free and pydantic only, so codemods
and `pai_core.results` import it without the library.

Every code is "PAI" and three digits, one range per producer:

========  ==========================================================================================
PAI0xx    integration rules of `pai perforate` (`codemods/rules`, the rule class's `CODE`)
PAI1xx    `pai check` (`codemods/check.py`)
PAI2xx    `pai migrate` rules (`codemods/migrate`; PAI200: a 2024 name no rule maps)
PAI3xx    diagnosis: PAI301-PAI489 the catalogue's patterns (`codemods/diagnosis/catalogue.py`, each
PAI4xx    pattern's `code`), PAI490-PAI499 the causes the script itself shows (`diagnosis/blocking.py`)
PAI5xx    run analysis (`pai_core/results`): PAI501-PAI579 its rules, PAI580-PAI599 the training-log checks
========  ==========================================================================================

A new rule, check or pattern takes the next free code of its range; a code is never reused for another
meaning.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["CODE_PATTERN", "Finding", "Severity"]

Severity = Literal["error", "warning", "info"]
CODE_PATTERN = r"^PAI\d{3}$"


class Finding(BaseModel):
    """One thing a pai tool found: error (must change), warning (should look at) or info."""

    code: str = Field(pattern=CODE_PATTERN, description="PAI and three digits; the range names the producer")
    severity: Severity
    message: str
    fix: str | None = Field(None, description="the change to make, when stated apart from the message")
    file: str | None = Field(None, description="the script or run folder the finding is about")
    line: int | None = Field(None, description="1-based line in `file` (the script as the user wrote it)")
