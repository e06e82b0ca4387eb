"""zi2zi generate: glyphs of any characters in a learned style, one PNG per character."""

from __future__ import annotations

import argparse
from pathlib import Path

from zi2zi.cli.generator_options import add_generator_options, open_generator
from zi2zi.errors import Zi2ziError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate glyphs in a learned style from a source font",
        description=(
            "Render the characters with the source font using the renderer settings recorded at "
            "training time, run the generator, and write U+XXXX.png files plus manifest.json "
            "(which zi2zi export reads). CKPT is a .safetensors checkpoint or a run directory "
            "(its best checkpoint, else its latest)."
        ),
        epilog="example: zi2zi generate --checkpoint runs/kai --style 0 --source-font uming.ttc "
               "--missing-from MyKai.ttf --out glyphs/kai",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT")
    p.add_argument("--style", required=True, metavar="NAME_OR_ID", help="style name or id, or 'all'")
    p.add_argument("--source-font", required=True, metavar="FONT", help="font whose glyphs are the input")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--chars", metavar="TEXT", help="the characters themselves")
    what.add_argument("--charset", metavar="SPEC", help="built-in charset name, file, or text:CHARS")
    what.add_argument("--missing-from", metavar="FONT", help="every GB2312/Big5/... character this font lacks "
                      "(with --within, default gb2312)")
    p.add_argument("--within", default="gb2312", metavar="SPEC", help="charset searched by --missing-from")
    p.add_argument("--with-punctuation", action="store_true",
                   help="also the CJK punctuation and symbols, digits and Latin a sentence needs: those the "
                        "style's target font has (all, when its file is not here), with --missing-from those "
                        "that font lacks")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the glyphs (per style with --style all)")
    p.add_argument("--resume", action="store_true", help="keep glyphs already in --out and do the rest")
    p.add_argument("--batch-size", type=int, default=32)
    add_generator_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from zi2zi.fonts import filter_by_fonts, open_font_spec, resolve_charset
    from zi2zi.fonts.charsets import check_text
    from zi2zi.generation import generate_to_folder
    from zi2zi.generation.folder import check_covered

    if args.chars is not None:
        check_text(args.chars, "--chars")
    model = open_generator(args)
    source = open_font_spec(args.source_font)
    if args.chars is not None:
        chars = [c for c in args.chars if not c.isspace()]
    elif args.charset:
        chars = resolve_charset(args.charset)
    else:
        chars = filter_by_fonts(resolve_charset(args.within), missing_from=[open_font_spec(args.missing_from)])
    styles = model.styles if args.style == "all" else [model.style(args.style)]
    if args.with_punctuation:
        chars = list(dict.fromkeys([*chars, *_sentence_chars(model, styles[0], args.missing_from)]))
    if not chars:
        raise Zi2ziError("no characters to generate")
    check_covered(source, chars)  # before any folder is made
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise Zi2ziError(f"--out {out} is a file; give a folder for the glyphs")
    if args.style == "all" and out.parent.is_dir():
        out.mkdir(exist_ok=True)  # each style's folder goes inside it
    for style in styles:
        folder = out / f"style-{style.id}" if args.style == "all" else out
        with tqdm(total=len(chars), unit="glyph", desc=f"style {style.id}", disable=None) as bar:
            report = generate_to_folder(model, style=style, source=source, chars=chars, out=folder,
                                        resume=args.resume, batch_size=args.batch_size, progress=bar.update)
        print(f"style {style.id} ({style.name}): wrote {len(report.written)} glyphs to {folder} "
              f"in {report.seconds:.1f} s"
              + (f", kept {len(report.skipped_existing)} already there" if report.skipped_existing else ""))
        if report.missing_in_source:
            shown = "".join(report.missing_in_source[:40])
            print(f"  skipped {len(report.missing_in_source)} characters the source font lacks: {shown}"
                  f"{' ...' if len(report.missing_in_source) > 40 else ''}")
    return 0


def _sentence_chars(model, style, missing_from: str | None) -> list[str]:
    from zi2zi.fonts import open_font, open_font_spec
    from zi2zi.fonts.punctuation import sentence_chars

    if missing_from:
        font = open_font_spec(missing_from)
        return [c for c in sentence_chars() if not font.covers(c)]
    record = model.style_font_record(style) or {}
    if record.get("path") and Path(record["path"]).is_file():
        font = open_font(record["path"], record.get("face", 0))
        return [c for c in sentence_chars() if font.covers(c)]
    return list(sentence_chars())
