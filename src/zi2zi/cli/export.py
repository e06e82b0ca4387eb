"""zi2zi export: glyph images -> an installable TTF / OTF / WOFF2, or into the gaps of a font."""

from __future__ import annotations

import argparse
import sys

from zi2zi.errors import ExportError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="trace glyph images into a TTF/OTF/WOFF2 font, or merge them into an existing font",
        description=(
            "Trace a folder of U+XXXX.png glyph images (as written by `zi2zi generate`) into outlines "
            "placed in the em box the images were rendered in, and write a complete font. With "
            "--merge-into, add only the characters the base font lacks and keep everything else."
        ),
        epilog=(
            "examples:\n"
            "  zi2zi export --glyphs out/glyphs --out MyKai.ttf --family 'My Kai'\n"
            "  zi2zi export --glyphs out/glyphs --out Filled.otf --merge-into Base.otf --check"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--glyphs", required=True, help="folder of U+XXXX.png images (+ manifest.json)")
    p.add_argument("--out", required=True, help="output font: .ttf, .otf or .woff2")
    p.add_argument("--family", help="family name of a new font (required without --merge-into)")
    p.add_argument("--style", default="Regular", help="style: Regular, Bold, Light, Bold Italic, ... (default Regular)")
    p.add_argument("--merge-into", metavar="BASE_FONT", help="add the missing characters to this font instead")
    p.add_argument("--merge-face", default="0", help="face of a .ttc base font, by index or name (default 0)")
    p.add_argument("--check", action="store_true", help="re-render the written glyphs and report ink IoU")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--workers", type=int, default=None, help="tracing processes (default: all cores)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.export import check_font, export_font, merge_into_font, read_glyph_folder

    if args.merge_into is None and not args.family:
        raise ExportError("a new font needs a name: pass --family NAME (or --merge-into BASE_FONT)")
    folder = read_glyph_folder(args.glyphs)
    for warning in folder.warnings:  # before the long part, so a wrong em box can be stopped early
        print(f"warning: {warning}", file=sys.stderr)
    if args.merge_into is not None:
        if args.family or args.style != "Regular":
            print("note: --family/--style are ignored with --merge-into; the base font keeps its names",
                  file=sys.stderr)
        face = int(args.merge_face) if args.merge_face.strip().isdigit() else args.merge_face
        result = merge_into_font(
            folder, args.merge_into, args.out, face=face, overwrite=args.overwrite, workers=args.workers
        )
    else:
        result = export_font(
            folder, args.out, family=args.family, style=args.style, overwrite=args.overwrite, workers=args.workers
        )
    for warning in result.warnings[len(folder.warnings) :]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.merge_into is not None:
        print(
            f"added {result.glyphs} glyph(s) to {args.merge_into}; {len(result.skipped)} character(s) "
            f"the base already had were left as they were"
        )
    print(
        f"wrote {result.path} ({result.format}, {result.glyphs} traced glyph(s), "
        f"{result.glyphs_per_second:.1f} glyphs/s on {result.workers} process(es))"
    )
    if args.check:
        report = check_font(result.path, folder, codepoints=result.codepoints, face=0)
        print(f"check: {report.summary()}")
    return 0
