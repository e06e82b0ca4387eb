"""zi2zi template: printable handwriting template sheets (PDF + PNG + template.json)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "template",
        help="print handwriting template sheets to write your own characters on",
        description=(
            "Write printable template pages: a grid of writing squares (each one em), the reference "
            "character printed small above each, corner markers that identify page and orientation, "
            "as template.pdf, page-N.png and template.json (the layout `zi2zi scan` reads)."
        ),
        epilog=(
            "examples:\n"
            "  zi2zi template --out my-hand              # the default 300 characters, then punctuation and Latin\n"
            "  zi2zi template --charset gb2312-1:500 --paper letter --cell-mm 18 --out my-hand\n"
            "  zi2zi template --charset text:永字八法 --guide none --out test-sheet\n"
            "  zi2zi template --variants 30 --out my-hand       # 30 characters written three times each"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--charset", default=None,
                   help="handwriting-300 (default: frequent characters covering the common radicals), a built-in "
                        "charset, a file, or text:CHARS; append :N to keep the first N")
    p.add_argument("--out", required=True, help="folder to write the template into")
    p.add_argument("--paper", choices=["a4", "letter"], default="a4")
    p.add_argument("--cell-mm", type=float, default=15.0, help="side of a writing square in mm (default 15)")
    p.add_argument("--guide", choices=["none", "light"], default="light",
                   help="light: a faint centre cross in each square (it drops out of the scan); default light")
    p.add_argument("--dpi", type=int, default=300, help="resolution of the PDF pages (default 300)")
    p.add_argument("--png-dpi", type=int, default=None, help="resolution of the PNG pages (default: --dpi)")
    p.add_argument("--reference-font", metavar="FONT",
                   help="font for the printed reference characters (FONT#N for a face); default: an installed "
                        "CJK font (AR PL UMing, Noto Sans CJK, WenQuanYi)")
    p.add_argument("--no-extras", action="store_true",
                   help="leave out the page of punctuation, digits and Latin letters (，。？！… 0-9 A-Z a-z .,?!) "
                        "that follows the characters (always left out for --charset text:...)")
    p.add_argument("--variants", type=int, metavar="N", default=None,
                   help="the N most frequent characters of the charset (by Unihan's kHanyuPinlu counts) get 3 "
                        "squares each, the extra ones after all the characters: `zi2zi scan` keeps them as variants "
                        "and `zi2zi export` makes them alternates that cycle in running text. Default 15 (about a "
                        "fifth of running Chinese text; none for --charset text:...); 0 for none")
    p.add_argument("--overwrite", action="store_true", help="replace a template already in --out")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.cli.checks import int_at_least
    from zi2zi.handwriting.charset import template_charset, template_extras_for
    from zi2zi.handwriting.draw import open_reference_font, write_template
    from zi2zi.handwriting.layout import TemplateSettings
    from zi2zi.handwriting.variants import SAMPLES, template_variants_for

    int_at_least("--variants", args.variants, 0)
    chars = template_charset(args.charset)
    variants = template_variants_for(args.charset, chars, args.variants)
    settings = TemplateSettings(paper=args.paper, cell_mm=args.cell_mm, guide=args.guide, dpi=args.dpi)
    settings.check()
    font = open_reference_font(args.reference_font)
    files = write_template(chars, args.out, settings=settings, reference_font=font, png_dpi=args.png_dpi,
                           overwrite=args.overwrite, extras=template_extras_for(args.charset, not args.no_extras),
                           variants=variants)
    t = files.template
    print(f"wrote {files.out}: {len(t.chars)} characters on {len(t.pages)} page(s) "
          f"(up to {max(len(p.cells) for p in t.pages)} per page), template id {t.id}")
    if t.variants:
        print(f"  {len(t.variants)} characters asked for {SAMPLES} times ({''.join(t.variants)}): their extra squares "
              "follow the characters; write each as it comes, not copied from the first")
    print(f"  print {files.pdf} (or the page-N.png files) at 100% scale; keep {files.json} for `zi2zi scan`")
    if files.missing_reference:
        print(f"note: {font.name} lacks {len(files.missing_reference)} character(s), printed as code points: "
              f"{''.join(files.missing_reference[:30])}")
    return 0
