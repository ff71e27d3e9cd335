"""The model: module classes, where it is instantiated, its layers, and its architecture class."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from codemods.analysis.config import OutputDimensionOverride, recommend_config
from codemods.analysis.facts import CallFact, ClassFact, Facts
from codemods.analysis.layers import output_rank, runtime_kinds, stem_ids, weight_layer
from codemods.analysis.report import (
    KnownArchitecture,
    LayerUse,
    ModelClass,
    ModelInfo,
    ModelInstance,
    OptimizerInfo,
)
from codemods.analysis.vocab import (
    ATTENTION,
    CONV,
    DENSE,
    LAYER_KINDS,
    LIGHTNING_MODULES,
    MODULE_BASES,
    NEUTRAL_LAYERS,
    RECURRENT,
    RESIDUAL_BLOCK,
    family_of,
)

__all__ = ["analyze_model", "choose_model", "device_moves", "model_built_optimizers"]

_PAI_PACKAGES = ("pai_core.", "perforatedai.")
_PREFERRED_VARS = ("model", "net", "network", "self.model", "self.net", "module", "classifier")
_HEAD = re.compile(
    r"(^|_)(classifier|head|fc|out|output|cls|logits|linear|proj_out|pred|predictor|final|"
    r"fc_out|dense|score)(\d*)$",
    re.IGNORECASE,
)
_POOLING = re.compile(
    r"\[\s*:\s*,\s*-?\d+\s*(,\s*:\s*)?\]"  # x[:, 0] / x[:, -1, :]
    r"|\.(mean|sum|amax|max|logsumexp)\(\s*(dim\s*=\s*)?-?[12]\b"  # x.mean(dim=1)
    r"|torch\.(mean|sum|max|amax)\([^)]*dim\s*=\s*-?[12]\b"
    r"|\[\s*-1\s*\]"  # h_n[-1]
    r"|pool(er|ing)?\b|adaptive_(avg|max)_pool|\.flatten\(\s*1"
)
_WRAPPERS = {"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train", "eval", "requires_grad_"}


@dataclass
class _Cls:
    fact: ClassFact
    facts: Facts
    is_lightning: bool


def _module_classes(all_facts: list[Facts]) -> dict[str, _Cls]:
    """nn.Module subclasses across the script and its local modules, incl. alias and local bases."""
    aliases = set(MODULE_BASES)
    for facts in all_facts:
        for a in facts.assigns:
            top_level = a.function is None and a.cls is None and len(a.target_names) == 1
            if top_level and (a.value_text.strip() in aliases or a.value_text.strip().endswith("nn.Module")):
                aliases.add(a.target_names[0])  # `Module = nn.Module`
    found: dict[str, _Cls] = {}
    changed = True
    while changed:
        changed = False
        for facts in all_facts:
            for c in facts.classes:
                if c.name in found:
                    continue
                bases = set(c.bases) | set(c.bases_written) | {b.rsplit(".", 1)[-1] for b in c.bases_written}
                local_base = next((b for b in bases if b in found), None)
                if (
                    bases & aliases
                    or local_base
                    or any(b.endswith((".Module", "LightningModule", "PreTrainedModel")) for b in bases)
                ):
                    lightning = (
                        bool(bases & LIGHTNING_MODULES)
                        or any(b.endswith("LightningModule") for b in bases)
                        or (local_base is not None and found[local_base].is_lightning)
                    )
                    found[c.name] = _Cls(c, facts, lightning)
                    changed = True
    return found


def _layer_kind(call: CallFact) -> str | None:
    q = call.qname
    if not q.startswith(("torch.nn.", "nn.")):
        return None
    last = q.rsplit(".", 1)[-1]
    if last in LAYER_KINDS or (
        last[:1].isupper()
        and ".functional" not in q
        and ".init" not in q
        and ".utils" not in q
        and last not in ("Parameter", "Module", "DataParallel")
        and "Loss" not in last
        and "parallel" not in q
    ):
        return last
    return None


def _known_architecture(
    call: CallFact, facts: Facts, arg_defaults: dict[str, str]
) -> KnownArchitecture | None:
    """The torchvision, timm or transformers model `call` builds, with its family; None for any other call.
    A name read from the arguments (`models.__dict__[args.arch]`) resolves to its argparse default."""
    indexed = _indexed_torchvision(call, facts, arg_defaults)
    if indexed is not None:
        return indexed
    q = call.qname
    first = call.args[0] if call.args else ""
    if (
        q.startswith("torchvision.models.")
        or q.startswith("models.")
        and "torchvision.models" in _imported(facts)
    ):
        name, library = _torchvision_name(call, first, arg_defaults), "torchvision"
    elif "__dict__[" in call.written and call.written.split(".", 1)[0] in ("models", "torchvision"):
        name, library = _resolve(_index_text(call.written), arg_defaults), "torchvision"
    elif q.startswith("timm.") and q.endswith("create_model"):
        name, library = _resolve(_literal(first) or first, arg_defaults), "timm"
    elif q.startswith("transformers."):
        return _transformers_model(call, first, arg_defaults)
    else:
        return None
    if name is None:
        return None
    return KnownArchitecture(
        library=library, name=name, line=call.line, text=call.text, family=family_of(name)
    )


def _indexed_torchvision(call: CallFact, facts: Facts, arg_defaults: dict[str, str]) -> KnownArchitecture | None:
    """`models.__dict__[args.arch](...)`: the torchvision registry indexed by name, read from the call's code."""
    if "__dict__" not in call.qname and "__dict__" not in call.written:
        return None
    func_text = facts.code(call.node.func)
    if "__dict__[" not in func_text or not ("torchvision" in call.qname or func_text.startswith("models.")):
        return None
    name = _resolve(func_text.split("__dict__[", 1)[1].rsplit("]", 1)[0], arg_defaults)
    return KnownArchitecture(library="torchvision", name=name, line=call.line, text=call.text, family=family_of(name))


