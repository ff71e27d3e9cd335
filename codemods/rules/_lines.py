"""Where the statements of a script are while rules rewrite it one after another.

Each rule anchors its edits on statement lines of the tree it gets, and the orchestrator needs each tree's
code to diff it: `render` gives both from one rendering, reusing the top-level statements earlier rules
left as they were (`seed_render` hands it the analysis' own rendering for the first rule). The analysis'
line numbers refer to the script as the user wrote it; `LineMap` follows each rule's changes from those
lines to the current ones.
"""

from __future__ import annotations

import difflib
import re

import libcst as cst

from codemods._libcst_internals import StatementIndex, render_nodes

INDEX_KEY = "pai_statement_index"  # (tree, its StatementIndex, its code) from one rendering
PIECES_KEY = "pai_rendered_statements"  # id(top-level statement) -> its text and line index, for reuse

_LAST_NEWLINE = re.compile(r"(\r\n|\n|\r)\Z")


def render(module: cst.Module, scratch: dict | None = None) -> tuple[StatementIndex, str]:
    """The statement index and code of `module` (ends count the comment lines closing a block), cached in
    `scratch` for that tree: rules that change nothing hand the same tree to the next rule, which reuses it.
    PositionProvider costs 5x the rendering; this is one rendering, of only the top-level statements that are
    new since the last call (the others are reused from `scratch`)."""
    cached = scratch.get(INDEX_KEY) if scratch is not None else None
    if cached is not None and cached[0] is module:
        return cached[1], cached[2]
    pieces = scratch.get(PIECES_KEY, {}) if scratch is not None else {}
    kept: dict[int, tuple] = {}  # only this tree's statements, so the cache never outgrows one script
    index = StatementIndex()
    header = render_nodes(module.header, module)
    texts, line = [header[0]], header[1] + 1
    for stmt in module.body:
        # A rule rebuilds only the statements it edits (and their parents); every other top-level statement
        # is the same object as before, so its text and line index are reused, shifted to its new line.
        piece = pieces.get(id(stmt))
        if piece is None or piece[0] is not stmt:
            piece = (stmt, *render_nodes([stmt], module))
        kept[id(stmt)] = piece
        _, text, lines, own = piece
        offset = line - 1
        for node, start in own.start.items():
            index.start[node] = start + offset
            index.end[node] = own.end[node] + offset
            index.parent[node] = own.parent[node]
        for line_number, node in own.by_line.items():
            index.by_line.setdefault(line_number + offset, node)
        texts.append(text)
        line += lines
    texts.append(render_nodes(module.footer, module)[0])
    code = "".join(texts)
    if not module.has_trailing_newline:
        code = _LAST_NEWLINE.sub("", code)  # libcst's Module drops the newline its last line generates
    elif not code:
        code = module.default_newline
    if scratch is not None:
        scratch[INDEX_KEY] = (module, index, code)
        scratch[PIECES_KEY] = kept
    return index, code


def seed_render(scratch: dict, facts) -> None:
    """Hand `render` the rendering of `facts.module` the analysis' pass made already (each top-level
    statement's text and statement lines), so the first rule does not generate the whole module again."""
    source, module = facts.source, facts.module
    if "\r" in source:  # render_nodes counts lines token by token; with CRs the text may count otherwise
        return
    starts, ends, parents = facts.statements.start, facts.block_ends, facts.statements.parent
    pieces: dict[int, tuple] = {}
    inside: dict[cst.CSTNode, StatementIndex] = {}  # top-level statement -> its own index
    offsets: dict[cst.CSTNode, int] = {}
    for stmt in module.body:
        begin, end = facts.spans[stmt]
        text = source[begin:end]
        offsets[stmt] = source.count("\n", 0, begin)  # lines above the statement's first (leading) line
        inside[stmt] = own = StatementIndex()
        pieces[id(stmt)] = (stmt, text, text.count("\n"), own)
    top = None
    for node, start in starts.items():  # in source order: a top-level statement, then what it holds
        parent = parents[node]
        if parent is None:
            top = node
        own, offset = inside[top], offsets[top]
        own.start[node] = start - offset
        own.end[node] = ends[node] - offset
        own.parent[node] = parent
        own.by_line.setdefault(start - offset, node)
    scratch[PIECES_KEY] = pieces


class LineMap:
    """Original line -> line in the current code: the diffs of each rule's change, applied in order.

    A rule edits a few statements, so each diff is taken only between the first and the last line that
    changed (a whole-file diff of a long script with many repeated lines costs more than the rules).
    """

    def __init__(self, original: str) -> None:
        self._lines = original.splitlines()  # the current code
        self._steps: list[list[tuple[str, int, int, int, int]]] = []

    def update(self, current: str) -> None:
        lines = current.splitlines()
        self._steps.append(_changed_opcodes(self._lines, lines))
        self._lines = lines

    def __call__(self, line: int | None) -> int | None:
        for opcodes in self._steps:
            if line is None:
                break
            line = _map_line(opcodes, line)
        return line


def _changed_opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib opcodes old -> new, diffing only what lies between the common head and tail."""
    head = 0
    for a, b in zip(old, new):
        if a != b:
            break
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    matcher = difflib.SequenceMatcher(None, old[head:len(old) - tail], new[head:len(new) - tail], autojunk=False)
    opcodes = [("equal", 0, head, 0, head)] if head else []
    opcodes += [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    if tail:
        opcodes.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return opcodes


def _map_line(opcodes, line: int) -> int | None:
    index = line - 1
    for tag, i1, i2, j1, _j2 in opcodes:
        if i1 <= index < i2:
            if tag == "equal":
                return j1 + (index - i1) + 1
            if tag == "replace":
                return j1 + 1
            return None  # deleted
    return None
