"""Saving and loading: what cannot be pickled, checkpoints of a differently configured model, missing or
unreadable checkpoint files, run folders with missing or broken score files."""

from __future__ import annotations

from codemods.diagnosis.models import Pattern
from codemods.diagnosis.patterns.common import NO_VALIDATION, doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="pickle-local-object",
        code="PAI339",
        title="a lambda or closure cannot be pickled when saving",
        category="saving",
        signals=[
            r"Can't pickle local object",
            r"Can't pickle <function <lambda>",
            r"cannot pickle '\w+' object",
        ],
        cause="Saving pickles the optimizer/scheduler setup; lambdas and functions defined inside other functions "
        "(e.g. for LambdaLR) cannot be pickled.",
        fix="Move the lambda to a module-level `def` and pass that function.",
        doc=doc_for("saving"),
        confidence=0.75,
    ),
    Pattern(
        id="parametrized-serialization",
        code="PAI370",
        title="parametrized modules cannot be pickled",
        category="saving",
        signals=[r"Serialization of parametrized modules is only supported through state_dict"],
        cause="weight_norm/parametrize modules cannot be saved with torch.save of the whole module.",
        fix="Keep safetensors saving on: `GPA.pc.set_using_safe_tensors(True)`.",
        doc=doc_for("saving"),
        confidence=0.9,
    ),
    Pattern(
        id="safetensors-shared-tensors",
        code="PAI371",
        title="safetensors refuses tensors that share memory",
        category="saving",
        signals=[
            r"Some tensors share memory",
            r"shared tensors?[^\n]{0,80}safetensors|safetensors[^\n]{0,80}shar(e|ed) (memory|tensors)",
            r"tied weights?[^\n]{0,60}(save|safetensors)",
        ],
        cause="The model ties weights (shared embeddings/heads) or keeps a pointer to itself; safetensors will not "
        "save shared storage twice.",
        fix="For real weight tying: `GPA.pc.set_weight_tying_experimental(True)`; for an alias: "
        "`GPA.pc.append_module_names_to_not_save(['.alias'])`; or, for trusted checkpoints only, "
        "`GPA.pc.set_using_safe_tensors(False)`.",
        doc=doc_for("saving"),
        confidence=0.9,
    ),
    Pattern(
        id="load-order-keyerror",
        code="PAI372",
        title="checkpoint keys of a differently configured model",
        category="saving",
        signals=[
            r"KeyError: '[\w.]*(main_?[Mm]odule|num_?[Cc]ycles|dendrite\w*)[\w.]*'",
            r"'[\w.]*\.(mainModule|main_module)\.(numCycles|num_cycles)'",
        ],
        cause="The loading script perforates/tracks a different set of modules than the training script, or "
        "perforates after loading.",
        fix="Use the same configuration calls in both scripts and load into a freshly perforated model "
        "(perforate_model first, then load_system); for inference without dendrite growth load the cleaned model.",
        doc=doc_for("saving"),
        confidence=0.75,
    ),
    Pattern(
        id="load-before-perforate",
        code="PAI373",
        title="loading into a model that was not perforated",
        category="saving",
        signals=[
            r"must be called with a net after perforate_model",
            r"does not have any pai_modules",
            r"(load_system|load_net)[^\n]{0,80}(not perforated|before perforate_model|perforate_model first)",
            r"checkpoint[^\n]{0,80}(dendrite|perforat)[^\n]{0,80}(plain|unperforated|not perforated) model",
        ],
        point_at=["perforate_model_line"],
        cause="load_system/load_net needs a model that perforate_model already converted (the same object).",
        fix="Call `model = UPA.perforate_model(model, ...)` first (plus any set_this_output_dimensions), then "
        "`model = UPA.load_system(model, save_name, 'latest', True)`, then build the optimizer.",
        doc=doc_for("saving"),
        confidence=0.9,
    ),
    Pattern(
        id="state-dict-key-mismatch",
        code="PAI374",
        title="state_dict keys do not match (Missing/Unexpected keys)",
        category="saving",
        exception_types=["CheckpointError"],
        signals=[
            r"Error\(s\) in loading state_dict",
            r"Error loading state_?dict",
            r"Missing key\(s\) in state_dict",
            r"Unexpected key\(s\) in state_dict",
            r"size mismatch for [\w.]+",
            r"set_strict_loading\(False\)",
            r"does not fit this model: missing keys",
        ],
        cause="The checkpoint and the current model differ in which modules are perforated/tracked or in dendrite "
        "count: a different configuration, a changed head, a plain model loading a perforated checkpoint "
        "(keys with `.main_module.`, `dendrite`, `tracker_string`) or the reverse, or a `module.` prefix from "
        "DataParallel.",
        fix="Build and perforate the model with the same configuration as the run that saved it before loading; "
        "load perforated checkpoints with `UPA.load_system(model, save_name, name)`; strip a `module.` prefix "
        "from DataParallel checkpoints; only when the missing keys are expected (new head) use "
        "`GPA.pc.set_strict_loading(False)`.",
        doc=doc_for("saving"),
        confidence=0.8,
    ),
    Pattern(
        id="storage-shape-missing",
        code="PAI375",
        title="dendrite storage shape missing from the checkpoint",
        category="saving",
        signals=[r"missing from the state dict[^\n]{0,80}dendrite_storage_shape", r"dendrite_storage_shape"],
        cause="A perforated module never ran (no shape recorded), the model changed after perforation, the model "
        "given to perforate_model and to add_validation_score differ (prefix), or two runs share one save_name.",
        fix="Make every perforated module run forward+backward before saving (track unused ones), finish model edits "
        "before perforate_model, pass the same object everywhere, and use a unique save_name per concurrent run.",
        doc=doc_for("saving"),
        confidence=0.85,
    ),
    Pattern(
        id="whole-model-pickle",
        code="PAI376",
        title="torch.load refuses a whole pickled model (weights_only)",
        category="saving",
        signals=[
            r"Weights only load failed[\s\S]{0,3000}?Unsupported global: GLOBAL (?P<global>[\w.]+)",
            r"Weights only load failed",
        ],
        point_at_calls=["torch.save", "torch.load"],
        cause="The file holds a whole pickled model (`torch.save(model, path)`): its classes ({global}, and pai's "
        "wrapper modules after perforation) are code, and torch.load's default weights_only=True refuses to run "
        "them.",
        fix="Save the weights, not the object: `torch.save(model.state_dict(), path)`; to load, build the model, "
        "perforate it the same way and call `model.load_state_dict(torch.load(path))` (a finished run: "
        "`pai_core.deploy.load_for_inference(plain_model, run_folder)`). For a file you trust, "
        "`torch.load(path, weights_only=False)` or `with torch.serialization.safe_globals([{global}]):` works too.",
        doc=doc_for("saving"),
        confidence=0.88,
    ),
    Pattern(
        id="load-attempts-failed",
        code="PAI377",
        title="every attempt to load the checkpoint failed",
        category="saving",
        signals=[r"All four load attempts failed"],
        cause="The checkpoint pickles objects that cannot be restored (bound methods stored as module attributes, "
        "classes that moved), or torch.load's weights_only refuses them.",
        fix="Remove method-valued attributes from modules (or implement __getstate__/__setstate__) and keep "
        "safetensors saving on.",
        doc=doc_for("saving"),
        confidence=0.8,
    ),
    # errors pai_core itself raises
    Pattern(
        id="checkpoint-missing",
        code="PAI398",
        title="the checkpoint to load does not exist",
        category="saving",
        signals=[
            r"No checkpoint at \S+",
            r"No such file or directory: '[^']*(latest|best_model|switch_\d+|beforeSwitch_\d+)[^']*'",
        ],
        cause="load_system/load_pretrained_model looked for `<save_name>/<name>.pt` relative to the current "
        "directory and found nothing (other save_name, other working directory, or the run never saved it).",
        fix="Run from the directory that holds the run folder and pass the same save_name and an existing "
        "checkpoint name ('latest', 'best_model', 'switch_N').",
        doc=doc_for("saving"),
        confidence=0.85,
    ),
    Pattern(
        id="checkpoint-unreadable",
        code="PAI399",
        title="the checkpoint file is not a readable safetensors file",
        category="saving",
        signals=[
            r"is not a readable safetensors checkpoint",
            r"Error while deserializing header",
            r"HeaderTooLarge|InvalidHeaderDeserialization",
            r"\.pt holds no weights",
        ],
        cause="The file is truncated (run killed while saving), was written with torch.save "
        "(using_safe_tensors=False), or is not a checkpoint.",
        fix="Load another checkpoint (`best_model`, `switch_N`) or re-run; keep `set_using_safe_tensors` the "
        "same for writing and reading.",
        doc=doc_for("saving"),
        confidence=0.85,
    ),
    Pattern(
        id="run-folder-not-found",
        code="PAI401",
        title="the run folder to analyze was not found",
        category="saving",
        exception_types=["ResultsError"],
        signals=[
            r"Run folder '[^']*' does not exist",
            r"no folder '[^']*' exists next to the script",
            r"is a file, not a run folder",
            r"holds several run folders",
            r"Cannot read '[^']*' \([^)]*\); pass the run folder",
            r"does not parse \(line [^)]*\); pass the run folder",
            r"No perforate_model\(\.\.\.\) or initialize_pai\(\.\.\.\) call in",
            r"the folder name is only known when the script runs",
        ],
        cause="Run analysis needs the folder `./<save_name>/` that training wrote (relative to the directory the "
        "training ran in); the path given is not it, or the save_name is computed at run time.",
        fix="Pass the run folder itself (e.g. `pai results ./run1`), or the training script when its "
        "perforate_model call has a literal save_name; run from the directory where training ran.",
        doc=doc_for("run-analysis"),
        confidence=0.85,
    ),
    Pattern(
        id="run-files-missing",
        code="PAI402",
        title="the run folder holds no score files",
        category="saving",
        signals=[r"No run files[^\n]{0,120}(in|found)", r"making_graphs=False writes no CSVs"],
        facts=[NO_VALIDATION],
        point_at=["perforate_model_line", "add_validation_score_line"],
        cause="The CSV files are written by add_validation_score while graphs are on; the run never called it, "
        "or used `making_graphs=False`.",
        fix="Call `GPA.pai_tracker.add_validation_score(score, model)` every epoch and keep `making_graphs=True` "
        "in perforate_model{perforate_at}; then analyze `./<save_name>/`.",
        doc=doc_for("run-analysis"),
        confidence=0.85,
    ),
    Pattern(
        id="run-files-corrupt",
        code="PAI403",
        title="run files are truncated or inconsistent",
        category="saving",
        signals=[r"could not be parsed as CSV", r"The files in \S+ are inconsistent"],
        cause="A CSV was cut off (the run was killed while writing) or written by something else.",
        fix="Re-run (or resume) training so the files are rewritten, or analyze a complete snapshot folder.",
        doc=doc_for("run-analysis"),
        confidence=0.8,
    ),
    Pattern(
        id="optimizer-state-not-restored",
        code="PAI406",
        title="resumed run started its optimizer fresh",
        category="saving",
        signals=[
            r"Saved optimizer state (is for|does not fit)[^\n]{0,120}starting (it|the optimizer) fresh",
            r"Saved scheduler state could not be restored",
        ],
        log_only=True,
        point_at=["setup_optimizer_line", "optimizer_line"],
        cause="The checkpoint's optimizer/scheduler state belongs to another optimizer class or parameter layout "
        "than the one built after resuming; training continues with a fresh optimizer.",
        fix="After `UPA.load_system(...)` build the same optimizer class with the same arguments as the run that "
        "saved the checkpoint (ideally through `GPA.pai_tracker.setup_optimizer`).",
        doc=doc_for("saving"),
        confidence=0.6,
    ),
]
