"""The epoch loop, the validation step, its metric, direction and split, test set and early stopping.

The epoch loop is the loop that trains (calls the user's train step, or steps the optimizer) and validates;
a loop that validates only under `if it % eval_interval == 0:` (nanoGPT) makes each validation one epoch.
The validation step is a call to a function named like validation, or to a user function that evaluates
(calls `.eval()` or runs under `no_grad`), or the code after `model.eval()` / `with torch.no_grad()` in
the loop. Its metric is the value the script selects the model by (`if val_loss < best`, a scheduler's
`mode=`, `monitor=`), preferring the validation split over train and test, and its direction comes from
those comparisons, then from the metric's name or the metric object it is computed by.
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from codemods.analysis.facts import CallFact, Facts, FunctionFact, LoopFact, shorten
from codemods.analysis.report import EpochLoop, Evidence, PresenceInfo, ScriptReport, ValidationInfo
from codemods.analysis.vocab import metric_direction, name_tokens

__all__ = ["analyze_loop", "analyze_presence", "loop_refusal", "split_of"]

_EPOCH_VAR = re.compile(r"epoch", re.IGNORECASE)
_STEP_VAR = re.compile(r"(^|_)(it|iters?|iterations?|steps?|iter_num|step_num|global_step)(_|$)", re.IGNORECASE)
_STEP_WORDS = {"steps", "iters", "iterations", "max_iters", "num_steps", "total_steps", "train_steps"}
_BATCH_ITER = re.compile(
    r"loader|dataloader|batch|enumerate\(\s*(train|data|val)|dataset|\bdl\b|iterator|data\b", re.IGNORECASE
)
_TRAIN = re.compile(r"train|run_epoch|fit_epoch|one_epoch", re.IGNORECASE)
_VALID = re.compile(r"valid|(^|_)val(_|$|idate)|eval|(^|_)test|estimate_loss", re.IGNORECASE)
_TRACKER_CALLS = {
    "add_validation_score",
    "addValidationScore",
    "add_extra_score",
    "addExtraScore",
    "add_test_score",
    "addTestScore",
    "add_extra_score_without_graphing",
}
_NOT_CALLS = _TRACKER_CALLS | {
    "train",
    "eval",
    "step",
    "zero_grad",
    "backward",
    "to",
    "item",
    "append",
    "format",
    "print",
    "update",
    "log",
    "info",
    "add_scalar",
    "save",
    "state_dict",
    "load_state_dict",
    "set_epoch",
    "compute",
    "reset",
}
_PRINTERS = (
    "print",
    "logging.",
    "logger.",
    "log.",
    "self.log",
    "writer.add_scalar",
    "wandb.log",
    "tqdm.write",
    "LOGGER.",
    "progress.display",
    "_logger.",
)
_NO_GRAD = ("no_grad", "inference_mode")
_SPLITS = (
    ("validation", {"val", "valid", "validate", "validation", "dev", "eval", "evaluate", "evaluation", "va"}),
    ("test", {"test", "tst", "holdout"}),
    ("train", {"train", "training", "trn"}),
)
_SPLIT_RANK = {"validation": 0, None: 1, "test": 2, "train": 3}
# `if it % eval_interval == 0` (or `... == 0 or it == max_iters - 1`)
_EVERY_N = m.Comparison(
    left=m.BinaryOperation(operator=m.Modulo()),
    comparisons=[m.ComparisonTarget(operator=m.Equal(), comparator=m.Integer("0"))],
)
# a loop counter compared with its bound: `while epoch < max_epochs`, `while step <= args.steps`
_COUNTER_TEST = m.Comparison(
    left=m.Name(), comparisons=[m.ComparisonTarget(operator=m.LessThan() | m.LessThanEqual())]
)


def split_of(name: str) -> str | None:
    """'validation' / 'test' / 'train' when a name says which data split it is about (val_loss, test_loader)."""
    tokens = set(name_tokens(name.replace("'", " ").replace('"', " ")))
    for split, words in _SPLITS:
        if tokens & words:
            return split
    return None


def _evaluating(facts: Facts) -> set[str]:
    """User functions that evaluate: they call `.eval()` or run under no_grad / inference_mode."""
    found = set()
    for fn in facts.functions:
        if any(d.rsplit(".", 1)[-1] in _NO_GRAD for d in fn.decorators):
            found.add(fn.qualname)
    for c in facts.calls:
        if c.function and (
            c.attr == "eval" and c.receiver and not c.args or any(w.split("(")[0].endswith(_NO_GRAD) for w in c.in_with)
        ):
            found.add(c.function)
    return {q for q in found if not _TRAIN.search(q.rsplit(".", 1)[-1])}


def _user_function(facts: Facts, c: CallFact) -> FunctionFact | None:
    if c.receiver not in (None, "self"):
        return None
    return facts.function(c.written.replace("self.", "")) or facts.function(c.attr)


def _is_validation_call(facts: Facts, c: CallFact, evaluating: set[str], model_vars: list[str]) -> bool:
    if _method_noise(c):
        return False
    if _VALID.search(c.attr) and not c.attr.startswith(("test_", "set_")) or c.attr in ("test", "test_epoch"):
        return True
    fn = _user_function(facts, c)
    if fn is None:
        return False
    # run_epoch(model, val_loader) next to run_epoch(model, train_loader, optimizer): the split decides; a
    # metric helper such as accuracy(output[idx_val], labels) does not take the model and is not the step
    takes_model = any(a.split(".")[0] in ("model", "net", "self") or a in model_vars for a in c.args)
    return fn.qualname in evaluating or takes_model and any(split_of(n) in ("validation", "test") for n in c.target_names)


def _eval_condition(
    loop: LoopFact, facts: Facts, evaluating: set[str], model_vars: list[str]
) -> tuple[str, int] | None:
    """(`it % eval_interval == 0`, line) when the loop validates only every n iterations."""
    for iff in facts.ifs:
        if not (loop.line < iff.line <= loop.end_line and "%" in iff.test) or not m.findall(iff.node.test, _EVERY_N):
            continue
        validations = [
            c.line
            for c in facts.calls
            if iff.body_first_line <= c.line <= iff.end_line and _is_validation_call(facts, c, evaluating, model_vars)
        ]
        if validations:
            return iff.test, min(validations)
    return None


def _score_loop(loop: LoopFact, facts: Facts, evaluating: set[str], model_vars: list[str]) -> int:
    score = 0
    target = loop.target or ""
    head = loop.iter_text or loop.test_text or ""
    if _EPOCH_VAR.search(target):
        score += 3
    elif target in ("ep", "e", "i_ep"):
        score += 1
    elif _STEP_VAR.search(target) or set(name_tokens(_bound(loop) or "")) & _STEP_WORDS:
        score += 1
    if _EPOCH_VAR.search(head):
        score += 3
    if loop.kind == "for" and re.match(r"\s*(t?range|tqdm\(\s*range|tqdm\.trange|trange|count|itertools\.count)\b", head):
        score += 1
    if loop.kind == "for" and _BATCH_ITER.search(head) and not _EPOCH_VAR.search(head):
        score -= 5
    if loop.kind == "while" and head.strip() in ("True", "1", "not done", "not training_complete"):
        score += 1
    body_calls = [c for c in facts.calls if loop.line in c.loops]
    if any(_TRAIN.search(c.attr) and not _method_noise(c) for c in body_calls):
        score += 2
    if any(c.attr == "backward" or c.attr == "step" and "optim" in (c.receiver or "").lower() for c in body_calls):
        score += 1
    if any(_is_validation_call(facts, c, evaluating, model_vars) for c in body_calls):
        score += 1
    if _eval_condition(loop, facts, evaluating, model_vars):
        score += 2
    elif _inline_start(loop, facts, model_vars) is not None:
        score += 1
    score -= loop.depth
    return score


def _method_noise(c: CallFact) -> bool:
    """`model.train()`, `optimizer.step()`...: method calls that are not the user's train/eval functions."""
    return (
        c.attr in _NOT_CALLS
        and (c.receiver is not None or c.attr in ("print", "format"))
        or c.attr in _TRACKER_CALLS
    )