def _index_text(written: str) -> str:
    """`models.__dict__[args.arch]` -> `args.arch`."""
    return written.split("[", 1)[-1].rstrip("]")


def _torchvision_name(call: CallFact, first: str, arg_defaults: dict[str, str]) -> str | None:
    """The model a `torchvision.models` call builds: `get_model("resnet18")`, the registry indexed by name, or
    a builder function or model class (`resnet18()`, `ResNet(...)`); None for weights enums and listings."""
    last = call.qname.rsplit(".", 1)[-1]
    if last == "get_model":
        return _literal(first) or first
    if last.startswith("__dict__") or "__dict__[" in call.written or "__dict__[" in call.qname:
        return _resolve(_index_text(call.written), arg_defaults)
    builder = last[:1].islower() and not last.startswith(("_", "get_weight", "list_models"))
    model_class = last[:1].isupper() and not last.endswith("Weights")
    return last if builder or model_class else None


def _transformers_model(call: CallFact, first: str, arg_defaults: dict[str, str]) -> KnownArchitecture | None:
    """A Hugging Face model class built or loaded (`AutoModelForX.from_pretrained(id)`, `BertModel(config)`);
    a transformer unless its id names another family."""
    parts = call.qname.split(".")
    cls = parts[1] if len(parts) > 1 else ""
    loads = parts[-1] in ("from_pretrained", "from_config") or len(parts) == 2
    if not loads or not _is_hf_model_class(cls):
        return None
    literal = _literal(first)
    name = literal or _resolve(first, arg_defaults) or cls
    family = family_of(name) if literal or name != first else "unknown"
    if family == "unknown":
        family = "transformer"  # HF auto models are transformers unless the id says otherwise
    return KnownArchitecture(library="transformers", name=name, line=call.line, text=call.text, family=family)


def _is_hf_model_class(cls: str) -> bool:
    """`AutoModel...`, `...Model`, `...ForX`, not configs, tokenizers, trainers or argument classes."""
    if cls.startswith("AutoModel"):
        return True
    return (
        cls[:1].isupper()
        and ("For" in cls or cls.endswith("Model"))
        and not any(word in cls for word in ("Config", "Tokenizer", "Trainer", "Arguments"))
    )


def _imported(facts: Facts) -> set[str]:
    return {i.module if i.name is None else f"{i.module}.{i.name}" for i in facts.imports}


