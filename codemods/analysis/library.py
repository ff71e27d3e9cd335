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
    """Which library drives training, from the trainer calls and classes the script has (a Hugging Face Trainer
    wins over Lightning, Lightning over Fabric), and what that library's integration callback needs."""
    info = TrainingLibraryInfo()
    hf_subclasses = _hf_trainer_subclasses(facts)
    hf, lightning, fabric = _library_calls(info, facts, hf_subclasses)
    for c in facts.classes:
        if c.name in hf_subclasses:
            hf.append(Evidence(line=c.line, text=_class_line(c), detail="Trainer subclass"))
            info.trainer_subclasses.append(c.name)
    for c in facts.classes:
        if any(is_lightning(b) for b in c.bases):
            detail = "LightningModule" if any("LightningModule" in b for b in c.bases) else "Lightning class"
            lightning.append(Evidence(line=c.line, text=_class_line(c), detail=detail))
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


def _hf_trainer_subclasses(facts: Facts) -> set[str]:
    """The script's subclasses of a Hugging Face trainer, also through its own subclasses of subclasses."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for c in facts.classes:
            if c.name not in found and any(is_hf_trainer(b) or b in found for b in c.bases):
                found.add(c.name)
                changed = True
    return found


def _library_calls(info: TrainingLibraryInfo, facts: Facts,
                   hf_subclasses: set[str]) -> tuple[list[Evidence], list[Evidence], list[Evidence]]:
    """(Hugging Face, Lightning, Fabric) evidence from the calls; notes each trainer call's settings in `info`."""
    hf, lightning, fabric = [], [], []
    for c in facts.calls:
        last = c.qname.rsplit(".", 1)[-1]
        if is_hf_trainer(c.qname) or c.written in hf_subclasses:
            hf.append(_call_evidence(c))
            info.trainer_class = info.trainer_class or c.written.rsplit(".", 1)[-1]
            _note_trainer_call(info, c)
        elif c.qname.startswith(("transformers.", "trl.")) and last in _HF_ARGUMENTS:
            hf.append(_call_evidence(c))
            _note_training_arguments(info, c)
        elif is_lightning(c.qname) and last in ("Trainer", "LightningCLI"):
            lightning.append(_call_evidence(c))
            info.trainer_class = info.trainer_class or last
            _note_trainer_call(info, c)  # LightningCLI builds the Trainer: its trainer_defaults take the callback
            if last == "Trainer":
                _note_sharded_strategy(info, c)
        elif c.qname.startswith("pai_core.integrations.") and last in _PAI_CALLBACKS:
            info.pai_callback = last
        elif is_lightning(c.qname) and last == "Fabric":
            fabric.append(_call_evidence(c))
    return hf, lightning, fabric


def _call_evidence(c) -> Evidence:
    return Evidence(line=c.line, text=c.text, detail=c.qname)


def _class_line(c) -> str:
    return f"class {c.name}({', '.join(c.bases_written)})"


def _note_sharded_strategy(info: TrainingLibraryInfo, call) -> None:
    """A Lightning Trainer strategy that shards the parameters (DeepSpeed, FSDP)."""
    strategy = call.kwargs.get("strategy", "")
    if any(k in strategy.lower() for k in _SHARDED):
        info.sharding = info.sharding or f"strategy={strategy}"


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
