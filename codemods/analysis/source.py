"""Read and parse a user's script, turning every way it can fail into a ScriptError that says what to do."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import libcst as cst

from codemods.analysis.errors import ScriptError

__all__ = ["MAX_BYTES", "parse_source", "read_script"]

MAX_BYTES = 2 * 1024 * 1024
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
    p = Path(path)
    if not p.exists():
        raise ScriptError(
            f"{p}: no such file. Pass the path of your training script (a .py file).", path=str(p)
        )
    if p.is_dir():
        raise ScriptError(f"{p} is a directory. Pass the path of the training script inside it.", path=str(p))
    suffix = p.suffix.lower()
    if suffix in _OTHER_SUFFIXES:
        raise ScriptError(
            f"{p} looks like {_OTHER_SUFFIXES[suffix]}, not a Python script. Pass the .py training script.",
            path=str(p),
        )
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise ScriptError(
            f"{p} is {size / 1e6:.1f} MB; scripts above {MAX_BYTES // (1024 * 1024)} MB are not analyzed "
            "(likely generated or data). Pass the hand-written training script.",
            path=str(p),
        )
    data = p.read_bytes()
    if b"\x00" in data[:8192]:
        raise ScriptError(
            f"{p} is a binary file, not Python source. Pass the .py training script.", path=str(p)
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise ScriptError(
            f"{p} is not readable text ({exc}). Save it as UTF-8 (or declare its encoding) and retry.",
            path=str(p),
        ) from None
    if suffix not in _PYTHON_SUFFIXES and not _looks_like_python(text):
        raise ScriptError(
            f"{p} does not look like a Python script (no .py extension and it does not parse as Python). "
            "Pass the .py training script.",
            path=str(p),
        )
    text = text.removeprefix("\ufeff")
    return text


def _looks_like_python(text: str) -> bool:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if first.startswith("#!") and "python" in first:
        return True
    try:
        compile(text, "<check>", "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
    except (SyntaxError, ValueError):
        return False
    return True


def parse_source(source: str, filename: str = "<string>") -> cst.Module:
    """Parse with libcst; a syntax error becomes a ScriptError naming the line and the feature."""
    if not source.strip():
        raise ScriptError(f"{filename} is empty. Pass a training script with code in it.", path=filename)
    if "\x00" in source:
        raise ScriptError(f"{filename} contains NUL bytes: it is binary, not Python source.", path=filename)
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise _syntax_error(source, filename, exc) from None
    except RecursionError:
        raise ScriptError(
            f"{filename} is nested too deeply to parse. Split the deepest expression into smaller ones.",
            path=filename,
        ) from None


def _syntax_error(source: str, filename: str, exc: cst.ParserSyntaxError) -> ScriptError:
    line, python_msg = exc.raw_line, None
    try:
        compile(source, filename, "exec", dont_inherit=True, flags=0x400)
    except SyntaxError as py_exc:
        line = py_exc.lineno or line
        python_msg = py_exc.msg
    except (ValueError, RecursionError):
        pass
    lines = source.splitlines()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    feature, advice = _feature(text)
    if feature is None and python_msg and "print" in python_msg and "parentheses" in python_msg:
        feature, advice = _FEATURES[0][1], _FEATURES[0][2]
    shown = text.strip()[:120]
    if feature:
        msg = f"{filename}:{line}: cannot parse the script: it uses {feature} (`{shown}`). Fix: {advice}."
    elif python_msg is None:
        msg = (
            f"{filename}:{line}: Python accepts this script but libcst 1.9 cannot parse line {line} "
            f"(`{shown}`), probably syntax newer than libcst supports. Rewrite that line with older syntax."
        )
    elif line <= 1 and not _mostly_python(lines):
        msg = (
            f"{filename}:{line}: this does not look like Python source ({python_msg}). "
            "Pass the .py training script."
        )
    else:
        msg = (
            f"{filename}:{line}: cannot parse the script: {python_msg} (`{shown}`). "
            "Fix the syntax error (the script must run under Python 3) and retry."
        )
    return ScriptError(msg, path=filename, line=line)


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
