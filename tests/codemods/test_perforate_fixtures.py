"""Every fixture script is rewritten to its golden output, compiles, and a second run changes nothing.

`tests/codemods/fixtures/<case>.in.py` -> `<case>.out.py`. A first line `# pai-perforate: key=value ...`
passes options (backend, keep_for_loop, extra_scores, capacity_test=on|off). Cases ending in `_refusal`
must be refused unchanged (PAI008's reason, or the step that could not be placed). Regenerate goldens after an intended change with `PAI_REGEN_FIXTURES=1` and review
the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from codemods.perforate import perforate_source

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p.name[: -len(".in.py")] for p in FIXTURES.glob("*.in.py"))


def options_for(source: str) -> dict:
    first = source.splitlines()[0] if source else ""
    match = re.match(r"#\s*pai-perforate:\s*(.*)", first)
    options: dict = {}
    for item in (match.group(1).split() if match else []):
        key, value = item.split("=", 1)
        if key == "capacity_test":
            options[key] = value == "on"
        elif key in ("keep_for_loop", "extra_scores"):
            options[key] = value not in ("0", "false", "False")
        else:
            options[key] = value
    return options


def run(case: str, source: str):
    return perforate_source(source, filename=f"{case}.py", **options_for(source))


@pytest.mark.parametrize("case", CASES)
def test_fixture_output_compiles_and_is_idempotent(case):
    source = (FIXTURES / f"{case}.in.py").read_text()
    result = run(case, source)
    expected_path = FIXTURES / f"{case}.out.py"
    if os.environ.get("PAI_REGEN_FIXTURES"):
        expected_path.write_text(result.new_source)
    assert result.new_source == expected_path.read_text(), result.diff
    compile(result.new_source, f"{case}.out.py", "exec")
    again = run(case, result.new_source)
    assert not again.changed, f"second run changed {case}:\n{again.diff}"
    if case.endswith("_refusal"):
        assert result.refused and not result.changed
        assert any(f.severity == "error" and (f.message.startswith("refused:") or f.code == "PAI008")
                   for f in result.findings)
    elif case.startswith("full_integration"):
        assert not result.changed
    else:
        assert result.changed and result.diff.startswith("--- a/")


def test_every_rule_is_exercised_by_some_fixture():
    applied = set()
    for case in CASES:
        source = (FIXTURES / f"{case}.in.py").read_text()
        applied |= set(run(case, source).applied)
    assert {"PAI001", "PAI002", "PAI003", "PAI004", "PAI005", "PAI006", "PAI007"} <= applied
