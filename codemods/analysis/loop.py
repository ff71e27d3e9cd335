"""The epoch loop, the validation step, its metric and direction, test set and early stopping."""

from __future__ import annotations

import re

import libcst as cst

from codemods.analysis.facts import CallFact, Facts, LoopFact, shorten
from codemods.analysis.report import EpochLoop, Evidence, PresenceInfo, ValidationInfo
from codemods.analysis.vocab import metric_direction, name_tokens

__all__ = ["analyze_loop", "analyze_presence"]

_EPOCH_VAR = re.compile(r"epoch", re.IGNORECASE)
_BATCH_ITER = re.compile(
    r"loader|dataloader|batch|enumerate\(\s*(train|data|val)|dataset|\bdl\b|iterator|data\b", re.IGNORECASE
)
_TRAIN = re.compile(r"train|run_epoch|fit_epoch|one_epoch", re.IGNORECASE)
_VALID = re.compile(r"valid|(^|_)val(_|$|idate)|eval|(^|_)test", re.IGNORECASE)
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
_FRAMEWORK_CALLS = {"train": "huggingface_trainer", "fit": "lightning"}


def _score_loop(loop: LoopFact, facts: Facts) -> int:
    score = 0
    target = loop.target or ""
    head = loop.iter_text or loop.test_text or ""
    if _EPOCH_VAR.search(target):
        score += 3
    elif target in ("ep", "e", "i_ep"):
        score += 1
    if _EPOCH_VAR.search(head):
        score += 3
    if loop.kind == "for" and re.match(r"\s*(t?range|tqdm\(\s*range|tqdm\.trange|trange)\b", head):
        score += 1
    if loop.kind == "for" and _BATCH_ITER.search(head) and not _EPOCH_VAR.search(head):
        score -= 5
    if loop.kind == "while" and head.strip() in ("True", "1", "not done", "not training_complete"):
        score += 1
    body_calls = [c for c in facts.calls if loop.line in c.loops]
    if any(_TRAIN.search(c.attr) and not _method_noise(c) for c in body_calls):
        score += 2
    if any(c.attr in ("backward",) for c in body_calls):
        score += 1
    if any(_VALID.search(c.attr) and not _method_noise(c) for c in body_calls):
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


def analyze_loop(facts: Facts, model_vars: list[str], library: str) -> tuple[EpochLoop, ValidationInfo]:
    scored = sorted(
        ((s, -lp.depth, -lp.line, lp) for lp in facts.loops if (s := _score_loop(lp, facts)) >= 3),
        key=lambda t: (t[0], t[1], t[2]),
        reverse=True,
    )
    loop = EpochLoop()
    validation = ValidationInfo()
    chosen = scored[0][3] if scored else None
    if chosen is None:
        framework = next(
            (
                c
                for c in facts.calls
                if c.attr in ("train", "fit") and c.receiver and "trainer" in c.receiver.lower()
            ),
            None,
        )
        if framework is not None:
            loop = EpochLoop(
                kind="framework", line=framework.line, function=framework.function, text=framework.text
            )
        _validation(facts, None, model_vars, validation, library)
        return loop, validation
    bound = _bound(chosen)
    kind = "while" if chosen.kind == "while" else ("for-range" if bound is not None else "for")
    text_line = facts.source.splitlines()[chosen.line - 1] if chosen.line <= facts.line_count else ""
    loop = EpochLoop(
        kind=kind,
        line=chosen.line,
        variable=chosen.target,
        bound=bound,
        iterable=chosen.iter_text,
        function=chosen.function,
        text=shorten(text_line),
    )
    for c in facts.calls:
        if chosen.line not in c.loops or _method_noise(c):
            continue
        if c.receiver and (
            c.receiver in model_vars or c.receiver.split(".")[0] in ("torch", "np", "os", "time")
        ):
            continue
        if _TRAIN.search(c.attr):
            loop.train_calls.append(Evidence(line=c.line, text=c.text, detail=c.written))
        elif (
            _VALID.search(c.attr)
            and not c.attr.startswith(("test_", "set_"))
            or c.attr in ("test", "test_epoch")
        ):
            loop.validation_calls.append(Evidence(line=c.line, text=c.text, detail=c.written))
    _validation(facts, chosen, model_vars, validation, library, loop)
    return loop, validation


