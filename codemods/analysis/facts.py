"""One pass over a module that records the raw facts every analysis step reads.

The concern modules (model, optim, loop, parallel, integration, knobs) never walk the tree again: they
filter these lists. The pass is `codemods._libcst_internals.code_spans`, libcst's own code generation
recording every node's source span (text and line numbers) for about the cost of `module.code`; libcst's
PositionProvider and QualifiedNameProvider cost 10x more. Names are resolved through the script's import
table with Python's scoping (a local variable hides an import), so `from torch import optim as O;
O.Adam(...)` is recorded as `torch.optim.Adam`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods._libcst_internals import CodeSpans, StatementIndex, code_spans

__all__ = ["Facts", "StatementIndex", "collect_facts"]

_WS = re.compile(r"\s+")


def shorten(text: str, limit: int = 160) -> str:
    text = _WS.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class CallFact:
    node: cst.Call
    qname: str  # resolved dotted name of the callee ("torch.optim.SGD"), else the callee as written
    written: str  # the callee as written ("O.SGD", "self.fc", "scheduler.step")
    line: int
    function: str | None
    cls: str | None
    target: str | None  # text of the assignment target when the call is (part of) an assigned value
    target_names: tuple[str, ...]
    conditions: tuple[str, ...]
    loops: tuple[int, ...]  # lines of enclosing loops, outermost first
    text: str
    args: list[str]  # each argument as written
    kwargs: dict[str, str]
    in_with: tuple[str, ...] = ()

    @property
    def attr(self) -> str:
        return self.written.rsplit(".", 1)[-1]

    @property
    def receiver(self) -> str | None:
        return self.written.rsplit(".", 1)[0] if "." in self.written else None


@dataclass
class FunctionFact:
    name: str
    qualname: str  # Class.method or func (nested: outer.inner)
    line: int
    end_line: int
    cls: str | None
    params: list[str]
    decorators: list[str]
    returns: list[tuple[int, str, cst.BaseExpression | None]] = field(default_factory=list)


@dataclass
class LoopFact:
    kind: str  # "for" | "while"
    line: int
    end_line: int
    target: str | None
    iter_text: str | None
    iter_node: cst.BaseExpression | None
    test_text: str | None
    function: str | None
    depth: int  # number of enclosing loops
    node: cst.For | cst.While | None = field(default=None, repr=False)


@dataclass
class ClassFact:
    name: str
    line: int
    end_line: int
    bases: list[str]  # resolved qualified names (or text)
    bases_written: list[str]
    decorators: list[str]
    fields: list[tuple[str, str | None, str | None, int]] = field(
        default_factory=list
    )  # name, annotation, default


@dataclass
class AssignFact:
    targets: list[str]
    target_names: tuple[str, ...]
    value: cst.BaseExpression
    value_text: str
    line: int
    function: str | None
    cls: str | None
    loops: tuple[int, ...]


@dataclass
class CompareFact:
    text: str
    names: tuple[str, ...]
    ops: tuple[str, ...]
    line: int
    function: str | None


@dataclass
class ImportFact:
    module: str
    name: str | None
    alias: str | None
    line: int
    level: int  # relative import dots


@dataclass
class IfFact:
    test: str
    line: int
    end_line: int
    function: str | None
    body_first_line: int
    names: tuple[str, ...]  # plain names tested, e.g. ("training_complete",)
    node: cst.If | None = field(default=None, repr=False)


@dataclass
class Facts:
    module: cst.Module
    filename: str
    calls: list[CallFact] = field(default_factory=list)
    functions: list[FunctionFact] = field(default_factory=list)
    loops: list[LoopFact] = field(default_factory=list)
    classes: list[ClassFact] = field(default_factory=list)
    assigns: list[AssignFact] = field(default_factory=list)
    compares: list[CompareFact] = field(default_factory=list)
    imports: list[ImportFact] = field(default_factory=list)
    ifs: list[IfFact] = field(default_factory=list)
    subscripts: list[tuple[str, str, int]] = field(
        default_factory=list
    )  # (qualified value, index text, line)
    attributes: set[str] = field(default_factory=set)  # every dotted attribute read, e.g. "args.distributed"
    strings: list[tuple[str, int]] = field(default_factory=list)  # short string literals (keys, labels)
    breaks: list[tuple[int, str | None]] = field(default_factory=list)  # (line, function)
    line_count: int = 0
    source: str = ""  # the module's code, as libcst generates it (identical to the parsed text)
    spans: dict[cst.CSTNode, tuple[int, int]] = field(default_factory=dict, repr=False)  # code_for_node spans
    # From the same pass, for `pai check`, which would otherwise walk the tree again:
    parents: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict, repr=False)  # every node's parent
    names: dict[str, list[cst.Name]] = field(default_factory=dict, repr=False)  # Name nodes by value, in order
    import_nodes: list[cst.Import | cst.ImportFrom] = field(default_factory=list, repr=False)
    statements: StatementIndex = field(default_factory=StatementIndex, repr=False)  # lines as PositionProvider's
    # Last line of each statement counting the comment lines that end its block (libcst puts them in the block):
    # the end the rules' own statement index uses (`codemods._libcst_internals.render_nodes`).
    block_ends: dict[cst.CSTNode, int] = field(default_factory=dict, repr=False)

    def code(self, node: cst.CSTNode) -> str:
        """`module.code_for_node(node)`, sliced from the source instead of generated again.

        Only a one-line slice is sure to be identical: over several lines the source carries the
        indentation of the enclosing block, which `code_for_node` leaves out.
        """
        span = self.spans.get(node)
        if span is not None:
            text = self.source[span[0] : span[1]]
            if "\n" not in text and "\r" not in text:
                return text
        return self.module.code_for_node(node)

    def resolve(self, text: str) -> str:
        """A dotted name as written -> qualified through this module's imports (`optim.SGD` -> torch.optim.SGD)."""
        head, _, rest = text.strip().partition(".")
        for imp in self.imports:
            bound = imp.alias or (imp.name if imp.name else imp.module.split(".", 1)[0])
            if bound != head or imp.level:
                continue
            if imp.name and imp.name != "*":
                full = f"{imp.module}.{imp.name}"
            else:
                full = imp.module if imp.alias else head
            return f"{full}.{rest}" if rest else full
        return text.strip()

    def function(self, qualname: str | None) -> FunctionFact | None:
        if qualname is None:
            return None
        return next((f for f in self.functions if f.qualname == qualname), None) or next(
            (f for f in self.functions if f.name == qualname), None
        )


