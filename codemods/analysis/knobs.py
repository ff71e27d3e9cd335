"""Command-line options and config entries, and which of them size the model (width, depth, heads...)."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst

from codemods.analysis.facts import Facts
from codemods.analysis.report import ArgumentInfo, SizeKnob
from codemods.analysis.vocab import knob_role

__all__ = ["analyze_arguments", "size_knobs"]

_YAML_KEY = re.compile(r"^(\s*)([A-Za-z_][\w\-]*)\s*:\s*(.*?)\s*(#.*)?$")


def _dest(option_strings: list[str]) -> str:
    longs = [o for o in option_strings if o.startswith("--")]
    chosen = longs[0] if longs else option_strings[0]
    return chosen.lstrip("-").replace("-", "_")


def _literal_string(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0] and not text.startswith(("'''", '"""')):
        return text[1:-1]
    return None


def analyze_arguments(facts: Facts, script_dir: Path | None) -> list[ArgumentInfo]:
    """Every setting the script can be run with, where the model's size knobs hide: command-line options,
    config dicts and constants, dataclass fields, and the keys of YAML files beside the script."""
    args = [*_cli_options(facts), *_config_entries(facts), *_dataclass_fields(facts)]
    if script_dir is not None:
        args.extend(_yaml_keys(facts, script_dir))
    return args


def _is_option(call) -> bool:
    """An argparse or click option declaration."""
    return call.attr == "add_argument" or (call.qname.startswith("click.") and call.attr in ("option", "argument"))


def _cli_options(facts: Facts) -> list[ArgumentInfo]:
    """argparse `add_argument` and click `option`/`argument` calls with literal option names."""
    found = []
    for c in facts.calls:
        if not _is_option(c):
            continue
        names = [s for s in (_literal_string(a) for a in c.args if "=" not in a.split("(")[0]) if s]
        if not names:
            continue
        dest = _literal_string(c.kwargs["dest"]) if "dest" in c.kwargs else None
        source = "click" if c.qname.startswith("click.") else "argparse"
        if source == "click" and len(names) > 1 and not names[-1].startswith("-"):
            dest = names[-1]
            names = names[:-1]
        found.append(
            ArgumentInfo(
                name=next((n for n in names if n.startswith("--")), names[0]),
                dest=dest or _dest(names),
                source=source,
                default=c.kwargs.get("default"),
                type=c.kwargs.get("type"),
                help=_literal_string(c.kwargs["help"])
                if "help" in c.kwargs and _literal_string(c.kwargs["help"])
                else c.kwargs.get("help"),
                line=c.line,
            )
        )
    return found


_CONFIG_NAME = re.compile(r"conf|cfg|param|hparam|setting|args|opt", re.IGNORECASE)


def _config_entries(facts: Facts) -> list[ArgumentInfo]:
    """Literal-keyed entries of dicts assigned to config-like names, and module-level UPPER_CASE constants."""
    found = []
    for a in facts.assigns:
        if isinstance(a.value, cst.Dict) and any(_CONFIG_NAME.search(n) for n in a.target_names):
            found += [
                ArgumentInfo(name=key, dest=key, source="dict", default=facts.code(el.value), line=a.line)
                for el in a.value.elements
                if isinstance(el, cst.DictElement) and (key := _literal_string(facts.code(el.key)))
            ]
        elif _is_constant(a):
            name = a.target_names[0]
            found.append(
                ArgumentInfo(name=name, dest=name.lower(), source="constant", default=a.value_text, line=a.line)
            )
    return found


def _is_constant(a) -> bool:
    """`HIDDEN = 128` at module level: one UPPER_CASE name bound to a literal."""
    return (
        a.function is None
        and a.cls is None
        and len(a.target_names) == 1
        and a.target_names[0].isupper()
        and isinstance(a.value, (cst.Integer, cst.Float, cst.SimpleString, cst.List, cst.Tuple))
    )


_FIELD_CALL = re.compile(r"\s*(dataclasses\.)?field\((.*)\)\s*$", re.DOTALL)
_FIELD_DEFAULT = re.compile(r"default\s*=\s*('[^']*'|\"[^\"]*\"|[\w.+-]+)")


def _dataclass_fields(facts: Facts) -> list[ArgumentInfo]:
    """Fields of `@dataclass` classes, with the default of `field(default=...)` read out."""
    return [
        ArgumentInfo(name=f"{c.name}.{name}", dest=name, source="dataclass", default=_field_default(default),
                     type=annotation, line=line)
        for c in facts.classes
        if any(d.endswith("dataclass") for d in c.decorators)
        for name, annotation, default, line in c.fields
    ]


def _field_default(default: str | None) -> str | None:
    """`3` -> `3`; `field(default=3)` -> `3`; `field(default_factory=list)` -> None."""
    if not default:
        return default
    call = _FIELD_CALL.match(default)
    if call is None:
        return default
    inner = _FIELD_DEFAULT.search(call.group(2))
    return inner.group(1) if inner else None


def _yaml_keys(facts: Facts, script_dir: Path) -> list[ArgumentInfo]:
    """Top-level and nested keys of YAML files named in the script that sit beside it (no YAML parser needed)."""
    found: list[ArgumentInfo] = []
    names = {s.strip("'\"") for s, _ in facts.strings if s.strip("'\"").endswith((".yaml", ".yml"))}
    for name in sorted(names)[:5]:
        path = script_dir / name
        try:
            if not path.is_file() or path.stat().st_size > 200_000:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for i, line in enumerate(text.splitlines(), 1):
            m = _YAML_KEY.match(line)
            if m and not line.lstrip().startswith("-"):
                found.append(
                    ArgumentInfo(
                        name=m.group(2),
                        dest=m.group(2).replace("-", "_"),
                        source="yaml",
                        default=m.group(3) or None,
                        line=i,
                        file=str(path),
                    )
                )
    return found


def size_knobs(arguments: list[ArgumentInfo]) -> list[SizeKnob]:
    knobs = []
    for a in arguments:
        role = knob_role(a.dest)
        if role:
            knobs.append(SizeKnob(**a.model_dump(), role=role))
    return knobs


def defaults(arguments: list[ArgumentInfo]) -> dict[str, str]:
    """dest -> default text, for resolving `args.arch` to its default."""
    out: dict[str, str] = {}
    for a in arguments:
        if a.default is not None and a.dest not in out:
            out[a.dest] = a.default
    return out
