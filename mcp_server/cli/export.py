"""`pai export`: a run's best model, fused for inference, as TorchScript / torch.export / ONNX files.

--model is checked as the MCP tool checks it (pai_core.model_spec) before anything is imported; the model
file is then imported in this process, since you ran the command: its top-level code runs.
"""
from __future__ import annotations

import argparse
import json

from mcp_server.cli.exit_status import OK, CommandError
from mcp_server.cli.output import emit

DESCRIPTION = "A run's best model, fused for inference, as TorchScript / torch.export / ONNX files."
EPILOG = """\
examples:
  pai export PAI --model train.py:Net --input-shape 1,64
  pai export PAI/best_model.pt --model models/cnn.py:build_cnn --model-kwargs '{"width": 32}' \\
      --input-shape 8,1,8,8 --format onnx --out deploy/

The checkpoint holds weights only: --model names what builds a fresh, plain instance of the architecture
given to perforate_model: a class or function defined at the top level of a .py file under --root, or an
installed nn.Module subclass. Nothing else is called. Importing the file runs its top-level code. Every
exported file is run after export and compared with the eager model."""


def _shape(text: str) -> list[int]:
    try:
        shape = [int(part) for part in text.replace("x", ",").split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape like 1,64 or 8,3,32,32") from None
    if not shape or any(s < 1 for s in shape):
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape of positive sizes like 1,64")
    return shape


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pai_core.export import DTYPES, FORMATS

    parser.add_argument("source", help="run folder (its best_model.pt is used) or a .pt/.safetensors checkpoint")
    parser.add_argument("--model", help="FILE.py:NAME (a class or function defined in that file) or "
                        "package.module:CLASS (an nn.Module subclass), building the plain model")
    parser.add_argument("--model-kwargs", default="{}", help="keyword arguments for --model, as JSON")
    parser.add_argument("--root", action="append", default=[], metavar="FOLDER",
                        help="folder the --model file must be in (repeatable); default: the working directory")
    parser.add_argument("--input-shape", type=_shape, action="append", dest="input_shapes", metavar="SHAPE",
                        help="shape of one example input, batch first (repeat for several inputs)")
    parser.add_argument("--input-dtype", default="float32", choices=sorted(DTYPES))
    parser.add_argument("--format", action="append", dest="formats", choices=[*FORMATS, "all"],
                        help="export format (repeatable); default: every available one")
    parser.add_argument("--out", help="output folder (default: <run folder>/export)")
    parser.add_argument("--name", default="model", help="file name stem (default: model)")
    parser.add_argument("--no-fuse", action="store_true",
                        help="keep each dendrite a separate layer copy instead of one stacked Linear/Conv")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    if not args.model:
        from pai_core.model_spec import MODEL_SPEC_HELP

        raise CommandError(f"--model is required. {MODEL_SPEC_HELP}\n"
                           f"e.g. pai export {args.source} --model train.py:Net --input-shape 1,64")
    if not args.input_shapes:
        raise CommandError("--input-shape is required: the shape of an example input, batch first, e.g. "
                           "--input-shape 1,64 for a 64-feature MLP or --input-shape 1,3,32,32 for an image model "
                           "(repeat it for a model with several inputs).")
    try:
        kwargs = json.loads(args.model_kwargs)
    except ValueError:
        kwargs = None
    if not isinstance(kwargs, dict):
        raise CommandError(f"--model-kwargs must be a JSON object like '{{\"width\": 32}}', got "
                           f"{args.model_kwargs!r}.")
    formats = None if not args.formats or "all" in args.formats else args.formats

    from pai_core.errors import PAIError
    from pai_core.export import export_run

    try:
        report = export_run(args.source, args.model, args.input_shapes, model_kwargs=kwargs,
                            input_dtype=args.input_dtype, formats=formats, out_dir=args.out, name=args.name,
                            fuse=not args.no_fuse, roots=args.root or ["."])
    except PAIError as error:
        raise CommandError(str(error)) from None
    emit(json.dumps(report.to_dict(), indent=2) if args.json else report.to_text())
    return OK
