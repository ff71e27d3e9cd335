"""Which training library drives the loop: plain PyTorch, HuggingFace Trainer, Lightning (or Fabric)."""

from __future__ import annotations

from codemods.analysis.facts import Facts
from codemods.analysis.report import Evidence, TrainingLibraryInfo

__all__ = ["analyze_library", "is_hf_trainer", "is_lightning"]

_HF_TRAINERS = ("Trainer", "Seq2SeqTrainer", "SFTTrainer", "DPOTrainer", "RewardTrainer", "PPOTrainer")


def is_hf_trainer(qname: str) -> bool:
    return qname.startswith(("transformers.", "trl.", "setfit.")) and qname.rsplit(".", 1)[-1] in _HF_TRAINERS


def is_lightning(qname: str) -> bool:
    return qname.startswith(("pytorch_lightning.", "lightning.", "lightning_fabric.", "pl.", "L."))


def analyze_library(facts: Facts) -> TrainingLibraryInfo:
    info = TrainingLibraryInfo()
    hf_subclasses = set()
    changed = True
    while changed:  # subclasses of subclasses
        changed = False
        for c in facts.classes:
            if c.name not in hf_subclasses and any(is_hf_trainer(b) or b in hf_subclasses for b in c.bases):
                hf_subclasses.add(c.name)
                changed = True
    lightning_classes = [c for c in facts.classes if any(is_lightning(b) for b in c.bases)]
    hf, lightning, fabric = [], [], []
    for c in facts.calls:
        last = c.qname.rsplit(".", 1)[-1]
        if is_hf_trainer(c.qname) or c.written in hf_subclasses:
            hf.append(Evidence(line=c.line, text=c.text, detail=c.qname))
            info.trainer_class = info.trainer_class or c.written.rsplit(".", 1)[-1]
        elif c.qname.startswith("transformers.") and last in (
            "TrainingArguments",
            "Seq2SeqTrainingArguments",
        ):
            hf.append(Evidence(line=c.line, text=c.text, detail=c.qname))
        elif is_lightning(c.qname) and last in ("Trainer", "LightningCLI"):
            lightning.append(Evidence(line=c.line, text=c.text, detail=c.qname))
            info.trainer_class = info.trainer_class or last
        elif is_lightning(c.qname) and last == "Fabric":
            fabric.append(Evidence(line=c.line, text=c.text, detail=c.qname))
    for c in facts.classes:
        if c.name in hf_subclasses:
            hf.append(
                Evidence(
                    line=c.line,
                    text=f"class {c.name}({', '.join(c.bases_written)})",
                    detail="Trainer subclass",
                )
            )
            info.trainer_subclasses.append(c.name)
    for c in lightning_classes:
        lightning.append(
            Evidence(
                line=c.line,
                text=f"class {c.name}({', '.join(c.bases_written)})",
                detail="LightningModule"
                if any("LightningModule" in b for b in c.bases)
                else "Lightning class",
            )
        )
    if hf:
        info.kind, info.evidence = "huggingface_trainer", hf
    elif lightning:
        info.kind, info.evidence = "lightning", lightning
    elif fabric:
        info.kind, info.evidence = "lightning_fabric", fabric
    else:
        info.kind = "plain"
    info.evidence.sort(key=lambda e: e.line)
    return info
