"""When a line runs: a def's body runs where the function is called, not where it is written.

`runs_before(facts)` compares two (line, function) places by their run key: the chain of call-site lines
from module level down to the line itself. An optimizer built inside `train(model)` (or a user trainer's
`__init__`) whose def comes first in the file still runs after a `perforate_model` that main() calls
before it calls `train`. A function the script never calls itself (a callback, a closure handed to a
library) has no key: then the textual order decides, as a reader would guess.
"""

from __future__ import annotations

from collections.abc import Callable

from codemods.analysis.facts import CallFact, Facts, FunctionFact

__all__ = ["runs_before"]

Key = tuple[int, ...]


def runs_before(facts: Facts) -> Callable[[int, str | None, int, str | None], bool]:
    """`before(line_a, function_a, line_b, function_b)`: does the first place run before the second?"""
    keys: dict[str, Key | None] = {}

    def key(line: int, function: str | None, seen: frozenset[str] = frozenset()) -> Key | None:
        if function is None:
            return (line,)
        if function not in keys:
            fn = facts.function(function)
            if fn is None or function in seen:
                return None
            sites = [key(c.line, c.function, seen | {function}) for c in _call_sites(facts, fn)]
            keys[function] = min((k for k in sites if k is not None), default=None)
        first = keys[function]
        return None if first is None else (*first, line)

    def before(line_a: int, function_a: str | None, line_b: int, function_b: str | None) -> bool:
        a, b = key(line_a, function_a), key(line_b, function_b)
        return a < b if a is not None and b is not None else line_a < line_b

    return before


def _call_sites(facts: Facts, fn: FunctionFact) -> list[CallFact]:
    """The calls that run `fn`: `name(...)` for a function, `Class(...)` for `__init__`, `x.name(...)` for a
    method (any receiver: the instance's type is not followed)."""
    if fn.cls is None:
        return [c for c in facts.calls if c.written == fn.name]
    if fn.name == "__init__":
        return [c for c in facts.calls if c.attr == fn.cls]
    return [c for c in facts.calls if c.receiver is not None and c.attr == fn.name]
