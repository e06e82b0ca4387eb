"""zi2zi fontinfo: what zi2zi sees in a font file (faces, metrics, coverage)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fontinfo",
        help="show a font's faces, metrics and charset coverage",
        description="Report family, style, units per em, ascender, descender and cmap coverage.",
        epilog="example: zi2zi fontinfo /usr/share/fonts/truetype/arphic/ukai.ttc#0",
    )
    p.add_argument("font", help="font file; FONT#N or FONT#Name picks a face of a collection")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.fonts import builtin_charsets, face_names, open_font, parse_font_spec, resolve_charset

    path, face = parse_font_spec(args.font)
    font = open_font(path, face)
    info = {
        "path": str(font.path),
        "faces": face_names(path),
        "face": font.face_index,
        "family": font.family,
        "style": font.style,
        "units_per_em": font.units_per_em,
        "ascender": font.ascender,
        "descender": font.descender,
        "code_points": len(font.coverage),
        "coverage": {
            name: f"{sum(font.covers(c) for c in resolve_charset(name))}/{len(resolve_charset(name))}"
            for name in builtin_charsets()
        },
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        for key, value in info.items():
            if isinstance(value, dict):
                print(f"{key}:")
                for k, v in value.items():
                    print(f"  {k:10s} {v}")
            else:
                print(f"{key}: {value}")
    return 0
