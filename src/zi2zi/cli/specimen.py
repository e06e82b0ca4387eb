"""zi2zi specimen: text set in a learned style, beside the source and target fonts."""

from __future__ import annotations

import argparse

from zi2zi.cli.generator_options import add_generator_options, open_generator


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "specimen",
        help="set a text in a learned style (PNG), with the source and target fonts beside it",
        epilog='example: zi2zi specimen --checkpoint runs/kai --style 0 --source-font uming.ttc '
               '--text "永和九年岁在癸丑" --out specimen.png',
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT")
    p.add_argument("--style", required=True, metavar="NAME_OR_ID")
    p.add_argument("--source-font", required=True, metavar="FONT",
                   help="font whose glyphs are the input (the training source font)")
    p.add_argument("--text", required=True)
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    add_generator_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.fonts import open_font_spec
    from zi2zi.generation import write_specimen
    from zi2zi.storage.outputs import check_output

    check_output(args.out, overwrite=args.overwrite, suffixes=(".png",))  # before the model loads
    model = open_generator(args)
    out = write_specimen(model, style=model.style(args.style), source=open_font_spec(args.source_font),
                         text=args.text, out=args.out, overwrite=args.overwrite)
    print(out)
    return 0
