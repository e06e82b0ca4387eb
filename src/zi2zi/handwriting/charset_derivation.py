"""How the default template charset (``data/default300.txt``) was derived, re-runnable offline.

A person writes a few hundred characters, so the template should hold the ones a font needs most:
the characters that occur most in running text, and enough different components that a model
fine-tuned on them sees how this hand writes each part. Nothing may be downloaded, so both come
from the Unicode Han Database (Debian package ``unicode-data``):

1. ``kFrequency`` 1 (the most frequent class of Unihan's usage survey) within GB 2312 level 1.
2. Component coverage, approximated by the radical (``kRSUnicode``): for every radical that any
   GB 2312 level-1 character of ``kFrequency`` <= 3 has and step 1 lacks, its most frequent
   character (lowest class, then GB 2312 order).
3. Filled up to ``size`` with ``kFrequency`` 2, then 3, in GB 2312 order.

The result is ordered by frequency class, then GB 2312 order, so the first template page holds
the most useful characters. Run ``python scripts/derive_handwriting_charset.py UNIHAN_DIR``
(Debian: /usr/share/unicode) to print the file again.
"""

from __future__ import annotations

import bz2
from pathlib import Path

from zi2zi.fonts.charsets import builtin_charset

SIZE = 300
HEADER = """\
# The default zi2zi handwriting template: {n} characters, most useful first.
# Derived offline by zi2zi.handwriting.charset_derivation from the Unicode Han Database
# (Unihan 15.0, Debian package unicode-data; (c) Unicode, Inc., Unicode License):
#   the GB 2312 level-1 characters of Unihan frequency class 1 (kFrequency), then for every
#   radical (kRSUnicode) that the level-1 characters of classes 1-3 use, its most frequent
#   character, then classes 2 and 3 in GB 2312 order up to {n}: frequent characters first, and
#   every common component written at least once for the fine-tuned model to learn from.
"""


def _field(path: Path, name: str) -> dict[str, str]:
    values = {}
    with bz2.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if f"\t{name}\t" in line:
                code, _, value = line.rstrip("\n").split("\t")
                values[chr(int(code[2:], 16))] = value
    return values


def derive(unihan_dir: str | Path, size: int = SIZE) -> list[str]:
    unihan_dir = Path(unihan_dir)
    freq = {c: int(v) for c, v in _field(unihan_dir / "Unihan_DictionaryLikeData.txt.bz2", "kFrequency").items()}
    radical = {
        c: v.split()[0].split(".")[0].rstrip("'")
        for c, v in _field(unihan_dir / "Unihan_IRGSources.txt.bz2", "kRSUnicode").items()
    }
    level1 = builtin_charset("gb2312-1")
    order = {c: i for i, c in enumerate(level1)}
    ranked = sorted((c for c in level1 if freq.get(c, 9) <= 3), key=lambda c: (freq[c], order[c]))
    chosen = [c for c in ranked if freq[c] == 1]
    covered = {radical.get(c) for c in chosen}
    for c in ranked:
        if radical.get(c) not in covered and len(chosen) < size:
            chosen.append(c)
            covered.add(radical.get(c))
    for c in ranked:
        if len(chosen) >= size:
            break
        if c not in chosen:
            chosen.append(c)
    return sorted(chosen, key=lambda c: (freq[c], order[c]))


def charset_file(chars: list[str]) -> str:
    """The text of the charset file: the header, then 20 characters a line."""
    lines = ["".join(chars[i : i + 20]) for i in range(0, len(chars), 20)]
    return HEADER.format(n=len(chars)) + "".join(line + "\n" for line in lines)
