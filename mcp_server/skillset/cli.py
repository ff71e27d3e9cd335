"""`pai install-skills`: copy the bundled Claude skills into a project or into the user's skills folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codemods.exit_status import BAD_INPUT, EXIT_STATUS_HELP, OK, REFUSED
from mcp_server.skillset import install_skills, list_skills


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="pai install-skills",
        description="Copy the pai skills (setup, debugging, results analysis, ...) where Claude Code finds them.",
        epilog=EXIT_STATUS_HELP,
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--project", action="store_true",
                       help="into ./.claude/skills of the current project (the default)")
    where.add_argument("--user", action="store_true", help="into ~/.claude/skills, for every project")
    where.add_argument("--target", type=Path, help="into this folder instead")
    parser.add_argument("--force", action="store_true", help="replace skills that are already installed")
    parser.add_argument("--list", action="store_true", help="only list the bundled skills")
    args = parser.parse_args(argv)

    if args.list:
        for skill in list_skills():
            print(f"{skill.name}: {skill.description}")
        return OK
    if args.target is not None:
        target = args.target
    elif args.user:
        target = Path.home() / ".claude" / "skills"
    else:
        target = Path.cwd() / ".claude" / "skills"
    if target.exists() and not target.is_dir():
        print(f"pai install-skills: {target} is a file; pass a folder (or leave it out for ./.claude/skills).",
              file=sys.stderr)
        return BAD_INPUT
    try:
        written = install_skills(target, force=args.force)
    except FileExistsError as error:
        print(f"pai install-skills: {error}", file=sys.stderr)
        return REFUSED
    except (FileNotFoundError, NotADirectoryError) as error:
        print(f"pai install-skills: {error}", file=sys.stderr)
        return BAD_INPUT
    for folder in written:
        print(f"installed {folder}")
    print("Restart Claude Code (or start a new session) so it picks the skills up.")
    return OK