def _bound(loop: LoopFact) -> str | None:
    node = loop.iter_node
    if loop.kind == "while":
        return None if (loop.test_text or "").strip() in ("True", "1") else loop.test_text
    # unwrap tqdm(range(...)) / enumerate(range(...))
    while isinstance(node, cst.Call) and node.args and not _callee(node) in ("range", "trange"):
        node = node.args[0].value
    if isinstance(node, cst.Call) and _callee(node) in ("range", "trange"):
        positional = [a for a in node.args if a.keyword is None]
        if positional:
            chosen = positional[0] if len(positional) == 1 else positional[1]
            return cst.Module([]).code_for_node(chosen.value)
    return None


def _callee(call: cst.Call) -> str:
    f = call.func
    if isinstance(f, cst.Name):
        return f.value
    if isinstance(f, cst.Attribute):
        return f.attr.value
    return ""


def counter_condition(test: cst.BaseExpression) -> bool:
    """`epoch < max_epochs`: a while loop bounded by its own counter (the tracker decides the end instead)."""
    return m.matches(test, _COUNTER_TEST)


def analyze_loop(facts: Facts, model_vars: list[str], library: str) -> tuple[EpochLoop, ValidationInfo]:
    evaluating = _evaluating(facts)
    scored = sorted(
        ((s, -lp.depth, -lp.line, lp) for lp in facts.loops if (s := _score_loop(lp, facts, evaluating, model_vars)) >= 3),
        key=lambda t: (t[0], t[1], t[2]),
        reverse=True,
    )
    loop = EpochLoop()
    validation = ValidationInfo()
    chosen = scored[0][3] if scored else None
    if chosen is None or library in ("huggingface_trainer", "lightning"):
        framework = next(
            (
                c
                for c in facts.calls
                if c.attr in ("train", "fit") and c.receiver and "trainer" in c.receiver.lower()
                or c.qname.endswith("LightningCLI")
            ),
            None,
        )
        if framework is not None:
            loop = EpochLoop(
                kind="framework", line=framework.line, function=framework.function, text=framework.text
            )
        if framework is not None or chosen is None:
            _validation(facts, None, model_vars, validation, library, evaluating)
            return loop, validation
    bound = _bound(chosen)
    kind = "while" if chosen.kind == "while" else ("for-range" if bound is not None else "for")
    text_line = facts.source.splitlines()[chosen.line - 1] if chosen.line <= facts.line_count else ""
    every = _eval_condition(chosen, facts, evaluating, model_vars)
    loop = EpochLoop(
        kind=kind,
        line=chosen.line,
        variable=chosen.target,
        bound=bound,
        iterable=chosen.iter_text,
        function=chosen.function,
        text=shorten(text_line),
        eval_condition=every[0] if every else None,
    )
    for c in facts.calls:
        if chosen.line not in c.loops or _method_noise(c):
            continue
        if c.receiver and (
            c.receiver in model_vars or c.receiver.split(".")[0] in ("torch", "np", "os", "time")
        ):
            continue
        if _is_validation_call(facts, c, evaluating, model_vars):
            loop.validation_calls.append(Evidence(line=c.line, text=c.text, detail=c.written))
        elif _TRAIN.search(c.attr):
            loop.train_calls.append(Evidence(line=c.line, text=c.text, detail=c.written))
    after = _validation_after(facts, chosen, loop, evaluating, model_vars)
    if after is not None:
        loop.validates_after = True
        loop.validation_calls.append(Evidence(line=after.line, text=after.text, detail=after.written))
    _validation(facts, chosen, model_vars, validation, library, evaluating, loop)
    if after is not None:
        _held_out(facts, chosen, after, validation)
    return loop, validation


