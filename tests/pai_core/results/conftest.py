import os
import shutil

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from results_writer import FIXTURES


@pytest.fixture
def upstream_copy(tmp_path):
    """A writable copy of one real upstream run folder (testing, history or loss)."""

    def copy(name: str):
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        for path in target.iterdir():
            path.chmod(0o644)
        return target

    return copy
