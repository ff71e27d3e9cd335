"""Running out of memory, on the GPU or the host."""

from __future__ import annotations

from codemods.diagnosis.models import Pattern
from codemods.diagnosis.patterns.common import doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="out-of-memory",
        code="PAI368",
        title="out of memory",
        category="memory",
        signals=[
            r"CUDA out of memory",
            r"OutOfMemoryError",
            r"DefaultCPUAllocator: can't allocate memory",
            r"MPS backend out of memory",
        ],
        cause="Each dendrite adds roughly a copy of its layer's parameters; or tensors are kept alive across batches "
        "(loss accumulated without .item(), forward without backward, validation outside eval/no_grad).",
        fix="Accumulate `loss.item()`, run validation under `torch.no_grad()`, perforate fewer/later layers and cap "
        "growth with `GPA.pc.set_max_dendrites(n)`.",
        doc=doc_for("memory"),
        confidence=0.6,
    ),
]
