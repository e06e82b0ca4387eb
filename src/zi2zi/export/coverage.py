"""OS/2 code page and Unicode range bits from what a font really covers.

fontTools marks a CJK code page only when one sentinel character (e.g. a bopomofo letter) is
present, which a hanzi-only font lacks, and falls back to Latin 1 for a font without Latin. Here a
CJK code page is claimed when the font covers at least CODE_PAGE_COVERAGE of that standard's
characters; a font that reaches none (a few hundred generated glyphs) claims the one standard
that holds the largest share of its ideographs, because apps such as Word list a font under no
language when no bit is set. Latin 1 is claimed only with the ASCII letters present.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from functools import cache

from fontTools.ttLib import TTFont

from zi2zi.fonts.charsets import builtin_charset

# Share of a CJK standard's characters a font must cover for its code page bit.
CODE_PAGE_COVERAGE = 0.5
_LATIN_LETTERS = {ord(c) for c in string.ascii_letters}


@cache
def _ksx1001_hangul() -> frozenset[int]:
    decoded = (
        bytes((lead, trail)).decode("euc_kr", "ignore") for lead in range(0xB0, 0xC9) for trail in range(0xA1, 0xFF)
    )
    return frozenset(ord(c) for c in decoded if len(c) == 1 and 0xAC00 <= ord(c) <= 0xD7A3)


def _charset(name: str) -> Callable[[], frozenset[int]]:
    return lambda: frozenset(ord(c) for c in builtin_charset(name))


CJK_CODE_PAGES: dict[int, tuple[str, Callable[[], frozenset[int]]]] = {
    17: ("JIS X 0208 (Japan)", _charset("jis0208")),
    18: ("GB 2312 (Chinese Simplified)", _charset("gb2312-1")),
    19: ("KS X 1001 (Korean Wansung)", _ksx1001_hangul),
    20: ("Big5 (Chinese Traditional)", _charset("big5-1")),
}


def code_page_bits(codepoints: Iterable[int]) -> set[int]:
    """OS/2 ulCodePageRange bits for a font covering `codepoints`."""
    unicodes = set(codepoints)
    bits: set[int] = set()
    if _LATIN_LETTERS <= unicodes:
        bits.add(0)  # Latin 1
    shares = {}
    for bit, (_, charset) in CJK_CODE_PAGES.items():
        core = charset()
        covered = len(core & unicodes)
        if covered >= CODE_PAGE_COVERAGE * len(core):
            bits.add(bit)
        if covered:
            shares[bit] = covered / max(1, len(unicodes))
    if not bits and shares:
        bits.add(max(shares, key=lambda b: (shares[b], -b)))
    return bits


def set_coverage_bits(font: TTFont) -> None:
    """Code pages, Unicode ranges and first / last character of OS/2 from the font's cmap."""
    os2 = font["OS/2"]
    cmap = font.getBestCmap() or {}
    os2.setCodePageRanges(code_page_bits(cmap))
    os2.recalcUnicodeRanges(font)
    if cmap:
        os2.usFirstCharIndex = min(0xFFFF, min(cmap))
        os2.usLastCharIndex = min(0xFFFF, max(cmap))