def _validation_after(facts: Facts, chosen: LoopFact, loop: EpochLoop, evaluating: set[str],
                      model_vars: list[str]) -> CallFact | None:
    """The evaluation a script runs once after its epoch loop (train, then test) when the loop has none."""
    if loop.validation_calls or loop.eval_condition or _inline_start(chosen, facts, model_vars) is not None:
        return None
    return next((c for c in facts.calls if c.function == chosen.function and c.line > chosen.end_line
                 and not c.loops and _is_validation_call(facts, c, evaluating, model_vars)), None)


def _held_out(facts: Facts, chosen: LoopFact, call: CallFact, v: ValidationInfo) -> None:
    """The data the per-epoch evaluation reads: a validation loader the script builds and never evaluates,
    else the after-loop call's own loader (half of which the rewrite holds out)."""
    data = [a for a in call.args if split_of(a) in ("test", "validation") and a.isidentifier()]
    v.loader = data[0] if data else None
    built = [n for a in facts.assigns if a.function == chosen.function and a.line < chosen.line
             for n in a.target_names if split_of(n) == "validation" and _BATCH_ITER.search(n)]
    v.held_out = built[0] if built else v.loader


def _call_split(facts: Facts, e: Evidence) -> str | None:
    site = next((c for c in facts.calls if c.line == e.line and c.written == e.detail), None)
    if site is None:
        return split_of(e.detail)
    for names in (site.target_names, site.args):
        splits = [s for s in (split_of(n) for n in names) if s]
        if splits:
            return min(splits, key=lambda s: _SPLIT_RANK[s])
    return split_of(e.detail)


