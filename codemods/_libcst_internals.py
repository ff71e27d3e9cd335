"""Every use of libcst's private internals in codemods, behind a small public surface, with a version guard.

Two hot paths need more than libcst's public API gives at speed:

* Positions. PositionProvider hands out line/column objects for every node (10x the cost of generating the
  code). `code_spans` and `render_nodes` run libcst's own code generation (`node._codegen`) with a
  `CodegenState` of their own (`libcst._nodes.internal`), the mechanism the providers use themselves, and
  record character spans or statement lines in the same pass as the code.
* Rule start-up. `MatcherDecoratableTransformer.__init__` scans every attribute of a transformer for
  @m.visit / @m.leave methods (~15 ms per rule); `init_without_matcher_scan` skips that for classes without
  them, leaving the instance exactly as the scan would.

Verified against libcst `VERIFIED_VERSIONS`. At import the module checks that every internal it touches
exists. On another libcst version each shortcut is probed on first use: run on a small script holding every
statement kind and compared with the public API (PositionProvider, WhitespaceInclusivePositionProvider,
libcst's own constructor). When an internal is missing or a probe differs, a warning is logged and that
shortcut uses the public API from then on: slower, same answers, so nobody is stopped by an upgrade.
tests/codemods/test_libcst_internals.py runs the probes and the comparisons on real scripts, and fails on a
libcst outside the verified versions, so an upgrade is checked before the list grows.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from contextlib import nullcontext
from dataclasses import dataclass, field, fields
from importlib.metadata import version

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, WhitespaceInclusivePositionProvider

try:  # private: the state libcst's code generation writes to
    from libcst._nodes.internal import CodegenState
except ImportError:  # pragma: no cover - only on a libcst that moved it; the probe then falls back
    CodegenState = object  # type: ignore[assignment,misc]
try:  # private: the attributes @m.visit / @m.leave set on a method
    from libcst.matchers._decorators import CONSTRUCTED_LEAVE_MATCHER_ATTR, CONSTRUCTED_VISIT_MATCHER_ATTR
except ImportError:  # pragma: no cover
    CONSTRUCTED_LEAVE_MATCHER_ATTR = CONSTRUCTED_VISIT_MATCHER_ATTR = None  # type: ignore[assignment]

__all__ = ["LIBCST_VERSION", "VERIFIED_VERSIONS", "CodeSpans", "StatementIndex", "code_spans",
           "fast_paths", "init_without_matcher_scan", "needs_matcher_scan", "render_nodes"]

logger = logging.getLogger(__name__)

VERIFIED_VERSIONS = ("1.9",)  # libcst minor versions these internals were checked against (1.9.0)
LIBCST_VERSION = version("libcst")

_NEWLINE = re.compile(r"\r\n?|\n")  # what libcst's position providers count as a line break


def _subclasses(base: type) -> set[type]:
    found = set()
    for sub in base.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


_STATEMENT_TYPES = frozenset(t for t in {cst.SimpleStatementLine, *_subclasses(cst.BaseCompoundStatement)}
                            if not getattr(t, "__abstractmethods__", None))


@dataclass
class StatementIndex:
    """Start/end line and enclosing statement of every statement of a module."""

    start: dict[cst.CSTNode, int] = field(default_factory=dict)
    end: dict[cst.CSTNode, int] = field(default_factory=dict)
    parent: dict[cst.CSTNode, cst.CSTNode | None] = field(default_factory=dict)
    by_line: dict[int, cst.CSTNode] = field(default_factory=dict)  # the outermost statement starting there

    def get(self, node: cst.CSTNode, default: int = -1) -> int:
        return self.start.get(node, default)

    def ancestors(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """Enclosing statements, innermost first."""
        out = []
        parent = self.parent.get(node)
        while parent is not None:
            out.append(parent)
            parent = self.parent.get(parent)
        return out

    def innermost(self, line: int) -> cst.CSTNode | None:
        """The innermost statement whose lines contain `line`."""
        containing = [node for node, start in self.start.items() if start <= line <= self.end[node]]
        return max(containing, key=lambda n: (self.start[n], -self.end[n]), default=None)


@dataclass
class CodeSpans:
    """What one generation of a module's code recorded: offsets into `source`, nodes in source order."""

    source: str  # the module's code (identical to the parsed text)
    spans: dict[cst.CSTNode, tuple[int, int]]  # everything a node owns: what `code_for_node` renders
    syntax: dict[cst.CSTNode, tuple[int, int]]  # PositionProvider's range: no leading lines or decorators
    block_ends: dict[cst.CSTNode, int]  # statements: where the text ends, with the comments closing its block
    parents: dict[cst.CSTNode, cst.CSTNode]  # every node but the module
    events: list[tuple[bool, cst.CSTNode]]  # (entering?, node) for the node types asked for
    names: dict[str, list[cst.Name]]  # Name nodes by value
    dotted: list[cst.Name | cst.Attribute]
    statements: list[cst.CSTNode]  # SimpleStatementLine and compound statements
    line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.line_starts = [0] + [m.end() for m in _NEWLINE.finditer(self.source)]

    def line(self, offset: int) -> int:
        """The 1-based line of a character offset."""
        return bisect_right(self.line_starts, offset)

    def statement_index(self, *, block_ends: bool = False) -> StatementIndex:
        """Lines of every statement: ends as PositionProvider's, or (`block_ends`) with the comment lines that
        close a block (libcst puts them in the block), as `render_nodes` counts them."""
        index, syntax, parents, line = StatementIndex(), self.syntax, self.parents, self.line
        for node in self.statements:
            start, end = syntax[node]
            index.start[node] = first = line(start)
            index.end[node] = line(self.block_ends[node] - 1) if block_ends else line(end)
            parent = parents.get(node)
            while parent is not None and type(parent) not in _STATEMENT_TYPES:
                parent = parents.get(parent)
            index.parent[node] = parent
            index.by_line.setdefault(first, node)
        return index


