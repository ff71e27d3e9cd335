"""What perforate_model converts and tracks: module ids and names that match nothing, modules that never
see a gradient, parameters left out, models perforated twice or changed after conversion."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern
from codemods.diagnosis.patterns.common import doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="module-never-initialised",
        code="PAI304",
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
        doc=doc_for("module-selection"),
        confidence=0.9,
    ),
    Pattern(
        id="params-not-wrapped",
        code="PAI312",
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
        doc=doc_for("module-selection"),
        confidence=0.85,
    ),
    Pattern(
        id="unwrapped-norm-layer",
        code="PAI313",
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
        doc=doc_for("module-selection"),
        confidence=0.8,
    ),
    Pattern(
        id="param-type-missing",
        code="PAI314",
        title="a parameter escaped conversion (model changed after perforate_model)",
        category="conversion",
        signals=[r"does not have parameter_type attribute", r"find_param_name_by_id"],
        point_at=["perforate_model_line"],
        cause="A parameter was created after perforate_model (new head, torch.compile, loading weights, a "
        "framework re-creating parameters) or belongs to a module that is neither tracked nor perforated.",
        fix="Finish every model edit before perforate_model and call it right before training; or list the "
        "parameter with `GPA.pc.append_parameter_ids_to_track(['.name'])`.",
        doc=doc_for("module-selection"),
        confidence=0.8,
    ),
    Pattern(
        id="tracker-never-initialised",
        code="PAI315",
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
        doc=doc_for("integration"),
        confidence=0.85,
    ),
    Pattern(
        id="module-id-format",
        code="PAI317",
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
        doc=doc_for("module-selection"),
        confidence=0.95,
    ),
    Pattern(
        id="module-id-unknown",
        code="PAI318",
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
        doc=doc_for("module-selection"),
        confidence=0.8,
    ),
    Pattern(
        id="nothing-perforated",
        code="PAI319",
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
        doc=doc_for("module-selection"),
        confidence=0.85,
    ),
    Pattern(
        id="duplicate-pointer",
        code="PAI320",
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
        doc=doc_for("module-selection"),
        confidence=0.6,
    ),
    Pattern(
        id="perforated-twice",
        code="PAI321",
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
        doc=doc_for("integration"),
        confidence=0.8,
    ),
    Pattern(
        id="wrapper-attribute",
        code="PAI322",
        title="attribute looked up on the perforation wrapper",
        category="conversion",
        signals=[
            r"'(PAINeuronModule|PAINeuronLayer|TrackedNeuronModule|PAIModule|PAITrackedModule)' object has no attribute '(?P<attr>\w+)'"
        ],
        cause="The attribute lives on the wrapped module; names starting with '_' are not forwarded by the wrapper.",
        fix="Reach the original through `.main_module` (legacy `.mainModule`), e.g. `model.fc1.main_module.{attr}`.",
        doc=doc_for("module-selection"),
        confidence=0.85,
    ),
    Pattern(
        id="backward-not-paiified",
        code="PAI323",
        title="backward reached a module that was not converted properly",
        category="conversion",
        signals=[r"Trying to call backwards but module[^\n]{0,80}wasn'?t PAIified"],
        cause="A module triggered dendrite hooks without being converted correctly (built or registered in an "
        "unusual way).",
        fix="Store submodules as attributes or in nn.ModuleList/ModuleDict (not Python lists/dicts) and build the "
        "model completely before perforate_model.",
        doc=doc_for("module-selection"),
        confidence=0.8,
    ),
    # errors pai_core itself raises
    Pattern(
        id="not-a-module",
        code="PAI393",
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
        doc=doc_for("integration"),
        confidence=0.85,
    ),
    Pattern(
        id="resnet-block-input",
        code="PAI400",
        title="ResNetPAI needs a torchvision-style ResNet",
        category="conversion",
        signals=[r"ResNetPAI needs a torchvision-style ResNet"],
        cause="The ResNet replacement only understands models with torchvision's attribute layout "
        "(conv1, bn1, relu, maxpool, layer1-4, avgpool, fc).",
        fix="Use it only for torchvision ResNets; otherwise group conv+norm pairs with `GPA.PAISequential([...])` "
        "yourself.",
        doc=doc_for("module-selection"),
        confidence=0.9,
    ),
]
