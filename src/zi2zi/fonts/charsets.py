"""Character sets: built-in standards, files, literal text, and set operations with fonts.

Built-in sets are enumerated from Python's codecs (GB2312, Big5, JIS X 0208, KS X 1001, and
their punctuation rows: ``zi2zi.fonts.punctuation``) or from package data (the 8105 characters of 通用规范汉字表), never from paths relative to the working
directory. Order is the standard's own code order, so "the first N" means the same thing for
everybody; ``gb2312-1-coverage`` is level 1 ordered to cover the most components first
(``zi2zi.fonts.coverage_order``), the order fine-tuning takes a font's training glyphs in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from zi2zi.errors import CharsetError


def is_cjk_ideograph(char: str) -> bool:
    cp = ord(char)
    return (
        0x4E00 <= cp <= 0x9FFF  # URO
        or 0x3400 <= cp <= 0x4DBF  # Extension A
        or 0xF900 <= cp <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= cp <= 0x323AF  # Extensions B-H
    )


def _double_byte(codec: str, leads: Iterable[int], trails: Iterable[int]) -> tuple[str, ...]:
    """Decode every lead/trail byte pair and keep the ideographs, in code order, once each."""
    trails = list(trails)
    seen: dict[str, None] = {}
    for lead in leads:
        for trail in trails:
            try:
                char = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(char) == 1 and is_cjk_ideograph(char):
                seen.setdefault(char, None)
    return tuple(seen)


_BIG5_TRAILS = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
_EUC_TRAILS = range(0xA1, 0xFF)


def _data_file(name: str) -> tuple[str, ...]:
    text = resources.files("zi2zi.fonts").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return tuple(c for line in text.splitlines() if line and not line.startswith("#") for c in line.strip())


@cache
def _tgh8105() -> tuple[str, ...]:
    return _data_file("tgh8105.txt")


_BUILTIN: dict[str, tuple[str, Callable[[], tuple[str, ...]]]] = {
    "gb2312": ("GB 2312 hanzi, levels 1 and 2 (6763)", lambda: _double_byte("gb2312", range(0xB0, 0xF8), _EUC_TRAILS)),
    "gb2312-1": ("GB 2312 level 1, the common hanzi (3755)", lambda: _double_byte("gb2312", range(0xB0, 0xD8), _EUC_TRAILS)),
    # zi2zi.fonts.coverage_order (measured against code order: benchmarks/reports/training-order.md).
    "gb2312-1-coverage": ("GB 2312 level 1, most radicals and phonetic parts first (3755)",
                          lambda: _data_file("gb2312-1-coverage.txt")),
    "big5": ("Big5 hanzi, common and less common (13053)", lambda: _double_byte("big5", [*range(0xA4, 0xC7), *range(0xC9, 0xFA)], _BIG5_TRAILS)),
    "big5-1": ("Big5 common hanzi (5401)", lambda: _double_byte("big5", range(0xA4, 0xC7), _BIG5_TRAILS)),
    "tgh8105": ("通用规范汉字表, Table of General Standard Chinese Characters (8105)", _tgh8105),
    "jis0208": ("JIS X 0208 kanji, levels 1 and 2 (6355)", lambda: _double_byte("euc_jp", range(0xB0, 0xF5), _EUC_TRAILS)),
    "ksx1001": ("KS X 1001 hanja (4888)", lambda: _double_byte("euc_kr", range(0xCA, 0xFE), _EUC_TRAILS)),
    "cjk-punctuation": ("full-width CJK punctuation and symbols of GB 2312, Big5 and JIS X 0208 (242)",
                        lambda: _punctuation().cjk_punctuation()),
    "latin": ("printable ASCII: digits, Latin letters, punctuation (94)", lambda: _punctuation().latin()),
}


def _punctuation():
    from zi2zi.fonts import punctuation  # it imports this module

    return punctuation


def builtin_charsets() -> dict[str, str]:
    """Name -> description of every built-in charset."""
    return {name: description for name, (description, _) in _BUILTIN.items()}


@cache
def builtin_charset(name: str) -> tuple[str, ...]:
    try:
        return _BUILTIN[name][1]()
    except KeyError:
        raise CharsetError(_unknown_message(name)) from None


def _unknown_message(spec: str) -> str:
    return (
        f"unknown charset {spec!r}: use a built-in name ({', '.join(_BUILTIN)}), "
        "a path to a text file, or text:CHARACTERS"
    )


# Every code point of Unicode, one per line, is under 8 MB; a larger "charset file" is something else.
MAX_CHARSET_BYTES = 16 << 20


def check_text(text: str, what: str) -> str:
    """``text`` if it is real Unicode text; bytes that were not UTF-8 (Python keeps them as lone
    surrogates, e.g. from a command line in another encoding) are one line naming ``what``."""
    bad = next((c for c in text if 0xD800 <= ord(c) <= 0xDFFF), None)
    if bad is not None:
        byte = ord(bad) - 0xDC00 if 0xDC80 <= ord(bad) <= 0xDCFF else None
        shown = f"the byte 0x{byte:02X}" if byte is not None else f"U+{ord(bad):04X}"
        raise CharsetError(f"{what} holds {shown}, which is not UTF-8 text; give the characters in UTF-8")
    return text


def _from_text(text: str) -> list[str]:
    """Every non-space character once, in first-seen order (works for one-per-line files too)."""
    check_text(text, "the charset")
    seen: dict[str, None] = {}
    for char in text:
        if not char.isspace():
            seen.setdefault(char, None)
    return list(seen)


def resolve_charset(spec: str) -> list[str]:
    """Resolve ``gb2312`` / ``path/to/file.txt`` / ``text:永字八法`` to a list of characters.

    Raises :class:`CharsetError` for an unknown name, an unreadable file, or an empty result.
    """
    if spec.startswith("text:"):
        chars = _from_text(spec[len("text:"):])
        source = "the text after 'text:'"
    elif spec.lower() in _BUILTIN:
        chars = list(builtin_charset(spec.lower()))
        source = spec
    else:
        from zi2zi.storage.reading import names_a_file, read_bytes

        path = Path(spec)
        if not names_a_file(path):  # also the characters themselves given without text:, too long for a name
            raise CharsetError(_unknown_message(spec))
        data = read_bytes(path, what="charset file", max_bytes=MAX_CHARSET_BYTES, error=CharsetError)
        try:
            chars = _from_text(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise CharsetError(f"charset file {path} is not UTF-8 text; save it as UTF-8") from None
        source = f"charset file {path}"
    if not chars:
        raise CharsetError(f"{source} holds no characters; give at least one")
    return chars


def filter_by_fonts(
    chars: Iterable[str],
    *,
    covered_by: Iterable = (),
    missing_from: Iterable = (),
) -> list[str]:
    """Keep characters every ``covered_by`` font has and every ``missing_from`` font lacks."""
    covered_by, missing_from = list(covered_by), list(missing_from)
    return [
        c
        for c in chars
        if all(f.covers(c) for f in covered_by) and not any(f.covers(c) for f in missing_from)
    ]
