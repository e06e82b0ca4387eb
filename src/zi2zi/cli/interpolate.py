"""zi2zi interpolate: blend two learned styles, as an animation or a strip."""

from __future__ import annotations

import argparse

from zi2zi.cli.checks import int_in_range
from zi2zi.cli.generator_options import add_generator_options, open_generator

MAX_STEPS = 256  # frames of one animation; more only makes a huge GIF


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "interpolate",
        help="interpolate between two style embeddings (GIF or PNG strip)",
        epilog="example: zi2zi interpolate --checkpoint runs/two --styles 0 1 --steps 8 "
               "--source-font uming.ttc --chars 永字八法 --out blend.gif",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT")
    p.add_argument("--styles", required=True, nargs=2, metavar=("A", "B"), help="two style names or ids")
    p.add_argument("--steps", type=int, default=8, help=f"frames from A to B inclusive, 2 to {MAX_STEPS} (default 8)")
    p.add_argument("--chars", required=True, metavar="TEXT")
    p.add_argument("--source-font", required=True, metavar="FONT")
    p.add_argument("--out", required=True, metavar="FILE.gif|.png")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    add_generator_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.fonts import open_font_spec
    from zi2zi.generation import write_interpolation
    from zi2zi.generation.interpolate import SUFFIXES
    from zi2zi.storage.outputs import check_output

    int_in_range("--steps", args.steps, 2, MAX_STEPS)
    check_output(args.out, overwrite=args.overwrite, suffixes=SUFFIXES)  # before the model loads

    model = open_generator(args)
    a, b = (model.style(s) for s in args.styles)
    out = write_interpolation(model, a=a, b=b, source=open_font_spec(args.source_font), chars=args.chars,
                              steps=args.steps, out=args.out, overwrite=args.overwrite)
    print(out)
    return 0
