"""The architecture an export builds: what may be called is decided by reading source, never by importing it.

A checkpoint holds weights only, so `pai export` and the `pai_export_model` tool build the model from code the
user names, 'path/to/file.py:Name' or 'package.module:Name', by importing it and calling Name. A spec such as
'os:system' or 'subprocess:getoutput' would then run any command, so `vet_model_spec` first decides from the
source alone (libcst; nothing is imported, nothing runs) whether Name may be called:

- 'file.py:Name': the file is inside the roots, and its top level defines Name with a `class` (a subclass of
  torch.nn.Module where its bases show it) or a `def` (a factory), and binds Name in no other way;
- 'package.module:Name': the module has Python source, and Name there is a class that subclasses
  torch.nn.Module, followed through `from ... import` and base classes without running anything.

Anything else is refused with a message saying what to pass. `build_model` imports only a vetted spec, checks
what the import produced before calling it, then checks the result is an nn.Module.
"""
from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec as ImportSpec
from importlib.machinery import PathFinder, SourceFileLoader
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pai_core.errors import PAIError

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import GlobalScope, MetadataWrapper
    from torch import nn

__all__ = ["MODEL_SPEC_HELP", "ModelSpec", "ModelSpecError", "build_model", "vet_model_spec"]

MAX_SOURCE_BYTES = 2 * 1024 * 1024  # a model file is a few KB; torch/__init__.py, read for torch:NAME, 110 KB
_MODULE_CLASS = frozenset({"torch.nn.Module", "torch.nn.modules.Module", "torch.nn.modules.module.Module"})
_MAX_HOPS = 24  # imports and base classes followed before giving up


class ModelSpecError(PAIError, ValueError):
    """`--model` does not name code that may build the plain nn.Module (checkpoints hold weights only).

    Usual cause: a spec that is not FILE.py:NAME / package.module:CLASS, a name imported rather than defined
    in the file, a file outside the project, or a callable that is not an nn.Module class or factory.
    """


MODEL_SPEC_HELP = (
    "A checkpoint holds weights only, so the architecture must be built in code: pass 'path/to/file.py:Name', "
    "where the file (inside the project) defines Name at its top level as an nn.Module subclass or a function "
    "returning a fresh plain (unperforated) nn.Module built like the one given to perforate_model, or "
    "'package.module:ClassName' naming an installed nn.Module subclass such as 'torch.nn:Linear'; plus its "
    "keyword arguments as JSON when it needs any. Importing the file runs its top-level code, so training must "
    "sit under `if __name__ == '__main__':`.")


@dataclass(frozen=True)
class ModelSpec:
    """A spec that passed `vet_model_spec`: what Name is and where it lives."""

    text: str  # as the user gave it
    name: str
    kind: Literal["class", "function"]
    path: Path | None = None  # 'file.py:Name': the resolved file
    module: str | None = None  # 'package.module:Name': the module to import


def vet_model_spec(spec: str, roots: Sequence[str | Path] | None = None) -> ModelSpec:
    """Check `spec` statically; raise ModelSpecError saying what to pass instead when it may not be called.

    `roots`: folders a model file must be in (relative paths start at the first); None allows any file.
    """
    target, sep, name = (spec or "").strip().rpartition(":")
    if not sep or not target or not name:
        raise ModelSpecError(f"Model {spec!r} is not of the form SOURCE:NAME. {MODEL_SPEC_HELP}")
    if not name.isidentifier():
        raise ModelSpecError(f"{name!r} in {spec!r} is not one top-level name (no dots, no calls): name the "
                             f"class or function itself. {MODEL_SPEC_HELP}")
    if target.endswith((".py", ".pyw")) or "/" in target or "\\" in target:
        return _vet_file(spec, target, name, [Path(root).expanduser().resolve() for root in roots or ()])
    return _vet_module(spec, target, name)