def _validation(
    facts: Facts,
    chosen: LoopFact | None,
    model_vars: list[str],
    v: ValidationInfo,
    library: str,
    evaluating: set[str],
    loop: EpochLoop | None = None,
) -> None:
    call: Evidence | None = None
    if loop and loop.validation_calls:
        call = min(loop.validation_calls, key=lambda e: (_SPLIT_RANK[_call_split(facts, e)], e.line))
    candidates: list[tuple[str, str, int]] = []  # (metric name, where, line)
    if call is not None:
        name = call.detail.rsplit(".", 1)[-1]
        v.call_line = call.line
        v.split = _call_split(facts, call)
        fn = facts.function(call.detail.replace("self.", "")) or facts.function(name)
        v.function = fn.qualname if fn else name
        v.line = fn.line if fn else None
        site = next((c for c in facts.calls if c.line == call.line and c.written == call.detail), None)
        if site is not None:
            for n in site.target_names:
                keys = _subscript_keys(facts, n, chosen)
                candidates += [(k, f"{k} read after {name}() at line {call.line}", call.line) for k in keys]
                if not keys:
                    candidates.append((n, f"assigned from {name}() at line {call.line}", call.line))
        if fn is not None:
            values = [(ln, text) for ln, text, node in fn.returns if text]
            if values:
                v.metric_returned = True
                v.returns = values[-1][1]
                for ln, text in values:
                    candidates += [(n, f"returned by {fn.name}() at line {ln}", ln) for n in _return_names(text)]
            else:
                _unreturned(facts, fn, v, candidates)
        else:
            v.metric_returned = bool(site and site.target_names)
    elif chosen is not None:
        start = _inline_start(chosen, facts, model_vars)
        if start is not None:
            v.evidence.append(Evidence(line=start, text=facts.source.splitlines()[start - 1].strip(),
                                       detail="inline validation in the loop"))
            for a in facts.assigns:
                if chosen.line in a.loops and a.line >= start:
                    candidates += [
                        (n, f"assigned at line {a.line}", a.line)
                        for n in a.target_names
                        if _direction(facts, n) and not _accumulator(n)
                    ]
    if library in ("huggingface_trainer", "lightning") and call is None:
        candidates += _framework_metrics(facts, v)
        v.split = "validation"
    _choose_metric(facts, v, candidates)
    if v.metric and chosen is not None and call is None:
        v.line = max((ln for n, _, ln in candidates if n == v.metric), default=v.line)
    if v.metric and (call is None or v.split is None):
        v.split = split_of(v.metric) or v.split or _inline_split(facts, chosen, v.line)


def _inline_start(loop: LoopFact, facts: Facts, model_vars: list[str]) -> int | None:
    """First line of validation written in the loop body: `model.eval()` or a `with torch.no_grad():` block."""
    lines = [
        c.line
        for c in facts.calls
        if loop.line in c.loops
        and (c.attr == "eval" and c.receiver and (not model_vars or c.receiver in model_vars) and not c.args
             or any(w.split("(")[0].endswith(_NO_GRAD) for w in c.in_with))
    ]
    return min(lines) if lines else None


