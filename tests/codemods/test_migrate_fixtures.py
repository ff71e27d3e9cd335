"""`pai migrate` fixtures: each `migrate_fixtures/<case>.in.py` becomes `<case>.out.py`, which compiles, names no
2024 module any more, and a second run leaves unchanged. Cases ending in `_refusal` are refused unchanged with
findings that name what could not be mapped. Regenerate after an intended change with `PAI_REGEN_FIXTURES=1`
and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codemods.migrate import migrate_source

FIXTURES = Path(__file__).parent / "migrate_fixtures"
CASES = sorted(p.name[: -len(".in.py")] for p in FIXTURES.glob("*.in.py"))


@pytest.mark.parametrize("case", CASES)
def test_migration_fixture_compiles_and_is_idempotent(case):
    source = (FIXTURES / f"{case}.in.py").read_text()
    result = migrate_source(source, filename=f"{case}.py")
    expected = FIXTURES / f"{case}.out.py"
    if os.environ.get("PAI_REGEN_FIXTURES"):
        expected.write_text(result.new_source)
    assert result.new_source == expected.read_text(), result.diff
    compile(result.new_source, f"{case}.out.py", "exec")
    again = migrate_source(result.new_source, filename=f"{case}.py")
    assert not again.changed and again.refused == result.refused, again.diff
    if case.endswith("_refusal"):
        assert result.refused and not result.changed and result.findings
        assert all(f.severity == "error" and f.line for f in result.findings)
    elif case.startswith("already_current"):
        assert not result.changed and not result.findings
    else:
        assert result.changed and not result.refused and result.diff.startswith("--- a/")
        for module in ("pb_globals", "pb_utils", "pb_models", "pb_network", "globalsFile", "PBG.", "PBU."):
            assert module not in result.new_source
