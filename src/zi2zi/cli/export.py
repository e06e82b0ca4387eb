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
            "  zi2zi export --glyphs out/glyphs --out Filled.otf --merge-into Base.otf --check\n"
            "  zi2zi export --glyphs data/styles/0 --out Kai.otf --family '测试 Kai' --license-url URL\n"
            "  zi2zi export --glyphs my-glyphs --out MyHandTidy.ttf --family 'My Hand' --normalize-written runs/my-hand\n\n"
            "New fonts follow the CJK metrics convention: typo ascender / descender = the ideographic\n"
            "em box, USE_TYPO_METRICS off, hhea = win metrics (--line-spacing em) covering every glyph,\n"
            "a BASE table, and vhea / vmtx (+ VORG in .otf) so vertical text advances one em.\n"
            "Ideographs and CJK punctuation are one em wide; digits, Latin letters and ASCII punctuation\n"
            "get their ink width plus a side bearing each side (proportional, as in Source Han)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--glyphs", required=True, help="folder of U+XXXX.png images (+ manifest.json)")
    p.add_argument("--out", required=True, help="output font: .ttf, .otf or .woff2")
    p.add_argument("--family", help="family name of a new font (required without --merge-into); with --merge-into, "
                   "the merged font's family (default: the base's + ' zi2zi')")
    p.add_argument("--style", default="Regular", help="style: Regular, Bold, Light, Bold Italic, ... (default Regular)")
    p.add_argument("--em-box", metavar="UPM,ASC,DESC",
                   help="the em box the images were drawn in, e.g. 1000,880,-120; needed only for a folder "
                        "with no manifest (neither its own nor its dataset's), and overrides one")
    p.add_argument("--version", dest="font_version", default="1.000", help="font version, MAJOR.MINOR (default 1.000)")
    p.add_argument("--copyright", help="copyright notice (name ID 0)")
    p.add_argument("--license", help="licence description (name ID 13)")
    p.add_argument("--license-url", help="licence URL (name ID 14)")
    p.add_argument("--line-spacing", type=float, default=1.3,
                   help="default line height in em: hhea and win ascent + descent (default 1.3)")
    p.add_argument("--use-typo-metrics", action="store_true",
                   help="set USE_TYPO_METRICS, so apps set lines one em apart by the typo metrics")
    p.add_argument("--punctuation-from", metavar="FONT",
                   help="take the full-width CJK punctuation and symbols (，。、？！“”《》【】… as FONT has them) "
                        "unchanged from FONT (PATH or PATH#FACE) instead of the traced ones; FONT's copyright "
                        "and licence are recorded in the name table")
    p.add_argument("--latin-from", metavar="FONT",
                   help="the same for digits, Latin letters and ASCII punctuation")
    p.add_argument("--merge-into", metavar="BASE_FONT", help="add the missing characters to this font instead")
    p.add_argument("--merge-face", default="0", help="face of a .ttc base font, by index or name (default 0)")
    p.add_argument("--keep-base-names", action="store_true",
                   help="with --merge-into: keep the base's family name, version and unique ID")
    p.add_argument("--no-variants", action="store_true",
                   help="leave out the folder's variants (its variants/ U+XXXX.N.png, e.g. a hand's other samples "
                        "from `zi2zi scan`); by default a new font gets them as alternates: calt cycles them in "
                        "running text (each occurrence of a character takes the form after its previous one's), "
                        "and rand and aalt offer them too")
    p.add_argument("--normalize-written", metavar="RUN",
                   help="for a hand's glyph folder (`zi2zi scan`): place every written glyph and variant as the "
                        "fine-tuning run RUN (`zi2zi finetune --target-glyphs`) places generated ones, at the "
                        "hand's median size and position against the source glyphs, for a tidy font; by default "
                        "written glyphs keep their own placement")
    p.add_argument("--check", action="store_true", help="re-render the written glyphs and report ink IoU")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="export a glyph folder whose `zi2zi generate` did not finish (killed, or out of disk); "
                        "without it such a folder is refused: finish it with `zi2zi generate --resume`")
    p.add_argument("--workers", type=int, default=None, help="tracing processes, 1 to 256 (default: all cores)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from zi2zi.cli.checks import int_in_range
    from zi2zi.data.glyphfolder import read_glyph_folder
    from zi2zi.export import TakeGlyphs

    if args.workers is not None:
        int_in_range("--workers", args.workers, 1, 256)
    if args.merge_into is not None and args.style != "Regular":
        print("note: --style is ignored with --merge-into; the merged font keeps the base's style", file=sys.stderr)
    take = [TakeGlyphs(args.punctuation_from, "punctuation")] if args.punctuation_from else []
    take += [TakeGlyphs(args.latin_from, "latin")] if args.latin_from else []
    with tempfile.TemporaryDirectory(prefix="zi2zi-tidy-") as tmp:
        glyphs = args.glyphs
        if args.normalize_written:
            from zi2zi.finetune.tidy import tidy_folder

            glyphs = tidy_folder(read_glyph_folder(args.glyphs, em_box=_em_box(args.em_box)), args.normalize_written,
                                 Path(tmp) / "glyphs")
            print(f"placed the written glyphs as {args.normalize_written} places generated ones")
        return _export(args, glyphs, take)


def _export(args: argparse.Namespace, glyphs, take) -> int:
    from zi2zi.data.glyphfolder import read_glyph_folder
    from zi2zi.export import FontInfo, MetricsOptions, check_font, export_glyphs

    result = export_glyphs(
        glyphs, args.out, merge_into=args.merge_into, family=args.family, style=args.style,
        info=FontInfo(version=args.font_version, copyright=args.copyright, license=args.license,
                      license_url=args.license_url),
        metrics=MetricsOptions(line_spacing=args.line_spacing, use_typo_metrics=args.use_typo_metrics),
        face=int(args.merge_face) if args.merge_face.strip().isdecimal() else args.merge_face,
        keep_names=args.keep_base_names, overwrite=args.overwrite, workers=args.workers, em_box=_em_box(args.em_box),
        warn=lambda warning: print(f"warning: {warning}", file=sys.stderr), take=take,
        variants=not args.no_variants,
        allow_incomplete=args.allow_incomplete,
    )
    if args.merge_into is not None:
        print(
            f"added {result.glyphs} glyph(s) to {args.merge_into}; {len(result.skipped)} character(s) "
            f"the base already had were left as they were"
        )
    print(
        f"wrote {result.path} ({result.format}, {result.glyphs} traced glyph(s), "
        f"{result.glyphs_per_second:.1f} glyphs/s on {result.workers} process(es))"
        + (f"; {len(result.borrowed)} glyph(s) taken unchanged from --punctuation-from / --latin-from"
           if result.borrowed else "")
        + (f"; {result.alternates} alternate(s) that cycle in running text (calt, rand, aalt)"
           if result.alternates else "")
    )
    if args.check:
        folder = glyphs if not isinstance(glyphs, str) else read_glyph_folder(glyphs, em_box=_em_box(args.em_box))
        report = check_font(result.path, folder, codepoints=result.codepoints, face=0, embox=result.embox)
        print(f"check: {report.summary()}")
    return 0


def _em_box(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        upm, ascender, descender = (int(p) for p in parts)
    except ValueError:
        raise ExportError(f"--em-box {text!r} is not UNITS_PER_EM,ASCENDER,DESCENDER; e.g. --em-box 1000,880,-120") from None
    return upm, ascender, descender