def _inline_split(facts: Facts, loop: LoopFact | None, line: int | None) -> str | None:
    """The split of the data an inline validation iterates (`for x, y in val_loader`)."""
    if loop is None or line is None:
        return None
    inner = [lp for lp in facts.loops if lp.line < line and loop.line < lp.line and lp.depth == loop.depth + 1]
    for lp in reversed(inner):
        split = split_of(lp.iter_text or "")
        if split:
            return split
    names = [n for c in facts.calls if c.loops and c.loops[-1] == loop.line and c.line <= line for n in c.args]
    splits = [s for s in map(split_of, names) if s]
    return splits[-1] if splits else None


def _accumulator(name: str) -> bool:
    """`correct`, `n_correct`, `total`: running counts a metric is computed from, not the metric."""
    return set(name_tokens(name)) & {"correct", "total", "count", "running"} != set() and split_of(name) is None


def _subscript_keys(facts: Facts, name: str, loop: LoopFact | None) -> list[str]:
    """`losses['val']`, `metrics["accuracy"]`: the string keys the loop reads from a returned dict."""
    if loop is None:
        return []
    keys = []
    for value, index, line in facts.subscripts:
        if value == name and loop.line <= line <= loop.end_line and re.fullmatch(r"[\'\"]\w[\w/.-]*[\'\"]", index):
            keys.append(f"{name}['{index[1:-1]}']")
    return list(dict.fromkeys(keys))


def _unreturned(facts: Facts, fn, v: ValidationInfo, candidates: list[tuple[str, str, int]]) -> None:
    """A validation function that returns nothing: the metric is printed, or computed into a global."""
    computed = [
        (n, a.line)
        for a in facts.assigns
        if a.function == fn.qualname
        for n in a.target_names
        if metric_direction(n) and not n.lower().startswith("best") and not _accumulator(n)
    ]
    printed = _printed_metrics(facts, fn.qualname)
    for ln, labels, text in printed:
        v.evidence.append(
            Evidence(line=ln, text=text, detail=f"{', '.join(dict.fromkeys(labels))} printed, not returned")
        )
    for n, ln in computed:
        candidates.append((n, f"computed in {fn.name}() at line {ln} but not returned", ln))
    covered = {t for n, _ in computed for t in name_tokens(n)}  # "loss" printed for test_loss computed
    for ln, labels, _ in printed:
        candidates += [
            (label, f"printed by {fn.name}() at line {ln}", ln)
            for label in labels
            if not set(name_tokens(label)) <= covered
        ]
    v.metric_only_printed = bool(printed) or bool(computed)


