"""Pydantic models of the diagnosis: the catalogue entries (data) and what `diagnose` returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from pai_core.findings import Finding

Category = Literal[
    "shapes",
    "processors",
    "conversion",
    "optimizer",
    "device",
    "distributed",
    "tracker",
    "saving",
    "memory",
    "environment",
    "api",
    "success",
]


class FactRule(BaseModel):
    """A fact about the user's script that makes a pattern more (confirms) or less (rules_out) likely."""

    fact: str = Field(description="name of a ScriptFacts field, e.g. 'optimizer_rebuilt_on_restructure'")
    equals: bool | int | str | None = Field(True, description="value of the fact that triggers this rule")
    effect: Literal["confirms", "rules_out"]
    note: str = Field(description="why this fact matters, shown to the user as evidence")


class Pattern(BaseModel):
    """One known failure: how to recognise it in pasted text and what to do about it."""

    id: str = Field(description="the pattern's name, stable and readable, e.g. optimizer-not-rebuilt")
    code: str = Field(pattern=r"^PAI(3\d\d|4[0-8]\d)$", description="its finding code: the next free one of "
                      "PAI301-PAI489")
    title: str
    category: Category
    signals: list[str] = Field(
        description="regexes (case-insensitive) over exception lines and log text; any one fires the pattern"
    )
    exception_types: list[str] = Field(
        default_factory=list,
        description="exception class names that mean this failure even when the message is new to us "
        "(pai_core's own error classes); weaker than a message match",
    )
    context: list[str] = Field(
        default_factory=list,
        description="if given, at least one of these regexes must also occur somewhere in the text "
        "(frames, log lines): narrows generic messages such as 'list index out of range'",
    )
    absent: list[str] = Field(
        default_factory=list,
        description="regexes that must NOT occur anywhere: lets a log pattern mean 'X happened and Y never did'",
    )
    facts: list[FactRule] = Field(default_factory=list)
    point_at: list[str] = Field(
        default_factory=list, description="ScriptFacts line fields to show the user, most relevant first"
    )
    point_at_calls: list[str] = Field(
        default_factory=list,
        description="calls of the script to show (resolved or method names, `*` wildcards), e.g. '*_to_perforate'",
    )
    cause: str
    fix: str = Field(description="the change to make; {placeholders} are filled from the text and the script")
    doc: str = Field(description="our own documentation: a pai:// resource or a skill name")
    confidence: float = Field(ge=0.0, le=1.0, description="how sure a match alone makes us")
    log_only: bool = Field(
        False, description="a console message, not an exception: full weight in plain logs"
    )
    informational: bool = Field(False, description="not a failure (e.g. the capacity test succeeded)")


class ScriptLine(BaseModel):
    """A line of the user's script the diagnosis points at."""

    line: int
    code: str = ""
    why: str


class DiagnosisFinding(Finding):
    """A known failure the text matches: `message` is the pattern's title, `fix` its fix for this script,
    `severity` error for an exception, warning for a console message, info for a success message; `file` and
    `line` the first script line involved, when the script was given."""

    pattern_id: str = Field(description="the pattern's name (the debugging catalogue's heading), e.g. "
                            "optimizer-not-rebuilt; `code` is its number")
    category: Category
    cause: str
    fix: str
    doc: str
    confidence: float = Field(ge=0.0, le=1.0)
    level: Literal["high", "medium", "low"]
    excerpt: str = Field(description="the matched text")
    lines: list[ScriptLine] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list, description="script facts that moved the confidence")


class ExceptionInfo(BaseModel):
    """One exception of the (possibly chained) traceback, innermost frame last."""

    type: str
    message: str
    frames: list[tuple[str, int, str, str]] = Field(
        default_factory=list, description="(file, line, function, source line), innermost last"
    )


class Diagnosis(BaseModel):
    recognised: bool
    findings: list[DiagnosisFinding] = Field(default_factory=list, description="ranked, most likely first")
    exceptions: list[ExceptionInfo] = Field(default_factory=list, description="parsed, last raised last")
    script: str | None = None
    script_lines: list[ScriptLine] = Field(
        default_factory=list, description="frames of the traceback that point into the user's script"
    )
    checklist: list[str] = Field(default_factory=list, description="generic checks when nothing matched")
    notes: list[str] = Field(default_factory=list)

    @property
    def top(self) -> DiagnosisFinding | None:
        return self.findings[0] if self.findings else None

    def to_text(self) -> str:
        from codemods.diagnosis.render import render_text

        return render_text(self)
