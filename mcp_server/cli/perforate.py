"""`pai perforate PATH...`: the rewrite as a unified diff, status 1 when changes are pending (usable in CI, like
bump-pydantic --diff); `--write` replaces the files atomically, keeping what it replaced in `PATH.orig` (or
`PATH.orig.1`, ... when an older backup exists) unless `--no-backup`. A script that cannot get a complete
integration is refused: nothing is written and the status is 3.
"""

from __future__ import annotations

import argparse
import json
import sys

from mcp_server.cli.exit_status import BAD_INPUT, FINDINGS, OK, REFUSED
from mcp_server.cli.output import emit

DESCRIPTION = "Rewrite training scripts so they train with dendrites (prints a diff unless --write)."
EPILOG = ("Each rule also runs under libcst, from any folder: `python -m libcst.tool codemod -x --no-format "
          "codemods.rules.imports.AddDendriteImports FILE`.")


def add_rewrite_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """The paths, --write and --no-backup of every command that rewrites files (perforate, migrate)."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help=what)
    parser.add_argument("--write", action="store_true", help="write the changes (atomically) instead of a diff")
    parser.add_argument("--no-backup", action="store_true", help="with --write: do not keep a PATH.orig backup")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rewrite_arguments(parser, "training script(s)")
    parser.add_argument("--backend", choices=("pai_core", "perforatedai"), default="pai_core",
                        help="library the script should import (default: pai_core)")
    parser.add_argument("--select", default=None, help="comma-separated rule codes or prefixes, e.g. PAI001,PAI003")
    parser.add_argument("--capacity-test", choices=("on", "off"), default=None,
                        help="only switch GPA.pc.set_testing_dendrite_capacity on/off (after the capacity test)")
    parser.add_argument("--save-name", default=None, help="save_name for perforate_model (default <script>_dendritic)")
    parser.add_argument("--keep-for-loop", action="store_true",
                        help="keep the epoch `for` header with a large bound instead of `while True`")
    parser.add_argument("--extra-scores", action="store_true", help="also record the test set score every epoch")
    parser.add_argument("--model", dest="model_var", default=None, metavar="VAR",
                        help="the variable holding the model to perforate when the script builds several "
                             "(e.g. netG of a GAN, the student of a distillation); default: the one the validation "
                             "metric measures")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    import libcst as cst
    from tqdm import tqdm

    from codemods.analysis import ScriptError
    from codemods.perforate import perforate_file

    capacity = None if args.capacity_test is None else args.capacity_test == "on"
    paths = tqdm(args.paths, desc="perforate", unit="file", file=sys.stderr, disable=len(args.paths) < 2)

    def rewrite(path: str):
        return perforate_file(path, write=args.write, backup=not args.no_backup, backend=args.backend,
                              select=args.select, save_name=args.save_name, keep_for_loop=args.keep_for_loop,
                              extra_scores=args.extra_scores, capacity_test=capacity, model_var=args.model_var)

    return rewrite_files("pai perforate", paths, rewrite, as_json=args.json, did="rewrote with",
                         errors=(ScriptError, cst.ParserSyntaxError, OSError, UnicodeDecodeError, ValueError))


def rewrite_files(prog: str, paths, rewrite, *, as_json: bool, did: str, nothing: str = "nothing to change",
                  errors: tuple[type[BaseException], ...]) -> int:
    """Run `rewrite(path)` (a PerforateResult) over the paths: diffs on stdout, findings and what happened on
    stderr (or everything as JSON); the exit status of the worst outcome, all or nothing per file."""
    results, failures, pending, refused = [], 0, False, False
    for path in paths:
        try:
            result = rewrite(path)
        except errors as error:
            failures += 1
            if as_json:
                results.append({"filename": path, "error": one_line(error)})
            else:
                emit(f"{prog}: error: {located(path, error)}", file=sys.stderr)
            continue
        pending |= result.changed and not result.written
        refused |= result.refused
        if as_json:
            results.append(result.model_dump())
            continue
        if result.diff and not result.written:
            sys.stdout.write(result.diff)
        for finding in result.findings:
            where = f"{path}:{finding.line}" if finding.line else path
            emit(f"{where}: {finding.code} {finding.severity}: {finding.message}", file=sys.stderr)
        if result.written:
            backup = f" (original kept as {result.backup})" if result.backup else ""
            emit(f"{path}: {did} {', '.join(result.applied)}{backup}", file=sys.stderr)
        elif result.refused:
            emit(f"{path}: refused, left unchanged (see the findings above)", file=sys.stderr)
        elif not result.changed:
            emit(f"{path}: {nothing}", file=sys.stderr)
    if as_json:
        emit(json.dumps(results, indent=2))
    if failures:
        return BAD_INPUT
    if refused:
        return REFUSED
    return FINDINGS if pending else OK


def one_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def located(path: str, error: Exception) -> str:
    """The error's first line, led by the path unless it is a ScriptError, whose message starts with it."""
    from codemods.analysis import ScriptError

    return one_line(error) if isinstance(error, ScriptError) else f"{path}: {one_line(error)}"
