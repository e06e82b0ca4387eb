"""zi2zi models: the base models shipped with zi2zi."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list the pretrained base models shipped with zi2zi",
        description="List the base models installed with zi2zi (fine-tune one with `zi2zi finetune --base NAME`).",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.bases import list_bases

    bases = list_bases()
    if args.json:
        print(json.dumps([b.to_dict() for b in bases], indent=2, ensure_ascii=False))
        return 0
    if not bases:
        print("no base models are installed with this copy of zi2zi")
        return 0
    for b in bases:
        print(f"{b.name}: {b.image_size} px, source {b.source_family} ({b.source_file}), {len(b.styles)} styles, "
              f"{b.parameters / 1e6:.1f} M generator parameters, {b.file_bytes / 1e6:.1f} MB, {b.steps} steps")
    return 0
