"""Parallelism: DataParallel, DDP, FSDP, torch.distributed/torchrun, Fabric, accelerate; hard-coded or flagged."""

from __future__ import annotations

import re

from codemods.analysis.facts import CallFact, Facts
from codemods.analysis.report import AccelerateInfo, ArgumentInfo, Evidence, ParallelismInfo, PrepareCall

__all__ = ["analyze_accelerate", "analyze_parallelism"]

_WRAPPERS = [  # (kind, predicate on the qualified name)
    (
        "DistributedDataParallel",
        lambda q: q.endswith(("DistributedDataParallel", ".DDP")) or q == "DDP",
    ),
    ("FSDP", lambda q: q.endswith(("FullyShardedDataParallel", ".FSDP")) or q == "FSDP"),
    ("DataParallel", lambda q: q.endswith("DataParallel") and not q.endswith("DistributedDataParallel")),
    ("fabric", lambda q: q in ("lightning.Fabric", "lightning.fabric.Fabric", "lightning_fabric.Fabric")),
    ("accelerate", lambda q: q in ("accelerate.Accelerator",)),
    ("deepspeed", lambda q: q == "deepspeed.initialize"),
    (
        "torch.distributed",
        lambda q: (
            q.endswith("init_process_group")
            and "distributed" in q
            or q in ("torch.multiprocessing.spawn", "torch.distributed.launch")
        ),
    ),
]
_ORDER = [
    "DistributedDataParallel",
    "FSDP",
    "deepspeed",
    "fabric",
    "accelerate",
    "DataParallel",
    "torch.distributed",
]
_ENV = ("LOCAL_RANK", "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_WORLD_SIZE")
_FLAG = re.compile(
    r"distributed|parallel|multi_?gpu|world_size|local_rank|dist_|ddp|n_?gpus?|gpus|data_parallel",
    re.IGNORECASE,
)


def _kind(call: CallFact) -> str | None:
    for kind, matches in _WRAPPERS:
        if matches(call.qname):
            return kind
    return None


def analyze_parallelism(
    facts: Facts, arguments: list[ArgumentInfo], lightning_strategy: str | None = None, local: list[Facts] = ()
) -> ParallelismInfo:
    """The script's own wrappers; when it has none, a wrapper applied in one of its local modules (a trainer
    class beside the script) is reported with that module's file."""
    info = _analyze_parallelism(facts, arguments, lightning_strategy)
    if info.kind not in ("none", "framework"):
        return info
    for module in local:
        there = _analyze_parallelism(module, [], None)
        if there.kind not in ("none", "framework", "torch.distributed"):
            for evidence in there.evidence:
                evidence.file = module.filename
            return there
    return info


def _analyze_parallelism(
    facts: Facts, arguments: list[ArgumentInfo], lightning_strategy: str | None = None
) -> ParallelismInfo:
    info = ParallelismInfo()
    found: dict[str, list[CallFact]] = {}
    for call in facts.calls:
        kind = _kind(call)
        if kind:
            found.setdefault(kind, []).append(call)
            info.evidence.append(Evidence(line=call.line, text=call.text, detail=kind))
    for value, index, line in facts.subscripts:
        if value == "os.environ" and index.strip("'\"") in _ENV:
            info.env_vars.append(index.strip("'\""))
            info.evidence.append(
                Evidence(line=line, text=f"os.environ[{index}]", detail="torchrun environment")
            )
    for call in facts.calls:
        if call.qname in ("os.environ.get", "os.getenv") and call.args and call.args[0].strip("'\"") in _ENV:
            info.env_vars.append(call.args[0].strip("'\""))
            info.evidence.append(Evidence(line=call.line, text=call.text, detail="torchrun environment"))
    info.env_vars = list(dict.fromkeys(info.env_vars))
    flags = [a for a in arguments if a.source in ("argparse", "click") and _FLAG.search(a.dest)]
    for a in flags:
        info.evidence.append(Evidence(line=a.line, text=a.name, detail="command-line flag"))
    if lightning_strategy:
        info.evidence.append(
            Evidence(line=0, text=lightning_strategy, detail="Lightning Trainer strategy/devices")
        )
    info.kinds = [k for k in _ORDER if k in found]
    if info.env_vars and "torch.distributed" not in info.kinds and not info.kinds:
        info.kinds.append("torch.distributed")
    if not info.kinds:
        if lightning_strategy:
            info.kind = "framework"
        return info
    info.kind = info.kinds[0]
    if "accelerate" in found:
        info.accelerate = analyze_accelerate(facts, found["accelerate"][0])
    wrappers = found.get(info.kind, [])
    conditional = [c for c in wrappers if c.conditions]
    if wrappers and len(conditional) == len(wrappers):
        conditions = conditional[0].conditions
        condition = next(
            (
                c
                for c in reversed(conditions)
                if _FLAG.search(c) or "device_count" in c or "cuda" in c or "device" in c
            ),
            conditions[-1],
        )
        info.condition = condition
        info.flag = _flag_for(condition, arguments, facts)
        info.hard_coded = False
    else:
        info.hard_coded = bool(wrappers) or bool(info.env_vars)
    return info


