"""zi2zi scan: photos or scans of written template pages -> a glyph folder."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="read photos or scans of written template pages into a glyph folder",
        description=(
            "Find each page's markers, straighten it, cut every writing square and clean it into "
            "U+XXXX.png glyphs placed in the em box as written, plus manifest.json (the format "
            "`zi2zi export --glyphs` reads) and review/contact-sheet.png; the other samples the template "
            "asked for (zi2zi template --variants) go to variants/U+XXXX.N.png. Photos may come in any "
            "order and orientation; a page photographed twice: the later one wins."
        ),
        epilog=(
            "examples:\n"
            "  zi2zi scan photos/*.jpg --template my-hand/template.json --out my-glyphs\n"
            "  zi2zi scan scan.pdf retake.jpg --template my-hand --out my-glyphs --keep-variants --overwrite"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("photos", nargs="+", help="JPEG / PNG / PDF files of written pages")
    p.add_argument("--template", required=True, help="the template.json `zi2zi template` wrote (or its folder)")
    p.add_argument("--out", required=True, help="glyph folder to write")
    p.add_argument("--size", type=int, default=128, help="glyph image side in pixels (default 128)")
    p.add_argument("--keep-variants", action="store_true",
                   help="also keep earlier scans of a square (a page photographed again) in OUT/variants, after the "
                        "character's other samples that the template asked for, which are always kept there "
                        "(default: the later scan wins)")
    p.add_argument("--skip-unreadable", action="store_true",
                   help="write the pages that were read even when some photos were not")
    p.add_argument("--pdf-dpi", type=int, default=200, help="resolution PDF pages are read at (default 200)")
    p.add_argument("--overwrite", action="store_true", help="replace a glyph folder already in --out")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from zi2zi.handwriting.intake import ScanSettings
    from zi2zi.handwriting.scan import scan

    def progress(page) -> None:
        # Unreadable photos are named in the error (or, with --skip-unreadable, here as warnings).
        if page.ok:
            print(page.summary())
        elif args.skip_unreadable:
            print(f"warning: {page.summary()}", file=sys.stderr)

    report = scan(args.photos, args.template, args.out, settings=ScanSettings(size=args.size, pdf_dpi=args.pdf_dpi),
                  keep_variants=args.keep_variants, skip_unreadable=args.skip_unreadable, overwrite=args.overwrite,
                  progress=progress)
    print(f"wrote {report.out}: {len(report.glyphs)} glyph(s) in {report.seconds:.1f} s; "
          f"review {report.contact_sheet}")
    if report.samples:
        print(f"{sum(len(v) for v in report.samples.values())} other sample(s) of {len(report.samples)} character(s) "
              "are in variants/: `zi2zi export` makes them alternates that cycle in running text")
    if report.variants:
        print(f"{len(report.variants)} character(s) were scanned more than once; the later scan was kept"
              + (" and the earlier ones are in variants/" if args.keep_variants else ""))
    if report.pages_not_read:
        print(f"note: template page(s) {', '.join(str(i + 1) for i in report.pages_not_read)} were not in the photos")
    return 0