def _return_names(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("{"):  # {"f1": ..., "accuracy": ...}
        return re.findall(r"[\'\"](\w+)[\'\"]\s*:", text)
    parts = [p.strip() for p in _split_top(text.strip("()"))]
    names: list[str] = []
    for p in parts:
        if re.fullmatch(r"[\w.]+", p):
            names.append(p)
        else:
            inner = re.findall(r"[A-Za-z_][\w.]*", p)
            metric_like = [n for n in inner if metric_direction(n)]
            if metric_like:
                names.append("accuracy" if any("correct" in n for n in metric_like) else metric_like[0])
    return names


def _split_top(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def _printed_metrics(facts: Facts, function: str) -> list[tuple[int, list[str], str]]:
    found = []
    for c in facts.calls:
        if c.function != function or not c.written.startswith(_PRINTERS) and c.written != "print":
            continue
        words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", c.text)
        labels = [w for w in words if metric_direction(w) and not _accumulator(w)]
        if labels:
            found.append((c.line, labels, c.text))
    return found


_LIGHTNING_VALIDATION = ("validation_step", "on_validation_epoch_end", "validation_epoch_end")


def _framework_metrics(facts: Facts, v: ValidationInfo) -> list[tuple[str, str, int]]:
    """Metric names a framework selects by: metric_for_best_model/monitor, self.log in validation, compute_metrics."""
    found = []
    for fn in facts.functions:
        if fn.name in _LIGHTNING_VALIDATION + ("compute_metrics",) and v.function is None:
            v.function, v.line = fn.qualname, fn.line
    for c in facts.calls:
        for key in ("metric_for_best_model", "monitor"):
            if key in c.kwargs:
                value = c.kwargs[key].strip("'\"")
                found.append((value, f"{key}={c.kwargs[key]} at line {c.line}", c.line))
        if (
            c.written in ("self.log", "self.log_dict")
            and c.function
            and c.function.endswith(_LIGHTNING_VALIDATION)
            and c.args
        ):
            value = c.args[0].strip("'\"f")
            if metric_direction(value):
                found.append((value, f"logged by {c.function} at line {c.line}", c.line))
    compute = facts.function("compute_metrics")
    if compute is not None:
        v.metric_returned = True
        for ln, text, _ in compute.returns:
            found += [(n, f"returned by compute_metrics() at line {ln}", ln) for n in _return_names(text)]
    return found


def _direction(facts: Facts, name: str) -> str | None:
    """A metric's direction from its name, else from the metric object it is computed by, else from the
    names it is computed from.

    `eval_metric = metric.compute()` with `metric = MulticlassF1Score(...)` or `evaluate.load("f1")` is an F1;
    `eval_metric = accurate / num_elems` (accelerate's cv_example) is an accuracy; a named quantity
    (`quality = correct / n`) is not guessed.
    """
    by_name = metric_direction(name)
    if by_name or not name.isidentifier():
        return by_name
    for a in facts.assigns:
        if name not in a.target_names:
            continue
        operands = {metric_direction(n.value) for n in m.findall(a.value, m.Name())} - {None}
        if "metric" in name_tokens(name) and len(operands) == 1 and not isinstance(a.value, cst.Call):
            return operands.pop()  # a placeholder name: what it is computed from says what it is
        for call in m.findall(a.value, m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("compute")))):
            source = call.func.value.value  # type: ignore[attr-defined]
            for b in facts.assigns:
                if source in b.target_names and isinstance(b.value, cst.Call):
                    found = _metric_class_direction(b.value)
                    if found:
                        return found
    return None


def _metric_class_direction(call: cst.Call) -> str | None:
    """`MulticlassF1Score(...)` -> maximize; `evaluate.load("accuracy")` / `load_metric("wer")` by its name."""
    if m.matches(call.func, m.Attribute(attr=m.Name("load")) | m.Name("load_metric") | m.Name("load")) and call.args:
        value = call.args[0].value
        if isinstance(value, cst.SimpleString):
            return metric_direction(value.evaluated_value if isinstance(value.evaluated_value, str) else "")
    return metric_direction(_callee(call))


def _choose_metric(facts: Facts, v: ValidationInfo, candidates: list[tuple[str, str, int]]) -> None:
    metric_like = [c for c in candidates if _direction(facts, c[0])]
    if not metric_like:
        if candidates:
            name, where, line = candidates[0]
            v.metric = name
            v.evidence.append(
                Evidence(line=line, text=name, detail=f"{where}; the name does not say its direction")
            )
        return
    compared = _comparisons(facts)

    def is_compared(n: str) -> bool:
        return any(_refers(n, names, text) for names, _, _, text in compared)

    chosen = next((c for c in metric_like if is_compared(c[0])), None)
    if chosen is None:
        best_split = min(_SPLIT_RANK[split_of(c[0])] for c in metric_like)
        pool = [c for c in metric_like if _SPLIT_RANK[split_of(c[0])] == best_split]
        maximize = [c for c in pool if _direction(facts, c[0]) == "maximize"]
        chosen = (maximize or pool)[0]
    name, where, line = chosen
    v.metric = name
    by_name = _direction(facts, name)
    v.evidence.append(Evidence(line=line, text=name, detail=f"{where}; the name says {by_name}"))
    evidence_dirs: list[str] = []
    for names, direction, cline, text in compared:
        if _refers(name, names, text):
            evidence_dirs.append(direction)
            v.evidence.append(Evidence(line=cline, text=text, detail=f"comparison says {direction}"))
    if evidence_dirs:
        v.direction = max(set(evidence_dirs), key=evidence_dirs.count)
    elif by_name:
        v.direction = by_name


def _refers(metric: str, names: tuple[str, ...], text: str) -> bool:
    """Does a comparison mention the metric (`acc1`, `meters.acc1`, `losses["val"]` for `losses['val']`)?"""
    if "[" in metric:
        key = metric.split("[", 1)[1].strip("[]'\"")
        return metric.split("[", 1)[0] in names and f"'{key}'" in text.replace('"', "'")
    return metric in names or metric.rsplit(".", 1)[-1] in names


