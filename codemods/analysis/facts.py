"""One metadata pass over a module that records the raw facts every analysis step reads.

The concern modules (model, optim, loop, parallel, integration, knobs) never walk the tree again: they
filter these lists. Names are resolved through import aliases with QualifiedNameProvider, so
`from torch import optim as O; O.Adam(...)` is recorded as `torch.optim.Adam`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

__all__ = ["Facts", "collect_facts"]

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

    def code(self, node: cst.CSTNode) -> str:
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


def _names_in(node: cst.CSTNode) -> tuple[str, ...]:
    """Every dotted name in an expression, e.g. ("acc1", "best_acc1", "args.epochs")."""
    found: list[str] = []

    class _V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.append(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            full = get_full_name_for_node(n)
            if full:
                found.append(full)
                found.append(n.attr.value)
                return False
            return True

    node.visit(_V())
    return tuple(dict.fromkeys(found))


class _Collector(cst.BatchableCSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider)

    def __init__(self, facts: Facts) -> None:
        super().__init__()
        self.f = facts
        self.func_stack: list[FunctionFact] = []
        self.class_stack: list[str] = []
        self.loop_stack: list[int] = []
        self.cond_stack: list[str] = []
        self.with_stack: list[str] = []
        self.assign_stack: list[tuple[str, tuple[str, ...]]] = []
        self.lines = facts.module.code.splitlines(keepends=True)

    # -- helpers -------------------------------------------------------------------------------------
    def text(self, node: cst.CSTNode) -> str:
        """Source text of a node, sliced from the file by position (much cheaper than regenerating code)."""
        pos = self.get_metadata(PositionProvider, node, None)
        if pos is None:
            return self.f.module.code_for_node(node)
        lines = self.lines
        (sl, sc), (el, ec) = (pos.start.line, pos.start.column), (pos.end.line, pos.end.column)
        if sl == el:
            return lines[sl - 1][sc:ec]
        return lines[sl - 1][sc:] + "".join(lines[sl : el - 1]) + lines[el - 1][:ec]

    def line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def end_line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).end.line

    def qname(self, node: cst.CSTNode) -> str | None:
        names = self.get_metadata(QualifiedNameProvider, node, None) or set()
        if not names:
            return None
        return min(n.name for n in names)

    @property
    def func(self) -> str | None:
        return self.func_stack[-1].qualname if self.func_stack else None

    @property
    def cls(self) -> str | None:
        return self.class_stack[-1] if self.class_stack else None

    # -- scopes ----------------------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = [
            self.qname(a.value) or (get_full_name_for_node(a.value) or self.text(a.value)) for a in node.bases
        ]
        self.f.classes.append(
            ClassFact(
                name=node.name.value,
                line=self.line(node),
                end_line=self.end_line(node),
                bases=bases,
                bases_written=[self.text(a.value) for a in node.bases],
                decorators=[get_full_name_for_node(d.decorator) or "" for d in node.decorators],
            )
        )
        self.class_stack.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        outer = self.func_stack[-1].qualname + "." if self.func_stack else ""
        in_class = self.cls if (self.cls and not self.func_stack) else None
        qual = (
            f"{outer}{node.name.value}"
            if outer
            else (f"{in_class}.{node.name.value}" if in_class else node.name.value)
        )
        params = [
            p.name.value
            for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
        ]
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
        self._saved_loops = getattr(self, "_saved_loops", [])
        self._saved_loops.append(self.loop_stack)
        self.loop_stack = []

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_stack.pop()
        self.loop_stack = self._saved_loops.pop()

    def visit_Return(self, node: cst.Return) -> None:
        if self.func_stack:
            text = self.text(node.value) if node.value is not None else ""
            self.func_stack[-1].returns.append((self.line(node), text, node.value))

    def visit_For(self, node: cst.For) -> None:
        self.f.loops.append(
            LoopFact(
                kind="for",
                line=self.line(node),
                end_line=self.end_line(node),
                target=self.text(node.target),
                iter_text=self.text(node.iter),
                iter_node=node.iter,
                test_text=None,
                function=self.func,
                depth=len(self.loop_stack),
            )
        )
        self.loop_stack.append(self.line(node))

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_stack.pop()

    def visit_While(self, node: cst.While) -> None:
        self.f.loops.append(
            LoopFact(
                kind="while",
                line=self.line(node),
                end_line=self.end_line(node),
                target=None,
                iter_text=None,
                iter_node=None,
                test_text=self.text(node.test),
                function=self.func,
                depth=len(self.loop_stack),
            )
        )
        self.loop_stack.append(self.line(node))

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
                names=_names_in(node.test),
            )
        )
        self.cond_stack.append(test)

    def leave_If(self, original_node: cst.If) -> None:
        self.cond_stack.pop()

    def visit_With(self, node: cst.With) -> None:
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
        written = get_full_name_for_node(node.func) or shorten(self.text(node.func), 80)
        qname = self.qname(node.func) or written
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
        self.f.calls.append(
            CallFact(
                node=node,
                qname=qname,
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
        )

    def visit_Comparison(self, node: cst.Comparison) -> None:
        ops = tuple(type(c.operator).__name__ for c in node.comparisons)
        self.f.compares.append(
            CompareFact(shorten(self.text(node)), _names_in(node), ops, self.line(node), self.func)
        )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        value = self.qname(node.value) or get_full_name_for_node(node.value)
        if value and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            self.f.subscripts.append((value, self.text(node.slice[0].slice.value), self.line(node)))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        full = get_full_name_for_node(node)
        if full:
            self.f.attributes.add(full)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if len(node.value) < 80:
            self.f.strings.append((node.value, self.line(node)))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
            self.f.imports.append(ImportFact(name, None, asname, self.line(node), 0))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = get_full_name_for_node(node.module) if node.module else ""
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            self.f.imports.append(ImportFact(module or "", "*", None, self.line(node), level))
            return
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
            self.f.imports.append(ImportFact(module or "", name, asname, self.line(node), level))


def collect_facts(module: cst.Module, filename: str) -> Facts:
    """Run the collector once over `module` (one MetadataWrapper pass)."""
    facts = Facts(module=module, filename=filename)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    wrapper.visit_batched([_Collector(facts)])
    facts.line_count = module.code.count("\n") + (0 if module.code.endswith("\n") else 1)
    return facts