_ACCELERATE_PLUGINS = ("deepspeed_plugin", "deepspeed_plugins", "fsdp_plugin", "megatron_lm_plugin")
_PLUGIN_CLASSES = ("DeepSpeedPlugin", "FullyShardedDataParallelPlugin", "MegatronLMPlugin")


def analyze_accelerate(facts: Facts, construction: CallFact) -> AccelerateInfo:
    """The Accelerator's variable and its prepare / backward / unwrap_model / wait_for_everyone calls.

    The construction is found by its resolved name (`accelerate.Accelerator`, whatever the import alias); its
    methods are the calls on the variable it is assigned to (a helper's parameter of that name included).
    """
    name = construction.target or "accelerator"
    info = AccelerateInfo(accelerator=name, line=construction.line, call=construction.text)
    info.plugins = [f"{k}={v}" for k, v in construction.kwargs.items()
                    if k in _ACCELERATE_PLUGINS and v.strip() != "None"]
    lines = {"backward": info.backward_lines, "unwrap_model": info.unwrap_lines,
             "wait_for_everyone": info.wait_lines}
    for call in facts.calls:
        if call.qname.startswith("accelerate.") and call.qname.rsplit(".", 1)[-1] in _PLUGIN_CLASSES:
            info.plugins.append(call.text)
        elif call.receiver in (name, name.rsplit(".", 1)[-1]):
            if call.attr == "prepare":
                info.prepares.append(PrepareCall(line=call.line, arguments=call.args,
                                                 targets=list(call.target_names)))
            elif call.attr in lines:
                lines[call.attr].append(call.line)
    return info


def _flag_for(condition: str, arguments: list[ArgumentInfo], facts: Facts) -> str | None:
    """`args.distributed` -> '--distributed', following one `args.distributed = ...` assignment if needed."""
    by_dest = {a.dest: a.name for a in arguments if a.source in ("argparse", "click")}
    names = re.findall(r"\b(?:args|opt|opts|cfg|config|hparams|FLAGS|flags)\.(\w+)", condition)
    for n in names:
        if n in by_dest:
            return by_dest[n]
    for n in names:
        for a in facts.assigns:
            if any(t.endswith(f".{n}") for t in a.target_names):
                derived = [by_dest[d] for d in re.findall(r"\.(\w+)", a.value_text) if d in by_dest]
                if derived:
                    return " / ".join(dict.fromkeys(derived))
        return f"args.{n}"
    if "device_count" in condition:
        return "torch.cuda.device_count() > 1"
    return condition


# ------------------------------------------------------------------------------------------- what pai supports
_SHARDED = {"FSDP", "deepspeed", "fabric"}
# DDP(model, ...) or DDP(model.to(rank), ...): a named model that perforate_model can reach before the wrap
_PLAIN_WRAP = re.compile(r"^[\w.]+\(\s*[A-Za-z_]\w*(\.(to|cuda)\([^()]*\))?\s*[,)]")