def _comparisons(facts: Facts) -> list[tuple[tuple[str, ...], str, int, str]]:
    """(names, direction, line, text) for best-score comparisons: `acc > best_acc`, `max(...)`, mode='min'."""
    out = []
    for cmp in facts.compares:
        if len(cmp.ops) != 1 or cmp.ops[0] not in (
            "GreaterThan",
            "GreaterThanEqual",
            "LessThan",
            "LessThanEqual",
        ):
            continue
        if not any("best" in n.lower() or metric_direction(n) for n in cmp.names):
            continue
        symbol = ">" if cmp.ops[0].startswith("Greater") else "<"
        left, _, right = cmp.text.partition(symbol)
        if "best" in right.lower() and "best" not in left.lower():
            direction = "maximize" if symbol == ">" else "minimize"
        elif "best" in left.lower() and "best" not in right.lower():
            direction = "minimize" if symbol == ">" else "maximize"
        else:
            continue
        out.append((cmp.names, direction, cmp.line, cmp.text))
    plateaus: dict[str, str] = {}
    for c in facts.calls:
        if c.written in ("max", "min") and len(c.args) == 2 and any("best" in a.lower() for a in c.args):
            names = tuple(n for a in c.args for n in re.findall(r"[A-Za-z_][\w.]*", a))
            out.append((names, "maximize" if c.written == "max" else "minimize", c.line, c.text))
        mode = c.kwargs.get("mode", "").strip("'\"")
        if mode in ("max", "min") and (
            "Plateau" in c.qname or "EarlyStopping" in c.qname or "Checkpoint" in c.qname
        ):
            monitor = c.kwargs.get("monitor", "").strip("'\"")
            names = (monitor,) if monitor else ()
            direction = "maximize" if mode == "max" else "minimize"
            out.append((names, direction, c.line, c.text))
            for target in c.target_names:
                plateaus[target] = direction
        if "greater_is_better" in c.kwargs:
            names = (c.kwargs.get("metric_for_best_model", "").strip("'\""),)
            direction = "maximize" if c.kwargs["greater_is_better"] == "True" else "minimize"
            out.append((names, direction, c.line, c.text))
    for c in facts.calls:  # ReduceLROnPlateau(mode=...).step(val_auc): the metric the scheduler watches
        if c.attr == "step" and c.receiver in plateaus and c.node.args:
            names = tuple(n.value for n in m.findall(c.node.args[0].value, m.Name()))
            out.append((names, plateaus[c.receiver], c.line, c.text))
    return [o for o in out if o[1]]


def loop_refusal(report: ScriptReport) -> str | None:
    """Why PAI005 cannot hook the tracker into a plain script, as the question to ask the user, or None."""
    if report.training_library.kind != "plain" or report.integration.step("add_validation_score") and \
            report.integration.step("add_validation_score").status == "present":
        return None
    loop, v = report.epoch_loop, report.validation
    if loop.kind == "none":
        return (
            "PAI005: no epoch loop was found in this script: the training loop looks delegated to code outside it "
            "(a config `_target_` / instantiate, or a trainer in an imported package). Which file runs the epoch "
            "loop? Run `pai perforate` on that file, or call GPA.pai_tracker.add_validation_score(score, model) "
            "once per epoch there by hand."
        )
    if v.metric is None:
        return (
            f"PAI005: no validation metric was found for the epoch loop at line {loop.line}: the tracker needs one "
            "score per epoch measured on held-out data. Which value should add_validation_score receive (for "
            "example a validation loss or accuracy), and is a higher value better? Compute it each epoch and "
            "run `pai perforate` again."
        )
    if v.direction == "unknown":
        return (
            f"PAI005: the direction of the validation metric '{v.metric}' is unknown: is a higher {v.metric} better "
            "(maximizing_score=True) or a lower one (maximizing_score=False)? Compare it with a best value in the "
            "script (e.g. `if val_score > best_score:`) or name it after what it measures, then run "
            "`pai perforate` again."
        )
    return None


