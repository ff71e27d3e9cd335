"""Turn a pasted console log into clean text and the exceptions it contains.

Pastes arrive with colour codes, Windows line endings, `[rank0]:` prefixes from torchrun, pytest's `E   `
gutters and megabytes of epoch logs; the exception that matters is at the end.
"""

from __future__ import annotations

import re

from codemods.diagnosis.models import ExceptionInfo

MAX_CHARS = 200_000  # keep the tail: the exception is printed last
MAX_LINE = 4_000  # longer lines (tensor dumps, progress bars without newlines) keep their two ends

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_RANK_PREFIX = re.compile(r"^(?:\[(?:rank|default)\d*\]:?\s?)+", re.MULTILINE)
_PYTEST_GUTTER = re.compile(r"^E {1,4}", re.MULTILINE)
_TRACEBACK_HEAD = re.compile(r"^\s*Traceback \(most recent call last\):\s*$")
_CHAIN = re.compile(
    r"^\s*(During handling of the above exception|The above exception was the direct cause)", re.IGNORECASE
)
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?')
_IPY_FRAME = re.compile(
    r"^\s*(?:File (?P<file>\S+?):(?P<line>\d+)(?:, in (?P<func>.+))?|Cell In\[\d+\], line (?P<cell>\d+))"
)
# Where an exception's message ends: a blank line, or the next log line of the run (a timestamp, a log level,
# a progress bar), so that output printed after the traceback is not read as part of the message.
_MESSAGE_END = re.compile(
    r"^\s*$|^(?:\d{4}-\d\d-\d\d[ T]|\[?(?:INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL)\b|wandb:|Epoch\b|.*\d+%\|)",
    re.IGNORECASE,
)
_EXC_LINE = re.compile(
    r"^(?P<type>(?:[A-Za-z_][\w]*\.)*[A-Z][\w]*(?:Error|Exception|Exit|Interrupt|Quit|Warning|Failure|Iteration)\w*)"
    r"(?::\s?(?P<msg>.*))?$"
)


def clean(text: str) -> tuple[str, bool]:
    """Normalise a paste; returns (text, truncated)."""
    truncated = len(text) > MAX_CHARS
    if truncated:
        text = text[-MAX_CHARS:]
        text = text[text.find("\n") + 1 :] if "\n" in text else text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _RANK_PREFIX.sub("", text)
    text = _PYTEST_GUTTER.sub("", text)
    if any(len(line) > MAX_LINE for line in text.split("\n")):
        half = MAX_LINE // 2
        text = "\n".join(
            line if len(line) <= MAX_LINE else f"{line[:half]} [...] {line[-half:]}"
            for line in text.split("\n")
        )
    return text, truncated


def parse_exceptions(text: str) -> list[ExceptionInfo]:
    """Every exception in the text, in the order printed (the one finally raised is last)."""
    lines = text.split("\n")
    found: list[ExceptionInfo] = []
    i = 0
    while i < len(lines):
        if not _TRACEBACK_HEAD.match(lines[i]):
            i += 1
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())
        i, exc = _read_block(lines, i + 1, indent)
        if exc is not None:
            found.append(exc)
    if not found:
        found = _bare_exception_lines(lines)
    return found


def _read_block(lines: list[str], i: int, indent: int) -> tuple[int, ExceptionInfo | None]:
    """Read frames after a `Traceback` header up to the exception line (not indented past the header)."""
    frames: list[tuple[str, int, str, str]] = []
    while i < len(lines):
        line = lines[i]
        frame = _FRAME.match(line) or _IPY_FRAME.match(line)
        if frame:
            number = frame.group("line") or frame.groupdict().get("cell") or "0"
            i += 1
            code = lines[i].strip() if i < len(lines) and lines[i].startswith((" ", "\t")) else ""
            if code and (_FRAME.match(lines[i]) or _IPY_FRAME.match(lines[i])):
                code = ""
            frames.append(
                (
                    frame.group("file") or "<notebook cell>",
                    int(number),
                    (frame.group("func") or "").strip(),
                    code,
                )
            )
            continue
        if _TRACEBACK_HEAD.match(line):
            return i, None
        exc = _EXC_LINE.match(line.strip()) if len(line) - len(line.lstrip()) <= indent else None
        i += 1
        if exc:
            message = [exc.group("msg") or ""]
            while (
                i < len(lines)
                and len(message) < 60
                and not (_TRACEBACK_HEAD.match(lines[i]) or _CHAIN.match(lines[i]) or _MESSAGE_END.match(lines[i]))
            ):
                message.append(lines[i])
                i += 1
            return i, ExceptionInfo(type=exc.group("type"), message="\n".join(message).strip(), frames=frames)
    return i, None


def _bare_exception_lines(lines: list[str]) -> list[ExceptionInfo]:
    """Pastes without a `Traceback` header: take lines that look like `SomeError: message`."""
    found = []
    for line in lines:
        m = _EXC_LINE.match(line.strip())
        if m and (m.group("msg") is not None) and not m.group("type").endswith("Warning"):
            found.append(ExceptionInfo(type=m.group("type"), message=(m.group("msg") or "").strip()))
    return found[-5:]
