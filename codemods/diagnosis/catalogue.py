"""The catalogue of known failures, as data.

Each entry says how to recognise a failure in pasted text (regex fragments of messages, never whole lines, so
small wording changes and legacy names still match), which facts about the script confirm or rule it out, and
the fix. Sources: our debugging knowledge base of the upstream `perforatedai` 3.2.9 library (paraphrased) and
every error `pai_core` raises. `{placeholders}` in fixes are filled by the engine from the text and the script.
"""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern

# Our own documents served by the MCP server (mcp_server/resources.py): skills and generated references.
_DOCS = {
    "configuration": "pai://reference/config",
    "api-names": "pai://reference/api",
    "integration": "pai://skills/pai-setup",
    "optimizer": "pai://skills/pai-setup",
    "capacity-test": "pai://skills/pai-setup",
    "distributed": "pai://skills/pai-distributed",
    "run-analysis": "pai://skills/pai-results-analysis",
    "frameworks": "pai://skills/pai-lightning",
}


def _doc(topic: str) -> str:
    """Where to read more: a dedicated skill/reference when there is one, else the debugging skill."""
    return _DOCS.get(topic, "pai://skills/pai-debugging")


_NO_REBUILD = FactRule(
    fact="optimizer_rebuilt_on_restructure",
    equals=False,
    effect="confirms",
    note="the script does not build a new optimizer in its `if restructured:` branch",
)
_REBUILDS = FactRule(
    fact="optimizer_rebuilt_on_restructure",
    equals=True,
    effect="rules_out",
    note="the script already rebuilds the optimizer when the model is restructured",
)
_HAS_DP = FactRule(
    fact="tracker_given_wrapper",
    equals=True,
    effect="confirms",
    note="the model handed to add_validation_score is the parallel wrapper, not `.module`",
)
_NO_VALIDATION = FactRule(
    fact="calls_add_validation_score",
    equals=False,
    effect="confirms",
    note="the script never calls add_validation_score",
)
_HAS_VALIDATION = FactRule(
    fact="calls_add_validation_score",
    equals=True,
    effect="rules_out",
    note="the script does call add_validation_score",
)