_TEST_NAMES = re.compile(r"(^|_)test(_|$)|testloader|testset|test_?loader|test_?data", re.IGNORECASE)
_EARLY = re.compile(
    r"early_?stop|patience|epochs_no_improve|no_improve|bad_epochs|wait_count|EarlyStopping", re.IGNORECASE
)


def analyze_presence(facts: Facts, loop: EpochLoop) -> dict[str, PresenceInfo]:
    """Whether the script has a test set, early stopping, AMP and an EMA model, each with up to six pieces of
    evidence: the integration keeps the first two out of its scores and rebuilds the last two."""
    return {
        "test_set": _present(_test_set_evidence(facts)),
        "early_stopping": _present(_early_stopping_evidence(facts, loop)),
        "amp": _present(_amp_evidence(facts)),
        "ema": _present(_ema_evidence(facts)),
    }


def _present(evidence: list[Evidence]) -> PresenceInfo:
    return PresenceInfo(present=bool(evidence), evidence=evidence[:6])


def _assign_evidence(a) -> Evidence:
    return Evidence(line=a.line, text=shorten(f"{' = '.join(a.targets)} = {a.value_text}"))


def _test_set_evidence(facts: Facts) -> list[Evidence]:
    """Test-named variables, test functions (not pytest's `test_*`), and datasets built with a test split."""
    evidence: list[Evidence] = []
    seen: set[int] = set()
    for a in facts.assigns:
        if any(_TEST_NAMES.search(n.rsplit(".", 1)[-1]) for n in a.target_names) and a.line not in seen:
            seen.add(a.line)
            evidence.append(_assign_evidence(a))
    for fn in facts.functions:
        if (
            _TEST_NAMES.search(fn.name)
            and not fn.name.startswith("test_")
            or fn.name in ("test", "test_step", "test_epoch")
        ):
            evidence.append(Evidence(line=fn.line, text=f"def {fn.name}(...)", detail="test function"))
    for c in facts.calls:
        if c.kwargs.get("train", "").strip() == "False" or c.kwargs.get("split", "").strip("'\"") == "test":
            evidence.append(Evidence(line=c.line, text=c.text, detail="test split"))
    return evidence


def _early_stopping_evidence(facts: Facts, loop: EpochLoop) -> list[Evidence]:
    """An EarlyStopping callback or class, patience-like counters, and (with an epoch loop) an `if` on one of
    them that breaks."""
    evidence = [Evidence(line=c.line, text=c.text) for c in facts.calls
                if "EarlyStopping" in c.qname or "early_stopping" in c.qname.lower()]
    evidence += [_assign_evidence(a) for a in facts.assigns if any(_EARLY.search(n) for n in a.target_names)]
    if loop.line is not None:
        evidence += [
            Evidence(line=iff.line, text=f"if {iff.test}: ... break")
            for iff in facts.ifs
            if any(_EARLY.search(n) for n in iff.names)
            and any(iff.line <= ln <= iff.end_line for ln, _ in facts.breaks)
        ]
    return evidence


def _amp_evidence(facts: Facts) -> list[Evidence]:
    """A GradScaler, or an AMP / CUDA autocast."""
    found = []
    for c in facts.calls:
        last = c.qname.rsplit(".", 1)[-1]
        if last in ("GradScaler", "autocast") and ("amp" in c.qname or "cuda" in c.qname or last == "GradScaler"):
            found.append(Evidence(line=c.line, text=c.text))
    return found


_EMA_CLASSES = ("AveragedModel", "ModelEma", "ModelEmaV2", "ModelEmaV3", "ExponentialMovingAverage", "EMA")
_EMA_NAMES = ("ema", "ema_model", "model_ema")


def _ema_evidence(facts: Facts) -> list[Evidence]:
    """An averaged-model class, or a call assigned to an EMA-named variable (once per line)."""
    found: list[Evidence] = []
    for c in facts.calls:
        named = c.target_names and any(n.rsplit(".", 1)[-1].lower() in _EMA_NAMES for n in c.target_names)
        if c.qname.rsplit(".", 1)[-1] in _EMA_CLASSES or (named and c.line not in [e.line for e in found]):
            found.append(Evidence(line=c.line, text=c.text))
    return found