def _vet_file(spec: str, target: str, name: str, roots: list[Path]) -> ModelSpec:
    import libcst as cst

    path = Path(target).expanduser()
    if not path.is_absolute():
        path = (roots[0] if roots else Path.cwd()) / path
    resolved = path.resolve()  # follows symlinks: a link cannot point out of the roots
    if roots and not any(resolved.is_relative_to(root) for root in roots):
        where = target if target == str(resolved) else f"{target} (resolving to {resolved})"
        raise ModelSpecError(f"{where} is outside the folders the model may come from "
                             f"({', '.join(map(str, roots))}). Pass a model file inside the project, or widen "
                             "the roots (`--root FOLDER`).")
    if not resolved.is_file() or resolved.suffix not in (".py", ".pyw"):
        raise ModelSpecError(f"{resolved} does not exist or is not a Python file. Pass the .py file that "
                             f"defines the model. {MODEL_SPEC_HELP}")
    reader = _Reader(first_dirs=[resolved.parent])
    source = reader.file(resolved)
    bindings = list(_bindings(source, name))
    if not bindings:
        defined = dict.fromkeys(s.name.value for s in source.wrapper.module.body
                                if isinstance(s, (cst.ClassDef, cst.FunctionDef)))
        raise ModelSpecError(f"{resolved} has no top-level class or function {name!r} (defined there: "
                             f"{', '.join(defined) or 'none'}). Pass the file where the model is defined, with "
                             f"one of its names. {MODEL_SPEC_HELP}")
    kinds = {kind for kind, _ in bindings}
    if not kinds <= {"class", "function"} or len(kinds) > 1:
        how = sorted(kinds - {"class", "function"}) or ["both a class and a function"]
        raise ModelSpecError(f"{name!r} in {resolved} is {' and '.join(how)} at the top level, so what it is "
                             "cannot be read from a definition: pass the file that defines it by one `class` or "
                             f"`def` (for an import, the file it comes from). {MODEL_SPEC_HELP}")
    kind = kinds.pop()
    if kind == "class" and any(reader.is_module_class(source, node) is False for _, node in bindings):
        raise ModelSpecError(f"{name} in {resolved} is a class but not a torch.nn.Module subclass. Pass the "
                             f"nn.Module class, or a function that returns the model. {MODEL_SPEC_HELP}")
    return ModelSpec(spec, name, kind, path=resolved)


def _vet_module(spec: str, module: str, name: str) -> ModelSpec:
    if not all(part.isidentifier() for part in module.split(".")):
        raise ModelSpecError(f"{module!r} in {spec!r} is neither a .py file nor a dotted module name. "
                             f"{MODEL_SPEC_HELP}")
    reader = _Reader()
    found = reader.definition(module, name)
    if isinstance(found, str):
        reason = found
    elif found.kind != "class":
        reason = f"{name} is a {found.kind}, not a class"
    elif reader.is_module_class(found.source, found.node) is not True:
        reason = f"{name} is a class, but its source does not show a torch.nn.Module subclass"
    else:
        return ModelSpec(spec, name, "class", module=module)
    raise ModelSpecError(f"Refusing {spec!r}: {reason}. A 'package.module:Name' spec must name an nn.Module "
                         "subclass, checked before anything is imported; for any other factory, pass "
                         "'path/to/file.py:build_model' with a function defined in a project file. "
                         f"{MODEL_SPEC_HELP}")


# ------------------------------------------------------------------------------------------------ reading source
@dataclass
class _Source:
    """One parsed module: its import name ('' for a file named by path), its package and its global scope."""

    name: str
    package: str
    path: Path
    wrapper: MetadataWrapper
    scope: GlobalScope

    def absolute(self, relative: str) -> str | None:
        try:
            return importlib.util.resolve_name(relative, self.package) if relative.startswith(".") else relative
        except (ImportError, ValueError):  # beyond the top-level package, or no package at all
            return None


@dataclass
class _Found:
    source: _Source
    kind: Literal["class", "function"]
    node: cst.ClassDef | cst.FunctionDef


def _bindings(source: _Source, name: str) -> Iterator[tuple[str, Any]]:
    """Every way the module's global scope binds `name`: ('class'|'function', node), ('imported', (module,
    name)), ('imported as a module', None) or ('assigned', None). `global` statements count."""
    import libcst as cst

    for assignment in source.scope.assignments[name]:
        node = assignment.node
        if isinstance(node, cst.ClassDef):
            yield "class", node
        elif isinstance(node, cst.FunctionDef):
            yield "function", node
        elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            module = _imported_module(node)
            original = next(alias.evaluated_name for alias in node.names
                            if (alias.evaluated_alias or alias.evaluated_name) == name)
            yield "imported", (source.absolute(module), original)
        elif isinstance(node, cst.Import):
            yield "imported as a module", None
        else:
            yield "assigned", None