PATTERNS: list[Pattern] = [
    # ---------------------------------------------------------------- A. output dimensions / shapes
    Pattern(
        id="output-dims-rank",
        title="output_dimensions do not match the rank of a module's output",
        category="shapes",
        exception_types=["OutputDimensionsError"],
        signals=[
            r"(has not|not) properly set (the )?this_?(output|input)_?dimensions",
            r"output_dimensions (has|have) \d+ (entries|axes|dims)[^\n]*(output|tensor) (has|is) \d+",
            r"(expecting|expected)[^\n]{0,80}\n?[^\n]{0,80}but (received|got)[^\n]*(torch\.Size|shape)",
            r"output_dimensions[^\n]{0,120}(rank|ndim|number of dimensions)",
            r"output_dimensions \[[^\]]*\] describe rank \d+",
        ],
        point_at=["output_dimensions_line", "perforate_model_line"],
        cause="A perforated module produced an output with {received_rank} axes but the configured "
        "output_dimensions vector {expected} has a different length. The vector must describe the module's "
        "OUTPUT: one 0 on the neuron/channel axis, -1 everywhere else.",
        fix="For the shape {received_shape} use {suggested_dims}. {dims_scope} "
        "`GPA.pc.set_debugging_output_dimensions(1)` lists every offending module in one run.",
        doc=_doc("output-dimensions"),
        confidence=0.95,
    ),
    Pattern(
        id="output-dims-size",
        title="output_dimensions hold an exact size that does not match the output",
        category="shapes",
        signals=[
            r"this_?(output|input)_?dimensions with this incorrect shape",
            r"output_dimensions \[[^\]]*\] expects size \d+ on axis \d+",
            r"output_dimensions[^\n]{0,80}entry[^\n]{0,60}(must be|should be) (-1|0)",
        ],
        point_at=["output_dimensions_line"],
        cause="The vector has the right length but one entry is a concrete size (the old exact-size format) that "
        "differs from the real output size.",
        fix="Use only -1 (axis reduced) and a single 0 (neuron axis), e.g. {suggested_dims}: "
        "`GPA.pc.set_output_dimensions({suggested_dims})` or `{module_attr}.set_this_output_dimensions(...)`.",
        doc=_doc("output-dimensions"),
        confidence=0.85,
    ),
    Pattern(
        id="output-dims-zero-count",
        title="output_dimensions must contain exactly one 0",
        category="shapes",
        signals=[
            r"Need exactly one 0",
            r"exactly one 0 in (the )?(input|output)[ _]dimensions",
            r"output_dimensions (needs|must contain) exactly one 0",
            r"output_dimensions[^\n]{0,80}(exactly one|one and only one) (0|zero)",
        ],
        point_at=["output_dimensions_line"],
        cause="The output_dimensions vector has no 0 or several 0s; the 0 marks the one axis that indexes "
        "output neurons/channels.",
        fix="Put exactly one 0 at the channel/feature axis and -1 elsewhere: [-1, 0] for Linear outputs "
        "[batch, features], [-1, 0, -1, -1] for Conv2d [batch, channels, H, W], [-1, -1, 0] for "
        "[batch, seq, features]. Fix the call{output_dims_at}.",
        doc=_doc("output-dimensions"),
        confidence=0.9,
    ),
    Pattern(
        id="module-never-initialised",
        title="a perforated module never received a gradient, so its size is unknown",
        category="conversion",
        exception_types=["DendriteError"],
        signals=[
            r"'(pbValueTracker|DendriteValueTracker|PAIValueTracker|\w*ValueTracker)' object has no attribute 'out_channels'",
            r"never had gradients flow through it",
            r"Module should be added to module_names_to_track",
            r"(out_channels|output size|number of (neurons|channels)) (is )?(still )?(unknown|None)[^\n]*(forward|gradient|backward)",
            r"(never ran|never been run|was never called|never used) in (the )?forward",
            r"Cannot add (a )?dendrites?[^\n]{0,80}(has not been seen|never received a gradient)",
            r"output has not been seen yet",
            r"never received (a |any )?gradients?",
        ],
        facts=[
            FactRule(
                fact="capacity_test",
                equals=True,
                effect="confirms",
                note="the capacity test adds a dendrite after every epoch, so modules that get no gradient fail fast",
            )
        ],
        point_at=["perforate_model_line"],
        cause="A dendrite was being added to a module whose output size was never seen: it got no gradient "
        "(frozen weights, defined but unused in forward, no trainable weights) or no training step ran before "
        "the first add_validation_score.",
        fix="Track that module instead of perforating it, before perforate_model: "
        "`GPA.pc.append_module_ids_to_track(['{module}'])`; or unfreeze/remove it; make sure one training step "
        "(forward + backward) runs before the first add_validation_score. Only if skipping it is intended: "
        "`GPA.pc.set_checked_skipped_modules(True)`.",
        doc=_doc("module-selection"),
        confidence=0.9,
    ),
    Pattern(
        id="broadcast-shape-mismatch",
        title="a perforated layer receives tensors of different ranks",
        category="shapes",
        signals=[r"output with shape \[[^\]]*\] doesn't match the broadcast shape"],
        context=[r"normal_?[Pp]ass|[Aa]verage_?[Dd]|dendrite|perforat|pai_core|PAI"],
        cause="The same perforated layer is called with inputs of different ranks at different call sites, so "
        "its per-channel statistics cannot be combined.",
        fix="Wrap the layer in a small nn.Module used at one call site only, so each perforated module always "
        "sees one output layout; or track the layer: `GPA.pc.append_module_ids_to_track(['{module}'])`.",
        doc=_doc("output-dimensions"),
        confidence=0.75,
    ),
    Pattern(
        id="neuron-axis-wrong",
        title="the 0 of output_dimensions is on the wrong axis",
        category="shapes",
        signals=[
            r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\) at non-singleton dimension"
        ],
        context=[r"pai_core|perforatedai|PAINeuron|dendrite|modules\.py", r"set_output_dimensions"],
        point_at=["output_dimensions_line"],
        cause="The per-channel dendrite weights are sized along the axis marked 0, but that is not the axis that "
        "indexes output channels (e.g. channels-last images or [batch, features, seq] layouts).",
        fix="Move the 0 to the axis of the output that indexes neurons/channels, e.g. [-1, -1, 0] for "
        "[batch, seq, features] or [-1, 0, -1] for [batch, channels, length]: "
        "`GPA.pc.set_output_dimensions([...])`{output_dims_at}, or per module with `set_this_output_dimensions`.",
        doc=_doc("output-dimensions"),
        confidence=0.6,
    ),
    # ---------------------------------------------------------------- B. tuple outputs / processors
    Pattern(
        id="tuple-output-needs-processor",
        title="a perforated module returns a tuple: it needs a processor",
        category="processors",
        exception_types=["TupleOutputError"],
        signals=[
            r"'tuple' object has no attribute '(requires_grad|shape|size|dim|ndim|detach|grad_fn|to|device|dtype)'",
            r"is a tuple when it must be a single tensor",
            r"(returned|returns|output (is|was)) a (tuple|list|dict|ModelOutput)[^\n]{0,120}(processor|single tensor)",
            r"(needs|requires|register) a processor",
            r"not one tensor, so dendrite outputs cannot be added",
        ],
        facts=[
            FactRule(
                fact="processors_configured",
                equals=False,
                effect="confirms",
                note="the script registers no processor",
            )
        ],
        point_at=["perforate_model_line"],
        point_at_calls=["*_to_perforate", "*_with_processing"],
        cause="A perforated module (LSTM/GRU/MultiheadAttention/a transformer block) returns several tensors; "
        "dendrites can only be combined with ONE tensor.",
        fix="Before perforate_model, register a processor for that class: "
        "`GPA.pc.append_module_names_with_processing(['{module_type}'])` and "
        "`GPA.pc.append_module_by_name_processing_classes([LPA.MultiOutputProcessor])` (LSTM: "
        "`LPA.LSTMProcessor`); or perforate a level that returns a single tensor, or track the module "
        "instead: `GPA.pc.append_module_ids_to_track({module_ids})`.",
        doc=_doc("processors"),
        confidence=0.9,
    ),
    Pattern(
        id="processor-none-detach",
        title="the processor hands dendrites a tensor that is not used downstream",
        category="processors",
        signals=[r"'NoneType' object has no attribute 'detach'"],
        context=[r"processor|filter_?backward|dendrite|pai_core|perforatedai"],
        cause="The tensor a processor passes on for the dendrites is not the one the rest of the model uses "
        "(e.g. the LSTM hidden state instead of its output), so no gradient reaches it.",
        fix="Use the output the processor combines (e.g. the LSTM `output`, not `hidden`), or write a processor "
        "whose post_n1 returns the tensor that is used downstream.",
        doc=_doc("processors"),
        confidence=0.7,
    ),
    Pattern(
        id="processor-lists-misaligned",
        title="processor lists are misaligned",
        category="processors",
        signals=[r"list index out of range"],
        context=[
            r"processing_classes|processor|PAINeuronModule\.__init__|modules\.py\", line \d+, in __init__"
        ],
        cause="The class-name list and the processor-class list were appended out of step (or a by-name class "
        "went into the by-type list), so a module looks up a processor index that does not exist.",
        fix="Append in pairs, in the same order: `append_module_names_with_processing([...])` together with "
        "`append_module_by_name_processing_classes([...])` (by class: `append_modules_with_processing` + "
        "`append_modules_processing_classes`); processor classes must be defined at module top level.",
        doc=_doc("processors"),
        confidence=0.6,
    ),
    Pattern(
        id="parallel-lists-length",
        title="paired configuration lists have different lengths",
        category="processors",
        signals=[r"are parallel lists and must have the same length"],
        point_at=["perforate_model_line"],
        point_at_calls=["*with_processing", "*processing_classes", "*modules_to_replace", "*replacement_modules"],
        cause="Options that work in pairs (module classes + processor classes, modules_to_replace + "
        "replacement_modules) received a different number of entries.",
        fix="Append to both lists in the same call order, one entry each: "
        "`GPA.pc.append_modules_with_processing([nn.GRU])` with `GPA.pc.append_modules_processing_classes("
        "[GRUProcessor])`; likewise `append_modules_to_replace` with `append_replacement_modules`.",
        doc=_doc("processors"),
        confidence=0.9,
    ),
    Pattern(
        id="deepcopy-non-leaf",
        title="deepcopy fails on stored tensors (processor not cleared)",
        category="processors",
        signals=[
            r"Only Tensors created explicitly by the user \(graph leaves\) support the deepcopy protocol"
        ],
        cause="A processor still holds tensors from a forward pass when the model is copied (a custom processor "
        "without clear_processor, or a forward ran without its backward/optimizer step).",
        fix="Implement `clear_processor()` in custom processors; make every training forward end with backward "
        "and `optimizer.step()`; call `optimizer.zero_grad()` before add_validation_score.",
        doc=_doc("processors"),
        confidence=0.8,
    ),
    # ---------------------------------------------------------------- C. conversion / tracking / configuration
    Pattern(
        id="params-not-wrapped",
        title="some parameters are neither perforated nor tracked",
        category="conversion",
        exception_types=["UnwrappedParametersError"],
        signals=[
            r"(params|parameters) (are|were) not (tracked or wrapped|wrapped or tracked|wrapped|tracked)",
            r"not (tracked or wrapped|wrapped or tracked)",
            r"unwrapped_modules_confirmed",
            r"(unaccounted|untracked|unwrapped) param",
            r"neither in a perforated nor in a tracked module",
        ],
        point_at=["perforate_model_line"],
        cause="Parameters belong to modules that were neither converted nor tracked; upstream stops in the "
        "debugger here (a batch job hangs or dies with BdbQuit).",
        fix="Before perforate_model, track every remaining module (`GPA.pc.append_module_names_to_track([...])`, "
        "`append_module_ids_to_track(['.path'])`; bare parameters: `append_parameter_ids_to_track(['.param'])`). "
        "After auditing the list, `GPA.pc.set_unwrapped_modules_confirmed(True)`.",
        doc=_doc("module-selection"),
        confidence=0.85,
    ),
    Pattern(
        id="unwrapped-norm-layer",
        title="a normalization layer is left on its own",
        category="conversion",
        signals=[
            r"unwrapped normali[sz]ation layer",
            r"norm(alization)? ?layer that is not accounted for",
            r"Normali[sz]ation layers outside any perforated unit",
        ],
        point_at=["perforate_model_line"],
        cause="A BatchNorm/LayerNorm sits outside any perforated unit, so dendrites added to the layer before it "
        "bypass the normalization.",
        fix="Group the norm with the layer before it (`GPA.PAISequential([layer, norm])`) or perforate the "
        "enclosing block; or track it. After auditing: `GPA.pc.set_unwrapped_modules_confirmed(True)`.",
        doc=_doc("module-selection"),
        confidence=0.8,
    ),
    Pattern(
        id="param-type-missing",
        title="a parameter escaped conversion (model changed after perforate_model)",
        category="conversion",
        signals=[r"does not have parameter_type attribute", r"find_param_name_by_id"],
        point_at=["perforate_model_line"],
        cause="A parameter was created after perforate_model (new head, torch.compile, loading weights, a "
        "framework re-creating parameters) or belongs to a module that is neither tracked nor perforated.",
        fix="Finish every model edit before perforate_model and call it right before training; or list the "
        "parameter with `GPA.pc.append_parameter_ids_to_track(['.name'])`.",
        doc=_doc("module-selection"),
        confidence=0.8,
    ),
    Pattern(
        id="tracker-never-initialised",
        title="the tracker was never initialised",
        category="conversion",
        exception_types=["TrackerNotReadyError"],
        signals=[
            r"'list' object has no attribute '(set_optimizer\w*|setup_optimizer|add_\w+|set_scheduler|member_vars|save_graphs|\w+)'",
            r"call perforate_model\(?\)?[^\n]{0,20} first",
            r"no tracker (is )?(attached|initiali[sz]ed)",
            r"No tracker exists yet",
        ],
        context=[r"pai_tracker|perforat|tracker|set_optimizer|add_validation_score|setup_optimizer|PAI"],
        facts=[
            FactRule(
                fact="perforate_model_line",
                equals=None,
                effect="confirms",
                note="the script never calls perforate_model",
            )
        ],
        point_at=["perforate_model_line", "optimizer_line"],
        cause="`GPA.pai_tracker` is still a placeholder: perforate_model did not run before this tracker call "
        "(or ran on a path that converted no module).",
        fix="Call `{model} = UPA.perforate_model({model}, save_name=..., maximizing_score=...)` right after building "
        "the model and before any `GPA.pai_tracker.*` call; check that at least one module was converted "
        "(class names in module_names_to_perforate are exact, ids start with '.').",
        doc=_doc("integration"),
        confidence=0.85,
    ),
    Pattern(
        id="unknown-setter-ignored",
        title="a configuration call was silently ignored (unknown name)",
        category="api",
        exception_types=["UnknownOptionError"],
        signals=[
            r"Variable '(?P<setter>[\w]+)' does not exist\.?\s+Ignoring (set|append) attempt",
            r"config has no option '(?P<setter3>\w+)'",
            r"ignoring unknown option '(?P<setter4>\w+)'",
            r"(unknown|no such) (config(uration)? )?(option|setting|variable)[^\n]{0,10}'?(?P<setter2>\w+)'?",
        ],
        cause="`{setter}` is not an option of the installed version (typo or a renamed option): upstream ignores "
        "the call and runs with the default; pai_core refuses it.",
        fix="{setter_fix}",
        doc=_doc("configuration"),
        confidence=0.9,
        log_only=True,
    ),
    Pattern(
        id="module-id-format",
        title="module id does not use the '.path' form",
        category="conversion",
        exception_types=["InvalidModuleIdError"],
        signals=[
            r"must start with '\.'",
            r"must not contain '\[' or '\]'",
            r"should be '\.\w",
            r"invalid id '[^']*'\. Ids start with '\.'",
            r"must be a list of id strings",
            r"every id must be a string like",
            r"(module|parameter) id[^\n]{0,60}(start with a dot|leading '?\.'?|dot notation)",
        ],
        cause="Module and parameter ids are dotted paths from the root model with a leading dot and no brackets.",
        fix="Write ids like `'.layer1.0.conv1'` (model.layer1[0].conv1 -> '.layer1.0.conv1'){corrected_id}, "
        "always inside a list: `GPA.pc.append_module_ids_to_track(['.layer1.0.conv1'])`.",
        doc=_doc("module-selection"),
        confidence=0.95,
    ),
    Pattern(
        id="module-id-unknown",
        title="a module id or class name names nothing in the model",
        category="conversion",
        signals=[
            r"(module|parameter) ids? [^\n]{0,80}(not found|does not exist|do not exist|matched nothing|match no)",
            r"(no module|nothing) (named|matches|matched)[^\n]{0,40}'\.[\w.]*'",
            r"unknown module (id|name)",
        ],
        point_at=["perforate_model_line"],
        cause="An id/name in the perforate or track lists matches no module of the model (typo, or ids taken from "
        "a wrapped model with an extra prefix such as '.module').",
        fix="List the real ids with `[n for n, _ in model.named_modules()]`, prefix each with '.', and use them "
        "before perforate_model.",
        doc=_doc("module-selection"),
        confidence=0.8,
    ),
    Pattern(
        id="nothing-perforated",
        title="no module was perforated",
        category="conversion",
        signals=[
            r"(no|zero|0) modules? (were |was )?(perforated|converted|wrapped)",
            r"No perforated module could take a dendrite",
            r"No module was perforated",
            r"nothing (was|to) perforate",
            r"no module (matched|matches) (the )?perforat",
        ],
        point_at=["perforate_model_line"],
        point_at_calls=["*_to_perforate"],
        cause="None of the classes/ids in the perforate lists exist in the model, so there is nothing to add "
        "dendrites to.",
        fix="Use exact class names of your layers (`GPA.pc.set_module_names_to_perforate(['Linear', 'Conv2d'])`) or "
        "ids with a leading dot; subclasses do not match a parent's name.",
        doc=_doc("module-selection"),
        confidence=0.85,
    ),
    Pattern(
        id="duplicate-pointer",
        title="the same module is reachable under two names",
        category="conversion",
        signals=[
            r"duplicate pointer",
            r"(Keeping first|Skipping duplicate) pointer",
            r"shared module[^\n]{0,40}(two|several|multiple) (names|paths)",
        ],
        log_only=True,
        cause="One module object is referenced by two attributes (alias, shared head); only the first path is "
        "converted and saved.",
        fix="Usually harmless. To keep the other alias, add it to `GPA.pc.append_module_names_to_not_save(['.alias'])` "
        "before perforate_model. A module CALLED twice in forward needs a second copy.",
        doc=_doc("module-selection"),
        confidence=0.6,
    ),
    Pattern(
        id="perforated-twice",
        title="perforate_model applied to an already perforated model",
        category="conversion",
        signals=[
            r"not tracked or wrapped with main_module",
            r"already (been )?perforated",
            r"perforate_model (was )?called twice",
            r"PAIModule\(PAIModule",
        ],
        point_at=["perforate_model_line"],
        cause="The model was perforated twice (perforate_model inside a rebuild function, or after loading a "
        "perforated checkpoint), so wrappers wrap wrappers.",
        fix="Call perforate_model exactly once, right after building the model; never in the restructure branch.",
        doc=_doc("integration"),
        confidence=0.8,
    ),
    Pattern(
        id="wrapper-attribute",
        title="attribute looked up on the perforation wrapper",
        category="conversion",
        signals=[
            r"'(PAINeuronModule|PAINeuronLayer|TrackedNeuronModule|PAIModule|PAITrackedModule)' object has no attribute '(?P<attr>\w+)'"
        ],
        cause="The attribute lives on the wrapped module; names starting with '_' are not forwarded by the wrapper.",
        fix="Reach the original through `.main_module` (legacy `.mainModule`), e.g. `model.fc1.main_module.{attr}`.",
        doc=_doc("module-selection"),
        confidence=0.85,
    ),
    Pattern(
        id="backward-not-paiified",
        title="backward reached a module that was not converted properly",
        category="conversion",
        signals=[r"Trying to call backwards but module[^\n]{0,80}wasn'?t PAIified"],
        cause="A module triggered dendrite hooks without being converted correctly (built or registered in an "
        "unusual way).",
        fix="Store submodules as attributes or in nn.ModuleList/ModuleDict (not Python lists/dicts) and build the "
        "model completely before perforate_model.",
        doc=_doc("module-selection"),
        confidence=0.8,
    ),
    Pattern(
        id="configuration-not-confirmed",
        title="configuration not confirmed (non-interactive run)",
        category="api",
        signals=[
            r"configuration_confirmed",
            r"set_configuration_confirmed",
            r"(interactive|TUI|terminal UI)[^\n]{0,80}(not|non)[- ]?interactive",
            r"(no TTY|not a tty)[^\n]{0,80}(configur|perforat)",
        ],
        facts=[
            FactRule(
                fact="configuration_confirmed",
                equals=False,
                effect="confirms",
                note="the script never calls GPA.pc.set_configuration_confirmed(True)",
            )
        ],
        point_at=["perforate_model_line"],
        cause="Upstream 3.x opens an interactive configuration screen in perforate_model unless the configuration "
        "is confirmed; without a terminal (batch job, notebook, rank != 0) it raises.",
        fix="Add `GPA.pc.set_configuration_confirmed(True)` before perforate_model{perforate_at}.",
        doc=_doc("configuration"),
        confidence=0.85,
    ),
    Pattern(
        id="save-name-path",
        title="save_name contains a path or special characters",
        category="api",
        exception_types=["InvalidSaveNameError"],
        signals=[
            r"contains '/'\.? ?Relative paths are not implemented",
            r"contained spaces or special characters",
            r"save_name[^\n]{0,80}(must not contain|cannot contain|no path separators|'/')",
            r"save_name '[^']*' contains (a path separator|characters other than)",
        ],
        point_at=["perforate_model_line"],
        cause="save_name is a plain folder name created under the current directory; '/' is not supported and "
        "other characters are stripped.",
        fix="Pass a plain name (letters, digits, '_', '-', '.'), e.g. `save_name='run1'`, and run from the directory "
        "where outputs should go.",
        doc=_doc("run-files"),
        confidence=0.9,
    ),
    Pattern(
        id="pai-name-before-import",
        title="GPA / UPA used before they are imported",
        category="api",
        signals=[r"name '(?P<alias>GPA|UPA|PBG|PBU|PBM|gf|PA|TPA)' is not defined"],
        point_at=["used_before_import_lines", "import_lines"],
        cause="`{alias}` is used on a line that runs before the line importing it (the import sits below the "
        "first use, inside a function or `if` that did not run, or is missing).",
        fix="Put `from pai_core import globals_perforatedai as GPA` and `from pai_core import utils_perforatedai "
        "as UPA` (or the perforatedai modules) with the other imports at the top of the script, before any "
        "line that uses them.",
        doc=_doc("api-names"),
        confidence=0.9,
    ),
    Pattern(
        id="api-version-drift",
        title="names from an older API generation",
        category="api",
        signals=[
            r"has no attribute '(initialize_pai|initializePB|convertNetwork|addValidationScore|addExtraScore|addTestScore|setupOptimizer|setOptimizer|setOptimizerInstance|setThisInputDimensions|set_this_input_dimensions|mainModule|pbValueTracker|initialize_dendrites)'",
            r"module '(pb_globals|pb_utils|pb_models|pb_network|globalsFile)' has no attribute",
            r"pai maps the 2024 names in the README",
            r"positional arguments in the 2024 API|unexpected 2024 keyword argument",
            r"unexpected keyword argument '(demo_mode|demo_phase_steps|demo_sample_input|doingPB|saveName|maximizingScore|makingGraphs|input_dimensions)'",
            r"No module named '(pb_globals|pb_utils|pb_models|perforatedai\.pb_\w+|perforatedbp)'",
            r"(not enough|too many) values to unpack \(expected (3|4), got (4|3)\)",
        ],
        context=[
            r"initialize_pai|initializePB|convertNetwork|addValidationScore|setupOptimizer|mainModule|pbValueTracker|"
            r"PBG|PBU|demo_mode|add_validation_score|perforat|pb_|input_dimensions|initialize_dendrites|doingPB|2024"
        ],
        facts=[
            FactRule(
                fact="legacy_names",
                equals="nonempty",
                effect="confirms",
                note="the script uses names of an older API: {legacy_names}",
            )
        ],
        point_at=["legacy_name_lines"],
        cause="The script mixes names from an older (camelCase or mid-2025) API with the current one; renamed "
        "functions raise AttributeError, add_validation_score now returns 3 values (older addValidationScore "
        "returned 4), and repo-only options are unknown keywords.",
        fix="Use the current names: `UPA.perforate_model` (not initialize_pai/initializePB/convertNetwork), "
        "`GPA.pai_tracker.add_validation_score` returning `model, restructured, training_complete`, "
        "`setup_optimizer`, `set_output_dimensions`/`set_this_output_dimensions`, `main_module`, `*_to_perforate` "
        "lists. `pai migrate` rewrites a 2024-API script to the current names.",
        doc=_doc("api-names"),
        confidence=0.8,
    ),
    # ---------------------------------------------------------------- D. optimizer / scheduler
    Pattern(
        id="optimizer-not-rebuilt",
        title="optimizer not rebuilt after the model was restructured",
        category="optimizer",
        exception_types=["OptimizerNotRebuiltError"],
        signals=[
            r"'NoneType' object has no attribute 'param_groups'",
            r"(no optimizer|optimizer (is |was )?(not|never) (registered|set)|optimizer instance (is )?None)",
            r"rebuild the optimizer",
            r"set_optimizer_instance[^\n]{0,60}(after|every) (each )?restructur",
            r"new parameters[^\n]{0,200}did not change",
            r"dendrite (parameters|weights)[^\n]{0,60}(never|do not|don't) (change|move|train)",
        ],
        facts=[_NO_REBUILD, _REBUILDS],
        point_at=["restructure_branch_line", "optimizer_line", "add_validation_score_line"],
        cause="A restructure (add_validation_score returning restructured=True) adds new dendrite parameters; an "
        "optimizer built over model.parameters() before it keeps stepping only the old ones, so without a "
        "check the run ends normally with the dendrites untrained. pai_core raises at the next score when "
        "the optimizer it had registered was not replaced, and within an epoch or two when new parameters "
        "got gradients but did not change (a hand-built optimizer kept, or the old instance registered "
        "again). Upstream instead fails with 'NoneType' object has no attribute 'param_groups'.",
        fix="Rebuild exactly as at the start in the restructure branch, after `model, restructured, "
        "training_complete = GPA.pai_tracker.add_validation_score(score, model)`{validation_at}: "
        "`if restructured: optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optim_args, sched_args)` "
        "(or build it yourself and call `GPA.pai_tracker.set_optimizer_instance(optimizer)`){optimizer_at}.",
        doc=_doc("optimizer"),
        confidence=0.95,
    ),
    Pattern(
        id="set-optimizer-missing",
        title="setup_optimizer called before set_optimizer",
        category="optimizer",
        signals=[
            r"'list' object is not callable",
            r"'NoneType' object is not callable",
            r"(optimizer|scheduler) class (is )?(not set|missing|None)",
            r"call set_optimizer\(",
            r"set_optimizer\(\) (first|before)",
            r"set_optimizer\([^)]*\)[^\n]{0,60}before setup_optimizer",
        ],
        context=[r"setup_optimizer|setupOptimizer|set_optimizer|optimizer_class|optim"],
        point_at=["setup_optimizer_line"],
        cause="setup_optimizer builds the optimizer from the class given to set_optimizer, which was never called.",
        fix="Call `GPA.pai_tracker.set_optimizer(torch.optim.Adam)` (your class) and, with a scheduler, "
        "`GPA.pai_tracker.set_scheduler(...)` before `setup_optimizer`{setup_optimizer_at}.",
        doc=_doc("optimizer"),
        confidence=0.8,
    ),
    Pattern(
        id="setup-optimizer-unpack",
        title="unpacking setup_optimizer's result",
        category="optimizer",
        signals=[
            r"cannot unpack non-iterable \w+ object",
            r"not enough values to unpack \(expected 2, got 1\)",
            r"too many values to unpack \(expected 1\)",
        ],
        context=[
            r"setup_optimizer|setupOptimizer|non-iterable (Adam\w*|SGD|RMSprop|Adagrad|Adadelta|Adamax|NAdam|RAdam|LBFGS|\w*Optim\w*) object"
        ],
        point_at=["setup_optimizer_line"],
        cause="Upstream returns only the optimizer when no scheduler arguments are passed, but the script unpacks "
        "two values (or the other way round).",
        fix="Without a scheduler assign one value (`optimizer = GPA.pai_tracker.setup_optimizer(model, optim_args)`); "
        "with sched_args unpack two (`optimizer, scheduler = ...`).",
        doc=_doc("optimizer"),
        confidence=0.8,
    ),
    Pattern(
        id="optimizer-owns-no-perforated-params",
        title="the registered optimizer does not own the perforated parameters",
        category="optimizer",
        signals=[
            r"cannot access local variable 'learning_rate'",
            r"local variable 'learning_rate' referenced before assignment",
            r"optimizer[^\n]{0,80}(does not|doesn't) (own|contain|include)[^\n]{0,40}(perforated|dendrite|model)",
            r"optimizer has no param",
        ],
        point_at=["optimizer_line"],
        cause="The optimizer given to the tracker holds no parameters of the perforated model (built on another "
        "object, on an old model, or nothing was perforated).",
        fix="Build the optimizer from the returned model's parameters (`model.parameters()` AFTER perforate_model "
        "and after every restructure) and register it with `set_optimizer_instance` / `setup_optimizer`.",
        doc=_doc("optimizer"),
        confidence=0.75,
    ),
    Pattern(
        id="optimizer-wrong-class-args",
        title="tracker builds the optimizer with another optimizer's arguments",
        category="optimizer",
        signals=[
            r"__init__\(\) got an unexpected keyword argument '(momentum|betas|nesterov|amsgrad|eps|dampening|alpha|centered)'"
        ],
        context=[r"setup_optimizer|setupOptimizer|optim"],
        point_at=["setup_optimizer_line", "restructure_branch_line"],
        cause="Several optimizers with different argument sets are used; the tracker still holds the class given "
        "to the last set_optimizer call.",
        fix="Call `GPA.pai_tracker.set_optimizer(<class>)` right before each setup_optimizer, including as the first "
        "line of the restructure branch.",
        doc=_doc("optimizer"),
        confidence=0.75,
    ),
    Pattern(
        id="scheduler-past-horizon",
        title="a fixed-horizon scheduler ran past its end",
        category="optimizer",
        signals=[
            r"argument alpha must not be a complex number",
            r"Tried to step \d+ times\. The specified number of total steps is \d+",
        ],
        cause="Dendrite training extends the run beyond the horizon the scheduler (OneCycleLR, cosine with a "
        "total step count) was built for.",
        fix="Bound the run with fixed switching (`GPA.pc.set_switch_mode(GPA.pc.DOING_FIXED_SWITCH)`, "
        "`set_fixed_switch_num(n)`, `set_first_fixed_switch_num(n)` with your epoch count), or use "
        "ReduceLROnPlateau.",
        doc=_doc("optimizer"),
        confidence=0.8,
    ),
    Pattern(
        id="scheduler-stepped-twice",
        title="the scheduler is stepped twice (or never)",
        category="optimizer",
        signals=[
            r"Detected call of `lr_scheduler\.step\(\)` before `optimizer\.step\(\)`",
            r"scheduler[^\n]{0,40}stepped (twice|two times)",
        ],
        point_at=["scheduler_step_line", "setup_optimizer_line"],
        cause="With setup_optimizer + set_scheduler the tracker steps the scheduler inside add_validation_score "
        "(and fast-forwards a new one after a restructure); a `scheduler.step()` of your own steps it again. "
        "With set_optimizer_instance the tracker never steps it.",
        fix="Remove your `scheduler.step()` call{scheduler_step_at} when the scheduler comes from "
        "setup_optimizer; keep it when you register the optimizer with set_optimizer_instance.",
        doc=_doc("optimizer"),
        confidence=0.6,
    ),
    Pattern(
        id="stale-model-after-restructure",
        title="training continues on stale objects after a restructure",
        category="optimizer",
        signals=[
            r"(stops?|stopped) (learning|improving) after (a |the |each )?(restructure|switch|dendrite)",
            r"(optimizer|scheduler)[^\n]{0,60}(stale|was not rebuilt|not re-?registered|from before the restructure)",
            r"dendrites? (never|do not|don't) train",
        ],
        log_only=True,
        facts=[_NO_REBUILD, _REBUILDS],
        point_at=["restructure_branch_line", "add_validation_score_line", "optimizer_line"],
        cause="After a restructure the returned model is a different set of parameters; an optimizer, "
        "scheduler, EMA copy or `self.model` reference built before it keeps training the old ones.",
        fix="Always use the returned model (`model, restructured, training_complete = ...`), and when "
        "restructured rebuild optimizer, scheduler (and scaler/EMA) with one helper; return them from any "
        "validation helper.",
        doc=_doc("optimizer"),
        confidence=0.6,
    ),
    Pattern(
        id="split-across-optimizers",
        title="perforated modules split across several optimizers",
        category="optimizer",
        signals=[
            r"perforated (modules?|parameters?)[^\n]{0,60}(split|spread) across[^\n]{0,30}optimizers",
            r"additional_optimizers[^\n]{0,80}(must|should|cannot)",
        ],
        point_at=["set_optimizer_instance_line", "optimizer_line"],
        cause="Only the first (main) optimizer may own perforated modules; extra optimizers passed as "
        "additional_optimizers only get freeze handling.",
        fix="Give every perforated module's parameters to the main optimizer: "
        "`GPA.pai_tracker.set_optimizer_instance(main_opt, additional_optimizers=[other])`, and re-create the "
        "other optimizers yourself after each restructure.",
        doc=_doc("optimizer"),
        confidence=0.6,
    ),
    Pattern(
        id="scores-jump-at-switch",
        title="scores jump when a dendrite is added",
        category="tracker",
        signals=[r"(score|accuracy|loss)[^\n]{0,40}(jump|drop|spike)s?[^\n]{0,40}(switch|dendrite)"],
        log_only=True,
        cause="Expected: at a switch the best checkpoint is reloaded, so the curve continues from the best "
        "epoch, not from the last one.",
        fix="Nothing to fix; compare against the best score before the switch (best_arch_scores CSV).",
        doc=_doc("run-analysis"),
        confidence=0.45,
        informational=True,
    ),
    Pattern(
        id="weight-decay-warning",
        title="weight decay warning",
        category="optimizer",
        signals=[
            r"recommended to not use weight decay",
            r"optimizer uses weight decay",
            r"weight[_ ]decay[^\n]{0,60}(not recommended|discouraged)",
        ],
        log_only=True,
        point_at=["optimizer_line"],
        cause="Informational: weight decay can hold back new dendrites.",
        fix="Keep your arguments; if dendrites do not help, try without weight decay. Silence with "
        "`GPA.pc.set_weight_decay_accepted(True)`.",
        doc=_doc("optimizer"),
        confidence=0.5,
        informational=True,
    ),
    Pattern(
        id="pickle-local-object",
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
        doc=_doc("saving"),
        confidence=0.75,
    ),
    # ---------------------------------------------------------------- E. device / dtype / AMP / numerics
    Pattern(
        id="device-mismatch",
        title="tensors on different devices (usually after a restructure)",
        category="device",
        signals=[
            r"Expected all tensors to be on the same device",
            r"Input type \(\S*cuda\S*\) and weight type \(\S*(cpu|Float)\S*\)",
            r"Input type \([^)]*\) and weight type \([^)]*\) should be the same or input should be a MKLDNN",
            r"found at least two devices",
        ],
        facts=[
            FactRule(
                fact="to_device_after_validation",
                equals=False,
                effect="confirms",
                note="the script does not move the model to the device again after add_validation_score",
            )
        ],
        point_at=["add_validation_score_line", "perforate_model_line"],
        cause="The model returned by add_validation_score (reloaded, with new dendrites) or the dendrite tensors "
        "live on another device than the inputs: the library's device default, no `.to(device)` after a "
        "restructure, or tensors created on a device in __init__/forward.",
        fix="Right after `model, restructured, training_complete = GPA.pai_tracker.add_validation_score(...)`"
        "{validation_at} add `model = model.to(device)`; set the library device once: "
        "`GPA.pc.set_device(device)` before perforate_model.",
        doc=_doc("devices"),
        confidence=0.85,
    ),
    Pattern(
        id="value-tracker-no-device",
        title="optimizer step after a restructure before any forward",
        category="device",
        signals=[r"'(DendriteValueTracker|pbValueTracker|\w*ValueTracker)' object has no attribute 'device'"],
        cause="optimizer.step() ran right after a restructure before any forward/backward (seen with skorch) or with "
        "gradient checkpointing.",
        fix="Do one forward + backward after a restructure before stepping; disable gradient checkpointing.",
        doc=_doc("devices"),
        confidence=0.8,
    ),
    Pattern(
        id="dtype-mismatch",
        title="dendrite tensors have another dtype than the model",
        category="device",
        signals=[
            r"\(was torch\.\S*HalfTensor got torch\.\S*FloatTensor\)",
            r"Input type \(\S*Double\S*\) and weight type \(\S*Float\S*\)",
            r"expected (scalar type|m1 and m2 to have the same dtype)[^\n]*(Double|Half|BFloat16|Float)",
            r"mat1 and mat2 must have the same dtype",
        ],
        cause="Dendrite weights use the library dtype (float32 by default) while the model/input use another.",
        fix="Set the dtype before perforate_model, e.g. `GPA.pc.set_d_type(torch.double)`; or cast inputs and model "
        "to float32.",
        doc=_doc("devices"),
        confidence=0.7,
    ),
    Pattern(
        id="amp-scaler-no-inf-checks",
        title="AMP GradScaler sees no inf checks",
        category="device",
        signals=[r"No inf checks were recorded for this optimizer"],
        facts=[
            FactRule(
                fact="grad_scaler_line", equals="set", effect="confirms", note="the script uses a GradScaler"
            )
        ],
        point_at=["grad_scaler_line", "restructure_branch_line"],
        cause="The scaler's optimizer has no gradients that went through scaler.scale (dendrite parameters get "
        "their gradient from another backward, or the scaler belongs to a previous optimizer).",
        fix="Rebuild the GradScaler together with the optimizer in the restructure branch; in a dendrite-only phase "
        "step the optimizer without the scaler.",
        doc=_doc("amp"),
        confidence=0.85,
    ),
    Pattern(
        id="amp-scaler-type-changed",
        title="a loss-scaling utility changed a tensor's type after graph creation",
        category="device",
        signals=[r"has changed the type of value", r"(ApexScaler|NativeScaler)"],
        context=[r"type of value|Scaler"],
        point_at=["grad_scaler_line"],
        cause="timm/apex style loss scalers mutate tensors after the graph is built; dendrite copies are not updated.",
        fix="Disable that loss scaling for perforated training.",
        doc=_doc("amp"),
        confidence=0.6,
    ),
    Pattern(
        id="amp-scaler-type-error",
        title="GradScaler used with the wrong object",
        category="device",
        signals=[
            r"(GradScaler|scaler)[^\n]{0,80}(expected|must be)[^\n]{0,40}(Tensor|optimizer)",
            r"unscale_\(\) has already been called on this optimizer",
            r"Attempting to unscale FP16 gradients",
        ],
        point_at=["grad_scaler_line", "optimizer_line"],
        cause="The AMP scaler is used with an optimizer or tensors it does not expect (scaler kept from before a "
        "restructure, fp16 parameters).",
        fix="Create model parameters in float32, create the scaler together with the optimizer in one helper and "
        "call it again in the restructure branch.",
        doc=_doc("amp"),
        confidence=0.6,
    ),
    Pattern(
        id="rmsprop-centered-nan",
        title="NaN scores with centered RMSprop",
        category="device",
        signals=[r"centered\s*=\s*True"],
        context=[r"nan|NaN"],
        cause="Centered RMSprop is known to produce NaNs with dendrites.",
        fix="Use `centered=False` or another optimizer.",
        doc=_doc("optimizer"),
        confidence=0.5,
    ),
    Pattern(
        id="zero-or-nan-correlation",
        title="scores are zero, NaN or infinite",
        category="device",
        exception_types=["NonFiniteScoreError"],
        signals=[
            r"Didn'?t get any non zero scores or a score is nan or inf",
            r"entire layer got exactly 0 Correlation",
            r"(score|loss|validation)[^\n]{0,40}(is|was|became) -?(nan|inf)",
            r"non-?finite (score|loss|value)",
            r"has probably diverged",
        ],
        cause="Activations or weights overflow, a layer is dead, or the validation score itself is NaN.",
        fix="Add normalization, lower the learning rate, check that the layer is used and that the score passed to "
        "add_validation_score is finite.",
        doc=_doc("tracker"),
        confidence=0.7,
    ),
    Pattern(
        id="inplace-modification",
        title="an in-place operation broke the graph",
        category="device",
        signals=[r"modified by an inplace operation"],
        cause="`+=`-style math or inplace modules (ReLU(inplace=True)) overwrite tensors the dendrites' backward needs.",
        fix="Use out-of-place math (`x = x + y`) and `inplace=False` on ReLU/Dropout.",
        doc=_doc("debugging"),
        confidence=0.75,
    ),
    Pattern(
        id="backward-twice",
        title="backward through the graph a second time",
        category="device",
        signals=[r"Trying to backward through the graph a second time"],
        cause="A tensor from an earlier step (kept state, a cached hidden state, a module called twice) is reused in "
        "this step's graph.",
        fix="Detach carried state (`h = h.detach()`), do not reuse outputs across steps, and give a module used twice "
        "in forward its own copy.",
        doc=_doc("debugging"),
        confidence=0.7,
    ),
    # ---------------------------------------------------------------- F. multi-GPU
    Pattern(
        id="ddp-unused-parameters",
        title="DDP: parameters without gradients",
        category="distributed",
        signals=[
            r"Encountered gradient which is undefined, but still allreduced by DDP reducer",
            r"Expected to have finished reduction in the prior iteration",
            r"find_unused_parameters=True",
        ],
        facts=[
            FactRule(
                fact="ddp_line",
                equals="set",
                effect="confirms",
                note="the script wraps the model in DistributedDataParallel",
            )
        ],
        point_at=["ddp_line"],
        cause="Some parameters get no gradient in a step, which DDP does not allow by default. With pai_core every "
        "dendrite parameter gets a gradient in every phase, so the cause is the base model (an unused branch) or "
        "an old DDP wrapper around a restructured model; upstream's frozen dendrite scaffolding also causes it.",
        fix="Re-wrap after every restructure with `pai_core.distributed.wrap_ddp(ddp_model)`{ddp_at} (it keeps your "
        "DDP settings); if the base model really has unused branches, pass `find_unused_parameters=True` to the "
        "first DistributedDataParallel (wrap_ddp carries it over).",
        doc=_doc("distributed"),
        confidence=0.85,
    ),
    Pattern(
        id="multi-gpu-tracker-settings",
        title="tracker state missing in a multi-GPU run",
        category="distributed",
        signals=[
            r"object has no attribute 'normal_?[Pp]ass_?[Aa]verage_?[Dd]'",
            r"You must call save_tracker_settings before initialize_tracker_settings",
            r"array_dims\.csv",
        ],
        point_at=["dataparallel_line", "ddp_line", "add_validation_score_line"],
        cause="Dendrite statistics were never initialised in this process: the multi-GPU init pass "
        "(save_tracker_settings) did not run, a dendrite layer is unused in forward, or dendrites were added "
        "before any training step.",
        fix="Run the single-process init pass with the same save_name (`GPA.pai_tracker.save_tracker_settings()` "
        "after the first backward), then `initialize_tracker_settings()` before wrapping; do not call "
        "add_validation_score before the first training epoch.",
        doc=_doc("distributed"),
        confidence=0.8,
    ),
    Pattern(
        id="dataparallel-passed-to-tracker",
        title="the parallel wrapper was passed to add_validation_score",
        category="distributed",
        exception_types=["WrappedModelError"],
        signals=[
            r"Need to call \.module when using add validation score",
            r"(DataParallel|DistributedDataParallel|DDP|parallel wrapper)[^\n]{0,120}(pass|use|give)[^\n]{0,30}\.module",
            r"(pass|use|give)[^\n]{0,60}\.module[^\n]{0,80}(DataParallel|wrapper|add_validation_score)",
            r"add_validation_score[^\n]{0,40}got (a )?(torch\.nn\.)?(DataParallel|DistributedDataParallel)",
            r"add_validation_score got an? \w+ (wrapper|wrapping)",
            r"pass the bare model",
        ],
        facts=[_HAS_DP],
        point_at=["add_validation_score_line", "dataparallel_line", "ddp_line"],
        cause="The tracker must receive the bare perforated model, not the DataParallel/DDP wrapper (upstream also "
        "refuses any model with a submodule attribute literally named `module`).",
        fix="Pass the inner model and re-wrap the result{validation_at}: {unwrapped_validation}.",
        doc=_doc("distributed"),
        confidence=0.9,
    ),
    Pattern(
        id="ddp-resume-off-by-one",
        title="DDP resume right after a switch fails",
        category="distributed",
        signals=[r"list index out of range"],
        context=[r"rank\d|torchrun|DistributedDataParallel|load_system|latest"],
        cause="Resuming from `latest` right after a switch reads records that are one epoch off.",
        fix="Resume from the newest `switch_N` checkpoint: `UPA.load_system(model, save_name, 'switch_N', True)`.",
        doc=_doc("distributed"),
        confidence=0.45,
    ),
    Pattern(
        id="legacy-pai-dataparallel",
        title="old multi-GPU API (PAIDataParallel)",
        category="distributed",
        signals=[r"not using PAIDataParallel", r"PAIDataParallel did not call gather"],
        cause="A message of the old multi-GPU path.",
        fix="Use the save_tracker_settings / initialize_tracker_settings flow, or one GPU (`CUDA_VISIBLE_DEVICES=0`).",
        doc=_doc("distributed"),
        confidence=0.7,
    ),
    Pattern(
        id="ddp-stale-wrapper",
        title="DDP wrapper not re-applied (or misapplied) around the perforated model",
        category="distributed",
        exception_types=["StaleWrapperError"],
        signals=[
            r"DDP wrapper whose model was restructured",
            r"wrap_ddp (needs an initialized process group|got an nn\.DataParallel)",
            r"make_optimizer must return",
            r"Resume the bare perforated model",
            r"Expected the perforated nn\.Module \(or its DDP wrapper\)",
        ],
        point_at=["add_validation_score_line", "ddp_line"],
        cause="After a restructure the old DDP wrapper does not know the new dendrite parameters (their gradients "
        "would not be synchronised), or the pai_core.distributed helpers got something other than the bare "
        "perforated model inside an initialised process group.",
        fix="In the `elif restructured:` branch re-wrap before rebuilding the optimizer: `ddp_model = "
        "pai_core.distributed.wrap_ddp(ddp_model)` (or `ddp_model, optimizer = rewrap_ddp(ddp_model, "
        "make_optimizer)`); perforate and resume the bare model before the first wrap.",
        doc=_doc("distributed"),
        confidence=0.9,
    ),
    Pattern(
        id="ddp-ranks-disagree",
        title="ranks of a DDP job disagree (an error on one rank, different weights or models)",
        category="distributed",
        exception_types=["DistributedError"],
        signals=[
            r"Rank \d+ raised \w+",
            r"parameters differ between ranks",
            r"perforated modules, rank 0 has",
        ],
        point_at=["add_validation_score_line", "ddp_line"],
        cause="add_validation_score is collective under torch.distributed: one rank failed (the message names "
        "it and its error), or the replicas drifted apart because some rank trained the bare model instead of "
        "the DDP wrapper, or the ranks perforated different models.",
        fix="Fix the named rank's error first; train only through the DDP wrapper, re-wrap after every restructure "
        "(pai_core.distributed.wrap_ddp) and perforate the same model with the same settings on every rank.",
        doc=_doc("distributed"),
        confidence=0.85,
    ),
    # ---------------------------------------------------------------- G. tracker / scores / training control
    Pattern(
        id="extra-score-after-validation",
        title="extra score added after the validation score",
        category="tracker",
        signals=[r"list index out of range"],
        context=[r"save_graphs|write_run_files|run_files|graph"],
        point_at=["add_validation_score_line"],
        cause="add_extra_score/add_test_score ran after add_validation_score in that epoch, so the score lists have "
        "different lengths when the graphs are written.",
        fix="Call every `add_extra_score` / `add_test_score` of an epoch BEFORE `add_validation_score`{validation_at}.",
        doc=_doc("tracker"),
        confidence=0.7,
    ),
    Pattern(
        id="save-name-none",
        title="save_name is None",
        category="tracker",
        signals=[
            r"stat: path should be string, bytes, os\.PathLike or integer, not NoneType",
            r"save_name[^\n]{0,40}(must be a (non-empty )?str|is None|got None)",
        ],
        point_at=["perforate_model_line"],
        cause="perforate_model got `save_name=None` (typically an argparse option without a default).",
        fix="Pass a string: `UPA.perforate_model(model, save_name='run1', ...)` or give the argparse option a default.",
        doc=_doc("run-files"),
        confidence=0.85,
    ),
    Pattern(
        id="score-not-scalar",
        title="the score passed to the tracker is not a number",
        category="tracker",
        exception_types=["InvalidScoreError"],
        signals=[
            r"Scores added for add_validation_score should be float, int, or tensor",
            r"score[^\n]{0,60}(must be|should be) (a )?(float|number|scalar|real number)",
            r"(one|a single) element tensors can be converted to Python scalars",
            r"float\(\) argument must be a string or a (real )?number, not '(dict|list|tuple|NoneType)'",
            r"score is an? (bool|dict|list|tuple|tensor of shape)",
            r"score (is a \w+ of \d+ values|has type \w+)",
            r"pass (one|the single) number",
        ],
        context=[r"score|add_validation_score|add_extra_score"],
        point_at=["add_validation_score_line"],
        cause="A dict, list or multi-element tensor (e.g. a metrics dict) was passed where one number is needed.",
        fix="Pass one scalar{score_key}, e.g. `metrics['eval_accuracy']` or `acc.item()`, to "
        "add_validation_score/add_extra_score.",
        doc=_doc("tracker"),
        confidence=0.85,
    ),
    Pattern(
        id="switch-mode-invalid",
        title="invalid switch mode",
        category="tracker",
        signals=[
            r"A switch mode must be set",
            r"Unknown switch_mode",
            r"switch_mode[^\n]{0,80}(must be one of|invalid|not a valid)",
        ],
        cause="switch_mode holds a value that is not one of the four modes.",
        fix="Use `GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)` (or DOING_FIXED_SWITCH, DOING_SWITCH_EVERY_TIME, "
        "DOING_NO_SWITCH).",
        doc=_doc("configuration"),
        confidence=0.9,
    ),
    Pattern(
        id="no-new-best",
        title="new best scores never register",
        category="tracker",
        signals=[r"Not saving new best because"],
        log_only=True,
        cause="The improvement threshold is too strict for this score scale or maximizing_score is wrong "
        "(a loss with maximizing_score=True never improves).",
        fix="Pass `maximizing_score=False` for losses/errors; relax the threshold, e.g. "
        "`GPA.pc.set_improvement_threshold([0.0001, 0.0])`.",
        doc=_doc("tracker"),
        confidence=0.6,
    ),
    Pattern(
        id="dendrites-never-added",
        title="dendrites were never added",
        category="tracker",
        signals=[
            r"noImprove_lr",
            r"(no|zero|0) dendrites (were |have been )?added",
            r"switch_epochs\.csv[^\n]{0,40}empty",
            r"dendrites never (added|grew)",
            r"never add(ed|s)? (a |any )?dendrites?",
            r"Returning False - ",
        ],
        absent=[
            r"Returning True",
            r"Switching back to N",
            r"Dendrites successfully integrated",
            r"Successfully added \d+ dendrites",
            r"Importing best Model for switch",
            r"Traceback \(most recent call last\)",
        ],
        log_only=True,
        facts=[
            _NO_VALIDATION,
            FactRule(
                fact="while_true_loop",
                equals=False,
                effect="confirms",
                note="the training loop is a fixed `for ... in range(...)`, so it can end before a plateau",
            ),
        ],
        point_at=["add_validation_score_line", "for_range_loop_line"],
        cause="No switch ever happened: add_validation_score is not called every epoch, the loop ends (fixed "
        "range) before the score plateaus for n_epochs_to_switch epochs, or the model is too large to plateau.",
        fix="Call `GPA.pai_tracker.add_validation_score(score, model)` once per epoch and loop `while True:` until "
        "training_complete; bound time with `GPA.pc.set_switch_mode(GPA.pc.DOING_FIXED_SWITCH)` + "
        "`set_fixed_switch_num(n)` or `set_max_dendrites(n)`; lower `set_n_epochs_to_switch`.",
        doc=_doc("run-analysis"),
        confidence=0.75,
    ),
    Pattern(
        id="capacity-test-succeeded",
        title="capacity test passed: the integration works",
        category="success",
        signals=[
            r"Successfully added \d+ dendrites",
            r"capacity test (passed|succeeded|complete)",
            r"set_testing_dendrite_capacity\(True\)[^\n]{0,40}You may now set that to False",
        ],
        log_only=True,
        informational=True,
        facts=[
            FactRule(
                fact="capacity_test",
                equals=False,
                effect="rules_out",
                note="the script already sets the capacity test to False",
            )
        ],
        point_at=["capacity_test_line", "perforate_model_line"],
        cause="Not an error. The default capacity test adds dendrites every epoch and stops after three to prove the "
        "integration works; the run stopped because the test succeeded.",
        fix="Now run the real experiment: `GPA.pc.set_testing_dendrite_capacity(False)`{capacity_at} before "
        "perforate_model, then run again.",
        doc=_doc("capacity-test"),
        confidence=0.95,
    ),
    Pattern(
        id="training-complete-normal",
        title="training finished normally",
        category="success",
        signals=[
            r"did not improve system and \d+ > \d+ so returning training_?complete",
            r"You should now exit your training loop",
            r"Max dendrites reached",
            r"Last Dendrites were good and this hit the max",
            r"training_complete(d)? ?(=|is|returned) ?True",
        ],
        log_only=True,
        informational=True,
        cause="Not an error: the last dendrite attempts did not beat the best score (or the dendrite limit was "
        "reached), so the tracker returned training_complete and reloaded the best model.",
        fix="Use the returned model (best_model). If it stopped too early, raise `GPA.pc.set_max_dendrite_tries(n)` "
        "or `set_max_dendrites(n)`, or relax `set_improvement_threshold`.",
        doc=_doc("tracker"),
        confidence=0.6,
    ),
    Pattern(
        id="lr-search-lock",
        title="switches blocked by the learning-rate search",
        category="tracker",
        signals=[r"learning rate optimization in progress"],
        log_only=True,
        point_at=["setup_optimizer_line"],
        cause="After a dendrite the tracker waits for the scheduler to lower the learning rate before it allows the "
        "next switch; a scheduler that never lowers it (long StepLR, constant LR) blocks switching forever.",
        fix="Use a scheduler that lowers the LR within a phase (ReduceLROnPlateau with patience below "
        "n_epochs_to_switch), or `GPA.pc.set_find_best_lr(False)` / "
        "`GPA.pc.set_dont_give_up_unless_learning_rate_lowered(False)`.",
        doc=_doc("optimizer"),
        confidence=0.8,
    ),
    Pattern(
        id="results-worse-with-dendrites",
        title="scores got worse after dendrites were added",
        category="tracker",
        signals=[
            r"(worse|lower|dropped|decreas\w+)[^\n]{0,60}after (the )?(dendrites?|switch)",
            r"dendrites?[^\n]{0,40}(made|make)[^\n]{0,20}worse",
        ],
        log_only=True,
        facts=[
            FactRule(
                fact="maximizing_score",
                equals=None,
                effect="confirms",
                note="maximizing_score is not passed; the default True is wrong for losses",
            )
        ],
        point_at=["perforate_model_line"],
        cause="Usually maximizing_score does not match the metric (or the score is negated), a wrapped Softmax "
        "feeds NLL, or the model overfits.",
        fix="Pass the raw metric with the right `maximizing_score` (False for losses); keep Softmax outside the "
        "perforated modules; regularize.",
        doc=_doc("run-analysis"),
        confidence=0.5,
    ),
    Pattern(
        id="ema-stale-copy",
        title="EMA/shadow model out of date after restructure",
        category="tracker",
        signals=[r"(ema|EMA|shadow|swa)[^\n]{0,80}(size mismatch|Missing key|Unexpected key|shape)"],
        cause="The EMA copy was made before perforate_model or not re-created after a restructure.",
        fix="Create the EMA model after perforate_model and re-create it in the restructure branch.",
        doc=_doc("integration"),
        confidence=0.55,
    ),
    # ---------------------------------------------------------------- H. memory
    Pattern(
        id="out-of-memory",
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
        doc=_doc("memory"),
        confidence=0.6,
    ),
    Pattern(
        id="docker-shm",
        title="shared memory / libGL in containers",
        category="environment",
        signals=[
            r"libGL\.so\.1",
            r"(bus error|shared memory)[^\n]{0,60}(shm|DataLoader|worker)",
            r"DataLoader worker \(pid \d+\) is killed by signal: Bus error",
        ],
        cause="Docker's default shared memory is too small for DataLoader workers, or a GL library is missing.",
        fix="Run the container with `--shm-size=8g`; install `libgl1` (or use `num_workers=0`).",
        doc=_doc("environment"),
        confidence=0.7,
    ),
    # ---------------------------------------------------------------- I. saving / loading
    Pattern(
        id="parametrized-serialization",
        title="parametrized modules cannot be pickled",
        category="saving",
        signals=[r"Serialization of parametrized modules is only supported through state_dict"],
        cause="weight_norm/parametrize modules cannot be saved with torch.save of the whole module.",
        fix="Keep safetensors saving on: `GPA.pc.set_using_safe_tensors(True)`.",
        doc=_doc("saving"),
        confidence=0.9,
    ),
    Pattern(
        id="safetensors-shared-tensors",
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
        doc=_doc("saving"),
        confidence=0.9,
    ),
    Pattern(
        id="load-order-keyerror",
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
        doc=_doc("saving"),
        confidence=0.75,
    ),
    Pattern(
        id="load-before-perforate",
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
        doc=_doc("saving"),
        confidence=0.9,
    ),
    Pattern(
        id="state-dict-key-mismatch",
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
        doc=_doc("saving"),
        confidence=0.8,
    ),
    Pattern(
        id="storage-shape-missing",
        title="dendrite storage shape missing from the checkpoint",
        category="saving",
        signals=[r"missing from the state dict[^\n]{0,80}dendrite_storage_shape", r"dendrite_storage_shape"],
        cause="A perforated module never ran (no shape recorded), the model changed after perforation, the model "
        "given to perforate_model and to add_validation_score differ (prefix), or two runs share one save_name.",
        fix="Make every perforated module run forward+backward before saving (track unused ones), finish model edits "
        "before perforate_model, pass the same object everywhere, and use a unique save_name per concurrent run.",
        doc=_doc("saving"),
        confidence=0.85,
    ),
    Pattern(
        id="whole-model-pickle",
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
        doc=_doc("saving"),
        confidence=0.88,
    ),
    Pattern(
        id="load-attempts-failed",
        title="every attempt to load the checkpoint failed",
        category="saving",
        signals=[r"All four load attempts failed"],
        cause="The checkpoint pickles objects that cannot be restored (bound methods stored as module attributes, "
        "classes that moved), or torch.load's weights_only refuses them.",
        fix="Remove method-valued attributes from modules (or implement __getstate__/__setstate__) and keep "
        "safetensors saving on.",
        doc=_doc("saving"),
        confidence=0.8,
    ),
    # ---------------------------------------------------------------- J. environment / library behaviour
    Pattern(
        id="missing-package",
        title="a package the script imports is not installed (not a pai problem)",
        category="environment",
        exception_types=["ModuleNotFoundError"],
        signals=[r"No module named '(?!pai_core|perforatedai|pb_|perforatedbp)(?P<package>[\w]+)[\w.]*'"],
        cause="The script imports `{package}`, which is not installed in this Python environment. This is not "
        "caused by pai or the dendrite integration.",
        fix="Install it in the environment that runs the script (`pip install {package}`; the PyPI name can differ "
        "from the import name), or remove the import if the script does not need it.",
        doc=_doc("environment"),
        confidence=0.9,
    ),
    Pattern(
        id="no-cuda",
        title="the script asks for a GPU this machine does not have (not a pai problem)",
        category="environment",
        signals=[r"Torch not compiled with CUDA enabled", r"Found no NVIDIA driver",
                 r"Attempting to deserialize object on a CUDA device but torch\.cuda\.is_available\(\) is False"],
        cause="The script moves tensors or the model to CUDA, but this torch build or machine has no GPU. This is "
        "not caused by pai.",
        fix="Pick the device at run time: `device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')` "
        "and use it everywhere (`torch.load(..., map_location=device)` for checkpoints).",
        doc=_doc("environment"),
        confidence=0.85,
    ),
    Pattern(
        id="pdb-prompt",
        title="the run stopped in the debugger",
        category="environment",
        exception_types=["BdbQuit"],
        signals=[r"^\(Pdb\)", r"\bBdbQuit\b", r"Type 'c' \+ enter to continue", r"Press enter to confirm"],
        log_only=True,
        cause="Upstream stops in pdb on many checks (unwrapped parameters, tuple outputs, modules without gradient, "
        "load failures, DataParallel passed); in a batch job this hangs or ends with BdbQuit. The message just "
        "above the prompt is the real problem.",
        fix="Read the message printed right before `(Pdb)` (pai diagnose ranks it above this entry); "
        "pai_core raises exceptions instead of opening pdb.",
        doc=_doc("debugging"),
        confidence=0.55,
    ),
    Pattern(
        id="silent-exit",
        title="the script ended early without a traceback",
        category="environment",
        signals=[
            r"SystemExit: (0|-1|1)\b",
            r"exit(ed)? with (code|status) 0[^\n]{0,60}(no|without) (error|output)",
            r"all input dim problems now printed",
        ],
        cause="Upstream calls sys.exit after printing some errors (output dimensions, '/' in save_name): exit code 0 "
        "does not mean success.",
        fix="Look for the message printed just before the exit (output dimensions are the usual cause) and fix it; "
        "`GPA.pc.set_debugging_output_dimensions(1)` prints every dimension problem at once.",
        doc=_doc("debugging"),
        confidence=0.5,
    ),
    Pattern(
        id="hf-trainer-no-effect",
        title="HF Trainer: dendrites have no effect",
        category="api",
        signals=[r"unexpected keyword argument 'using_perforatedai'", r"set_library_validation_score"],
        cause="Stock transformers does not know the perforated Trainer flag, or the metric key does not match "
        "(`eval_` prefix).",
        fix="Drop `using_perforatedai=` and add `pai_core.integrations.huggingface.PAITrainerCallback()` to "
        "`Trainer(callbacks=[...])` (`pai perforate` does both); it feeds `metrics['eval_<metric_for_best_model>']` "
        "to the tracker at each evaluation.",
        doc="pai://skills/pai-hf-trainer",
        confidence=0.6,
    ),
    Pattern(
        id="export-model-spec",
        title="pai export / load_for_inference: the architecture to load the weights into is not given right",
        category="api",
        exception_types=["ModelSpecError"],
        signals=[
            r"architecture must be built in code",
            r"is not of the form SOURCE:NAME",
            r"Pass the keyword arguments the model was built with",
        ],
        cause="A checkpoint holds weights only, so exporting needs a callable that builds the plain model "
        "(`FILE.py:NAME` or `package.module:NAME`) and the keyword arguments it was built with.",
        fix="Pass `--model path/to/model.py:build_model` (and `--model-kwargs '{...}'`), pointing at a file whose "
        "import does not start training (training under `if __name__ == '__main__':`).",
        doc="pai://skills/pai-deployment",
        confidence=0.85,
    ),
    Pattern(
        id="export-failed",
        title="pai export: an export format is unavailable or the model does not export",
        category="api",
        exception_types=["ExportError"],
        signals=[
            r"ONNX export needs the onnx package",
            r"Give the shape of every model input",
            r"Input shape .* must be a list of positive sizes",
            r"Unknown (input dtype|export format)",
            r"does not run on example inputs of shapes",
            r"\w+ export of \w+ failed",
            r"The exported model returned \d+ tensors",
        ],
        cause="The export needs an example input batch of the right shape and dtype, the optional export "
        "packages, or a model the chosen format can capture.",
        fix="Give `--input-shape` for every input (batch first, `--input-dtype int64` for token ids), install "
        "`pai[export]` for ONNX, try another `--format` or `--no-fuse`; the message names the failing step.",
        doc="pai://skills/pai-deployment",
        confidence=0.8,
    ),
    Pattern(
        id="framework-callback-setup",
        title="HF Trainer / Lightning callback: the run is not set up for dendrites",
        category="api",
        exception_types=["IntegrationError"],
        signals=[
            r"PAI(Trainer|Lightning)Callback (tracks|monitors|grows|got no model)",
            r"pai_core\.integrations\.\w+ needs (transformers|lightning)",
            r"Trainer has no optimizer at train begin",
            r"Perforating wrapped the model's root",
            r"tracker returned a different model object",
            r"model was perforated with maximizing_score=\w+, but the tracked metric",
            r"config must be a pai_core PAIConfig",
            r"mode must be 'min' or 'max'",
        ],
        cause="PAITrainerCallback / PAILightningCallback cannot grow dendrites with this setup: the tracked metric "
        "is not produced, the framework is missing, evaluation is off, or the model was perforated in a way the "
        "framework cannot see.",
        fix="Follow the message: log/return the tracked metric, set eval_strategy='epoch', install "
        "`pai[frameworks]`, let the callback perforate (or use the same direction), keep the root class out of "
        "module_names_to_perforate.",
        doc="pai://skills/pai-hf-trainer",
        confidence=0.8,
    ),
    Pattern(
        id="lightning-sanity-check",
        title="Lightning: tracker called during the sanity check",
        category="api",
        signals=[r"sanity[_ ]check"],
        context=[r"add_validation_score|pai_tracker|dendrite"],
        cause="Lightning runs validation before any training; calling add_validation_score there adds dendrites "
        "before any gradient.",
        fix="Skip the tracker while `self.trainer.sanity_checking` is True.",
        doc=_doc("frameworks"),
        confidence=0.65,
    ),
    # ---------------------------------------------------------------- pai_core's own errors
    Pattern(
        id="config-attribute-access",
        title="a configuration value read or written as a plain attribute",
        category="api",
        signals=[
            r"GPA\.pc has no attribute '(?P<attr>\w+)'",
            r"'(PAIConfig|ConfigFacade)' object has no attribute '(?P<attr2>\w+)'",
        ],
        cause="Options are reached through methods: `GPA.pc.get_<option>()`, `set_<option>(value)`, "
        "`append_<option>([...])`; `{attr}` is neither such a method nor a constant.",
        fix="Write `GPA.pc.set_<option>(value)` / `GPA.pc.get_<option>()` (constants such as "
        "`GPA.pc.DOING_HISTORY` are plain attributes); the configuration reference lists every option.",
        doc=_doc("configuration"),
        confidence=0.85,
    ),
    Pattern(
        id="api-name-unknown",
        title="a name that the library does not have",
        category="api",
        signals=[
            r"module '(pai_core|perforatedai)[\w.]*' has no attribute '(?P<name>\w+)'",
            r"cannot import name '(?P<name2>\w+)' from '(pai_core|perforatedai)[\w.]*'",
        ],
        point_at=["legacy_name_lines"],
        cause="The script uses a function or module name that this version of the library does not provide "
        "(a typo, a name from another release, or an upstream-only feature).",
        fix="Check the spelling against the API reference; the usual entry points are `UPA.perforate_model`, "
        "`GPA.pc.set_*`, `GPA.pai_tracker.setup_optimizer` / `set_optimizer_instance` / `add_validation_score`, "
        "`UPA.load_system`.",
        doc=_doc("api-names"),
        confidence=0.7,
    ),
    Pattern(
        id="config-value-invalid",
        title="a configuration option got a value of the wrong kind",
        category="api",
        exception_types=["InvalidOptionValueError", "NotAListOptionError"],
        signals=[
            r"holds a single value, not a list; use set_",
            r"append_\w+ takes a list",
            r"unknown dtype '?[\w.]+'?",
            r"pai_forward_function must be callable",
            r"unwrapped_params_action must be",
            r"validation errors? for PAIConfig",
            r"Input should be a valid (integer|number|boolean|list)[^\n]{0,80}",
            r"cannot import '[\w.]+'",
        ],
        context=[r"PAIConfig|GPA\.pc|pai_core|set_\w+|append_\w+|config"],
        cause="The setter received a value that option cannot hold (append_ on a scalar option, a scalar "
        "where a list is needed, an unknown dtype/device name, a non-callable activation).",
        fix="Use `set_X(value)` for single values and `append_X([values])` only for list options; dtypes as "
        "`torch.float32`, activations as callables (`torch.sigmoid`). The configuration reference gives each "
        "option's type.",
        doc=_doc("configuration"),
        confidence=0.8,
    ),
    Pattern(
        id="config-file-invalid",
        title="the config JSON file cannot be used",
        category="api",
        exception_types=["ConfigFileError"],
        signals=[
            r"config file '[^']*' (does not exist|is not valid JSON|must hold a JSON object|: option)",
            r"config file[^\n]{0,120}unusable value",
        ],
        cause="`config_file=` / `load_config_file` points at a missing, malformed or hand-edited JSON file.",
        fix="Pass the path of a `<save_name>_config.json` written by an earlier run (or fix the named key); "
        "settings made in the script always win over the file.",
        doc=_doc("configuration"),
        confidence=0.9,
    ),
    Pattern(
        id="output-dims-channels-changed",
        title="the module's channel count changed after dendrites were added",
        category="shapes",
        signals=[r"has dendrites for \d+ channels but its output", r"along the neuron axis"],
        context=[r"dendrite|set_this_output_dimensions"],
        point_at=["output_dimensions_line", "perforate_model_line"],
        cause="Dendrites were sized for one channel count, but the module now outputs another along the neuron "
        "axis: output_dimensions were changed after dendrites existed, or the module was replaced/resized "
        "after perforate_model.",
        fix="Set output dimensions (`{module_attr}.set_this_output_dimensions([...])`) right after perforate_model "
        "and before any training; do not modify the model after perforating it.",
        doc=_doc("output-dimensions"),
        confidence=0.85,
    ),
    Pattern(
        id="processor-mismatch",
        title="the registered processor does not fit the module's output",
        category="processors",
        exception_types=["ProcessorError"],
        signals=[
            r"\b\w*Processor\.\w+ for module '[^']*' returned \w+, but it must return",
            r"expects the module to return a non-empty tuple",
            r"processor[^\n]{0,60}(must return|returned)[^\n]{0,40}(single|one) tensor",
        ],
        cause="A processor was registered for a module whose output it does not understand (a tuple processor "
        "on a module returning one tensor, or a custom processor returning several tensors).",
        fix="Register processors only for classes that return tuples, in matching pairs "
        "(`append_modules_with_processing([Cls])` + `append_modules_processing_classes([Proc])`), and make "
        "post_n1/post_d return one tensor.",
        doc=_doc("processors"),
        confidence=0.85,
    ),
    Pattern(
        id="not-a-module",
        title="something that is not an nn.Module was wrapped",
        category="conversion",
        signals=[
            r"(PAINeuronModule|TrackedNeuronModule) wraps an nn\.Module",
            r"perforate_model (needs|expects|takes) an? (torch\.)?nn\.Module",
        ],
        point_at=["perforate_model_line"],
        cause="perforate_model or a wrapper received a non-module (a class instead of an instance, a function, "
        "a list of layers).",
        fix="Pass the built model object: `model = UPA.perforate_model(Net(), ...)` (an instance); keep layers in "
        "nn.ModuleList.",
        doc=_doc("integration"),
        confidence=0.85,
    ),
    Pattern(
        id="already-wrapped-for-parallel",
        title="perforate_model got a DataParallel/DDP-wrapped model",
        category="distributed",
        exception_types=["ConversionError"],
        signals=[
            r"(already|is) wrapped in (DataParallel|DistributedDataParallel|DDP)",
            r"perforate_model got an? (DataParallel|DistributedDataParallel|\w*Parallel\w*)",
            r"perforate_model[^\n]{0,80}(DataParallel|DistributedDataParallel|wrapper)[^\n]{0,60}(first|bare)",
        ],
        point_at=["perforate_model_line", "dataparallel_line", "ddp_line"],
        cause="The model was wrapped for data parallel training before perforate_model.",
        fix="Perforate the bare model first, then wrap{perforate_at}{wrap_at}: `{model} = UPA.perforate_model({model}, ...)`, "
        "`{model} = {model}.to(device)`, then `{model} = torch.nn.DataParallel({model})` / "
        "`DistributedDataParallel({model}, find_unused_parameters=True)`.{wrapped_validation}",
        doc=_doc("distributed"),
        confidence=0.9,
    ),
    Pattern(
        id="validation-args-swapped",
        title="add_validation_score got its arguments in the wrong order",
        category="tracker",
        signals=[r"Expected the perforated nn\.Module as second argument"],
        point_at=["add_validation_score_line"],
        cause="The second argument of add_validation_score must be the model; the call passes something else "
        "(arguments swapped, or the optimizer/score passed instead).",
        fix="Call `model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, model)`"
        "{validation_at}.",
        doc=_doc("tracker"),
        confidence=0.9,
    ),
    Pattern(
        id="optimizer-instance-type",
        title="set_optimizer_instance got something that is not an optimizer",
        category="optimizer",
        signals=[r"set_optimizer_instance expects a torch\.optim\.Optimizer, got (?P<got>\w+)"],
        point_at=["set_optimizer_instance_line", "optimizer_line"],
        cause="set_optimizer_instance received {got} instead of the optimizer object (often the "
        "(optimizer, scheduler) tuple, or the optimizer class).",
        fix="Pass the optimizer instance: `optimizer = torch.optim.Adam(model.parameters(), lr=...)` then "
        "`GPA.pai_tracker.set_optimizer_instance(optimizer)`; classes go to `set_optimizer(...)` instead.",
        doc=_doc("optimizer"),
        confidence=0.9,
    ),
    Pattern(
        id="optimizer-args",
        title="setup_optimizer got unusable parameters",
        category="optimizer",
        signals=[
            r"setup_optimizer needs optim_args\['params'\]",
            r"mixes tensors and param-group dicts",
            r"optimizer got an empty parameter list",
        ],
        point_at=["setup_optimizer_line"],
        cause="The optimizer arguments hold no parameters, or mix tensors and param-group dicts (an empty list "
        "also happens when every parameter is frozen).",
        fix="Pass `{'params': model.parameters(), 'lr': ...}` (the perforated model's parameters) or a list of "
        "param-group dicts only.",
        doc=_doc("optimizer"),
        confidence=0.85,
    ),
    Pattern(
        id="checkpoint-missing",
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
        doc=_doc("saving"),
        confidence=0.85,
    ),
    Pattern(
        id="checkpoint-unreadable",
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
        doc=_doc("saving"),
        confidence=0.85,
    ),
    Pattern(
        id="resnet-block-input",
        title="ResNetPAI needs a torchvision-style ResNet",
        category="conversion",
        signals=[r"ResNetPAI needs a torchvision-style ResNet"],
        cause="The ResNet replacement only understands models with torchvision's attribute layout "
        "(conv1, bn1, relu, maxpool, layer1-4, avgpool, fc).",
        fix="Use it only for torchvision ResNets; otherwise group conv+norm pairs with `GPA.PAISequential([...])` "
        "yourself.",
        doc=_doc("module-selection"),
        confidence=0.9,
    ),
    Pattern(
        id="run-folder-not-found",
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
        doc=_doc("run-analysis"),
        confidence=0.85,
    ),
    Pattern(
        id="run-files-missing",
        title="the run folder holds no score files",
        category="saving",
        signals=[r"No run files[^\n]{0,120}(in|found)", r"making_graphs=False writes no CSVs"],
        facts=[_NO_VALIDATION],
        point_at=["perforate_model_line", "add_validation_score_line"],
        cause="The CSV files are written by add_validation_score while graphs are on; the run never called it, "
        "or used `making_graphs=False`.",
        fix="Call `GPA.pai_tracker.add_validation_score(score, model)` every epoch and keep `making_graphs=True` "
        "in perforate_model{perforate_at}; then analyze `./<save_name>/`.",
        doc=_doc("run-analysis"),
        confidence=0.85,
    ),
    Pattern(
        id="run-files-corrupt",
        title="run files are truncated or inconsistent",
        category="saving",
        signals=[r"could not be parsed as CSV", r"The files in \S+ are inconsistent"],
        cause="A CSV was cut off (the run was killed while writing) or written by something else.",
        fix="Re-run (or resume) training so the files are rewritten, or analyze a complete snapshot folder.",
        doc=_doc("run-analysis"),
        confidence=0.8,
    ),
    Pattern(
        id="compare-needs-two-runs",
        title="comparison needs at least two runs",
        category="api",
        signals=[r"Pass at least two run folders to compare"],
        cause="A comparison was asked for with fewer than two run folders.",
        fix="Pass the baseline run folder and the dendritic run folder, e.g. `pai compare ./baseline ./run1`.",
        doc=_doc("run-analysis"),
        confidence=0.9,
    ),
    Pattern(
        id="plot-not-writable",
        title="the plot file cannot be written",
        category="environment",
        signals=[r"Cannot write the plot to"],
        cause="The plot path is in a missing or read-only directory.",
        fix="Pass a writable path with `--plot`, e.g. `--plot ./run1_summary.png`.",
        doc=_doc("run-analysis"),
        confidence=0.85,
    ),
    Pattern(
        id="optimizer-state-not-restored",
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
        doc=_doc("saving"),
        confidence=0.6,
    ),
    Pattern(
        id="set-mode-invalid",
        title="invalid training mode",
        category="api",
        signals=[r"mode must be 'n' \(neuron training\) or 'p'"],
        cause="set_mode was called with something other than 'n' or 'p' (internal API).",
        fix="Let the tracker switch modes; call `set_mode('n')` or `set_mode('p')` only.",
        doc=_doc("api-names"),
        confidence=0.8,
    ),
]


def load_catalogue() -> list[Pattern]:
    """The catalogue (a copy, so callers can filter or sort it freely)."""
    return [p.model_copy(deep=True) for p in PATTERNS]
