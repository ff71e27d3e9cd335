"""Where insertions go: right after each construction of the trained model, and with the first import block.

A model is often built in a block that does not always run: under `if __name__ == "__main__":`, inside a
`try`, in both branches of `if args.arch == ...:`. `perforate_model` belongs right after every construction
that reaches training, in the same block; a construction that a later one replaces (`model = A()` ...
`model = B()`) is not trained and is left alone. The config block goes once before all of them.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

__all__ = ["config_anchor", "import_anchor", "trained_constructions"]

_IMPORT = m.SimpleStatementLine(body=[m.AtLeastN(m.Import() | m.ImportFrom(), n=1)])


def trained_constructions(rule) -> list[tuple[cst.CSTNode, object]]:
    """(statement, ModelInstance) of each construction of the model that is trained, one per branch that can
    reach training, in line order."""
    primary = rule.primary_model()
    if primary is None:
        return []
    home = rule.statement_at(rule.now(primary.line))
    function = rule.function_name(home)
    statements: list[cst.CSTNode] = []
    instances: dict[int, object] = {}
    for instance in rule.report.model.instances:
        stmt = rule.statement_at(rule.now(instance.line))
        if instance.variable == primary.variable and stmt is not None and rule.function_name(stmt) == function \
                and id(stmt) not in instances:
            statements.append(stmt)
            instances[id(stmt)] = instance
    limit = _first_use(rule, primary.variable, function)
    before = [s for s in statements if limit is None or rule.lines.get(s) < limit]
    chosen = sorted(_reaching(rule, before or statements), key=rule.lines.get)
    return [(stmt, instances[id(stmt)]) for stmt in chosen]


def _first_use(rule, variable: str, function: str | None) -> int | None:
    """Line (current) where training starts using the model: its optimizer, else the epoch loop."""
    report = rule.report
    lines = [rule.now(o.line) for o in report.optimizers
             if o.function == function and variable in (o.params_argument or o.text)]
    if report.epoch_loop.line and report.epoch_loop.function == function:
        lines.append(rule.now(report.epoch_loop.line))
    lines = [line for line in lines if line is not None]
    return min(lines) if lines else None


def _reaching(rule, candidates: list[cst.CSTNode]) -> list[cst.CSTNode]:
    """Of the constructions in one function, those whose model reaches the code after the last of them:
    the last one, the last one of each alternative branch around it, and the earlier ones when a branch
    can be skipped (`model = A()` then `if args.big: model = B()`)."""
    if not candidates:
        return []
    index = rule.lines
    last = max(candidates, key=index.get)
    found = [last]
    handled = {id(last)}
    for ancestor in index.ancestors(last):
        if isinstance(ancestor, cst.FunctionDef):
            break
        if not isinstance(ancestor, (cst.If, cst.Try, cst.TryStar)):
            continue
        own = _branch(index, last, ancestor)
        groups: dict[int, list[cst.CSTNode]] = {}
        for c in candidates:
            if id(c) in handled or not any(a is ancestor for a in index.ancestors(c)):
                continue
            branch = _branch(index, c, ancestor)
            if branch != own:
                groups.setdefault(branch, []).append(c)
        for group in groups.values():
            for c in _reaching(rule, group):
                found.append(c)
        handled |= {id(c) for c in candidates if any(a is ancestor for a in index.ancestors(c))}
        if not _always_builds(ancestor, own, groups):
            earlier = [c for c in candidates if id(c) not in handled and index.get(c) < index.get(ancestor)]
            found += _reaching(rule, earlier)
            break
    return found


def _branch(index, node: cst.CSTNode, compound: cst.CSTNode) -> int:
    """Which branch of an if/try `node` sits in: 0 the body, 1.. the handlers / else (an elif counts as else)."""
    child = node
    for parent in index.ancestors(node):
        if parent is compound:
            break
        child = parent
    if isinstance(compound, cst.If):
        return 0 if any(s is child for s in compound.body.body) else 1
    for number, block in enumerate([compound.body, *(h.body for h in compound.handlers),
                                    compound.orelse.body if compound.orelse else None], start=0):
        if block is not None and any(s is child for s in block.body):
            return number
    return -1


def _always_builds(compound: cst.CSTNode, own: int, groups: dict[int, list]) -> bool:
    """Whether every way through `compound` builds the model (else an earlier construction can reach on)."""
    branches = {own, *groups}
    if isinstance(compound, cst.If):
        return branches >= {0, 1} and _ends_in_else(compound)
    return 0 in branches  # a try body that builds it: the handlers only run when that failed


def _ends_in_else(node: cst.If) -> bool:
    orelse = node.orelse
    if orelse is None:
        return False
    return _ends_in_else(orelse) if isinstance(orelse, cst.If) else True


def config_anchor(rule, constructions: list[tuple[cst.CSTNode, object]]) -> cst.CSTNode | None:
    """The statement the settings block goes before: the construction itself, or the if/try/block statement
    that holds all of them (so it runs once, before any of them)."""
    if not constructions:
        return None
    constructions = [stmt for stmt, _ in constructions]
    index = rule.lines
    paths = [[c, *index.ancestors(c)] for c in constructions]
    first = min(constructions, key=index.get)
    common = next((node for node in [first, *index.ancestors(first)]
                   if all(any(n is node for n in path) for path in paths)), None)
    if common is not None and (len(constructions) == 1 or isinstance(common, (cst.If, cst.Try, cst.TryStar))):
        anchor = common
    else:  # the first statement of the common block that holds a construction
        path = [first, *index.ancestors(first)]
        anchor = next((n for n in path if index.parent.get(n) is common), first)
    while anchor is not None and not _in_a_block(rule, anchor):  # an elif is not a statement of a block
        anchor = index.parent.get(anchor)
    return anchor


def _in_a_block(rule, node: cst.CSTNode) -> bool:
    return any(s is node for s in rule.siblings(node)) and (rule.lines.parent.get(node) is not None
                                                              or any(s is node for s in rule.module.body))


def import_anchor(tree: cst.Module) -> tuple[cst.CSTNode, bool]:
    """(statement, insert after it): the end of the module's first block of imports, so new imports come
    before any code (a late import after code that uses it would be too late). Without imports: after the
    docstring, else at the top (before the first statement)."""
    body = list(tree.body)
    start = next((i for i, s in enumerate(body) if m.matches(s, _IMPORT)), None)
    if start is None:
        docstring = body and m.matches(body[0], m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString())]))
        return (body[0], bool(docstring))
    end = start
    while end + 1 < len(body) and m.matches(body[end + 1], _IMPORT):
        end += 1
    return body[end], True
