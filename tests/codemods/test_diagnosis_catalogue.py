"""The catalogue as data: well-formed, big enough, and recognising every error pai_core raises.

The last test reads pai_core's source, rebuilds the message of every `raise` with plausible values in the
f-string holes, and checks that a traceback ending in it is recognised: a new error in pai_core without a
catalogue entry fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from codemods.diagnosis import diagnose
from codemods.diagnosis.catalogue import PATTERNS, load_catalogue
from codemods.diagnosis.options import OPTIONS, RENAMED, correction

PAI_CORE = Path(__file__).resolve().parents[2] / "pai_core"

# raises whose text is not about a user's mistake (internal lazy-import plumbing)
NOT_USER_FACING = {
    ("__init__.py", "AttributeError"),
    ("globals_perforatedai.py", "AttributeError"),
    ("utils_perforatedai.py", "AttributeError"),
    ("tracker.py", "AttributeError"),
}


def test_catalogue_is_large_unique_and_compiles() -> None:
    assert len(PATTERNS) >= 40
    ids = [p.id for p in PATTERNS]
    assert len(ids) == len(set(ids))
    for p in PATTERNS:
        for rx in p.signals + p.context + p.absent:
            re.compile(rx)
        assert p.doc.startswith("pai://"), p.id  # our own docs, never upstream's dashboard
        assert p.cause and p.fix


def test_load_catalogue_returns_copies() -> None:
    copy = load_catalogue()
    copy[0].title = "changed"
    assert PATTERNS[0].title != "changed"


def test_option_names_match_pai_core_config() -> None:
    config = pytest.importorskip("pai_core.config")
    missing = set(OPTIONS) - set(config.PAIConfig.model_fields)
    assert not missing, f"options the diagnosis suggests but pai_core lacks: {missing}"
    assert RENAMED == config.ALIASES, "keep the diagnosis' renamed-option table equal to pai_core.config.ALIASES"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("set_module_names_to_convert", "set_module_names_to_perforate"),
        ("set_n_epoch_to_switch", "set_n_epochs_to_switch"),
        ("append_modules_to_convert", "append_modules_to_perforate"),
        ("set_debugging_memory_leak", "remove the call"),
    ],
)
def test_setter_corrections(name: str, expected: str) -> None:
    assert expected in correction(name)


def _placeholder(node: ast.FormattedValue, source: str) -> str:
    """A plausible value for one f-string hole, judged from the expression's text."""
    text = ast.get_source_segment(source, node.value) or ""
    if text == "what":
        return "validation score"
    if text.endswith("__name__") and "model" in text:
        return "DataParallel"
    if re.search(r"shape|dims|suggestion|missing|unexpected|keys", text):
        value = "[4, 6]"
    elif re.search(r"\blen\(|want|got|axis|channels|count|number|lineno|\.shape\[", text):
        value = "3"
    elif "where" in text:
        value = "module '.fc1'"
    elif re.search(r"path|source|file", text):
        value = "run/latest.pt"
    else:
        value = "fc1_value"
    return repr(value) if node.conversion == ord("r") and not value.startswith(("[", "module")) else value


def _message(node: ast.expr, source: str) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else _placeholder(v, source) for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _message(node.left, source), _message(node.right, source)
        return None if left is None or right is None else left + right
    return None


def _pai_core_raises() -> list[tuple[str, int, str, str]]:
    found = []
    for path in sorted(PAI_CORE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
                continue
            func = node.exc.func
            name = getattr(func, "id", None) or getattr(func, "attr", "Exception")
            message = _message(node.exc.args[0], source)
            if message is not None and (path.name, name) not in NOT_USER_FACING:
                found.append((str(path), node.lineno, name, message))
    return found


RAISES = _pai_core_raises() if PAI_CORE.is_dir() else []


@pytest.mark.parametrize(
    ("path", "line", "name", "message"), RAISES, ids=[f"{Path(p).name}:{n}" for p, n, _, _ in RAISES]
)
def test_every_pai_core_error_is_recognised(path: str, line: int, name: str, message: str) -> None:
    text = (
        f'Traceback (most recent call last):\n  File "train.py", line 12, in <module>\n'
        f'  File "{path}", line {line}, in somewhere\n{name}: {message}\n'
    )
    result = diagnose(text)
    assert result.recognised, message
    assert result.top.severity != "info"


def test_both_optimizer_not_rebuilt_messages_point_at_the_rebuild() -> None:
    messages = [(p, n, m) for p, n, name, m in RAISES if name == "OptimizerNotRebuiltError"]
    assert len(messages) == 2  # the dropped registered optimizer, and new parameters that never moved
    for path, line, message in messages:
        text = (f'Traceback (most recent call last):\n  File "{path}", line {line}, in add_validation_score\n'
                f"pai_core.errors.OptimizerNotRebuiltError: {message}\n")
        assert diagnose(text).top.pattern_id == "optimizer-not-rebuilt", message