def _literal(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
        return text[1:-1]
    return None


def _resolve(expr: str, arg_defaults: dict[str, str]) -> str:
    """`args.arch` -> the argparse default of --arch when it is a literal, else the expression."""
    key = expr.strip().rsplit(".", 1)[-1]
    default = arg_defaults.get(key) or arg_defaults.get(key.lower())
    literal = _literal(default) if default else None
    return literal or expr.strip()


def _instance_variables(call: CallFact, facts: Facts) -> list[tuple[str | None, int, str]]:
    """What the model is assigned to; a factory's `return Net()` is followed to every caller's assignment."""
    if call.target_names:
        return [(call.target_names[0], call.line, call.text)]
    if call.function:
        fn = facts.function(call.function)
        name = fn.name if fn else call.function
        callers = [(outer.target_names[0], outer.line, outer.text) for outer in facts.calls
                   if outer.written.rsplit(".", 1)[-1] == name and outer.target_names]
        if callers:
            return callers
    return [(None, call.line, call.text)]


def analyze_model(
    facts: Facts, local: list[Facts], arg_defaults: dict[str, str], focus: str | None = None
) -> ModelInfo:
    """`focus`: the variable of the model that is perforated; its classes alone decide the architecture and
    the recommended config (a GAN's generator, not its discriminator)."""
    all_facts = [facts, *local]
    classes = _module_classes(all_facts)
    info = ModelInfo()
    layers_by_class, uses = _describe_classes(info, facts, all_facts, classes)
    info.known_architectures = [known for f in all_facts for call in f.calls
                                if (known := _known_architecture(call, f, arg_defaults))]
    info.instances = _instances(facts, classes, _factories(all_facts, classes), info.known_architectures)
    in_use = _classes_in_use(info, all_facts, classes, uses, focus)
    for name in in_use:
        info.layers.extend(layers_by_class.get(name, []))
    info.layers.extend(_script_layers(facts, classes))
    info.layer_kinds = sorted({layer.kind for layer in info.layers})
    tops = {i.local_class for i in info.instances}
    weights = [n for n in in_use if n not in tops
               and weight_layer(n, classes[n].facts, bool(layers_by_class[n] or uses[n]))]
    _classify(info, classes, in_use)
    if weights:
        info.evidence.append(f"layer classes of the script's own that hold the weights: {', '.join(weights)}")
    _recommend(info, classes, in_use, weights)
    return info


def _describe_classes(info: ModelInfo, facts: Facts, all_facts: list[Facts],
                      classes: dict[str, _Cls]) -> tuple[dict[str, list[LayerUse]], dict[str, list[str]]]:
    """Add a `ModelClass` per module class to `info`; return each class's layers and the module classes it
    builds, which decide later what the model in use is made of."""
    layers_by_class: dict[str, list[LayerUse]] = {}
    uses: dict[str, list[str]] = {}
    for name, c in classes.items():
        file = None if c.facts is facts else c.facts.filename
        layers, used = _class_layers(name, c, file, all_facts, classes)
        layers_by_class[name] = layers
        uses[name] = used
        info.classes.append(
            ModelClass(
                name=name,
                line=c.fact.line,
                bases=c.fact.bases_written,
                file=file,
                layers=layers,
                uses_classes=used,
                is_lightning_module=c.is_lightning,
            )
        )
    return layers_by_class, uses


def _class_layers(name: str, c: _Cls, file: str | None, all_facts: list[Facts],
                  classes: dict[str, _Cls]) -> tuple[list[LayerUse], list[str]]:
    """(the torch.nn layers class `name` builds, the other module classes it builds)."""
    layers: list[LayerUse] = []
    used: list[str] = []
    for call in c.facts.calls:
        if call.cls != name:
            continue
        kind = _layer_kind(call)
        attr = call.target.split(".", 1)[1] if call.target and call.target.startswith("self.") else None
        for kind in runtime_kinds(call, c.facts, all_facts) or ([kind] if kind else []):
            layers.append(
                LayerUse(kind=kind, qualified_name=call.qname, line=call.line, attribute=attr, owner=name, file=file)
            )
        callee = call.written.rsplit(".", 1)[-1]
        if callee in classes and callee != name and callee not in used:
            used.append(callee)
    return layers, used


def _instances(facts: Facts, classes: dict[str, _Cls], factories: dict[str, str],
               known_architectures: list[KnownArchitecture]) -> list[ModelInstance]:
    """Where the script builds a model, the conventionally named variables first: its own module classes (or
    local factories returning one), library models, and script-level `nn.Sequential`s."""
    instances: list[ModelInstance] = []
    for call, local_class, constructor in _instance_calls(facts, classes, factories, known_architectures):
        for variable, line, text in _instance_variables(call, facts):
            if variable is None or any(
                (i.variable, i.constructor, i.line) == (variable, constructor, line) for i in instances
            ):
                continue
            instances.append(
                ModelInstance(
                    variable=variable, constructor=constructor, line=line, text=text, local_class=local_class
                )
            )
    instances.sort(key=_preference)
    return instances


def _instance_calls(facts: Facts, classes: dict[str, _Cls], factories: dict[str, str],
                    known_architectures: list[KnownArchitecture]) -> list[tuple[CallFact, str | None, str]]:
    """(call, local class, constructor) of each script call that builds a model; calls inside a module
    class build its parts, not a model (but a LightningModule may build the model it trains)."""
    found: list[tuple[CallFact, str | None, str]] = []
    for call in facts.calls:
        if call.cls in classes and not classes[call.cls].is_lightning:
            continue
        callee = call.written.rsplit(".", 1)[-1]
        known = next((k for k in known_architectures if k.line == call.line and k.text == call.text), None)
        if callee in classes:
            found.append((call, callee, callee))
        elif callee in factories and call.function != callee:
            found.append((call, factories[callee], callee))
        elif known is not None:
            found.append((call, None, f"{known.library}:{known.name}"))
        elif (
            call.qname in ("torch.nn.Sequential", "nn.Sequential")
            and call.cls is None
            and (call.target_names or call.function)
        ):
            found.append((call, None, call.qname))
    return found


def _classes_in_use(info: ModelInfo, all_facts: list[Facts], classes: dict[str, _Cls],
                    uses: dict[str, list[str]], focus: str | None) -> list[str]:
    """The module classes the model (the `focus` one, if given) is made of: those instantiated, those passed
    to its constructor or factory, and everything they build; all classes when no model is built."""
    seeds = [i for i in info.instances if focus is None or i.variable == focus] or info.instances
    todo = [i.local_class for i in seeds if i.local_class]
    for i in seeds:  # classes passed to constructors/factories: ResNet(BasicBlock, [2, 2, 2, 2])
        mentioned = " ".join([i.text, *(t for f in all_facts for fn in f.functions if fn.name == i.constructor
                                        for _, t, _ in fn.returns)])
        todo += [name for name in classes if re.search(rf"\b{re.escape(name)}\b", mentioned)]
    if not todo and not info.known_architectures:
        todo = list(classes)
    in_use: list[str] = []
    while todo:
        name = todo.pop(0)
        if name in in_use or name not in classes:
            continue
        in_use.append(name)
        todo.extend(uses.get(name, []))
    return in_use


def _script_layers(facts: Facts, classes: dict[str, _Cls]) -> list[LayerUse]:
    """Layers built outside any module class: `nn.Sequential` models, replaced heads."""
    return [
        LayerUse(kind=kind, qualified_name=call.qname, line=call.line, attribute=call.target, owner=None)
        for call in facts.calls
        if call.cls not in classes and (kind := _layer_kind(call))
    ]


_BUILDER = re.compile(r"^(build|get|make|create|load|init)_?(model|net|network|backbone|arch)", re.IGNORECASE)


def _factories(all_facts: list[Facts], classes: dict[str, _Cls]) -> dict[str, str]:
    """Top-level functions that return a module class instance: `def ResNet18(): return ResNet(...)`, and
    model builders of the user's modules that pick one from a registry (`get_model(args)`, `build_model(cfg)`,
    also when they return the class: `build_model(cfg)()`); those stand for the file's top model class."""
    out: dict[str, str] = {}
    for f in all_facts:
        own = [name for name, c in classes.items() if c.facts is f]
        used = {u for name in own for call in f.calls if call.cls == name for u in [call.written.rsplit(".", 1)[-1]]}
        top = [name for name in own if name not in used and not classes[name].is_lightning]
        for fn in f.functions:
            if fn.cls is not None or "." in fn.qualname:
                continue
            if top and _BUILDER.match(fn.name) and fn.returns:
                out.setdefault(fn.name, top[0])
            for _, text, _node in fn.returns:
                head = text.split("(", 1)[0].strip().rsplit(".", 1)[-1]
                if head in classes and text.strip().endswith(")"):
                    out[fn.name] = head
                    break
    return out


def _preference(instance: ModelInstance) -> tuple[int, int]:
    try:
        rank = _PREFERRED_VARS.index(instance.variable)
    except ValueError:
        rank = len(_PREFERRED_VARS) + (0 if "model" in instance.variable or "net" in instance.variable else 1)
    return rank, instance.line


def _classify(info: ModelInfo, classes: dict[str, _Cls], in_use: list[str]) -> None:
    """The architecture family, with the evidence that decided it: a library model of a known family wins
    unless the script's own layers say attention, recurrence or convolution."""
    kinds = set(info.layer_kinds)
    known = [k for k in info.known_architectures if k.family != "unknown"]
    layered = kinds & (ATTENTION | RECURRENT | CONV)
    if known and not layered:
        top = known[0]
        info.architecture = top.family
        info.evidence.append(f"{top.library} model '{top.name}' built at line {top.line} -> {top.family}")
        return
    decided = _family_of_layers(info, classes, in_use, kinds) or _family_without_layers(info, classes, known)
    if decided is None:
        info.notes.append("no nn.Module subclass or library model found in the script or its local modules")
        return
    info.architecture, evidence = decided
    info.evidence.append(evidence)
    if known and info.architecture != "unknown" and layered:
        info.evidence.append(f"also builds {known[0].library} model '{known[0].name}' (line {known[0].line})")


def _family_of_layers(info: ModelInfo, classes: dict[str, _Cls], in_use: list[str],
                      kinds: set[str]) -> tuple[str, str] | None:
    """(family, evidence) from the layer kinds the model builds, the most telling kind first."""
    if kinds & ATTENTION:
        return "transformer", f"attention layers: {_layer_lines(info, ATTENTION)}"
    attention = _attention_classes(classes, in_use)
    if attention and not kinds & (RECURRENT | CONV):
        return "transformer", f"attention written by hand: {', '.join(attention)}"
    if kinds & RECURRENT:
        return "rnn", f"recurrent layers: {_layer_lines(info, RECURRENT)}"
    if kinds & CONV:
        return _conv_family(info, in_use)
    if kinds & DENSE and not (kinds - DENSE - NEUTRAL_LAYERS):
        return "mlp", f"only fully connected layers: {_layer_lines(info, DENSE)}"
    if kinds & DENSE:
        family = "mlp" if kinds <= (DENSE | NEUTRAL_LAYERS | {"Embedding", "EmbeddingBag"}) else "custom"
        return family, f"fully connected layers: {_layer_lines(info, DENSE)}"
    return None


def _conv_family(info: ModelInfo, in_use: list[str]) -> tuple[str, str]:
    """A ResNet when residual block or ResNet classes hold the convolutions, else a plain CNN."""
    blocks = [n for n in in_use if RESIDUAL_BLOCK.search(n) and "resnet" not in n.lower()]
    resnets = [n for n in in_use if "resnet" in n.lower()]
    if not (blocks or resnets):
        return "cnn", f"convolutions: {_layer_lines(info, CONV)}"
    named = [
        f"residual block classes {', '.join(blocks)}" if blocks else "",
        f"ResNet classes {', '.join(resnets)}" if resnets else "",
    ]
    return "resnet", f"{' and '.join(n for n in named if n)} with convolutions: {_layer_lines(info, CONV)}"


def _family_without_layers(info: ModelInfo, classes: dict[str, _Cls],
                           known: list[KnownArchitecture]) -> tuple[str, str] | None:
    """(family, evidence) when no torch.nn layer tells: the library model, else the model classes found."""
    if known:
        return known[0].family, f"{known[0].library} model '{known[0].name}' built at line {known[0].line}"
    if info.known_architectures:
        k = info.known_architectures[0]
        return "unknown", f"{k.library} model '{k.name}' built at line {k.line}; its family is not known statically"
    if classes or info.instances:
        return "custom", "model classes found but no recognised torch.nn layers: " + ", ".join(classes)[:200]
    return None


def _layer_lines(info: ModelInfo, wanted: set[str]) -> str:
    """The first four layers of the wanted kinds with their lines, as evidence."""
    hits = [
        f"{layer.kind} (line {layer.line}{', ' + layer.file if layer.file else ''})"
        for layer in info.layers
        if layer.kind in wanted
    ]
    return ", ".join(hits[:4]) + (" ..." if len(hits) > 4 else "")


def _attention_classes(classes: dict[str, _Cls], in_use: list[str]) -> list[str]:
    """Classes in use that compute attention themselves (nanoGPT's CausalSelfAttention)."""
    found = []
    for name in in_use:
        c = classes.get(name)
        if c is None:
            continue
        calls = {call.qname.rsplit(".", 1)[-1] for call in c.facts.calls if call.cls == name}
        if "scaled_dot_product_attention" in calls or re.search(r"attention|selfattn", name, re.IGNORECASE):
            found.append(name)
    return found


def _recommend(info: ModelInfo, classes: dict[str, _Cls], in_use: list[str], weights: list[str]) -> None:
    """The config from the classes the model builds: its own weight layers perforated (with the rank their
    forward returns), a hand-written ResNet's stem tracked under its real attribute names."""
    arch = info.architecture
    blocks = [n for n in in_use if RESIDUAL_BLOCK.search(n) and "resnet" not in n.lower()]
    if arch == "resnet" and not blocks:
        names = " ".join(k.name.lower() for k in info.known_architectures)
        deep = re.search(r"resnet(50|101|152)|resnext|wide_resnet", names)
        shallow = re.search(r"resnet(18|34)\b", names)
        blocks = (
            ["Bottleneck"]
            if deep and not shallow
            else ["BasicBlock"]
            if shallow and not deep
            else ["BasicBlock", "Bottleneck"]
        )
    graph = _graph_classes(classes, in_use)
    head, pooled = None, []
    if arch in ("transformer", "rnn") or graph:
        head, pooled = _dense_outputs(info, classes, in_use)
    # a batch of graphs is 3-D (graphs, nodes, features) and read out by pooling the node axis; a full-graph
    # node classifier (pygcn, Planetoid) has no readout: its node features are (nodes, features), 2-D
    batched = bool(graph) and bool(pooled)
    top = next((i.local_class for i in info.instances if i.local_class), None)
    ranks = {output_rank(w, classes[w].facts) for w in weights} - {None}
    info.recommended_config = recommend_config(
        arch, info.layer_kinds, block_names=blocks, head=head, head_is_2d=head in pooled, pooled=pooled,
        node_features=batched, stem=stem_ids(info.layers, top) if arch == "resnet" and top else None,
        custom_layers=weights, output_rank=ranks.pop() if len(ranks) == 1 else None,
    )
    if batched:
        info.recommended_config.explanation.append(
            f"graph layers ({', '.join(graph)}) multiply by a dense adjacency and a readout pools the nodes: "
            "their outputs are (batch, nodes, features), so the neuron axis is the last one")
    elif graph:
        info.recommended_config.explanation.append(
            f"graph layers ({', '.join(graph)}) multiply by a dense adjacency with no readout over the nodes: "
            "one full graph, node features (nodes, features), 2-D")
    _fit_seen_ranks(info, classes)
    if info.recommended_config.output_dimensions == [-1, -1, 0] and head and head not in pooled:
        info.recommended_config.explanation.append(
            f"'{head}' looks like the output layer; no pooling was seen before it, so it is assumed to keep the "
            "sequence axis (3-D). If it outputs (batch, classes), give it [-1, 0] after perforate_model."
        )


_BY_RANK = {2: [-1, 0], 3: [-1, -1, 0]}
_SHAPE = m.Attribute(value=m.Name(), attr=m.Name("shape")) | m.Call(
    func=m.Attribute(value=m.Name(), attr=m.Name("size")), args=[])
_SELF_LAYER = m.Call(func=m.Attribute(value=m.Name("self"), attr=m.Name()))


def _fit_seen_ranks(info: ModelInfo, classes: dict[str, _Cls]) -> None:
    """A dense layer whose output the model's forward unpacks by shape (`logits = self.lm_head(x)` ...
    `B, T, C = logits.shape`: 3-D) gets those dimensions when the global vector gives it another rank."""
    config = info.recommended_config
    dims = config.output_dimensions
    given = {o.module_path: len(o.dimensions) for o in config.output_dimension_overrides}
    for attr, rank in _unpacked_ranks(info, classes).items():
        default = 2 if dims[2:] and all(d == -1 for d in dims[2:]) and 0 in dims[:2] else len(dims)  # Linear trim
        if rank in _BY_RANK and given.get(attr, default) != rank:
            config.output_dimension_overrides = [o for o in config.output_dimension_overrides if o.module_path != attr]
            config.output_dimension_overrides.append(OutputDimensionOverride(
                module_path=attr, dimensions=_BY_RANK[rank], reason=f"forward unpacks its output into {rank} axes"))
            config.explanation.append(f"'{attr}' outputs {rank} axes (forward unpacks its shape): it gets "
                                      f"{_BY_RANK[rank]} after perforate_model.")


def _unpacked_ranks(info: ModelInfo, classes: dict[str, _Cls]) -> dict[str, int]:
    """Dense layer attribute -> the rank its output is unpacked into in the top model class's forward."""
    top = next((i.local_class for i in info.instances if i.local_class), None)
    if top not in classes:
        return {}
    c = classes[top]
    forward = next((f for f in c.facts.functions if f.cls == top and f.name == "forward"), None)
    dense = {layer.attribute for layer in info.layers if layer.owner == top and layer.kind in DENSE}
    if forward is None or not dense:
        return {}
    assigns = [a for a in c.facts.assigns if a.function == forward.qualname]
    ranks: dict[str, int] = {}
    for unpack in assigns:
        if len(unpack.target_names) < 2 or not m.matches(unpack.value, _SHAPE):
            continue
        shape = unpack.value.func if isinstance(unpack.value, cst.Call) else unpack.value
        var = shape.value.value  # type: ignore[attr-defined]
        source = max((a for a in assigns if a.target_names == (var,) and a.line < unpack.line),
                     key=lambda a: a.line, default=None)
        if source is not None and m.matches(source.value, _SELF_LAYER):
            attr = source.value.func.attr.value  # type: ignore[attr-defined]
            if attr in dense:
                ranks[attr] = len(unpack.target_names)
    return ranks


_GRAPH_CLASS = re.compile(r"graph|gcn|gat\b|gin\b|sage|gnn|messagepassing", re.IGNORECASE)
_MATMUL = m.BinaryOperation(operator=m.MatrixMultiply())


def _graph_classes(classes: dict[str, _Cls], in_use: list[str]) -> list[str]:
    """Classes in use that aggregate node features over a dense adjacency (batched node tensors are 3-D)."""
    found = []
    for name in in_use:
        c = classes.get(name)
        forward = next((f for f in c.facts.functions if f.cls == name and f.name == "forward"), None) if c else None
        if forward is None:
            continue
        if _multiplies_adjacency(c, forward) or (_GRAPH_CLASS.search(name) and "adj" in forward.params):
            found.append(name)
    return found


def _multiplies_adjacency(c: _Cls, forward) -> bool:
    """`adj @ x`, `x @ adj_norm`, `torch.bmm(adj, x)` / `torch.matmul(adj, x)` in the class's forward, read
    from its tree (a comment or a string that mentions `adj @ x` is not a product)."""
    def adjacency(text: str) -> bool:
        return "adj" in text.rsplit(".", 1)[-1].lower()

    calls = [k for k in c.facts.calls if k.function == forward.qualname and k.qname in ("torch.bmm", "torch.matmul")]
    if any(k.args and adjacency(k.args[0]) for k in calls):
        return True
    node = _function_node(c.facts.module, c.fact.name, forward.name)
    products = m.findall(node, _MATMUL) if node is not None else []
    return any(isinstance(side, (cst.Name, cst.Attribute)) and adjacency(c.facts.code(side))
               for op in products for side in (op.left, op.right))  # type: ignore[attr-defined]


def _function_node(module: cst.Module, cls: str, name: str) -> cst.FunctionDef | None:
    """The `def name` of class `cls`, found through statements only (classes at module level or under an
    `if`/`try`), not a walk of every expression."""
    todo: list[cst.CSTNode] = list(module.body)
    while todo:
        stmt = todo.pop()
        if isinstance(stmt, cst.ClassDef) and stmt.name.value == cls:
            return next((s for s in stmt.body.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)
        if isinstance(stmt, (cst.If, cst.Try, cst.Else)) and isinstance(stmt.body, cst.IndentedBlock):
            todo += stmt.body.body
            todo += [stmt.orelse] if isinstance(stmt, cst.If) and stmt.orelse is not None else []
    return None


def _dense_outputs(info: ModelInfo, classes: dict[str, _Cls], in_use: list[str]) -> tuple[str | None, list[str]]:
    """(the classifier head, the dense layers of the top model class whose input is pooled to 2-D).

    Read per call in forward: `self.fc(out[:, -1, :])`, `self.fc(h_n[-1])` or `self.head(x.mean(dim=1))` (also
    through a variable assigned from such an expression) feed 2-D; `self.fc(out)` on the sequence keeps 3-D.
    """
    top = next((i.local_class for i in info.instances if i.local_class), None) or (
        in_use[0] if in_use else None
    )
    if top is None or top not in classes:
        return None, []
    c = classes[top]
    dense = [layer for layer in info.layers if layer.owner == top and layer.kind in DENSE and layer.attribute]
    if not dense:
        return None, []
    candidates = [layer for layer in dense if _HEAD.search(layer.attribute.rsplit(".", 1)[-1])] or dense[-1:]
    head = candidates[-1].attribute
    forward = next((f for f in c.facts.functions if f.cls == top and f.name == "forward"), None)
    if forward is None:
        return head, []
    assigns = [a for a in c.facts.assigns if a.function == forward.qualname]
    pooled = []
    for layer in dense:
        calls = [call for call in c.facts.calls
                 if call.function == forward.qualname and call.written == f"self.{layer.attribute}" and call.args]
        if calls and all(_pooled(call.args[0], call.line, assigns) for call in calls):
            pooled.append(layer.attribute)
    return head, list(dict.fromkeys(pooled))


def _pooled(expr: str, line: int, assigns, depth: int = 0) -> bool:
    """Whether `expr` (an argument at `line`) is a pooled 2-D tensor, following plain variables back."""
    if _POOLING.search(expr):
        return True
    name = expr.strip()
    if depth > 4 or not name.isidentifier():
        return False
    source = max((a for a in assigns if name in a.target_names and a.line < line), key=lambda a: a.line, default=None)
    if source is None:
        return False
    if source.value_text.lstrip().startswith(("self.", "torch.relu", "F.", "torch.tanh")) and \
            "(" in source.value_text:  # through an activation / another layer: follow its input
        inner = source.value_text.split("(", 1)[1].rsplit(")", 1)[0].split(",")[0]
        return _pooled(inner, source.line, assigns, depth + 1)
    return _pooled(source.value_text, source.line, assigns, depth + 1)


# ------------------------------------------------------------------------------------- which model is trained
def choose_model(info: ModelInfo, facts: Facts, optimizers, validation, wanted: str | None) -> None:
    """Set `info.variable` to the model that is perforated, or `info.question` when that is not clear.

    `wanted` is the user's `--model`. Otherwise, among the variables that hold a model: the only one already
    perforated (so a second run agrees with the first); the only one an
    optimizer trains (a distillation's student, not its frozen teacher); the only one the validation call
    measures; the one whose optimizer steps on the validation metric's loss; the only conventionally named
    one (`model`, `net`, ...). A GAN whose validation reads both networks is a question for the user.
    """
    names = list(dict.fromkeys(i.variable for i in info.instances))
    if wanted:
        if wanted in names:
            info.variable, info.choice = wanted, f"chosen with --model {wanted}"
        else:
            known = ", ".join(names) or "none"
            info.question = (f"--model {wanted}: no model is built into `{wanted}` (models found: {known}); "
                             "pass the variable the model is assigned to")
        return
    if len(names) <= 1:
        info.variable = names[0] if names else None
        return
    perforated = [n for n in names if any(c.attr == "perforate_model" and c.qname.startswith(_PAI_PACKAGES)
                                          and n in c.target_names for c in facts.calls)]
    if len(perforated) == 1:  # a rewrite (or the user) chose already: a second run keeps that choice
        info.variable, info.choice = perforated[0], f"the model already perforated ({', '.join(names)} built)"
        return
    trained = [n for n in names if any(_mentions(o.params_argument or o.text, n) for o in optimizers)]
    if len(trained) == 1:
        info.variable, info.choice = trained[0], f"the only model an optimizer trains ({', '.join(names)} built)"
        return
    pool = trained or names
    measured = [n for n in pool if _mentions(_validation_call(facts, validation), n)]
    if len(measured) == 1:
        info.variable, info.choice = measured[0], f"the model the validation call measures ({', '.join(pool)})"
        return
    stepped = _stepped_on_metric(facts, optimizers, validation.metric, pool)
    if len(stepped) == 1:
        info.variable = stepped[0]
        info.choice = f"its optimizer steps on the validation metric's loss `{validation.metric}`"
        return
    usual = [n for n in pool if n in _PREFERRED_VARS]
    if len(usual) == 1:
        info.variable, info.choice = usual[0], f"the model variable among {', '.join(pool)}"
        return
    info.question = (
        f"the script trains several models ({', '.join(pool)}) and the validation metric does not tell which "
        f"one should get dendrites: run `pai perforate --model {pool[0]}` (or another of them); the others keep "
        "their optimizers, registered as additional optimizers"
    )


def _mentions(text: str | None, name: str) -> bool:
    return bool(text) and re.search(rf"(?<![\w.]){re.escape(name)}\b", text) is not None


def _validation_call(facts: Facts, validation) -> str:
    line = validation.call_line
    return " ".join(c.text for c in facts.calls if line is not None and c.line == line)


def _stepped_on_metric(facts: Facts, optimizers, metric: str | None, pool: list[str]) -> list[str]:
    """Models whose optimizer's `step()` follows `<loss>.backward()` where the loss is the validation metric."""
    if not metric:
        return []
    bare = re.sub(r"^(val|valid|validation|test|eval)_", "", metric)
    losses = [c for c in facts.calls if c.attr == "backward" and c.receiver in (metric, bare)]
    found: list[str] = []
    for loss in losses:
        step = next((c for c in facts.calls if c.attr == "step" and c.function == loss.function
                     and c.line > loss.line and c.receiver), None)
        opt = next((o for o in optimizers if step is not None and o.variable == step.receiver), None)
        for name in pool:
            if opt is not None and _mentions(opt.params_argument or opt.text, name) and name not in found:
                found.append(name)
    return found


def model_built_optimizers(info: ModelInfo, facts: Facts, local: list[Facts]) -> list[OptimizerInfo]:
    """`optimizer = model.configure_optimizers(...)` where the model's own class (in the script or a sibling
    module) builds a torch.optim optimizer in that method, as nanoGPT's GPT does."""
    builders: dict[str, tuple[str, str]] = {}  # method name -> (Class.method, file)
    classes = {i.local_class for i in info.instances if i.local_class}
    for f in [facts, *local]:
        for call in f.calls:
            owner, _, method = (call.function or "").rpartition(".")
            if owner in classes and method and call.qname.startswith("torch.optim.") and "lr_scheduler" not in call.qname:
                builders[method] = (f"{owner}.{method}", f.filename)
    variables = {i.variable for i in info.instances}
    return [
        OptimizerInfo(variable=call.target_names[0], type=builders[call.attr][0], name=call.attr, arguments=call.args,
                      line=call.line, text=call.text, function=call.function, in_loop=bool(call.loops),
                      builtin=False, params_argument=f"{call.receiver}.parameters()")
        for call in facts.calls
        if call.receiver in variables and call.attr in builders and len(call.target_names) == 1
    ]


def device_moves(facts: Facts) -> dict[str, str]:
    """What each variable is first moved to, from the resolved calls (a comment that mentions
    `model.to(device)` is not a move): the variable called on and the one a chained constructor is
    assigned to (`model = Net().to(device)`)."""
    to: dict[str, str] = {}
    cuda: dict[str, str] = {}
    for c in facts.calls:
        if c.attr not in ("to", "cuda") or c.receiver is None:
            continue
        names = [c.receiver, *c.target_names] if len(c.target_names) == 1 else [c.receiver]
        positional = c.args[: len(c.args) - len(c.kwargs)]
        device = "cuda()" if c.attr == "cuda" else c.kwargs.get("device") or next(iter(positional), None)
        for name in names if device else ():
            (cuda if c.attr == "cuda" else to).setdefault(name, device)
    return {**cuda, **to}
