"""`pai config explain OPTION | list [TEXT] | recommend ARCHITECTURE [LAYER...]`: the configuration options.

The same library functions as the MCP tools pai_explain_config_option, pai_list_config_options and
pai_recommend_config: pai_core.options.explain_option / list_options (torch-free) and
codemods.analysis.config.recommend.
"""

from __future__ import annotations

import argparse
import json

from mcp_server.cli.exit_status import OK, CommandError
from mcp_server.cli.output import emit

DESCRIPTION = "Explain one configuration option, list them, or recommend the settings for an architecture."
EPILOG = """\
examples:
  pai config explain nEpochsToSwitch        (snake_case, camelCase, an older name or GPA.pc.set_...(...))
  pai config list switch                    (options whose name or description mentions it)
  pai config recommend resnet Conv2d --block BasicBlock --head fc"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    explain = actions.add_parser("explain", help="type, default, what it does and how to set it")
    explain.add_argument("option", help="option name as written anywhere: n_epochs_to_switch, nEpochsToSwitch, "
                         "GPA.pc.set_max_dendrites(3)")
    listing = actions.add_parser("list", help="every option with its default and a one-line description")
    listing.add_argument("contains", nargs="?", default="",
                         help="only options whose name or description contains this text (case-insensitive)")
    recommend = actions.add_parser("recommend", help="the GPA.pc lines to paste for a model family "
                                   "(pai analyze-script does this from the script itself)")
    recommend.add_argument("architecture", help="cnn, resnet, transformer, rnn, mlp, custom or unknown")
    recommend.add_argument("layers", nargs="*", metavar="LAYER", help="layer classes the model uses (Conv2d ...)")
    recommend.add_argument("--block", action="append", default=[], dest="block_names", metavar="CLASS",
                           help="residual block class to perforate whole (repeatable), e.g. BasicBlock")
    recommend.add_argument("--head", help="attribute path of the final classifier, e.g. fc")
    recommend.add_argument("--backend", choices=("pai_core", "perforatedai"), default="pai_core",
                           help="library the imports name (default pai_core; perforatedai when the script uses it)")
    recommend.add_argument("--head-is-2d", action="store_true",
                           help="the head outputs (batch, classes) while the body is sequence-shaped")
    for sub in (explain, listing, recommend):
        sub.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    if args.action == "recommend":
        return _recommend(args)
    from pai_core.errors import UnknownOptionError
    from pai_core.options import explain_option, list_options

    if args.action == "explain":
        try:
            option = explain_option(args.option)
        except UnknownOptionError as error:
            raise CommandError(f"{error} `pai config list` shows them all.") from None
        emit(json.dumps(option.as_dict(), indent=2) if args.json else _explained(option))
        return OK
    options = list_options(args.contains)
    if args.json:
        emit(json.dumps([option.as_dict() for option in options], indent=2))
    else:
        width = max((len(o.name) for o in options), default=0)
        for option in options:
            emit(f"{option.name:<{width}}  {option.default_text:<24}  {option.description.splitlines()[0]}")
    return OK


def _explained(option) -> str:
    lines = [f"{option.name}  ({option.type}, default {option.default_text})", f"  {option.description}",
             f"  set it: {option.setter}" + (f"; add to it: GPA.pc.append_{option.name}([...])"
                                              if option.is_list else ""),
             f"  name since: {option.upstream}"]
    if option.older_names:
        lines.append(f"  older names that still work: {', '.join(option.older_names)}")
    return "\n".join(lines)


def _recommend(args: argparse.Namespace) -> int:
    from codemods.analysis.config import recommend

    try:
        advice = recommend(args.architecture, args.layers, block_names=args.block_names, head=args.head,
                           head_is_2d=args.head_is_2d, backend=args.backend)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if args.json:
        emit(json.dumps(advice.model_dump(), indent=2))
        return OK
    emit("\n".join([*advice.imports, "", advice.code]))
    for reason in advice.config.explanation:
        emit(f"# {reason}")
    return OK
