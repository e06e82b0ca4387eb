"""zi2zi models: the base models shipped with zi2zi."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list the pretrained base models and refiners shipped with zi2zi",
        description="List the base models installed with zi2zi (fine-tune one with `zi2zi finetune --base NAME`) "
                    "and the refiners that draw their glyphs at high resolution (fine-tuned along with the base).",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.bases import list_bases, list_refiners

    bases, refiners = list_bases(), list_refiners()
    if args.json:
        listing = [{"kind": "base", **b.to_dict()} for b in bases] + [{"kind": "refiner", **r.to_dict()}
                                                                      for r in refiners]
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return 0
    if not bases:
        print("no base models are installed with this copy of zi2zi")
    for b in bases:
        print(f"{b.name}: {b.image_size} px, source {b.source_family} ({b.source_file}), {len(b.styles)} styles, "
              f"{b.parameters / 1e6:.1f} M generator parameters, {b.file_bytes / 1e6:.1f} MB, {b.steps} steps")
    for r in refiners:
        print(f"{r.name}: refiner of {r.base}, {r.coarse_size} -> {r.size} px, {r.parameters / 1e6:.2f} M parameters, "
              f"{r.file_bytes / 1e6:.1f} MB")
    return 0
