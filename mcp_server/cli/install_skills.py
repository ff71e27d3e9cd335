"""`pai install-skills`: copy the bundled Claude skills into a project or into the user's skills folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from mcp_server.cli.exit_status import OK, REFUSED, CommandError
from mcp_server.cli.output import emit

DESCRIPTION = "Copy the pai skills (setup, debugging, results analysis, ...) where Claude Code finds them."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--project", action="store_true",
                       help="into ./.claude/skills of the current project (the default)")
    where.add_argument("--user", action="store_true", help="into ~/.claude/skills, for every project")
    where.add_argument("--target", type=Path, help="into this folder instead")
    parser.add_argument("--force", action="store_true", help="replace skills that are already installed")
    parser.add_argument("--list", action="store_true", help="only list the bundled skills")


def run(args: argparse.Namespace) -> int:
    from mcp_server.skillset import install_skills, list_skills

    if args.list:
        for skill in list_skills():
            emit(f"{skill.name}: {skill.description}")
        return OK
    if args.target is not None:
        target = args.target
    elif args.user:
        target = Path.home() / ".claude" / "skills"
    else:
        target = Path.cwd() / ".claude" / "skills"
    if target.exists() and not target.is_dir():
        raise CommandError(f"{target} is a file; pass a folder (or leave it out for ./.claude/skills).")
    try:
        written = install_skills(target, force=args.force)
    except FileExistsError as error:
        raise CommandError(str(error), REFUSED) from None
    except (FileNotFoundError, NotADirectoryError) as error:
        raise CommandError(str(error)) from None
    for folder in written:
        emit(f"installed {folder}")
    emit("Restart Claude Code (or start a new session) so it picks the skills up.")
    return OK
