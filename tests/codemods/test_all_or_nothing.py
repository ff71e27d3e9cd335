"""`pai perforate` writes a complete, `pai check`-clean integration or nothing, and says which step failed.

A script whose validation step cannot be found would once get imports, config and perforate_model but no
tracker call, written with exit status 0; it is now refused: file untouched, exit status 3, a finding per
missing step with the by-hand recipe.
"""

from __future__ import annotations

import functools
from pathlib import Path

from codemods.check import check_integration
from mcp_server.cli import run_command

main = functools.partial(run_command, "perforate")
from codemods.perforate import perforate_file, perforate_source

FIXTURES = Path(__file__).parent / "fixtures"

# The epoch loop trains and never evaluates: no validation score to hook add_validation_score onto.
NO_VALIDATION = '''import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)


def main():
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(64, 8), torch.randint(0, 2, (64,))
    for epoch in range(3):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
'''


def test_a_step_that_cannot_be_placed_refuses_the_whole_rewrite():
    result = perforate_source(NO_VALIDATION, filename="train.py")
    assert result.refused and not result.changed and result.new_source == NO_VALIDATION
    assert result.diff == "" and result.applied == []
    # no validation metric at all: refused up front with the question to ask (issue 17), nothing half-placed
    assert any("Which value should add_validation_score receive" in f.message for f in result.findings), \
        result.findings


def test_cli_exits_3_on_a_refusal_and_leaves_the_file_byte_identical(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_bytes(NO_VALIDATION.encode())
    assert main([str(script), "--write"]) == 3
    assert script.read_bytes() == NO_VALIDATION.encode()
    assert not (tmp_path / "train.py.orig").exists()
    err = capsys.readouterr().err
    assert "refused" in err and "add_validation_score" in err
    assert main([str(script)]) == 3  # a diff run refuses the same way


def test_exit_codes_for_pending_written_and_nothing_to_do(tmp_path):
    script = tmp_path / "mnist.py"
    script.write_text((FIXTURES / "mnist_cnn.in.py").read_text())
    assert main([str(script)]) == 1
    assert main([str(script), "--write", "--no-backup"]) == 0
    assert main([str(script)]) == 0
    assert check_integration(script).ok


def test_an_integration_check_flags_is_refused_not_written(tmp_path):
    # add_validation_score is there, but `if restructured:` never rebuilds the optimizer (check PAI108)
    source = (FIXTURES / "mnist_cnn.out.py").read_text()
    broken = source.replace("optimizer, scheduler = GPA.pai_tracker.setup_optimizer(", "_unused = (", 2)
    assert broken.count("_unused = (") == 2
    script = tmp_path / "train.py"
    script.write_text(broken)
    result = perforate_file(script, write=True)
    assert result.refused and not result.written and script.read_text() == broken
    codes = {f.code for f in result.findings if f.severity == "error"}
    assert "PAI105" in codes or "PAI108" in codes


def test_help_documents_the_exit_codes(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    out = " ".join(capsys.readouterr().out.split())
    assert "3 refused" in out and "1 findings or pending changes" in out and "perforate: a diff to apply" in out
