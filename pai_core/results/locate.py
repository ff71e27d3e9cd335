"""Find a run folder from a training script: read `save_name` from its perforate_model(...) call.

Uses the stdlib `ast` module (pai_core stays free of codemod machinery). Only literal values are
resolved: a string constant, or a module-level NAME = "constant", or an argparse default. Anything
computed at run time is reported as dynamic so the caller can ask for the folder.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pai_core.results.errors import ResultsError

SETUP_FUNCTIONS = {"perforate_model": 2, "initialize_pai": 2, "initializePB": 2, "initialize_pb": 2}
SCORE_FUNCTIONS = {"add_validation_score", "addValidationScore"}


def _function_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "text"` assignments and argparse `--name` string defaults."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
        if isinstance(node, ast.Call) and _function_name(node) == "add_argument":
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            dest = next((k.value for k in node.keywords if k.arg == "dest"), None)
            if not (isinstance(default, ast.Constant) and isinstance(default.value, str)):
                continue
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if isinstance(dest, ast.Constant):
                names.append(dest.value)
            for name in names:
                found["args." + name.lstrip("-").replace("-", "_")] = default.value
    return found


def _parse(path: Path) -> ast.Module:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))  # bytes: Python honours the coding line
    except OSError as error:
        raise ResultsError(
            f"Cannot read {str(path)!r} ({error.strerror}); pass the run folder instead."
        ) from None
    except SyntaxError as error:
        raise ResultsError(
            f"{path.name} does not parse (line {error.lineno}: {error.msg}); pass the run folder."
        ) from None
    except (ValueError, RecursionError, MemoryError):  # NUL bytes, undecodable text, absurd nesting
        raise ResultsError(f"{path.name} is not a readable Python script; pass the run folder.") from None
    return tree


def _calls(tree: ast.Module, names: set[str]) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _function_name(n) in names]


def save_name_from_script(script: str | Path) -> tuple[str | None, str]:
    """(save_name or None when dynamic, explanation). Raises ResultsError when no setup call exists."""
    path = Path(script)
    tree = _parse(path)
    constants = _constants(tree)
    calls = _calls(tree, set(SETUP_FUNCTIONS))
    if not calls:
        raise ResultsError(
            f"No perforate_model(...) or initialize_pai(...) call in {path.name}; pass the run folder "
            "(named after save_name) instead."
        )
    call = calls[0]
    node = next((k.value for k in call.keywords if k.arg in {"save_name", "saveName"}), None)
    position = SETUP_FUNCTIONS[_function_name(call)]
    if node is None and len(call.args) > position:
        node = call.args[position]
    where = f"{path.name}:{call.lineno}"
    if node is None:
        return "PAI", f"{where} passes no save_name; upstream's default folder is 'PAI'"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, f"save_name={node.value!r} at {where}"
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id], f"save_name={node.id} = {constants[node.id]!r} at {where}"
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        key = f"{node.value.id}.{node.attr}"
        for candidate in (key, f"args.{node.attr}"):
            if candidate in constants:
                return constants[candidate], (
                    f"save_name={key} at {where}, taken from the argparse default "
                    f"{constants[candidate]!r} (a command-line value would override it)"
                )
    return None, f"save_name is computed at run time at {where} ({ast.unparse(node)})"


def run_folder_from_script(script: str | Path) -> Path:
    """The run folder a script writes: <script dir>/<save_name>, else <cwd>/<save_name>."""
    path = Path(script)
    save_name, how = save_name_from_script(path)
    if save_name is None:
        raise ResultsError(
            f"{how}: the folder name is only known when the script runs. Pass the run folder itself."
        )
    for base in (path.resolve().parent, Path.cwd()):
        folder = base / save_name
        if folder.is_dir():
            return folder
    from pai_core.results.files import nearby_runs_hint

    if not _calls(_parse(path), SCORE_FUNCTIONS):
        why = (f" {path.name} never calls add_validation_score, so the tracker never wrote a run folder: call "
               "`model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, model)` once "
               "per epoch (`pai check` shows where).")
    else:
        why = nearby_runs_hint(path.resolve().parent) or (
            " Run the training first. If it ran: it stopped before its first add_validation_score, it ran from "
            "another working directory (the folder is created there), or a command-line flag changed save_name.")
    raise ResultsError(
        f"{how}, but no folder {save_name!r} exists next to the script ({path.resolve().parent}) or in the current "
        f"directory.{why}"
    )