def _find_spec(name: str, first_dirs: Sequence[Path] = ()) -> ImportSpec | None:
    """Where `name` would be imported from, found on the file system alone: parents are not imported."""
    path: list[str] | None = [*map(str, first_dirs), *sys.path] if first_dirs else None
    spec = None
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        if depth > 1 and path is None:
            return None  # the parent is a module, not a package
        try:
            spec = PathFinder.find_spec(".".join(parts[:depth]), path)
        except (ImportError, ValueError, OSError):
            return None
        if spec is None:
            return None
        path = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
    return spec


class _Reader:
    """Parses modules by path or import name and follows names through them; one per vetting (a cache)."""

    def __init__(self, first_dirs: Sequence[Path] = ()) -> None:
        self.first_dirs = list(first_dirs)
        self._modules: dict[str, _Source | None] = {}

    def file(self, path: Path, name: str = "", package: str = "", *, outline: bool = False) -> _Source:
        """Parse a file; ModelSpecError when it is too large or not valid Python.

        `outline`: drop function and class bodies first, for an installed module where only top-level names
        and base classes matter (scope analysis of torch/__init__.py's bodies takes seconds).
        """
        import libcst as cst
        from libcst.metadata import MetadataWrapper, ScopeProvider

        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise ModelSpecError(f"{path} is {size:,} bytes, over the {MAX_SOURCE_BYTES:,}-byte limit for a "
                                 "model definition. Pass the file that defines the model.")
        data = path.read_bytes()
        try:  # CPython's parser first: it refuses nesting that would overflow libcst's native parser
            compile(data, str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
            module = cst.parse_module(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError, cst.ParserSyntaxError) as error:
            raise ModelSpecError(f"{path} is not valid Python ({type(error).__name__}: {error}). Pass the file "
                                 "that defines the model.") from None
        wrapper = MetadataWrapper(_outlined(module) if outline else module, unsafe_skip_copy=True)
        scope = wrapper.resolve(ScopeProvider)[wrapper.module]
        return _Source(name, package, path, wrapper, scope)  # type: ignore[arg-type]

    def module(self, name: str) -> _Source | None:
        """The parsed source of module `name`, or None when it has no Python source to read here."""
        if name not in self._modules:
            spec = _find_spec(name, self.first_dirs)
            source = None
            if spec is not None and isinstance(spec.loader, SourceFileLoader) and spec.origin:
                path = Path(spec.origin)
                package = name if spec.submodule_search_locations is not None else name.rpartition(".")[0]
                try:
                    source = self.file(path, name, package, outline=True)
                except (ModelSpecError, OSError):
                    source = None
            self._modules[name] = source
        return self._modules[name]

    def definition(self, module: str, name: str, hops: int = 0) -> _Found | str:
        """Where `module.name` is defined by a class or def, following imports; else why not (a sentence)."""
        source = self.module(module)
        if source is None:
            return f"{module} is not installed here or has no Python source to check"
        return self.lookup(source, name, hops)

    def lookup(self, source: _Source, name: str, hops: int) -> _Found | str:
        where = source.name or str(source.path)
        if hops > _MAX_HOPS:
            return f"{name} could not be followed to its definition"
        bindings = list(_bindings(source, name))
        if not bindings:
            for statement in _star_imports(source):
                module = source.absolute(_imported_module(statement))
                found = self.definition(module, name, hops + 1) if module else None
                if isinstance(found, _Found):
                    return found
            return f"{where} defines no {name}"
        if len(bindings) > 1:
            return f"{name} is bound {len(bindings)} times in {where}, so the source does not say what it is"
        (kind, value), = bindings
        if kind == "imported":
            module, original = value
            return self.definition(module, original, hops + 1) if module else f"{name} is a relative import"
        if kind in ("class", "function"):
            return _Found(source, kind, value)
        return f"{name} is {kind} in {where}, not defined by a class"

    def is_module_class(self, source: _Source, node: cst.ClassDef, hops: int = 0) -> bool | None:
        """True: its bases lead to torch.nn.Module; False: they visibly do not; None: cannot be told."""
        verdicts = [self._base(source, base.value, hops + 1) for base in node.bases]
        if any(verdict is True for verdict in verdicts):
            return True
        return False if all(verdict is False for verdict in verdicts) else None

    def _base(self, source: _Source, expression: cst.BaseExpression, hops: int) -> bool | None:
        from libcst.metadata import QualifiedNameSource

        if hops > _MAX_HOPS:
            return None
        for qualified in source.scope.get_qualified_names_for(expression):
            if qualified.source is QualifiedNameSource.BUILTIN:
                return False  # object, dict, Exception ...
            if qualified.source is QualifiedNameSource.LOCAL:
                found = self.lookup(source, qualified.name, hops)
            else:
                module, _, name = qualified.name.rpartition(".")
                module = source.absolute(module) if module else None
                if module and f"{module}.{name}" in _MODULE_CLASS:
                    return True
                found = self.definition(module, name, hops) if module else None
            if isinstance(found, _Found) and found.kind == "class":
                return self.is_module_class(found.source, found.node, hops)  # type: ignore[arg-type]
        return None


def _outlined(module: cst.Module) -> cst.Module:
    """`module` with every function and class body replaced by `pass`, unvisited: its top-level names and its
    classes' bases are all the vetting reads in an installed module."""
    import libcst as cst

    stub = cst.SimpleStatementSuite([cst.Pass()])

    class Outline(cst.CSTTransformer):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
            return updated.with_changes(body=stub)

        visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]
        leave_ClassDef = leave_FunctionDef  # type: ignore[assignment]

    return module.visit(Outline())


