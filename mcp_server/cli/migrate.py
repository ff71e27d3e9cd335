"""`pai migrate PATH...`: rewrite 2024-API scripts (pb_globals / pb_utils / pb_models) to the current API.

Prints a unified diff and exits 1 when changes are pending; `--write` replaces each file atomically, keeping
what it replaced in `PATH.orig` (or `PATH.orig.1`, ...) unless `--no-backup`. A script with a 2024 name pai
cannot map is refused: nothing is written, each name is reported with its line, and the exit status is 3.
The loop over the files is `pai perforate`'s.
"""

from __future__ import annotations

import argparse

from mcp_server.cli.perforate import add_rewrite_arguments, rewrite_files

DESCRIPTION = ("Rewrite scripts of the 2024 camelCase API (pb_globals as PBG, pb_utils as PBU, pb_models as PBM, "
               "globalsFile) to the current one (GPA, UPA, LPA); prints a diff unless --write.")
EPILOG = ("Also runs under libcst, from any folder: `python -m libcst.tool codemod -x --no-format "
          "codemods.migrate.MigrateToCurrentAPI FILE`.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rewrite_arguments(parser, "script(s) to migrate")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    from codemods.analysis import ScriptError
    from codemods.migrate import migrate_file

    return rewrite_files("pai migrate", args.paths,
                         lambda path: migrate_file(path, write=args.write, backup=not args.no_backup),
                         as_json=args.json, did="migrated with", nothing="nothing to migrate (no 2024-API name)",
                         errors=(ScriptError, OSError, UnicodeDecodeError))
