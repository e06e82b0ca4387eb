"""zi2zi charset: list or count the characters of a charset, optionally filtered by fonts."""

from __future__ import annotations

import argparse

from zi2zi.fonts.charsets import builtin_charsets


def register(sub: argparse._SubParsersAction) -> None:
    names = ", ".join(builtin_charsets())
    p = sub.add_parser(
        "charset",
        help="list or count the characters of a charset",
        description=f"Resolve a charset: a built-in name ({names}), a UTF-8 text file, or text:CHARS.",
        epilog="example: zi2zi charset gb2312 --font Kai.ttf --missing-from MyFont.otf --count",
    )
    p.add_argument("spec", help="built-in name, file path, or text:CHARACTERS")
    p.add_argument("--font", action="append", default=[], metavar="FONT",
                   help="keep only characters this font covers (repeatable; FONT#N picks a face)")
    p.add_argument("--missing-from", action="append", default=[], metavar="FONT",
                   help="keep only characters this font lacks (repeatable)")
    p.add_argument("--count", action="store_true", help="print only the number of characters")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.fonts import filter_by_fonts, open_font_spec, resolve_charset

    chars = filter_by_fonts(
        resolve_charset(args.spec),
        covered_by=[open_font_spec(f) for f in args.font],
        missing_from=[open_font_spec(f) for f in args.missing_from],
    )
    print(len(chars) if args.count else "".join(chars))
    return 0
