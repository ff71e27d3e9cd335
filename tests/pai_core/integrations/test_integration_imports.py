"""The framework integrations are optional: importing pai_core (and its integrations package) never imports
transformers or lightning, and a missing framework is an ImportError that says what to install."""
from __future__ import annotations

import subprocess
import sys

import pytest


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)


def test_integrations_package_imports_no_framework():
    result = run("import sys, pai_core.integrations as i\n"
                 "assert set(i.__all__) == {'PAITrainerCallback', 'PAILightningCallback'}\n"
                 "print(sorted(m for m in ('transformers', 'lightning', 'pytorch_lightning') if m in sys.modules))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("module", "blocked", "hint"), [
    ("huggingface", ["transformers"], "pai\\[frameworks\\]"),
    ("lightning", ["lightning", "pytorch_lightning"], "pai\\[frameworks\\]"),
])
def test_missing_framework_says_what_to_install(module, blocked, hint):
    block = "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    result = run(f"import sys\n{block}import pai_core.integrations.{module}")
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    import re

    assert re.search(hint, result.stderr), result.stderr
