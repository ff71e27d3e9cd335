"""Read and parse a user's script, turning every way it can fail into a ScriptError that says what to do."""

from __future__ import annotations

import ast
import io
import re
import stat
import tokenize
from pathlib import Path

import libcst as cst

from codemods.analysis.errors import ScriptError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "decode_script", "parse_source", "read_script"]

MAX_BYTES = 128 * 1024  # measured (benchmarks/bench_limits.py): the largest size every tool handles in seconds
# Deepest syntax tree handed to libcst. Measured with libcst 1.9 (benchmarks/bench_parse_limits.py): 3000
# nested brackets or a 10,000-term `and` chain kill its native parser (SIGSEGV), a 5,000-term `+` chain or
# 2,000 chained method calls take over 40 s, and the rules' visitors hit RecursionError from depth ~400.
# The deepest file in torch and transformers is 94 levels deep; CPython itself stops bracket nesting at 200.
MAX_DEPTH = 200
_SHOWN_PATH = 160  # characters of a path quoted in a message (a 10 MB path argument stays one short line)
_PYTHON_SUFFIXES = {".py", ".pyw", ".pyi"}
_OTHER_SUFFIXES = {
    ".ipynb": "a Jupyter notebook: export it first with `jupyter nbconvert --to script NOTEBOOK.ipynb`",
    ".json": "a JSON file",
    ".yaml": "a YAML file",
    ".yml": "a YAML file",
    ".toml": "a TOML file",
    ".cfg": "a config file",
    ".txt": "a text file",
    ".md": "a Markdown file",
    ".sh": "a shell script",
    ".csv": "a CSV file",
    ".pt": "a PyTorch checkpoint",
    ".pth": "a PyTorch checkpoint",
    ".pyc": "compiled Python bytecode",
    ".so": "a compiled library",
    ".c": "C source",
    ".cpp": "C++ source",
    ".js": "JavaScript source",
    ".html": "an HTML file",
}

# Python 2 / removed syntax recognised on the failing line: (pattern, feature, what to do)
_FEATURES = [
    (
        re.compile(r"^\s*print\s+[^\s(=]"),
        "a Python 2 `print x` statement",
        "use print(...) (Python 3), e.g. run `2to3 -w` on the script",
    ),
    (re.compile(r"^\s*exec\s+[\"'\w]"), "a Python 2 `exec` statement", "use exec(...) (Python 3)"),
    (
        re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:"),
        "Python 2 `except E, e:` syntax",
        "write `except E as e:`",
    ),
    (re.compile(r"^\s*raise\s+[\w.]+\s*,"), "Python 2 `raise E, msg` syntax", "write `raise E(msg)`"),
    (
        re.compile(r"[(,]\s*(async|await)\s*="),
        "`async`/`await` used as a keyword argument",
        "they are reserved words since Python 3.7: rename the argument (PyTorch: `non_blocking=True`)",
    ),
    (
        re.compile(r"\b(async|await)\s*="),
        "`async`/`await` used as a variable name",
        "they are reserved words since Python 3.7: rename the variable",
    ),
    (re.compile(r"<>"), "the Python 2 `<>` operator", "write `!=`"),
    (re.compile(r"`[^`]*`"), "Python 2 backtick repr", "write repr(...)"),
    (re.compile(r"(?<![\w.])0\d+(?![\d.eEjJ])"), "a Python 2 octal literal like 0777", "write 0o777"),
    (re.compile(r"\b\d+[lL]\b"), "a Python 2 long literal like 10L", "drop the L suffix"),
    (re.compile(r"\bur[\"']", re.IGNORECASE), "a Python 2 ur'' string prefix", "use r'' or u''"),
]


def read_script(path: str | Path) -> str:
    """The text of a script, after checking it exists, is Python, is not huge and is not binary."""
    return decode_script(path)[0]


