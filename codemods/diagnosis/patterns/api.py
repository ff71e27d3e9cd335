"""The library's names and call forms: unknown or renamed setters, older API generations, configuration
values and files, framework callbacks (HF Trainer, Lightning), `pai export` and `pai compare` arguments."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern
from codemods.diagnosis.patterns.common import doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="unknown-setter-ignored",
        code="PAI316",
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
        doc=doc_for("configuration"),
        confidence=0.9,
        log_only=True,
    ),
    Pattern(
        id="configuration-not-confirmed",
        code="PAI324",
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
        doc=doc_for("configuration"),
        confidence=0.85,
    ),
    Pattern(
        id="save-name-path",
        code="PAI325",
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
        doc=doc_for("run-files"),
        confidence=0.9,
    ),
    Pattern(
        id="pai-name-before-import",
        code="PAI326",
        title="GPA / UPA used before they are imported",
        category="api",
        signals=[r"name '(?P<alias>GPA|UPA|PBG|PBU|PBM|gf|PA|TPA)' is not defined"],
        point_at=["used_before_import_lines", "import_lines"],
        cause="`{alias}` is used on a line that runs before the line importing it (the import sits below the "
        "first use, inside a function or `if` that did not run, or is missing).",
        fix="Put `from pai_core import globals_perforatedai as GPA` and `from pai_core import utils_perforatedai "
        "as UPA` (or the perforatedai modules) with the other imports at the top of the script, before any "
        "line that uses them.",
        doc=doc_for("api-names"),
        confidence=0.9,
    ),
    Pattern(
        id="api-version-drift",
        code="PAI327",
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
        doc=doc_for("api-names"),
        confidence=0.8,
    ),
    Pattern(
        id="hf-trainer-no-effect",
        code="PAI382",
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
        code="PAI383",
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
        code="PAI384",
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
        code="PAI385",
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
        code="PAI386",
        title="Lightning: tracker called during the sanity check",
        category="api",
        signals=[r"sanity[_ ]check"],
        context=[r"add_validation_score|pai_tracker|dendrite"],
        cause="Lightning runs validation before any training; calling add_validation_score there adds dendrites "
        "before any gradient.",
        fix="Skip the tracker while `self.trainer.sanity_checking` is True.",
        doc=doc_for("frameworks"),
        confidence=0.65,
    ),
    # errors pai_core itself raises
    Pattern(
        id="config-attribute-access",
        code="PAI387",
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
        doc=doc_for("configuration"),
        confidence=0.85,
    ),
    Pattern(
        id="api-name-unknown",
        code="PAI388",
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
        doc=doc_for("api-names"),
        confidence=0.7,
    ),
    Pattern(
        id="config-value-invalid",
        code="PAI389",
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
        doc=doc_for("configuration"),
        confidence=0.8,
    ),
    Pattern(
        id="config-file-invalid",
        code="PAI390",
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
        doc=doc_for("configuration"),
        confidence=0.9,
    ),
    Pattern(
        id="compare-needs-two-runs",
        code="PAI404",
        title="comparison needs at least two runs",
        category="api",
        signals=[r"Pass at least two run folders to compare"],
        cause="A comparison was asked for with fewer than two run folders.",
        fix="Pass the baseline run folder and the dendritic run folder, e.g. `pai compare ./baseline ./run1`.",
        doc=doc_for("run-analysis"),
        confidence=0.9,
    ),
    Pattern(
        id="set-mode-invalid",
        code="PAI407",
        title="invalid training mode",
        category="api",
        signals=[r"mode must be 'n' \(neuron training\) or 'p'"],
        cause="set_mode was called with something other than 'n' or 'p' (internal API).",
        fix="Let the tracker switch modes; call `set_mode('n')` or `set_mode('p')` only.",
        doc=doc_for("api-names"),
        confidence=0.8,
    ),
]
