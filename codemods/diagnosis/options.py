"""Correct a `GPA.pc` setter that was silently ignored; the names come from the option schema."""

from __future__ import annotations

import difflib

from pai_core.options import ALIASES as RENAMED  # old name -> current name (the schema's older names)
from pai_core.options import OPTION_NAMES as OPTIONS  # torch-free: see pai_core.options

# Options documented in the upstream repository but absent from the 3.2.9 API.
NOT_AVAILABLE = {
    "debugging_memory_leak": "memory-leak debugging is not an option; find leaks with `gc.get_objects()` between steps",
    "demo_mode": "demo mode is not part of this API; use a short capacity test instead",
}


def strip_prefix(name: str) -> tuple[str, str]:
    """('set', 'max_dendrites') from 'set_max_dendrites'; the prefix is '' when there is none."""
    for prefix in ("set_", "append_", "get_"):
        if name.startswith(prefix):
            return prefix[:-1], name[len(prefix) :]
    return "", name


def correction(name: str, hint: str | None = None) -> str:
    """A sentence telling the user what to call instead of the unknown option `name` (`hint`: the library's guess)."""
    verb, option = strip_prefix(name)
    verb = verb or "set"
    if hint and option not in RENAMED:
        return f"Did you mean `GPA.pc.{verb}_{hint}(...)`? Fix the name so the setting takes effect."
    if option in RENAMED:
        return (
            f"`{option}` was renamed: call `GPA.pc.{verb}_{RENAMED[option]}(...)` instead "
            "(with the same value)."
        )
    if option in NOT_AVAILABLE:
        return f"`{option}` does not exist in this version: {NOT_AVAILABLE[option]}; remove the call."
    close = difflib.get_close_matches(option, OPTIONS, n=1, cutoff=0.6)
    if close:
        return f"Did you mean `GPA.pc.{verb}_{close[0]}(...)`? Fix the name so the setting takes effect."
    return (
        "Remove the call or use an existing option (`pai` lists them in its configuration docs); "
        "the run silently used the default."
    )
