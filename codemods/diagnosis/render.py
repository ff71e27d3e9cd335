"""Plain-text rendering of a Diagnosis for the terminal."""

from __future__ import annotations

from codemods.diagnosis.models import Diagnosis

MAX_SHOWN = 4


def render_text(d: Diagnosis) -> str:
    out: list[str] = []
    if not d.recognised:
        out.append("Not recognised: this text matches none of the known failure patterns.")
        if d.exceptions:
            last = d.exceptions[-1]
            out.append(
                f"Last exception: {last.type}: {last.message.splitlines()[0] if last.message else ''}".rstrip()
            )
        out.append("")
        out.append("Check the five integration components:")
        out.extend(f"  {n}. {item}" for n, item in enumerate(d.checklist, 1))
    for rank, f in enumerate(d.findings[:MAX_SHOWN], 1):
        if rank == 2:
            out.append("")
            out.append("Other possible causes:")
        head = "Diagnosis:" if rank == 1 else f"{rank}."
        out.append(f"{head} {f.message}  [{f.level} confidence {f.confidence:.2f}, {f.code} {f.pattern_id}]")
        if rank == 1:
            out.append(f"  Matched: {f.excerpt}")
        out.append(f"  Cause: {f.cause}")
        out.append(f"  Fix:   {f.fix}")
        for line in f.lines:
            out.append(
                f"  line {line.line}: {line.code}   <- {line.why}"
                if line.code
                else f"  line {line.line}   <- {line.why}"
            )
        for item in f.evidence:
            out.append(f"  evidence: {item}")
        out.append(f"  Docs:  {f.doc}")
    if len(d.findings) > MAX_SHOWN:
        out.append(f"({len(d.findings) - MAX_SHOWN} less likely matches omitted; use --json to see all)")
    for note in d.notes:
        out.append(f"Note: {note}")
    return "\n".join(out)
