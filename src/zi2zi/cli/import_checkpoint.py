"""zi2zi import-checkpoint: a zi2zi-pytorch (EuphoriaYan) model as a zi2zi checkpoint."""

from __future__ import annotations

import argparse
import sys

from zi2zi.config import RENDER_MODES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-checkpoint",
        help="convert a zi2zi-pytorch N_net_G.pth / N_net_D.pth pair into a zi2zi checkpoint",
        description=(
            "Read the generator (and discriminator) state dicts saved by zi2zi-pytorch, tensors only "
            "(no code in them runs), and write one self-describing .safetensors checkpoint that "
            "`zi2zi generate` and fine-tuning (`zi2zi train --init-from`) accept."
        ),
        epilog="example: zi2zi import-checkpoint --generator 40_net_G.pth --discriminator 40_net_D.pth "
               "--out imported.safetensors --style-name Kai --style-name Song",
    )
    p.add_argument("--generator", required=True, metavar="N_net_G.pth")
    p.add_argument("--discriminator", metavar="N_net_D.pth", help="optional; without it D starts fresh")
    p.add_argument("--out", required=True, metavar="FILE.safetensors")
    p.add_argument("--style-name", action="append", metavar="NAME",
                   help="name of each style (embedding row), in order (default: 'style N')")
    p.add_argument("--mode", choices=list(RENDER_MODES), default="fit",
                   help="how the training glyphs were drawn (default fit: zi2zi-pytorch centres each glyph)")
    p.add_argument("--margin", type=float, default=0.05, help="blank border as a fraction of the size")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.checkpoints.euphoriayan import import_pair

    out, notes = import_pair(args.generator, args.discriminator, args.out, style_names=args.style_name,
                             mode=args.mode, margin=args.margin)
    for note in notes:
        print(f"zi2zi import-checkpoint: {note}", file=sys.stderr)
    print(out)
    return 0
