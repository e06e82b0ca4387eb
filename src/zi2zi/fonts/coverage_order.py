"""GB 2312 level 1 in the order a few-shot training set should take it: components first.

A fine-tuned model learns how the new font draws each part of a character from the training
glyphs that contain that part, so the first N characters should hold as many different parts as
N characters can, most of them parts that many other characters share. Code order (阿挨哎唉...,
pinyin a, ai, ...) does not: its first 200 repeat a few phonetic series (哎唉埃挨) and miss
common radicals altogether.

Parts are approximated offline from the Unicode Han Database (Debian package ``unicode-data``),
as the handwriting template's charset is (``zi2zi.handwriting.charset_derivation``): the radical
(``kRSUnicode``), the semantic part, and the phonetic series (``kPhonetic``, Casey's phonetic
classes), the part that gives most characters their sound. The order is greedy: each next
character adds the most weight of parts not yet covered, a part weighing log(1 + the number of
level-1 characters that have it), times a frequency factor: 1 for Unihan's most frequent class
(``kFrequency`` 1), falling to ``1 - FREQUENCY_WEIGHT`` for characters of no class, so a rare
character must bring twice the parts of a common one to come first. Ties go to the commoner
character, then GB 2312 order. Once every part is covered, the rest follow by frequency class, then GB order.

The result ships as ``data/gb2312-1-coverage.txt`` (the ``gb2312-1-coverage`` charset). Run
``python -m zi2zi.fonts.coverage_order UNIHAN_DIR`` (Debian: /usr/share/unicode) to print it again.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from zi2zi.fonts.charsets import builtin_charset

FREQUENCY_WEIGHT = 0.5  # share of a part's weight that depends on the character's frequency
HEADER = """\
# GB 2312 level 1 (3755) in coverage order: each character adds the most radicals (kRSUnicode)
# and phonetic series (kPhonetic) not yet covered, weighted by how many level-1 characters share
# them and by frequency (kFrequency); the fine-tuning default takes its first N.
# Derived offline by zi2zi.fonts.coverage_order from the Unicode Han Database
# (Unihan 15.0, Debian package unicode-data; (c) Unicode, Inc., Unicode License).
"""


def parts(radical: str | None, phonetic: str | None) -> set[str]:
    """The parts of a character: 'r<radical>' and 'p<class>' for each phonetic class."""
    found = {f"r{radical}"} if radical else set()
    for token in (phonetic or "").split():
        number = "".join(ch for ch in token if ch.isdigit())
        if number:
            found.add(f"p{number}")
    return found


def order(chars: list[str], char_parts: dict[str, set[str]], frequency: dict[str, int]) -> list[str]:
    """Greedy coverage order of ``chars`` (see the module docstring)."""
    position = {c: i for i, c in enumerate(chars)}
    share: dict[str, int] = {}
    for c in chars:
        for part in char_parts.get(c, ()):
            share[part] = share.get(part, 0) + 1
    weight = {part: math.log1p(n) for part, n in share.items()}

    def factor(c: str) -> float:
        common = (6 - frequency[c]) / 5 if c in frequency else 0.0  # class 1: 1.0 ... class 5: 0.2
        return 1.0 - FREQUENCY_WEIGHT + FREQUENCY_WEIGHT * common

    def gain(c: str, covered: set[str]) -> tuple[float, int, int]:
        new = sum(weight[p] for p in char_parts.get(c, ()) if p not in covered)
        # Rounded: the sum runs over a set, whose order (string hashing) changes between runs.
        return (round(new * factor(c), 9), -frequency.get(c, 9), -position[c])

    left, chosen = set(chars), []
    covered: set[str] = set()
    while left:
        best = max(left, key=lambda c: gain(c, covered))
        if gain(best, covered)[0] <= 0:
            break
        chosen.append(best)
        covered |= char_parts.get(best, set())
        left.discard(best)
    return chosen + sorted(left, key=lambda c: (frequency.get(c, 9), position[c]))


def derive(unihan_dir: str | Path) -> list[str]:
    from zi2zi.handwriting.charset_derivation import _field

    unihan_dir = Path(unihan_dir)
    frequency = {c: int(v) for c, v in _field(unihan_dir / "Unihan_DictionaryLikeData.txt.bz2", "kFrequency").items()}
    phonetic = _field(unihan_dir / "Unihan_DictionaryLikeData.txt.bz2", "kPhonetic")
    radical = {c: v.split()[0].split(".")[0].rstrip("'")
               for c, v in _field(unihan_dir / "Unihan_IRGSources.txt.bz2", "kRSUnicode").items()}
    chars = list(builtin_charset("gb2312-1"))
    char_parts = {c: parts(radical.get(c), phonetic.get(c)) for c in chars}
    return order(chars, char_parts, frequency)


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the coverage-ordered GB 2312 level 1 file.")
    parser.add_argument("unihan_dir", help="folder holding Unihan_*.txt.bz2 (Debian: /usr/share/unicode)")
    chars = derive(parser.parse_args().unihan_dir)
    print(HEADER, end="")
    for i in range(0, len(chars), 50):
        print("".join(chars[i : i + 50]))


if __name__ == "__main__":
    main()