def _validation(
    facts: Facts,
    chosen: LoopFact | None,
    model_vars: list[str],
    v: ValidationInfo,
    library: str,
    loop: EpochLoop | None = None,
) -> None:
    call: Evidence | None = None
    if loop and loop.validation_calls:
        ranked = sorted(
            loop.validation_calls, key=lambda e: (bool(re.search(r"test", e.detail, re.IGNORECASE)), e.line)
        )
        call = ranked[0]
    candidates: list[tuple[str, str, int]] = []  # (metric name, where, line)
    if call is not None:
        name = call.detail.rsplit(".", 1)[-1]
        v.call_line = call.line
        fn = facts.function(name) or facts.function(call.detail.replace("self.", ""))
        v.function = fn.qualname if fn else name
        v.line = fn.line if fn else None
        site = next((c for c in facts.calls if c.line == call.line and c.written == call.detail), None)
        if site is not None:
            for n in site.target_names:
                candidates.append((n, f"assigned from {name}() at line {call.line}", call.line))
        if fn is not None:
            values = [(ln, text) for ln, text, node in fn.returns if text]
            if values:
                v.metric_returned = True
                v.returns = values[-1][1]
                for ln, text in values:
                    candidates += [
                        (n, f"returned by {fn.name}() at line {ln}", ln) for n in _return_names(text)
                    ]
            else:
                _unreturned(facts, fn, v, candidates)
        else:
            v.metric_returned = bool(site and site.target_names)
    elif chosen is not None:
        evals = [
            c for c in facts.calls if chosen.line in c.loops and c.attr == "eval" and c.receiver in model_vars
        ]
        if evals:
            v.line = evals[0].line
            v.evidence.append(
                Evidence(line=evals[0].line, text=evals[0].text, detail="inline validation in the loop")
            )
            for a in facts.assigns:
                if chosen.line in a.loops and a.line > evals[0].line:
                    candidates += [
                        (n, f"assigned at line {a.line}", a.line)
                        for n in a.target_names
                        if metric_direction(n)
                    ]
    if library in ("huggingface_trainer", "lightning") and call is None:
        candidates += _framework_metrics(facts, v)
    _choose_metric(facts, v, candidates)


def _unreturned(facts: Facts, fn, v: ValidationInfo, candidates: list[tuple[str, str, int]]) -> None:
    """A validation function that returns nothing: the metric is printed, or computed into a global."""
    computed = [
        (n, a.line)
        for a in facts.assigns
        if a.function == fn.qualname
        for n in a.target_names
        if metric_direction(n) and not n.lower().startswith("best")
    ]
    printed = _printed_metrics(facts, fn.qualname)
    for ln, labels, text in printed:
        v.evidence.append(
            Evidence(line=ln, text=text, detail=f"{', '.join(dict.fromkeys(labels))} printed, not returned")
        )
    for ln, labels, _ in printed:
        candidates += [(label, f"printed by {fn.name}() at line {ln}", ln) for label in labels]
    for n, ln in computed:
        candidates.append((n, f"computed in {fn.name}() at line {ln} but not returned", ln))
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
        labels = [w for w in words if metric_direction(w) and w.lower() not in ("print",)]
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


def _choose_metric(facts: Facts, v: ValidationInfo, candidates: list[tuple[str, str, int]]) -> None:
    metric_like = [c for c in candidates if metric_direction(c[0])]
    if not metric_like:
        if candidates:
            name, where, line = candidates[0]
            v.metric = name
            v.evidence.append(
                Evidence(line=line, text=name, detail=f"{where}; the name does not say its direction")
            )
        return
    compared = _comparisons(facts)
    chosen = None
    for cand in metric_like:
        n = cand[0]
        if any(n in names or n.rsplit(".", 1)[-1] in names for names, _, _, _ in compared):
            chosen = cand
            break
    if chosen is None:
        maximize = [c for c in metric_like if metric_direction(c[0]) == "maximize"]
        chosen = (maximize or metric_like)[0]
    name, where, line = chosen
    v.metric = name
    by_name = metric_direction(name)
    v.evidence.append(Evidence(line=line, text=name, detail=f"{where}; the name says {by_name}"))
    evidence_dirs: list[str] = []
    short = name.rsplit(".", 1)[-1]
    for names, direction, cline, text in compared:
        if name in names or short in names:
            evidence_dirs.append(direction)
            v.evidence.append(Evidence(line=cline, text=text, detail=f"comparison says {direction}"))
    if evidence_dirs:
        v.direction = max(set(evidence_dirs), key=evidence_dirs.count)
    elif by_name:
        v.direction = by_name


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
            out.append((names, "maximize" if mode == "max" else "minimize", c.line, c.text))
        if "greater_is_better" in c.kwargs:
            names = (c.kwargs.get("metric_for_best_model", "").strip("'\""),)
            direction = "maximize" if c.kwargs["greater_is_better"] == "True" else "minimize"
            out.append((names, direction, c.line, c.text))
        if c.attr == "step" and c.receiver and "sched" in c.receiver.lower() and c.args:
            out.append((tuple(re.findall(r"[A-Za-z_][\w.]*", c.args[0])), "", c.line, c.text))
    return [o for o in out if o[1]]