class _Collector:
    """Turns the (entering, node) events of one code-generation pass into Facts."""

    def __init__(self, facts: Facts, spans: CodeSpans) -> None:
        self.f = facts
        self.syntax = spans.syntax
        self.dotted = spans.dotted
        self.dotted_starts = [facts.spans[n][0] for n in spans.dotted]
        self.source = facts.source
        self.line_starts = spans.line_starts
        self.func_stack: list[FunctionFact] = []
        self.class_stack: list[str] = []
        self.loop_stack: list[int] = []
        self.saved_loops: list[list[int]] = []
        self.cond_stack: list[str] = []
        self.with_stack: list[str] = []
        self.assign_stack: list[tuple[str, tuple[str, ...]]] = []
        self.local_names: dict[str, set[str]] = {}  # function qualname -> names bound in it
        self.local_imports: dict[str, set[str]] = {}  # function qualname -> names it imports
        self.pending: list[tuple[str, str | None, Callable[[str], None]]] = []  # (written, function, store)

    @classmethod
    def handlers(cls) -> tuple[dict[type, object], dict[type, object]]:
        visit, leave = {}, {}
        for name in dir(cls):
            kind, _, node_type = name.partition("_")
            if kind in ("visit", "leave") and hasattr(cst, node_type):
                (visit if kind == "visit" else leave)[getattr(cst, node_type)] = getattr(cls, name)
        return visit, leave

    # -- helpers -------------------------------------------------------------------------------------
    def text(self, node: cst.CSTNode) -> str:
        span = self.syntax.get(node)
        return self.source[span[0] : span[1]] if span else self.f.module.code_for_node(node)

    def line(self, node: cst.CSTNode) -> int:
        return bisect_right(self.line_starts, self.syntax[node][0])

    def end_line(self, node: cst.CSTNode) -> int:
        return bisect_right(self.line_starts, self.syntax[node][1])

    def names_in(self, node: cst.CSTNode) -> tuple[str, ...]:
        """Every dotted name in an expression, e.g. ("acc1", "best_acc1", "args.epochs"), in source order.

        Read off the Name/Attribute nodes the pass recorded: those whose span lies in the node's span are
        its descendants (no need to walk it again); an attribute chain counts whole, and its last part.
        """
        spans, dotted, starts = self.f.spans, self.dotted, self.dotted_starts
        start, end = spans[node]
        found: list[str] = []
        inside = -1  # end of the attribute chain being skipped
        for i in range(bisect_left(starts, start), len(dotted)):
            if starts[i] >= end:
                break
            n = dotted[i]
            n_start, n_end = spans[n]
            if n_start < inside or n_end > end:  # part of a chain already counted, or an enclosing node
                continue
            if type(n) is cst.Name:
                found.append(n.value)
            else:
                full = get_full_name_for_node(n)
                if full:
                    found += (full, n.attr.value)
                    inside = n_end
        return tuple(dict.fromkeys(found))

    def qualify_later(self, written: str | None, store: Callable[[str], None]) -> None:
        """Resolve a dotted name once every import and local binding is known (see `resolve_names`)."""
        if written:
            self.pending.append((written, self.func, store))

    def bind(self, *names: str) -> None:
        if self.func_stack:
            self.local_names.setdefault(self.func, set()).update(n.partition(".")[0] for n in names if n)

    @property
    def func(self) -> str | None:
        return self.func_stack[-1].qualname if self.func_stack else None

    @property
    def cls(self) -> str | None:
        return self.class_stack[-1] if self.class_stack else None

    # -- scopes ----------------------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.bind(node.name.value)
        bases_written = [self.text(a.value) for a in node.bases]
        fact = ClassFact(
            name=node.name.value,
            line=self.line(node),
            end_line=self.end_line(node),
            bases=[get_full_name_for_node(a.value) or w for a, w in zip(node.bases, bases_written)],
            bases_written=bases_written,
            decorators=[get_full_name_for_node(d.decorator) or "" for d in node.decorators],
        )
        for i, a in enumerate(node.bases):
            self.qualify_later(get_full_name_for_node(a.value), lambda q, i=i: fact.bases.__setitem__(i, q))
        self.f.classes.append(fact)
        self.class_stack.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bind(node.name.value)
        outer = self.func_stack[-1].qualname + "." if self.func_stack else ""
        in_class = self.cls if (self.cls and not self.func_stack) else None
        qual = (
            f"{outer}{node.name.value}"
            if outer
            else (f"{in_class}.{node.name.value}" if in_class else node.name.value)
        )
        every = (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
        params = [p.name.value for p in every]
        fact = FunctionFact(
            name=node.name.value,
            qualname=qual,
            line=self.line(node),
            end_line=self.end_line(node),
            cls=in_class,
            params=params,
            decorators=[get_full_name_for_node(d.decorator) or "" for d in node.decorators],
        )
        self.f.functions.append(fact)
        self.func_stack.append(fact)
        star = [
            p.name.value for p in (node.params.star_arg, node.params.star_kwarg) if isinstance(p, cst.Param)
        ]
        self.bind(*params, *star)
        self.saved_loops.append(self.loop_stack)
        self.loop_stack = []

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_stack.pop()
        self.loop_stack = self.saved_loops.pop()

    def visit_Return(self, node: cst.Return) -> None:
        if self.func_stack:
            text = self.text(node.value) if node.value is not None else ""
            self.func_stack[-1].returns.append((self.line(node), text, node.value))

    def visit_For(self, node: cst.For) -> None:
        line = self.line(node)
        self.bind(*self.names_in(node.target))
        self.f.loops.append(
            LoopFact(
                kind="for",
                line=line,
                end_line=self.end_line(node),
                target=self.text(node.target),
                iter_text=self.text(node.iter),
                iter_node=node.iter,
                test_text=None,
                function=self.func,
                depth=len(self.loop_stack),
                node=node,
            )
        )
        self.loop_stack.append(line)

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_stack.pop()

    def visit_While(self, node: cst.While) -> None:
        line = self.line(node)
        self.f.loops.append(
            LoopFact(
                kind="while",
                line=line,
                end_line=self.end_line(node),
                target=None,
                iter_text=None,
                iter_node=None,
                test_text=self.text(node.test),
                function=self.func,
                depth=len(self.loop_stack),
                node=node,
            )
        )
        self.loop_stack.append(line)

    def leave_While(self, original_node: cst.While) -> None:
        self.loop_stack.pop()

    def visit_If(self, node: cst.If) -> None:
        test = shorten(self.text(node.test))
        self.f.ifs.append(
            IfFact(
                test=test,
                line=self.line(node),
                end_line=self.end_line(node),
                function=self.func,
                body_first_line=self.line(node.body),
                names=self.names_in(node.test),
                node=node,
            )
        )
        self.cond_stack.append(test)

    def leave_If(self, original_node: cst.If) -> None:
        self.cond_stack.pop()

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if item.asname is not None:
                self.bind(*self.names_in(item.asname.name))
        self.with_stack.append(" ".join(self.text(i.item) for i in node.items))

    def leave_With(self, original_node: cst.With) -> None:
        self.with_stack.pop()

    def visit_Break(self, node: cst.Break) -> None:
        self.f.breaks.append((self.line(node), self.func))

    # -- statements ----------------------------------------------------------------------------------
    def _push_assign(self, targets: list[cst.BaseExpression]) -> None:
        texts = [self.text(t) for t in targets]
        names: list[str] = []
        for t in targets:
            elements = t.elements if isinstance(t, (cst.Tuple, cst.List)) else [t]
            for e in elements:
                value = e.value if isinstance(e, (cst.Element, cst.StarredElement)) else e
                names.append(get_full_name_for_node(value) or self.text(value))
        self.assign_stack.append((" = ".join(texts), tuple(names)))
        self.bind(*(n for n in names if n.isidentifier()))

    def visit_Assign(self, node: cst.Assign) -> None:
        targets = [t.target for t in node.targets]
        self._push_assign(targets)
        self._record_assign(targets, node.value, node)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self.assign_stack.pop()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._push_assign([node.target])
        if self.cls and not self.func_stack:
            for c in reversed(self.f.classes):
                if c.name == self.cls:
                    c.fields.append(
                        (
                            self.text(node.target),
                            self.text(node.annotation.annotation),
                            self.text(node.value) if node.value is not None else None,
                            self.line(node),
                        )
                    )
                    break
        if node.value is not None:
            self._record_assign([node.target], node.value, node)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self.assign_stack.pop()

    def _record_assign(
        self, targets: list[cst.BaseExpression], value: cst.BaseExpression, node: cst.CSTNode
    ) -> None:
        _text, names = self.assign_stack[-1]
        self.f.assigns.append(
            AssignFact(
                targets=[self.text(t) for t in targets],
                target_names=names,
                value=value,
                value_text=self.text(value),
                line=self.line(node),
                function=self.func,
                cls=self.cls,
                loops=tuple(self.loop_stack),
            )
        )

    # -- expressions ----------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        full = get_full_name_for_node(node.func)
        written = full or shorten(self.text(node.func), 80)
        args: list[str] = []
        kwargs: dict[str, str] = {}
        for a in node.args:
            value = self.text(a.value)
            if a.keyword is not None:
                kwargs[a.keyword.value] = value
                args.append(f"{a.keyword.value}={value}")
            else:
                args.append(f"{a.star}{value}")
        target, names = self.assign_stack[-1] if self.assign_stack else (None, ())
        fact = CallFact(
            node=node,
            qname=written,
            written=written,
            line=self.line(node),
            function=self.func,
            cls=self.cls,
            target=target,
            target_names=names,
            conditions=tuple(self.cond_stack),
            loops=tuple(self.loop_stack),
            text=shorten(self.text(node)),
            args=args,
            kwargs=kwargs,
            in_with=tuple(self.with_stack),
        )
        self.f.calls.append(fact)
        self.qualify_later(full, lambda q: setattr(fact, "qname", q))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        ops = tuple(type(c.operator).__name__ for c in node.comparisons)
        self.f.compares.append(
            CompareFact(shorten(self.text(node)), self.names_in(node), ops, self.line(node), self.func)
        )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        value = get_full_name_for_node(node.value)
        if value and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            subscripts, index, line = self.f.subscripts, self.text(node.slice[0].slice.value), self.line(node)
            at = len(subscripts)
            subscripts.append((value, index, line))
            self.qualify_later(value, lambda q: subscripts.__setitem__(at, (q, index, line)))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        full = get_full_name_for_node(node)
        if full:
            self.f.attributes.add(full)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if len(node.value) < 80:
            self.f.strings.append((node.value, self.line(node)))

    def _imported(self, name: str, asname: str | None) -> None:
        if self.func_stack:
            self.local_imports.setdefault(self.func, set()).add(asname or name.partition(".")[0])

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
            self.f.imports.append(ImportFact(name, None, asname, self.line(node), 0))
            self._imported(name, asname)
        self.f.import_nodes.append(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = get_full_name_for_node(node.module) if node.module else ""
        level = len(node.relative)
        self.f.import_nodes.append(node)
        if isinstance(node.names, cst.ImportStar):
            self.f.imports.append(ImportFact(module or "", "*", None, self.line(node), level))
            return
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
            self.f.imports.append(ImportFact(module or "", name, asname, self.line(node), level))
            self._imported(name, asname)

    # -- names -----------------------------------------------------------------------------------------
    def resolve_names(self) -> None:
        """Qualify every recorded callee, base class and subscripted value through the import table.

        A name bound in the enclosing function (a parameter, an assignment, a loop variable) hides a
        module import of the same name, as in Python; names that no import binds stay as written.
        """
        table: dict[str, set[str]] = {}
        for imp in self.f.imports:
            if imp.level or imp.name == "*":
                continue
            bound = imp.alias or (imp.name if imp.name else imp.module.split(".", 1)[0])
            full = f"{imp.module}.{imp.name}" if imp.name else (imp.module if imp.alias else bound)
            table.setdefault(bound, set()).add(full)
        for written, function, store in self.pending:
            head, _, rest = written.partition(".")
            if head in table and not self._hidden(head, function):
                store(min(f"{full}.{rest}" if rest else full for full in table[head]))

    def _hidden(self, head: str, function: str | None) -> bool:
        while function:
            if head in self.local_imports.get(function, ()):
                return False
            if head in self.local_names.get(function, ()):
                return True
            function = function.rpartition(".")[0] or None
        return False


_VISIT, _LEAVE = _Collector.handlers()
_WANTED = frozenset(_VISIT) | frozenset(_LEAVE)


def collect_facts(module: cst.Module, filename: str) -> Facts:
    """Generate the module's code once, recording spans and the nodes the collector handles."""
    spans = code_spans(module, _WANTED)
    source = spans.source
    facts = Facts(module=module, filename=filename, source=source, spans=spans.spans, parents=spans.parents,
                  names=spans.names, statements=spans.statement_index())
    collector = _Collector(facts, spans)
    for entering, node in spans.events:
        handler = (_VISIT if entering else _LEAVE).get(type(node))
        if handler is not None:
            handler(collector, node)
    collector.resolve_names()
    facts.block_ends = spans.statement_index(block_ends=True).end
    facts.line_count = source.count("\n") + (0 if source.endswith("\n") else 1)
    return facts
