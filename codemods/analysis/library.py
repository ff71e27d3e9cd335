"""Which training library drives the loop: plain PyTorch, HuggingFace Trainer, Lightning (or Fabric), and for
the frameworks what the integration callback needs: the Trainer call, its callbacks, the tracked metric and its
direction (TrainingArguments' metric_for_best_model / greater_is_better, Lightning's monitor / mode)."""

from __future__ import annotations

from codemods.analysis.facts import Facts
from codemods.analysis.report import Evidence, TrainingLibraryInfo

__all__ = ["analyze_library", "is_hf_trainer", "is_lightning"]

_HF_TRAINERS = ("Trainer", "Seq2SeqTrainer", "SFTTrainer", "DPOTrainer", "RewardTrainer", "PPOTrainer")
_HF_ARGUMENTS = ("TrainingArguments", "Seq2SeqTrainingArguments", "SFTConfig", "DPOConfig", "RewardConfig")
_PAI_CALLBACKS = ("PAITrainerCallback", "PAILightningCallback")
_SHARDED = ("deepspeed", "fsdp")  # parameters sharded across processes: dendrites cannot grow in place
_MONITORS = ("ModelCheckpoint", "EarlyStopping")  # ModelCheckpoint first: it names the metric the user keeps


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
            _note_trainer_call(info, c)
        elif c.qname.startswith(("transformers.", "trl.")) and last in _HF_ARGUMENTS:
            hf.append(Evidence(line=c.line, text=c.text, detail=c.qname))
            _note_training_arguments(info, c)
        elif is_lightning(c.qname) and last in ("Trainer", "LightningCLI"):
            lightning.append(Evidence(line=c.line, text=c.text, detail=c.qname))
            info.trainer_class = info.trainer_class or last
            _note_trainer_call(info, c)  # LightningCLI builds the Trainer: its trainer_defaults take the callback
            if last == "Trainer":
                strategy = c.kwargs.get("strategy", "")
                if any(k in strategy.lower() for k in _SHARDED):
                    info.sharding = info.sharding or f"strategy={strategy}"
        elif c.qname.startswith("pai_core.integrations.") and last in _PAI_CALLBACKS:
            info.pai_callback = last
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
    _note_monitor(info, facts)
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


def _note_trainer_call(info: TrainingLibraryInfo, call) -> None:
    if info.trainer_line is None:
        info.trainer_line, info.trainer_call = call.line, call.written
        info.callbacks = call.kwargs.get("callbacks")


def _note_training_arguments(info: TrainingLibraryInfo, call) -> None:
    kwargs = call.kwargs
    if info.arguments_line is None:
        info.arguments_line, info.arguments_call = call.line, call.written
    info.metric_for_best_model = info.metric_for_best_model or kwargs.get("metric_for_best_model")
    info.greater_is_better = info.greater_is_better or kwargs.get("greater_is_better")
    info.eval_strategy = info.eval_strategy or kwargs.get("eval_strategy", kwargs.get("evaluation_strategy"))
    info.load_best_model_at_end = info.load_best_model_at_end or kwargs.get("load_best_model_at_end")
    for name in _SHARDED:
        value = kwargs.get(name)
        if value is not None and value.strip() not in ("None", "False", '""', "''", "[]"):
            info.sharding = info.sharding or f"{name}={value}"


def _note_monitor(info: TrainingLibraryInfo, facts: Facts) -> None:
    """The metric a Lightning script already watches: ModelCheckpoint's, else EarlyStopping's."""
    for wanted in _MONITORS:
        for c in facts.calls:
            if is_lightning(c.qname) and c.qname.rsplit(".", 1)[-1] == wanted and "monitor" in c.kwargs:
                info.monitor, info.mode, info.monitor_source = c.kwargs["monitor"], c.kwargs.get("mode"), wanted
                return
