"""The structured report of a training script: what the integration needs to know before editing it.

Every finding that points into a script carries a 1-based `line` (and the `file` when it comes from a local
module imported by the script, as a path relative to the script's folder, e.g. "models/resnet.py"), so tools
can point at lines. Field names are stable: new fields are added,
existing ones are never renamed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from codemods.analysis.config import OutputDimensionOverride, PerforationConfig, ProcessorSpec

__all__ = [
    "Architecture",
    "AccelerateInfo",
    "ArgumentInfo",
    "EpochLoop",
    "Evidence",
    "ImportInfo",
    "IntegrationInfo",
    "IntegrationStep",
    "KnownArchitecture",
    "LayerUse",
    "ModelClass",
    "ModelInfo",
    "ModelInstance",
    "OptimizerInfo",
    "OptimizerSetup",
    "OutputDimensionOverride",
    "ParallelismInfo",
    "PerforateCall",
    "PrepareCall",
    "PerforationConfig",
    "PresenceInfo",
    "ProcessorSpec",
    "SchedulerInfo",
    "ScriptReport",
    "SizeKnob",
    "StepCall",
    "TrainingLibraryInfo",
    "ValidationInfo",
]

Architecture = Literal["cnn", "resnet", "transformer", "rnn", "mlp", "custom", "unknown"]
Direction = Literal["maximize", "minimize", "unknown"]
StepStatus = Literal["present", "missing", "not_applicable"]


class Evidence(BaseModel):
    """One piece of source that supports a conclusion."""

    line: int = Field(description="1-based line in `file` (the analyzed script when file is None)")
    text: str = Field(description="the source text, shortened to one line")
    detail: str = ""
    file: str | None = None


class ImportInfo(BaseModel):
    module: str
    name: str | None = None  # `from module import name`; None for `import module`
    alias: str | None = None
    line: int
    local_file: str | None = None  # set when the import resolves to a file beside the script


class LayerUse(BaseModel):
    kind: str = Field(description="class name of the layer, e.g. Linear, Conv2d, LSTM")
    qualified_name: str
    line: int
    attribute: str | None = None  # `self.fc = nn.Linear(...)` -> "fc"
    owner: str | None = None  # class that builds it; None at script level
    file: str | None = None


class ModelClass(BaseModel):
    name: str
    line: int
    bases: list[str] = []
    file: str | None = None
    layers: list[LayerUse] = []
    uses_classes: list[str] = Field(default=[], description="other local module classes this one builds")
    is_lightning_module: bool = False


class KnownArchitecture(BaseModel):
    """A model built by a library: torchvision/timm/HF."""

    library: str
    name: str = Field(description="architecture name as far as it is known, e.g. resnet18, bert-base-uncased")
    line: int
    text: str
    family: Architecture = "unknown"


class ModelInstance(BaseModel):
    variable: str = Field(description="what the model is assigned to, e.g. model, net, self.model")
    constructor: str = Field(description="class or factory called, e.g. Net, torchvision.models.resnet18")
    line: int
    text: str
    local_class: str | None = None


class ModelInfo(BaseModel):
    classes: list[ModelClass] = []
    instances: list[ModelInstance] = []
    layers: list[LayerUse] = Field(
        default=[], description="layers of the model (classes in use + script level)"
    )
    layer_kinds: list[str] = []
    known_architectures: list[KnownArchitecture] = []
    architecture: Architecture = "unknown"
    evidence: list[str] = []
    recommended_config: PerforationConfig | None = None
    notes: list[str] = []
    variable: str | None = Field(
        default=None, description="the variable holding the model that is perforated (the one that is trained)"
    )
    choice: str = Field(default="", description="why that model was chosen when the script builds several")
    question: str | None = Field(
        default=None, description="set when several models could be the one to perforate: ask the user (--model)"
    )
    moved_to: dict[str, str] = Field(
        default={}, description="variable -> what the script first moves it to: `device` for `model.to(device)` or "
        "`model = Net().to(device)`, `cuda()` for `model.cuda()` (a .to() wins)"
    )


class ArgumentInfo(BaseModel):
    """A command-line option (argparse/click) or a config key."""

    name: str = Field(description="'--hidden-size' for CLI options, the key for config entries")
    dest: str = Field(description="attribute/key name, e.g. hidden_size")
    source: Literal["argparse", "click", "dict", "dataclass", "yaml", "constant", "fire"] = "argparse"
    default: str | None = None
    type: str | None = None
    help: str | None = None
    line: int
    file: str | None = None


class SizeKnob(ArgumentInfo):
    role: Literal["architecture", "width", "depth", "heads", "dropout", "size"] = "size"


class PrepareCall(BaseModel):
    """One `accelerator.prepare(...)` call: what goes in and the names it assigns."""

    line: int
    arguments: list[str] = Field(description="the arguments as written, e.g. ['model', 'optimizer']")
    targets: list[str] = Field(default=[], description="the names assigned, in order")


class AccelerateInfo(BaseModel):
    """An HF Accelerate training loop ("no_trainer" scripts): the Accelerator and what goes through it."""

    accelerator: str = Field(description="the variable holding the Accelerator, e.g. accelerator")
    line: int = Field(description="line of the Accelerator(...) construction")
    call: str = Field(description="the construction as written")
    prepares: list[PrepareCall] = []
    backward_lines: list[int] = Field(default=[], description="accelerator.backward(loss) calls")
    unwrap_lines: list[int] = Field(default=[], description="accelerator.unwrap_model(model) calls")
    wait_lines: list[int] = Field(default=[], description="accelerator.wait_for_everyone() calls")
    plugins: list[str] = Field(default=[], description="sharding plugins (DeepSpeed, FSDP, Megatron-LM) as written")

    def prepare_of(self, name: str | None) -> PrepareCall | None:
        """The prepare call that takes `name` (the model variable)."""
        return next((p for p in self.prepares if name in p.arguments), None)


class ParallelismInfo(BaseModel):
    kind: Literal[
        "none",
        "DataParallel",
        "DistributedDataParallel",
        "FSDP",
        "torch.distributed",
        "fabric",
        "accelerate",
        "deepspeed",
        "framework",
    ] = "none"
    kinds: list[str] = []
    hard_coded: bool = False
    flag: str | None = Field(
        default=None, description="the condition/flag that turns it on, e.g. --distributed"
    )
    condition: str | None = None
    evidence: list[Evidence] = []
    env_vars: list[str] = []
    accelerate: AccelerateInfo | None = Field(default=None, description="set for HF Accelerate scripts")


class TrainingLibraryInfo(BaseModel):
    kind: Literal["plain", "huggingface_trainer", "lightning", "lightning_fabric", "unknown"] = "plain"
    trainer_class: str | None = None
    trainer_subclasses: list[str] = []
    evidence: list[Evidence] = []
    trainer_line: int | None = Field(default=None, description="line of the Trainer(...) construction")
    trainer_call: str | None = Field(default=None, description="the Trainer callee as written, e.g. L.Trainer")
    callbacks: str | None = Field(default=None, description="the Trainer's callbacks= argument as written")
    metric_for_best_model: str | None = Field(
        default=None, description="TrainingArguments(metric_for_best_model=...) as written, e.g. 'accuracy'"
    )
    greater_is_better: str | None = Field(default=None, description="TrainingArguments(greater_is_better=...)")
    eval_strategy: str | None = Field(default=None, description="TrainingArguments(eval_strategy=...) as written")
    load_best_model_at_end: str | None = None
    arguments_line: int | None = Field(default=None, description="line of the TrainingArguments(...) call")
    arguments_call: str | None = Field(default=None, description="its callee as written, e.g. TrainingArguments")
    monitor: str | None = Field(
        default=None, description="Lightning ModelCheckpoint/EarlyStopping monitor= as written, e.g. 'val_acc'"
    )
    mode: str | None = Field(default=None, description="the mode= ('min'/'max') that goes with monitor")
    monitor_source: str | None = Field(default=None, description="ModelCheckpoint or EarlyStopping")
    sharding: str | None = Field(
        default=None, description="DeepSpeed/FSDP configured in TrainingArguments or the Lightning strategy"
    )
    pai_callback: str | None = Field(
        default=None,
        description="PAITrainerCallback / PAILightningCallback when the script already uses one: it perforates, "
        "feeds the tracker and rebuilds the optimizer, so those steps need no code of their own",
    )


class OptimizerInfo(BaseModel):
    variable: str | None = None
    type: str = Field(description="qualified name, e.g. torch.optim.SGD")
    name: str = Field(description="short class name, e.g. SGD")
    arguments: list[str] = Field(default=[], description="each argument as written, e.g. 'lr=args.lr'")
    params_argument: str | None = None
    line: int
    text: str = ""
    function: str | None = Field(
        default=None, description="enclosing function (Class.method), None at top level"
    )
    in_loop: bool = False
    builtin: bool = True
    built_by: Literal["class", "model_method", "helper", "config", "manual"] = Field(
        default="class",
        description="how it is built: a class called here, a method of the model (configure_optimizers), a "
        "helper function of the script, a class named by a config key (getattr(torch.optim, cfg[...])), or "
        "by hand (a manual LR schedule writing optimizer.param_groups[...]['lr'])",
    )
    condition: str | None = Field(
        default=None, description="the `if` test it is built under (e.g. args.use_optimizer): it exists only "
        "when that holds",
    )


class SchedulerInfo(OptimizerInfo):
    pass


class StepCall(BaseModel):
    variable: str
    line: int
    function: str | None = None
    text: str = ""


class OptimizerSetup(BaseModel):
    kind: Literal["simple", "complex", "none", "framework"] = "none"
    reason: str = ""
    findings: list[str] = Field(
        default=[], description="shapes the rewrite must respect: an optimizer only under a flag, parameters "
        "updated by hand, a learning rate set by hand, an optimizer rebuilt after a restructure without the tracker",
    )


class EpochLoop(BaseModel):
    kind: Literal["for-range", "for", "while", "framework", "none"] = "none"
    line: int | None = None
    variable: str | None = None
    bound: str | None = Field(default=None, description="the epoch bound expression, e.g. args.epochs")
    iterable: str | None = None
    function: str | None = None
    train_calls: list[Evidence] = []
    validation_calls: list[Evidence] = []
    eval_condition: str | None = Field(
        default=None, description="`iter_num % eval_interval == 0`: the loop validates only when this holds, "
        "so each validation (not each iteration) is one epoch for the tracker",
    )
    validates_after: bool = Field(
        default=False, description="no validation in the loop: the script evaluates once after it (trains, then "
        "tests); the rewrite runs that evaluation every epoch on held-out data (`ValidationInfo.held_out`)",
    )
    text: str = ""


class ValidationInfo(BaseModel):
    function: str | None = None
    line: int | None = None  # definition line of the validation function (or the inline block)
    call_line: int | None = None
    metric: str | None = Field(default=None, description="name of the validation metric, e.g. acc1, val_loss")
    metric_returned: bool = False
    metric_only_printed: bool = False
    returns: str | None = None
    direction: Direction = "unknown"
    split: Literal["validation", "test", "train"] | None = Field(
        default=None, description="the data split the metric is computed on"
    )
    loader: str | None = Field(default=None, description="the data argument of the validation call, e.g. test_loader")
    held_out: str | None = Field(
        default=None, description="when the script only tests after training: the validation loader it builds "
        "but never evaluates, else `loader` itself, of which the rewrite holds half out for per-epoch scores",
    )
    evidence: list[Evidence] = []


class PresenceInfo(BaseModel):
    present: bool = False
    evidence: list[Evidence] = []


class PerforateCall(BaseModel):
    line: int
    function: str
    save_name: str | None = None
    maximizing_score: str | None = None
    text: str = ""


class IntegrationStep(BaseModel):
    name: str
    status: StepStatus = "missing"
    lines: list[int] = []
    detail: str = ""


class IntegrationInfo(BaseModel):
    package: Literal["perforatedai", "pai_core", "none"] = "none"
    generation: Literal["current", "initialize_pai", "pb", "none"] = "none"
    level: Literal["none", "partial", "complete"] = "none"
    steps: list[IntegrationStep] = []
    missing: list[str] = []
    capacity_flag: Literal["True", "False", "absent", "dynamic"] = "absent"
    perforate_call: PerforateCall | None = None
    aliases: dict[str, str] = Field(default={}, description="alias -> role (globals, utils, library, ...)")
    calls: dict[str, list[int]] = Field(
        default={}, description="method name -> lines of the calls into perforatedai/pai_core, by resolved name "
        "(comments and strings never count): what the rules read to tell work already done"
    )
    warnings: list[str] = Field(
        default=[], description="integration mistakes spotted (e.g. a loss with maximizing)"
    )
    optimizers_before_perforate: dict[int, list[int]] = Field(
        default={}, description="perforate_model line -> lines of the optimizers built before it runs, in call "
        "order (a function's body runs where it is called, not where it is defined)"
    )
    old_api: list[Evidence] = Field(
        default=[], description="imports of the 2024 camelCase API (pb_globals, globalsFile, pb_utils, pb_models, "
        "pb_network), one per import: `pai migrate` (MCP: pai_migrate_script) rewrites them to the current API"
    )

    def step(self, name: str) -> IntegrationStep | None:
        return next((s for s in self.steps if s.name == name), None)


class ScriptReport(BaseModel):
    path: str
    line_count: int = 0
    imports: list[ImportInfo] = []
    local_files: list[str] = Field(default=[], description="local modules analyzed alongside the script")
    model: ModelInfo = ModelInfo()
    arguments: list[ArgumentInfo] = []
    size_knobs: list[SizeKnob] = []
    parallelism: ParallelismInfo = ParallelismInfo()
    training_library: TrainingLibraryInfo = TrainingLibraryInfo()
    optimizers: list[OptimizerInfo] = []
    schedulers: list[SchedulerInfo] = []
    scheduler_steps: list[StepCall] = []
    optimizer_setup: OptimizerSetup = OptimizerSetup()
    epoch_loop: EpochLoop = EpochLoop()
    validation: ValidationInfo = ValidationInfo()
    test_set: PresenceInfo = PresenceInfo()
    early_stopping: PresenceInfo = PresenceInfo()
    amp: PresenceInfo = PresenceInfo()
    ema: PresenceInfo = PresenceInfo()
    integration: IntegrationInfo = IntegrationInfo()
    notes: list[str] = []

    def to_text(self) -> str:
        """A readable summary; the CLI and other front ends print this."""
        from codemods.analysis.text import render_text

        return render_text(self)