def decode_script(path: str | Path) -> tuple[str, str]:
    """(text, encoding) of a script: the encoding it declares (PEP 263) or UTF-8, `utf-8-sig` with a BOM.

    Writing `text.encode(encoding)` gives back the same bytes, so a rewrite keeps the file's encoding.
    """
    p = Path(path)
    shown = _shown(p)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise ScriptError(
            f"{shown}: no such file. Pass the path of your training script (a .py file).", path=str(p)
        ) from None
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long, no permission...
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScriptError(f"{shown}: cannot open the file ({reason}). Pass the path of your training script.",
                          path=str(p)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScriptError(f"{shown} is a directory. Pass the path of the training script inside it.", path=str(p))
    if not stat.S_ISREG(info.st_mode):
        raise ScriptError(f"{shown} is not a regular file (a device or pipe?). Pass the .py training script.",
                          path=str(p))
    size = info.st_size
    suffix = p.suffix.lower()
    if suffix in _OTHER_SUFFIXES:
        raise ScriptError(
            f"{shown} looks like {_OTHER_SUFFIXES[suffix]}, not a Python script. Pass the .py training script.",
            path=str(p),
        )
    if size > MAX_BYTES:
        raise ScriptError(
            f"{shown} is {size // 1024:,} KB; scripts above {MAX_BYTES // 1024} KB are not analyzed (a training "
            "script is well under that; this is likely generated code or data). Pass the hand-written script.",
            path=str(p),
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ScriptError(f"{shown}: cannot read the file ({exc.strerror or exc}). Check its permissions.",
                          path=str(p)) from None
    if b"\x00" in data[:8192]:
        raise ScriptError(
            f"{shown} is a binary file, not Python source. Pass the .py training script.", path=str(p)
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScriptError(
            f"{shown} is not readable text ({reason}). Save it as UTF-8 (or declare its encoding in a "
            "`# -*- coding: NAME -*-` first line) and retry.",
            path=str(p),
        ) from None
    if suffix not in _PYTHON_SUFFIXES and not _looks_like_python(text):
        raise ScriptError(
            f"{shown} does not look like a Python script (no .py extension and it does not parse as Python). "
            "Pass the .py training script.",
            path=str(p),
        )
    return text, encoding


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= _SHOWN_PATH else f"{text[:_SHOWN_PATH // 2]}...{text[-_SHOWN_PATH // 2:]}"


def _looks_like_python(text: str) -> bool:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if first.startswith("#!") and "python" in first:
        return True
    try:
        compile(text, "<check>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def parse_source(source: str, filename: str = "<string>") -> cst.Module:
    """Parse with libcst; a syntax error becomes a ScriptError naming the line and the feature.

    CPython's own parser sees the source first: libcst only gets code that Python accepts and whose tree is
    at most MAX_DEPTH deep, because deeper input can crash its native parser or take minutes.
    """
    if not source.strip():
        raise ScriptError(f"{filename} is empty. Pass a training script with code in it.", path=filename)
    if "\x00" in source:
        raise ScriptError(f"{filename} contains NUL bytes: it is binary, not Python source.", path=filename)
    _gate(source, filename)
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        line = exc.raw_line
        shown = _line(source, line)
        raise ScriptError(
            f"{filename}:{line}: Python accepts this script but libcst 1.9 cannot parse line {line} "
            f"(`{shown}`), probably syntax newer than libcst supports. Rewrite that line with older syntax.",
            path=filename, line=line,
        ) from None
    except RecursionError:
        raise _too_deep(filename) from None


def _gate(source: str, filename: str) -> None:
    """Raise a ScriptError unless CPython parses the source into a tree at most MAX_DEPTH deep."""
    try:
        tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        if exc.msg.startswith(("too many nested parentheses", "too many levels of indentation",
                               "too many statically nested blocks")):
            raise _too_deep(filename, exc.lineno) from None
        raise _syntax_error(source, filename, exc) from None
    except (RecursionError, MemoryError):
        raise _too_deep(filename) from None
    line = _too_deep_line(tree)
    if line is not None:
        raise _too_deep(filename, line)


def _too_deep_line(tree: ast.AST) -> int | None:
    """The line where the tree grows deeper than MAX_DEPTH, or None.

    Depth is counted as libcst builds its tree: `a and b and c` is one node for CPython but a chain for libcst.
    """
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 2
        if depth > MAX_DEPTH:
            return getattr(node, "lineno", None)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None


def _too_deep(filename: str, line: int | None = None) -> ScriptError:
    where = f"{filename}:{line}" if line else filename
    return ScriptError(
        f"{where}: the code is nested too deeply to analyze (over {MAX_DEPTH} levels of brackets, operators, "
        "calls or blocks). Split the deepest expression into smaller statements.",
        path=filename, line=line,
    )


def _syntax_error(source: str, filename: str, exc: SyntaxError) -> ScriptError:
    line, python_msg = exc.lineno or 1, exc.msg
    text = _line(source, line)
    feature, advice = _feature(text)
    if feature is None and "print" in python_msg and "parentheses" in python_msg:
        feature, advice = _FEATURES[0][1], _FEATURES[0][2]
    if feature:
        msg = f"{filename}:{line}: cannot parse the script: it uses {feature} (`{text}`). Fix: {advice}."
    elif line <= 1 and not _mostly_python(source.splitlines()):
        msg = (
            f"{filename}:{line}: this does not look like Python source ({python_msg}). "
            "Pass the .py training script."
        )
    else:
        msg = (
            f"{filename}:{line}: cannot parse the script: {python_msg} (`{text}`). "
            "Fix the syntax error (the script must run under Python 3) and retry."
        )
    return ScriptError(msg, path=filename, line=line)


def _line(source: str, line: int) -> str:
    """Line `line` of the source, stripped and cut for a one-line message."""
    lines = source.splitlines()
    return lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""


def _feature(text: str) -> tuple[str | None, str | None]:
    code = text.split("#", 1)[0]
    for pattern, feature, advice in _FEATURES:
        if pattern.search(code):
            return feature, advice
    return None, None


def _mostly_python(lines: list[str]) -> bool:
    starters = re.compile(r"^\s*(import|from|def|class|if|for|while|#|@|return|with|try)\b|^\s*\w+\s*=")
    sample = [ln for ln in lines[:50] if ln.strip()]
    return bool(sample) and sum(bool(starters.match(ln)) for ln in sample) / len(sample) > 0.3
