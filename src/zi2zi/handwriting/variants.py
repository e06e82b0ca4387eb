"""Which characters the template asks for more than once, so the font can vary as a hand does.

A person writes the same character differently each time; a font with one glyph per character
repeats it stamped. So the template asks for extra samples of the characters that recur most in
running text, the scan keeps them as variants (:mod:`zi2zi.data.glyphfolder`) and the export puts
them in the font as alternates that cycle (:mod:`zi2zi.export.alternates`).

How frequent a character is comes offline from the Unicode Han Database (Debian package
``unicode-data``), as the template's charset does (``charset_derivation``): ``kHanyuPinlu``
gives for each reading of a character its count in the Xiandai Hanyu Pinlu Cidian corpus; their
sum ranks 3799 characters (simplified and traditional). The ranking ships as
``data/frequency.txt``; ``python -m zi2zi.handwriting.variants UNIHAN_DIR`` (Debian:
/usr/share/unicode) prints it again.

The default: the 15 most frequent characters of the charset get 3 samples each (their own square
and two more). In the default charset those are 的一了是不我在有人这他们来个上, about a fifth of
all the characters of running Chinese text, and the 30 extra squares fill the last page of
characters without adding one.
"""

from __future__ import annotations

import argparse
import bz2
import re
import sys
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

DEFAULT_VARIANTS = 15  # characters that get extra samples
SAMPLES = 3  # samples of each of them: its own square and SAMPLES - 1 more
HEADER = """\
# Characters by frequency in running Chinese text, most frequent first (3799, simplified and traditional).
# Derived offline by zi2zi.handwriting.variants from the Unicode Han Database (Unihan 15.0, Debian
# package unicode-data; (c) Unicode, Inc., Unicode License): the sum of each character's kHanyuPinlu
# counts (its readings' frequencies in the Xiandai Hanyu Pinlu Cidian corpus).
"""


@lru_cache(maxsize=1)
def frequency_rank() -> dict[str, int]:
    """Character -> rank (0 = the most frequent) for the characters Unihan counts."""
    text = resources.files("zi2zi.handwriting").joinpath("data/frequency.txt").read_text(encoding="utf-8")
    ranked = [c for line in text.splitlines() if not line.startswith("#") for c in line.strip()]
    return {c: i for i, c in enumerate(ranked)}


def variant_chars(chars: Sequence[str], count: int = DEFAULT_VARIANTS) -> list[str]:
    """The ``count`` most frequent of ``chars`` (those Unihan does not count come last, in the
    charset's order)."""
    if count <= 0:
        return []
    rank = frequency_rank()
    unique = list(dict.fromkeys(chars))
    order = sorted(range(len(unique)), key=lambda i: (rank.get(unique[i], len(rank)), i))
    return [unique[i] for i in order[:count]]


def template_variants_for(spec: str | None, chars: Sequence[str], count: int | None = None) -> list[str]:
    """The characters a template of ``spec`` asks for more than once: ``count`` (default
    :data:`DEFAULT_VARIANTS`) of ``chars``, none for ``text:`` (exactly the characters given)."""
    if (spec or "").startswith("text:") and count is None:
        return []
    return variant_chars(chars, DEFAULT_VARIANTS if count is None else count)


def derive(unihan_dir: str | Path) -> list[str]:
    counts: dict[str, int] = {}
    with bz2.open(Path(unihan_dir) / "Unihan_Readings.txt.bz2", "rt", encoding="utf-8") as fh:
        for line in fh:
            if "\tkHanyuPinlu\t" in line:
                code, _, value = line.rstrip("\n").split("\t")
                counts[chr(int(code[2:], 16))] = sum(int(n) for n in re.findall(r"\((\d+)\)", value))
    return sorted(counts, key=lambda c: (-counts[c], ord(c)))


def frequency_file(chars: list[str]) -> str:
    lines = ["".join(chars[i : i + 40]) for i in range(0, len(chars), 40)]
    return HEADER + "".join(line + "\n" for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="print data/frequency.txt again from the Unicode Han Database")
    parser.add_argument("unihan_dir", help="folder with Unihan_Readings.txt.bz2 (Debian: /usr/share/unicode)")
    args = parser.parse_args(argv)
    sys.stdout.write(frequency_file(derive(args.unihan_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
