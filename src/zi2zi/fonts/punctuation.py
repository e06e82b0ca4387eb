"""Everything a font needs besides its hanzi to set a sentence: CJK punctuation and symbols,
digits and Latin.

``cjk_punctuation`` is enumerated from Python's codecs: the punctuation and symbol rows of the
standards CJK fonts are built to (GB 2312 rows 1 and 3, Big5 lead byte 0xA1, JIS X 0208 rows 1
and 2). GB 2312 is read with the GB 18030 codec, which maps row 1 as fonts and input methods do
(A1A4 to U+00B7 MIDDLE DOT, A1AA to U+2014 EM DASH; Python's ``gb2312`` codec gives the katakana
middle dot and the horizontal bar). Kept: one entry per character, in that order, leaving out
spaces (the exporter makes them), ideographs (they are hanzi) and the full-width forms of ASCII
letters and digits (rarely used; the ASCII ones are in ``latin``).

``latin`` is printable ASCII: digits, letters and ASCII punctuation. An exported font gives these
proportional advance widths (``is_proportional``), the rest one em.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable
from functools import cache

from zi2zi.fonts.charsets import is_cjk_ideograph

# (codec, lead byte, trail bytes) of each punctuation and symbol row.
_ROWS: tuple[tuple[str, int, tuple[int, ...]], ...] = (
    ("gb18030", 0xA1, tuple(range(0xA1, 0xFF))),  # GB 2312 row 1: punctuation, brackets, symbols
    ("gb18030", 0xA3, tuple(range(0xA1, 0xFF))),  # GB 2312 row 3: full-width ASCII (，；：？！（）...)
    ("big5", 0xA1, (*range(0x40, 0x7F), *range(0xA1, 0xFF))),  # Big5 punctuation and vertical forms
    ("euc_jp", 0xA1, tuple(range(0xA1, 0xFF))),  # JIS X 0208 row 1
    ("euc_jp", 0xA2, tuple(range(0xA1, 0xFF))),  # JIS X 0208 row 2: symbols
)

# The marks written most, for a handwriting template's page (all of them are in cjk_punctuation,
# which a test checks): a selection, so it cannot come from a codec.
COMMON_CJK_PUNCTUATION = "，。、；：？！“”‘’（）《》〈〉【】「」『』…—～·"
# ASCII punctuation written in Latin text, for the same page.
COMMON_ASCII_PUNCTUATION = ".,;:?!'\"()-/&@%+"


def _keep(char: str) -> bool:
    if len(char) != 1 or char.isspace() or char.isascii() or is_cjk_ideograph(char):
        return False
    # Full-width letters and digits are left out; full-width punctuation (，！（）) is kept.
    return not (0xFF01 <= ord(char) <= 0xFF5E and unicodedata.normalize("NFKC", char).isalnum())


@cache
def cjk_punctuation() -> tuple[str, ...]:
    """Full-width CJK punctuation and symbols of GB 2312, Big5 and JIS X 0208, in that order."""
    seen: dict[str, None] = {}
    for codec, lead, trails in _ROWS:
        for trail in trails:
            try:
                char = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if _keep(char):
                seen.setdefault(char, None)
    return tuple(seen)


@cache
def latin() -> tuple[str, ...]:
    """Printable ASCII without the space: digits, letters, punctuation."""
    return tuple(chr(cp) for cp in range(0x21, 0x7F))


def sentence_chars() -> tuple[str, ...]:
    """Everything here: CJK punctuation and symbols, then Latin."""
    return cjk_punctuation() + latin()


def is_proportional(codepoint: int) -> bool:
    """Glyphs an exported font sets at their own width (ink box plus side bearings) rather than
    one em: printable ASCII, as in Source Han and Noto CJK."""
    return 0x21 <= codepoint <= 0x7E


def template_extras() -> list[str]:
    """The handwriting template's own page: common CJK punctuation, digits, Latin letters and
    common ASCII punctuation."""
    return list(dict.fromkeys(COMMON_CJK_PUNCTUATION + string.digits + string.ascii_uppercase
                              + string.ascii_lowercase + COMMON_ASCII_PUNCTUATION))


def covered(chars: Iterable[str], fonts: Iterable) -> list[str]:
    """The characters every font of ``fonts`` has (FontFile.covers), in order."""
    fonts = list(fonts)
    return [c for c in chars if all(f.covers(c) for f in fonts)]
