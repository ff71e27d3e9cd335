"""The examples each rule carries on its class, as Fixit's lint rules do: `VALID` scripts the rule leaves as
they are, `INVALID` scripts it rewrites, with the script it writes (`expected`), or, for a rule that only
reports (PAI008's refusal), with `expected=None`: the script is left as it is and a finding with the rule's code
says why. Each example is the state of a script when the rule's turn comes (earlier rules already ran), written
small in the shape of a real training script. The `pai check` codes carry theirs in `codemods.check_codes`.
`tests/codemods/test_rule_examples.py` runs every one.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Invalid", "Valid"]


def _script(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Valid:
    """A script the rule leaves unchanged (run with the rule's `options`)."""

    script: str
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "script", _script(self.script))


@dataclass(frozen=True)
class Invalid:
    """A script the rule rewrites to `expected` (None: only reports it, with a finding of its code)."""

    script: str
    expected: str | None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "script", _script(self.script))
        if self.expected is not None:
            object.__setattr__(self, "expected", _script(self.expected))