def _imported_module(node: cst.ImportFrom) -> str:
    """The module of `from ... import`, relative dots included."""
    from libcst.helpers import get_full_name_for_node

    return "." * len(node.relative) + (get_full_name_for_node(node.module) or "" if node.module else "")


def _star_imports(source: _Source) -> Iterator[cst.ImportFrom]:
    import libcst as cst

    for statement in source.wrapper.module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                    yield small


# ------------------------------------------------------------------------------------------------ building
def build_model(spec: str | ModelSpec, kwargs: Mapping[str, Any] | None = None, *,
                roots: Sequence[str | Path] | None = None) -> nn.Module:
    """Vet `spec` (unless it already was), import it, check the import produced what was vetted, call it."""
    from torch import nn

    vetted = spec if isinstance(spec, ModelSpec) else vet_model_spec(spec, roots)
    factory = _import(vetted)
    try:
        model = factory(**dict(kwargs or {}))
    except TypeError as exc:
        raise ModelSpecError(f"Calling {vetted.text} with {dict(kwargs or {})} failed: {exc}. Pass the keyword "
                             "arguments the model was built with in training.") from exc
    if not isinstance(model, nn.Module):
        raise ModelSpecError(f"{vetted.text} returned {type(model).__name__}, not an nn.Module. "
                             f"{MODEL_SPEC_HELP}")
    return model


def _import(spec: ModelSpec) -> Any:
    """Import the vetted module (its top-level code runs) and return Name, if it is still what was vetted."""
    import importlib

    from torch import nn

    try:
        module = _exec_file(spec.path) if spec.path is not None else importlib.import_module(spec.module or "")
    except Exception as exc:  # the user's code: say where it failed
        raise ModelSpecError(f"Importing {spec.path or spec.module} failed: {type(exc).__name__}: {exc}. "
                             f"{MODEL_SPEC_HELP}") from exc
    value = vars(module).get(spec.name)
    if spec.kind == "class":
        ok, wanted = inspect.isclass(value) and issubclass(value, nn.Module), "an nn.Module subclass"
    else:
        ok = inspect.isfunction(value) and getattr(value, "__module__", None) == module.__name__
        wanted = "the function its file defines"
    if not ok:
        raise ModelSpecError(f"After importing, {spec.text} is {value!r:.100}, not {wanted} (the module rebinds "
                             f"it while running), so it was not called. {MODEL_SPEC_HELP}")
    return value


def _exec_file(path: Path) -> Any:
    import importlib.util

    name = f"pai_model_{abs(hash(str(path)))}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
    sys.modules[name] = module  # as importlib's recipe: dataclasses and pickling look classes up there
    sys.path.insert(0, str(path.parent))  # the file may import its siblings
    try:
        module_spec.loader.exec_module(module)  # type: ignore[union-attr]
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.path.remove(str(path.parent))
    return module