def distributed_refusal(info: ParallelismInfo) -> str | None:
    """Why `pai perforate` cannot integrate this parallel setup by itself (with the plan to follow), or None.

    DistributedDataParallel is supported (pai_core.distributed: rank 0 decides, rule PAI009 re-wraps on
    restructure) when the wrapper is applied to a named model, and so is nn.DataParallel (PAI012 hands the
    tracker the bare model and wraps again) and an HF Accelerate loop without a sharding plugin (PAI013 prepares
    again after a restructure); sharding wrappers are not.
    """
    kinds = set(info.kinds or []) | {info.kind}
    elsewhere = next((e for e in info.evidence if e.file), None)
    if elsewhere is not None and kinds & {"DistributedDataParallel", "DataParallel"}:
        return (
            f"PAI008: the model is wrapped in {elsewhere.detail} in {elsewhere.file} (line {elsewhere.line}: "
            f"`{elsewhere.text}`), the user's own module, not in this script; a rewrite of this file alone would "
            "leave that wrapper stale after a restructure. Integrate by hand: perforate_model in this script on the "
            f"bare model before it reaches {elsewhere.file}; there, after add_validation_score, on `restructured` "
            "wrap the model again (pai_core.distributed.wrap_ddp for DDP, nn.DataParallel(bare) for DataParallel) "
            "and rebuild the optimizer (pai-distributed skill)."
        )
    accelerate = info.accelerate
    if accelerate is not None and accelerate.plugins:
        return (
            f"PAI008: the Accelerator (line {accelerate.line}) can shard the model ({'; '.join(accelerate.plugins)}): "
            "DeepSpeed / FSDP / Megatron-LM partition the parameters, and dendrites grow parameters in place, which "
            "sharded parameters do not allow. Drop the plugin (Accelerate then runs plain DDP) and run `pai "
            "perforate` again: the Accelerate loop is then integrated (pai-distributed skill)."
        )
    sharded = kinds & _SHARDED
    if sharded:
        return (
            "PAI008: this script trains with " + ", ".join(sorted(sharded)) + ", which shards or wraps the model "
            "and the optimizer itself; dendrites grow parameters in place, which sharded parameters do not allow. "
            "Switch to torch DistributedDataParallel (one process per GPU, launched with torchrun) and run "
            "`pai perforate` again: pai_core supports DDP natively (pai-distributed skill)."
        )
    if "DistributedDataParallel" in kinds and "DataParallel" in kinds:
        line = next((e.line for e in info.evidence if e.detail == "DataParallel"), None)
        return (
            f"PAI008: besides DistributedDataParallel this script can wrap the model in nn.DataParallel (line "
            f"{line}), which the tracker cannot take (it needs `model.module` there) and pai does not rewrite. "
            "Remove the DataParallel branch (run several GPUs through DDP/torchrun, one GPU without a wrapper) "
            "and run `pai perforate` again: the DDP part is then integrated."
        )
    if "DistributedDataParallel" in kinds:
        wraps = [e for e in info.evidence if e.detail == "DistributedDataParallel"]
        if any(not _PLAIN_WRAP.match(e.text.strip()) for e in wraps):
            line = next(e.line for e in wraps if not _PLAIN_WRAP.match(e.text.strip()))
            return (
                f"PAI008: line {line} builds the model inside the DDP call, so it cannot be perforated before "
                "wrapping nor wrapped again after a restructure. Build the model into a variable first "
                "(`model = Net().to(device)`, then `ddp_model = DDP(model, ...)`) and run `pai perforate` again."
            )
        return None
    if "torch.distributed" in kinds:
        return (
            "PAI008: this script uses torch.distributed without a DistributedDataParallel wrapper (gradients "
            "synchronised by hand). Wrap the model in DDP (`ddp_model = DDP(model, device_ids=[local_rank])`) "
            "and run `pai perforate` again; pai_core then keeps every rank's dendrites in step."
        )
    return None
