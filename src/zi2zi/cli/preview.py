"""zi2zi preview: a source | target contact sheet of a dataset."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preview",
        help="write a source | target preview sheet of a dataset",
        epilog="example: zi2zi preview data/kai64 --out kai64.png",
    )
    p.add_argument("dataset", metavar="DIR", help="dataset folder written by zi2zi render")
    p.add_argument("--out", required=True, metavar="FILE", help="PNG to write")
    p.add_argument("--per-style", type=int, default=8, help="characters per style (default 8)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.data import write_preview

    print(write_preview(args.dataset, args.out, per_style=args.per_style, overwrite=args.overwrite))
    return 0
