"""Modules whose output is not one tensor (LSTM, GRU, attention return tuples): the processor they need,
and processor lists that do not line up with the modules they belong to."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern
from codemods.diagnosis.patterns.common import doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="tuple-output-needs-processor",
        code="PAI307",
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
        doc=doc_for("processors"),
        confidence=0.9,
    ),
    Pattern(
        id="processor-none-detach",
        code="PAI308",
        title="the processor hands dendrites a tensor that is not used downstream",
        category="processors",
        signals=[r"'NoneType' object has no attribute 'detach'"],
        context=[r"processor|filter_?backward|dendrite|pai_core|perforatedai"],
        cause="The tensor a processor passes on for the dendrites is not the one the rest of the model uses "
        "(e.g. the LSTM hidden state instead of its output), so no gradient reaches it.",
        fix="Use the output the processor combines (e.g. the LSTM `output`, not `hidden`), or write a processor "
        "whose post_n1 returns the tensor that is used downstream.",
        doc=doc_for("processors"),
        confidence=0.7,
    ),
    Pattern(
        id="processor-lists-misaligned",
        code="PAI309",
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
        doc=doc_for("processors"),
        confidence=0.6,
    ),
    Pattern(
        id="parallel-lists-length",
        code="PAI310",
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
        doc=doc_for("processors"),
        confidence=0.9,
    ),
    Pattern(
        id="deepcopy-non-leaf",
        code="PAI311",
        title="deepcopy fails on stored tensors (processor not cleared)",
        category="processors",
        signals=[
            r"Only Tensors created explicitly by the user \(graph leaves\) support the deepcopy protocol"
        ],
        cause="A processor still holds tensors from a forward pass when the model is copied (a custom processor "
        "without clear_processor, or a forward ran without its backward/optimizer step).",
        fix="Implement `clear_processor()` in custom processors; make every training forward end with backward "
        "and `optimizer.step()`; call `optimizer.zero_grad()` before add_validation_score.",
        doc=doc_for("processors"),
        confidence=0.8,
    ),
    # errors pai_core itself raises
    Pattern(
        id="processor-mismatch",
        code="PAI392",
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
        doc=doc_for("processors"),
        confidence=0.85,
    ),
]
