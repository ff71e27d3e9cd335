"""Entry module of `pai check` (the argument parsing and printing live in codemods.cli)."""

from codemods.cli import check_main as main

__all__ = ["main"]
