"""Read shapes out of output-dimension errors and compute the output_dimensions vector to use."""

from __future__ import annotations

import re

_SHAPE = re.compile(
    r"\b(?:received|got|actual|shape)\b[^\[\(\n]{0,40}?(?:torch\.Size\()?[\[\(]\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*[\]\)]",
    re.IGNORECASE,
)
_ANY_SIZE = re.compile(r"torch\.Size\(\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]\)")
_VECTOR = re.compile(
    r"(?:expect\w*|configured|output_dimensions)[^\[]{0,40}?(?:tensor\()?\[\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\]",
    re.IGNORECASE,
)
_QUOTED_ID = re.compile(r"['\"](\.[A-Za-z_][\w.]*)['\"]")
_CALL_ID = re.compile(
    r"\b(?:model|net|self\.model)((?:\.\w+|\[\d+\])+?)\.set_this_(?:output|input)_dimensions"
)
_BARE_ID = re.compile(r"^\s*(\.[A-Za-z_][\w.]*)\s*$", re.MULTILINE)
_NAMED_ID = re.compile(r"\b(?:module|layer)(?:\(s\))?\s+(\.[A-Za-z_][\w.]*)")
_SUGGESTED = re.compile(r"set_(?:this_)?output_dimensions\((\[\s*-?\d+(?:\s*,\s*-?\d+)*\s*\])\)")


def received_shape(text: str) -> list[int] | None:
    m = _ANY_SIZE.search(text) or _SHAPE.search(text)
    return [int(v) for v in re.split(r"\s*,\s*", m.group(1))] if m else None


def expected_vector(text: str) -> list[int] | None:
    m = _VECTOR.search(text)
    return [int(v) for v in re.split(r"\s*,\s*", m.group(1))] if m else None


def module_id(text: str) -> str | None:
    """The module id the message is about ('.encoder.fc1'): quoted, in a suggested call, or on its own line."""
    for rx in (_QUOTED_ID, _CALL_ID, _BARE_ID, _NAMED_ID):
        m = rx.search(text)
        if m:
            found = re.sub(r"\[(\d+)\]", r".\1", m.group(1)).rstrip(".")
            if len(found) > 1 and not re.search(r"\.(py|csv|pt|json)$", found):
                return found
    return None


def suggested_in_message(text: str) -> list[int] | None:
    """pai_core prints the vector it suggests; prefer it over our own guess."""
    m = _SUGGESTED.search(text)
    return [int(v) for v in re.findall(r"-?\d+", m.group(1))] if m else None


def attribute_path(module: str, root: str = "model") -> str:
    """'.layers.0.fc' -> 'model.layers[0].fc' (what the user types to reach the module)."""
    out = root
    for part in module.strip(".").split("."):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def suggest_output_dimensions(shape: list[int], module: str | None = None) -> list[int]:
    """One 0 on the neuron axis, -1 elsewhere; the axis follows the usual layout for that rank.

    2-D [batch, features] and 4-D/5-D [batch, channels, ...] put it at 1; 3-D is [batch, seq, features] for
    Linear/attention layers and [batch, channels, length] for Conv1d (recognised by 'conv' in the module id).
    """
    rank = len(shape)
    if rank <= 1:
        return [0]
    vector = [-1] * rank
    if rank == 3 and not (module and "conv" in module.lower()):
        vector[2] = 0
    else:
        vector[1] = 0
    return vector