# ------------------------------------------------------------------------------------------- code spans
_WANTED_ROLE, _NAME_ROLE, _DOTTED_ROLE, _STATEMENT_ROLE = 1, 2, 4, 8


def _roles(wanted: frozenset[type]) -> dict[type, int]:
    """What the pass records for each node type (bit flags), so a node of no interest costs one lookup."""
    roles: dict[type, int] = {}
    for kind in wanted:
        roles[kind] = roles.get(kind, 0) | _WANTED_ROLE
    for kind, role in ((cst.Name, _NAME_ROLE | _DOTTED_ROLE), (cst.Attribute, _DOTTED_ROLE)):
        roles[kind] = roles.get(kind, 0) | role
    for kind in _STATEMENT_TYPES:
        roles[kind] = roles.get(kind, 0) | _STATEMENT_ROLE
    return roles


class _Syntactic:
    """Context manager libcst's codegen opens around the part of a node that is syntax (not whitespace)."""

    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(self, state: _SpanState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = self.state.pos

    def __exit__(self, *exc) -> None:
        state = self.state
        start = state.syntax[self.start_node][0] if self.start_node is not None else self.start
        if self.end_node is not None:
            end = state.syntax[self.end_node][1]
            state.written[self.node] = state.pos
        else:
            end = state.pos
        state.syntax[self.node] = (start, end)


class _SpanState(CodegenState):
    """Code generation that records each node's character span instead of line/column objects."""

    def __init__(self, module: cst.Module, wanted: frozenset[type]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.pos = 0
        self.indent = 0
        self.stack: list[int] = []
        self.syntax: dict[cst.CSTNode, tuple[int, int]] = {}
        self.written: dict[cst.CSTNode, int] = {}  # where the syntax ends when it ends before what it wrote
        self.spans: dict[cst.CSTNode, tuple[int, int]] = {}
        self.events: list[tuple[bool, cst.CSTNode]] = []
        self.nodes: list[cst.CSTNode | None] = [None]  # the nodes being generated, outermost last
        self.roles = _roles(wanted)
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.names: dict[str, list[cst.Name]] = {}
        self.dotted: list[cst.Name | cst.Attribute] = []
        self.statements: list[cst.CSTNode] = []

    def increase_indent(self, value: str) -> None:
        self.indent_tokens.append(value)
        self.indent += len(value)

    def decrease_indent(self) -> None:
        self.indent -= len(self.indent_tokens.pop())

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        self.pos += self.indent

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.pos += len(value)

    def pop_trailing_newline(self) -> None:
        if self.tokens:
            self.pos -= len(self.tokens.pop())

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append(self.pos)
        nodes = self.nodes
        self.parents[node] = nodes[-1]
        nodes.append(node)
        role = self.roles.get(type(node))
        if role is not None:  # most nodes are whitespace and punctuation: one lookup, nothing to record
            if role & _WANTED_ROLE:
                self.events.append((True, node))
            if role & _NAME_ROLE:
                self.names.setdefault(node.value, []).append(node)
            if role & _DOTTED_ROLE:
                self.dotted.append(node)
            elif role & _STATEMENT_ROLE:
                self.statements.append(node)

    def after_codegen(self, node: cst.CSTNode) -> None:
        self.nodes.pop()
        span = (self.stack.pop(), self.pos)
        self.spans[node] = span
        self.syntax.setdefault(node, span)
        role = self.roles.get(type(node))
        if role is not None and role & _WANTED_ROLE:
            self.events.append((False, node))

    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


def _fast_spans(module: cst.Module, wanted: frozenset[type]) -> CodeSpans | None:
    state = _SpanState(module, wanted)
    module._codegen(state)
    source = "".join(state.tokens)
    if state.pos != len(source) or state.stack:  # counted otherwise than libcst generated
        return None
    del state.parents[module]
    syntax, written = state.syntax, state.written
    block_ends = {node: written.get(node, syntax[node][1]) for node in state.statements}
    return CodeSpans(source, state.spans, syntax, block_ends, state.parents, state.events, state.names,
                     state.dotted, state.statements)


class _Walker(cst.CSTVisitor):
    """The public-API stand-in for `_SpanState`'s bookkeeping: parents and nodes in source order."""

    def __init__(self, wanted: frozenset[type]) -> None:
        super().__init__()
        self.roles = _roles(wanted)
        self.stack: list[cst.CSTNode] = []
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.events: list[tuple[bool, cst.CSTNode]] = []
        self.names: dict[str, list[cst.Name]] = {}
        self.dotted: list[cst.Name | cst.Attribute] = []
        self.statements: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.stack:
            self.parents[node] = self.stack[-1]
        self.stack.append(node)
        role = self.roles.get(type(node), 0)
        if role & _WANTED_ROLE:
            self.events.append((True, node))
        if role & _NAME_ROLE:
            self.names.setdefault(node.value, []).append(node)
        if role & _DOTTED_ROLE:
            self.dotted.append(node)
        elif role & _STATEMENT_ROLE:
            self.statements.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        if self.roles.get(type(original_node), 0) & _WANTED_ROLE:
            self.events.append((False, original_node))


def _public_spans(module: cst.Module, wanted: frozenset[type]) -> CodeSpans:
    """`code_spans` through libcst's public position providers (about 10x slower)."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    owned, syntactic = wrapper.resolve(WhitespaceInclusivePositionProvider), wrapper.resolve(PositionProvider)
    source = module.code
    # positions past the end count the trailing newline libcst generates and then drops
    ended = source if module.has_trailing_newline else source + "\n"
    starts = [0] + [m.end() for m in _NEWLINE.finditer(ended)]

    def offsets(rng) -> tuple[int, int]:
        return starts[rng.start.line - 1] + rng.start.column, starts[rng.end.line - 1] + rng.end.column

    spans = {node: offsets(rng) for node, rng in owned.items()}
    syntax = {node: offsets(rng) for node, rng in syntactic.items()}
    spans[module] = syntax[module] = (0, len(source))  # the module's own span ends after the drop
    walker = _Walker(wanted)
    module.visit(walker)
    block_ends = {}
    for node in walker.statements:  # where libcst's codegen leaves the syntax of a statement with a body
        if isinstance(node, cst.SimpleStatementLine):
            block_ends[node] = spans[node.body[-1]][1] if node.body else syntax[node][1]
        else:
            block_ends[node] = spans[node][1]
    return CodeSpans(source, spans, syntax, block_ends, walker.parents, walker.events, walker.names,
                     walker.dotted, walker.statements)


def code_spans(module: cst.Module, wanted: frozenset[type] = frozenset()) -> CodeSpans:
    """Generate `module`'s code once, recording every node's spans and parent, and (entering, node) events for
    the node types in `wanted`, in source order: about the cost of `module.code`."""
    if _fast("positions"):
        spans = _fast_spans(module, wanted)
        if spans is not None:
            return spans
        _disable("positions", "code generation did not add up to the module's code")
    return _public_spans(module, wanted)


# ---------------------------------------------------------------------------------------- statement lines
_NO_POSITION = nullcontext()


class _StatementLineState(CodegenState):
    """Code generation that notes where statements start and end while it renders, and nothing else."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.index = StatementIndex()
        self.stack: list[cst.CSTNode] = []
        self.at_line_start = True

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value:
            self.line += value.count("\n")
        elif "\r" in value:
            self.line += value.count("\r")
        if value:
            self.at_line_start = value[-1] in "\r\n"

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        # called for every node: statements get a recorder, the rest a shared no-op (no generator each)
        return _StatementPosition(self, node) if type(node) in _STATEMENT_TYPES else _NO_POSITION


class _StatementPosition:
    """Notes a statement's first and last line and its enclosing statement while libcst renders it."""

    __slots__ = ("node", "state")

    def __init__(self, state: _StatementLineState, node: cst.CSTNode) -> None:
        self.state, self.node = state, node

    def __enter__(self) -> None:
        state, node = self.state, self.node
        index = state.index
        index.start[node] = state.line
        index.parent[node] = state.stack[-1] if state.stack else None
        index.by_line.setdefault(state.line, node)
        state.stack.append(node)

    def __exit__(self, *exc) -> None:
        state = self.state
        state.stack.pop()
        state.index.end[self.node] = state.line - 1 if state.at_line_start else state.line


def _fast_render(nodes, module: cst.Module) -> tuple[str, int, StatementIndex]:
    state = _StatementLineState(module)
    for node in nodes:
        node._codegen(state)
    return "".join(state.tokens), state.line - 1, state.index


def _public_render(nodes, module: cst.Module) -> tuple[str, int, StatementIndex]:
    statements = [n for n in nodes if type(n) in _STATEMENT_TYPES]
    text = "".join(module.code_for_node(n) for n in nodes)
    lines = len(_NEWLINE.findall(text))
    if not statements:
        return text, lines, StatementIndex()
    alone = cst.Module(body=statements, default_indent=module.default_indent,
                       default_newline=module.default_newline)
    return text, lines, _public_spans(alone, frozenset()).statement_index(block_ends=True)


def render_nodes(nodes, module: cst.Module) -> tuple[str, int, StatementIndex]:
    """The code of top-level `nodes` of `module` (statements, or the empty lines of its header or footer) as
    `module.code` has it, its number of lines, and the lines of the statements in it counted from 1 (ends
    with the comment lines that close a block)."""
    return (_fast_render if _fast("positions") else _public_render)(nodes, module)


# ------------------------------------------------------------------------------------- transformer start-up
def needs_matcher_scan(cls: type) -> bool:
    """Whether instances of a MatcherDecoratableTransformer subclass need libcst's own __init__: the class has
    @m.visit / @m.leave methods, or this libcst starts up otherwise than `init_without_matcher_scan` does."""
    return not _fast("init") or _decorated(cls)


def _decorated(cls: type) -> bool:
    found = _DECORATED.get(cls)
    if found is None:
        found = _DECORATED[cls] = any(
            hasattr(value, CONSTRUCTED_VISIT_MATCHER_ATTR) or hasattr(value, CONSTRUCTED_LEAVE_MATCHER_ATTR)
            for klass in cls.__mro__ for value in vars(klass).values())
    return found


def init_without_matcher_scan(transformer, context) -> None:
    """What ContextAwareTransformer.__init__(transformer, context) leaves on an instance whose class
    `needs_matcher_scan` is False."""
    from libcst.codemod import Codemod

    Codemod.__init__(transformer, context)
    cst.CSTTransformer.__init__(transformer)
    transformer._MatcherDecoratableTransformer__matchers = None  # gathered on first use, as libcst does
    transformer._extra_visit_funcs = {}
    transformer._extra_leave_funcs = {}


_DECORATED: dict[type, bool] = {}


# ------------------------------------------------------------------------------------------------ guard
_PROBE = '''\
"""Every statement kind libcst generates, with comments closing blocks."""
import os; from a import (b,
    c as d)
@decorate
@other(1)
async def f(x, *a, y=2, **k) -> int:
    """Doc."""
    global g
    if x:  # test
        pass
    elif y:
        x = [i for i in a if i]
    else:
        del x
        # closes else
    for i in range(3):
        continue
    else:
        x += 1
    while True:
        break
    async with open(x) as h, m:
        await h
    try:
        raise ValueError
    except (ValueError, KeyError) as e:
        assert e, "why"
    else:
        lambda q: q
    finally:
        yield x
        # closes finally
    try:
        pass
    except* OSError:
        pass


class C(B, metaclass=M):
    n: int = 1
    def g(self): return self.n; # trailing

match f:
    case [1, *rest] if rest:
        pass
    case {"k": v, **kw}:
        w = v
    case _:
        x = f"{x!r:>{w}}"
if x:
    pass
    # last comment'''


def _probe_positions() -> str | None:
    module = cst.parse_module(_PROBE)
    wanted = frozenset({cst.Call, cst.FunctionDef, cst.If, cst.Name})
    fast, public = _fast_spans(module, wanted), _public_spans(module, wanted)
    if fast is None:
        return "code generation did not add up to the module's code"
    differ = [f.name for f in fields(CodeSpans) if getattr(fast, f.name) != getattr(public, f.name)]
    if differ:
        return f"{', '.join(differ)} differ from libcst's public position providers"
    for nodes in (module.header, module.body, module.footer):
        if _fast_render(nodes, module) != _public_render(nodes, module):
            return "statement lines differ from libcst's public position providers"
    return None


def _probe_init() -> str | None:
    import libcst.matchers as m
    from libcst.codemod import CodemodContext, ContextAwareTransformer

    class Plain(ContextAwareTransformer):
        pass

    class Decorated(ContextAwareTransformer):
        @m.visit(m.Name())
        def probe(self, node: cst.Name) -> None:
            pass

    context = CodemodContext()
    scanned, fast = Plain(context), Plain.__new__(Plain)
    init_without_matcher_scan(fast, context)
    if vars(fast) != vars(scanned):
        return "ContextAwareTransformer.__init__ sets other attributes"
    if _decorated(Plain) or not _decorated(Decorated):
        return "@m.visit / @m.leave mark methods differently"
    return None


_PROBES = {"positions": _probe_positions, "init": _probe_init}


def _missing() -> dict[str, list[str]]:
    """shortcut -> the internals it uses that this libcst does not have (cheap: checked at import)."""
    state = ("tokens", "indent_tokens", "add_token", "add_indent_tokens", "increase_indent",
             "decrease_indent", "pop_trailing_newline", "before_codegen", "after_codegen",
             "record_syntactic_position")
    positions = [f"CodegenState.{name}" for name in state if not hasattr(CodegenState, name)]
    positions += ["CSTNode._codegen"] * (not hasattr(cst.CSTNode, "_codegen"))
    init = ["CONSTRUCTED_VISIT_MATCHER_ATTR"] * (CONSTRUCTED_VISIT_MATCHER_ATTR is None)
    return {"positions": positions, "init": init}


# shortcut -> usable. On a verified libcst the test suite ran the probes on real scripts; on another one
# they run on first use.
_VERIFIED = ".".join(LIBCST_VERSION.split(".")[:2]) in VERIFIED_VERSIONS
_FAST: dict[str, bool | None] = dict.fromkeys(_PROBES, True if _VERIFIED else None)


def _fast(shortcut: str) -> bool:
    ok = _FAST[shortcut]
    if ok is None:
        try:
            why = _PROBES[shortcut]()
        except Exception as error:  # a reshaped internal
            why = f"{type(error).__name__}: {error}"
        ok = _FAST[shortcut] = why is None
        if why is not None:
            _disable(shortcut, why)
    return ok


def fast_paths() -> dict[str, bool]:
    """Which shortcuts this libcst allows ("positions", "init"); False: that one uses the public API."""
    return {shortcut: _fast(shortcut) for shortcut in _PROBES}


def _disable(shortcut: str, why: str) -> None:
    _FAST[shortcut] = False
    _DECORATED.clear()
    logger.warning(
        "libcst %s: %s (verified with libcst %s); codemods use libcst's public API for %s instead, which is "
        "slower. Install libcst %s.x for full speed, or report this libcst version.",
        LIBCST_VERSION, why, ", ".join(VERIFIED_VERSIONS), shortcut, VERIFIED_VERSIONS[-1])


for _shortcut, _gone in _missing().items():
    if _gone:
        _disable(_shortcut, "it has no " + ", ".join(_gone))
