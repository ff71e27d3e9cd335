"""A script whose integration cannot be completed: the preview says `refused` with the missing steps, apply
raises a ToolError and the file stays byte-identical (the same all-or-nothing rule as `pai perforate`)."""

from __future__ import annotations

import pytest

from codemods.perforate import PerforateResult

pytestmark = pytest.mark.anyio

TRAIN_ONLY = '''import torch
import torch.nn as nn

model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(32, 4), torch.randn(32, 1)
for epoch in range(3):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
'''


async def test_preview_and_apply_refuse_what_cannot_be_completed(client, project):
    script = project / "train_only.py"
    script.write_text(TRAIN_ONLY)
    preview = PerforateResult.model_validate(
        (await client.call_tool("pai_preview_perforation", {"path": "train_only.py"})).structured_content)
    assert preview.refused and not preview.changed and preview.new_source == TRAIN_ONLY
    assert any("add_validation_score" in f.message for f in preview.findings)  # the question to answer
    result = await client.call_tool("pai_apply_perforation", {"path": "train_only.py"})
    assert result.is_error and "add_validation_score" in result.content[0].text
    assert script.read_text() == TRAIN_ONLY and not (project / "train_only.py.orig").exists()
