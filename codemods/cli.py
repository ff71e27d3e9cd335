"""`pai perforate` and `pai check`: argument parsing and printing around codemods.perforate / codemods.check.

`pai perforate PATH...` prints a unified diff and exits 1 when changes are pending (usable in CI, like
bump-pydantic --diff); `--write` replaces the files atomically, keeping what it replaced in `PATH.orig` (or
`PATH.orig.1`, ... when an older backup exists) unless `--no-backup`.
A script that cannot get a complete integration is refused: nothing is written and the exit status is 3.
`pai check PATH...` prints each finding with its line and exits 1 when there are errors.
"""

from __future__ import annotations

import argparse
import json
import sys

from codemods.exit_status import BAD_INPUT, EXIT_STATUS_HELP, FINDINGS, OK, REFUSED


def _perforate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pai perforate",
        description="Rewrite training scripts so they train with dendrites (prints a diff unless --write).",
        epilog="Each rule also runs under libcst, from any folder: `python -m libcst.tool codemod -x --no-format "
               "codemods.rules.imports.AddDendriteImports FILE`. " + EXIT_STATUS_HELP,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="training script(s)")
    parser.add_argument("--write", action="store_true", help="write the changes (atomically) instead of a diff")
    parser.add_argument("--no-backup", action="store_true", help="with --write: do not keep a PATH.orig backup")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """`pai perforate`."""
    args = _perforate_parser().parse_args(argv)
    import libcst as cst
    from tqdm import tqdm

    from codemods.analysis import ScriptError
    from codemods.perforate import perforate_file

    capacity = None if args.capacity_test is None else args.capacity_test == "on"
    results, failures, pending, refused = [], 0, False, False
    paths = tqdm(args.paths, desc="perforate", unit="file", file=sys.stderr, disable=len(args.paths) < 2)
    for path in paths:
        try:
            result = perforate_file(path, write=args.write, backup=not args.no_backup, backend=args.backend,
                                    select=args.select, save_name=args.save_name, keep_for_loop=args.keep_for_loop,
                                    extra_scores=args.extra_scores, capacity_test=capacity,
                                    model_var=args.model_var)
        except (ScriptError, cst.ParserSyntaxError, OSError, UnicodeDecodeError, ValueError) as error:
            failures += 1
            if args.json:
                results.append({"filename": path, "error": _one_line(error)})
            else:
                print(f"pai perforate: error: {_located(path, error)}", file=sys.stderr)
            continue
        pending |= result.changed and not result.written
        refused |= result.refused
        if args.json:
            results.append(result.model_dump())
            continue
        if result.diff and not result.written:
            sys.stdout.write(result.diff)
        for finding in result.findings:
            where = f"{path}:{finding.line}" if finding.line else path
            print(f"{where}: {finding.code} {finding.kind}: {finding.message}", file=sys.stderr)
        if result.written:
            backup = f" (original kept as {result.backup})" if result.backup else ""
            print(f"{path}: rewrote with {', '.join(result.applied)}{backup}", file=sys.stderr)
        elif result.refused:
            print(f"{path}: refused, left unchanged (see the findings above)", file=sys.stderr)
        elif not result.changed:
            print(f"{path}: nothing to change", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
    if failures:
        return BAD_INPUT
    if refused:
        return REFUSED
    return FINDINGS if pending else OK


def check_main(argv: list[str] | None = None) -> int:
    """`pai check`."""
    parser = argparse.ArgumentParser(
        prog="pai check",
        description="Verify a dendrite integration statically: components present, optimizer rebuilt on "
                    "restructure, loop runs until complete, consistent metric direction...",
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    args = parser.parse_args(argv)
    import libcst as cst

    from codemods.analysis import ScriptError
    from codemods.check import check_integration

    reports, status = [], OK
    for path in args.paths:
        try:
            report = check_integration(path if path.endswith((".py", ".pyw")) else __import__("pathlib").Path(path))
        except (ScriptError, cst.ParserSyntaxError, OSError, UnicodeDecodeError) as error:
            print(f"pai check: error: {_located(path, error)}", file=sys.stderr)
            status = BAD_INPUT
            continue
        reports.append(report.model_dump())
        if report.errors and status == OK:
            status = FINDINGS
        if not args.json:
            for f in report.findings:
                where = f"{path}:{f.line}" if f.line else path
                print(f"{where}: {f.code} {f.severity}: {f.message}")
            verdict = "OK" if report.ok else f"{len(report.errors)} error(s)"
            print(f"{path}: {verdict}")
    if args.json:
        print(json.dumps(reports, indent=2))
    return status


def _one_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _located(path: str, error: Exception) -> str:
    """The error's first line, led by the path unless it is a ScriptError, whose message starts with it."""
    from codemods.analysis import ScriptError

    return _one_line(error) if isinstance(error, ScriptError) else f"{path}: {_one_line(error)}"


if __name__ == "__main__":
    raise SystemExit(main())
