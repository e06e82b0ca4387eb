"""The target font as the pages show it: names, and coverage of the charsets CJK fonts are judged by."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

COVERAGE_CHARSETS = {"gb2312": "GB 2312", "big5": "Big5", "tgh8105": "8105 (通用规范汉字表)"}


def describe_font(path: Path) -> dict[str, Any]:
    from zi2zi.fonts import open_font, resolve_charset

    font = open_font(path)
    coverage = []
    for name, label in COVERAGE_CHARSETS.items():
        chars = resolve_charset(name)
        have = sum(font.covers(c) for c in chars)
        coverage.append({"charset": name, "label": label, "have": have, "total": len(chars)})
    return {"file": path.name, "family": font.family, "style": font.style, "code_points": len(font.coverage),
            "coverage": coverage}


def training_chars(path: Path, charset: str, count: int, leave_out: str = "") -> str:
    """The first ``count`` characters of ``charset`` that the font has, in the charset's order,
    without those of ``leave_out``."""
    from zi2zi.fonts import open_font, resolve_charset

    font = open_font(path)
    skip = set(leave_out)
    return "".join([c for c in resolve_charset(charset) if font.covers(c) and c not in skip][:count])


def missing_chars(path: Path, charset: str) -> str:
    from zi2zi.fonts import open_font, resolve_charset

    font = open_font(path)
    return "".join(c for c in resolve_charset(charset) if not font.covers(c))


def installed_fonts(limit: int = 300) -> list[Path]:
    """Font files under the system font folders, for "pick an installed font" (copied, never used in place)."""
    from zi2zi.fonts.system import font_dirs

    found: list[Path] = []
    for folder in font_dirs():
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in (".ttf", ".otf", ".ttc") and path.is_file():
                found.append(path)
                if len(found) >= limit:
                    return found
    return found


def installed_font_list() -> list[dict[str, Any]]:
    """Installed fonts for the page's list: id (an index into ``installed_fonts``), family, style
    and file, sorted by family then style, so a font is found by its name rather than its file."""
    paths = installed_fonts()
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in paths)
    return _named(stamp)


@lru_cache(maxsize=2)
def _named(stamp: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    from zi2zi.fonts.font import face_family_styles

    rows = []
    for i, (path, _) in enumerate(stamp):
        try:
            faces = face_family_styles(path)
        except Exception:  # an unreadable file is listed by its name; choosing it says what is wrong
            faces = [("", "")]
        family, style = faces[0][0] or Path(path).stem, faces[0][1] or "Regular"
        rows.append({"id": i, "family": family, "style": style, "file": Path(path).name, "faces": len(faces),
                     "name": f"{family} {style}"})
    return sorted(rows, key=lambda r: (r["family"].casefold(), r["style"].casefold(), r["file"]))