_TEST_NAMES = re.compile(r"(^|_)test(_|$)|testloader|testset|test_?loader|test_?data", re.IGNORECASE)
_EARLY = re.compile(
    r"early_?stop|patience|epochs_no_improve|no_improve|bad_epochs|wait_count|EarlyStopping", re.IGNORECASE
)


def analyze_presence(facts: Facts, loop: EpochLoop) -> dict[str, PresenceInfo]:
    test = PresenceInfo()
    seen: set[int] = set()
    for a in facts.assigns:
        if any(_TEST_NAMES.search(n.rsplit(".", 1)[-1]) for n in a.target_names) and a.line not in seen:
            seen.add(a.line)
            test.evidence.append(
                Evidence(line=a.line, text=shorten(f"{' = '.join(a.targets)} = {a.value_text}"))
            )
    for fn in facts.functions:
        if (
            _TEST_NAMES.search(fn.name)
            and not fn.name.startswith("test_")
            or fn.name in ("test", "test_step", "test_epoch")
        ):
            test.evidence.append(Evidence(line=fn.line, text=f"def {fn.name}(...)", detail="test function"))
    for c in facts.calls:
        if c.kwargs.get("train", "").strip() == "False" or c.kwargs.get("split", "").strip("'\"") == "test":
            test.evidence.append(Evidence(line=c.line, text=c.text, detail="test split"))
    test.present = bool(test.evidence)
    test.evidence = test.evidence[:6]

    early = PresenceInfo()
    for c in facts.calls:
        if "EarlyStopping" in c.qname or "early_stopping" in c.qname.lower():
            early.evidence.append(Evidence(line=c.line, text=c.text))
    for a in facts.assigns:
        if any(_EARLY.search(n) for n in a.target_names):
            early.evidence.append(
                Evidence(line=a.line, text=shorten(f"{' = '.join(a.targets)} = {a.value_text}"))
            )
    if loop.line is not None:
        for iff in facts.ifs:
            if any(_EARLY.search(n) for n in iff.names) and any(
                iff.line <= ln <= iff.end_line for ln, _ in facts.breaks
            ):
                early.evidence.append(Evidence(line=iff.line, text=f"if {iff.test}: ... break"))
    early.present = bool(early.evidence)
    early.evidence = early.evidence[:6]

    amp = PresenceInfo()
    ema = PresenceInfo()
    for c in facts.calls:
        last = c.qname.rsplit(".", 1)[-1]
        if last in ("GradScaler", "autocast") and (
            "amp" in c.qname or "cuda" in c.qname or last == "GradScaler"
        ):
            amp.evidence.append(Evidence(line=c.line, text=c.text))
        if last in (
            "AveragedModel",
            "ModelEma",
            "ModelEmaV2",
            "ModelEmaV3",
            "ExponentialMovingAverage",
            "EMA",
        ) or (
            c.target_names
            and any(n.rsplit(".", 1)[-1].lower() in ("ema", "ema_model", "model_ema") for n in c.target_names)
            and c.line not in [e.line for e in ema.evidence]
        ):
            ema.evidence.append(Evidence(line=c.line, text=c.text))
    amp.present, ema.present = bool(amp.evidence), bool(ema.evidence)
    amp.evidence, ema.evidence = amp.evidence[:6], ema.evidence[:6]
    _ = name_tokens
    return {"test_set": test, "early_stopping": early, "amp": amp, "ema": ema}
