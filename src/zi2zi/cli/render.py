"""zi2zi render: render a paired source/target dataset from fonts."""

from __future__ import annotations

import argparse

from zi2zi.config import RENDER_MODES, RenderSettings

_DEFAULTS = RenderSettings()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="render a paired glyph dataset from a source font and target fonts",
        description=(
            "Render source/target pairs for every character the source and that target cover. "
            "Each target font is a style. The output folder holds PNGs named by code point and a "
            "manifest.json with fonts, hashes, renderer settings and a seeded split."
        ),
        epilog=(
            "example: zi2zi render --source uming.ttc --target ukai.ttc --charset gb2312-1 "
            "--size 64 --holdout 200 --out data/kai64 --preview data/kai64.png"
        ),
    )
    p.add_argument("--source", required=True, metavar="FONT", help="source font (FONT#N picks a face)")
    p.add_argument("--target", required=True, action="append", metavar="FONT",
                   help="target font, one style each (repeatable)")
    p.add_argument("--style-name", action="append", metavar="NAME",
                   help="name for each --target, in order (default: the font's name)")
    p.add_argument("--charset", required=True, metavar="SPEC", help="built-in name, file, or text:CHARS")
    p.add_argument("--size", type=int, default=_DEFAULTS.size, help=f"image side in px (default {_DEFAULTS.size})")
    p.add_argument("--mode", choices=list(RENDER_MODES), default=_DEFAULTS.mode,
                   help="em: the font's em box (default); fit: scale the ink box into the margin")
    p.add_argument("--margin", type=float, default=_DEFAULTS.margin,
                   help=f"blank border as a fraction of the size (default {_DEFAULTS.margin})")
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder to create")
    p.add_argument("--holdout", type=int, default=0, metavar="N",
                   help="characters kept out of training for every style (default 0)")
    p.add_argument("--val-fraction", type=float, default=0.05, help="share of the rest used for validation")
    p.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing dataset at --out and an existing --preview file")
    p.add_argument("--preview", metavar="FILE", help="also write a preview sheet (PNG)")
    p.add_argument("--workers", type=int, default=0, help="processes, 0 to 256 (default 0: all cores)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from zi2zi.cli.checks import int_in_range
    from zi2zi.data import render_dataset, write_preview
    from zi2zi.fonts import resolve_charset

    RenderSettings(size=args.size, mode=args.mode, margin=args.margin).validate()  # before the charset
    int_in_range("--workers", args.workers, 0, 256)
    if args.preview:  # checked before minutes of rendering, not after
        from zi2zi.errors import DatasetError
        from zi2zi.storage.outputs import check_output

        check_output(args.preview, overwrite=args.overwrite, option="--preview", suffixes=(".png",), error=DatasetError)
    chars = resolve_charset(args.charset)
    with tqdm(total=len(chars), unit="char", desc="render", disable=None) as bar:
        report = render_dataset(
            source=args.source,
            targets=args.target,
            style_names=args.style_name,
            chars=chars,
            out=args.out,
            settings=RenderSettings(size=args.size, mode=args.mode, margin=args.margin),
            holdout=args.holdout,
            val_fraction=args.val_fraction,
            seed=args.seed,
            overwrite=args.overwrite,
            workers=args.workers or None,
            progress=bar.update,
        )
    print(f"wrote {report.pairs} pairs of {report.characters} characters to {report.out} "
          f"in {report.seconds:.1f} s")
    for style in report.styles:
        print(f"  style {style['id']}: {style['name']} ({style['pairs']} pairs)")
    if report.missing_source:
        shown = "".join(report.missing_source[:40])
        print(f"  the source lacks {len(report.missing_source)} characters: {shown}"
              f"{' ...' if len(report.missing_source) > 40 else ''}")
    if args.preview:
        print(f"preview: {write_preview(report.out, args.preview, overwrite=args.overwrite, option='--preview')}")
    return 0
