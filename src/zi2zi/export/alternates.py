"""A hand's variants in the font: alternates that cycle in running text.

A character written several times (``variants/`` of a glyph folder) gets its other glyphs as
``uniXXXX.alt1``, ``uniXXXX.alt2``, ... without a cmap entry, and a GSUB table (fontTools
feaLib) that reaches them three ways:

- ``calt`` (contextual alternates, on by default in most apps that shape OpenType): each
  occurrence of the character takes the form after the one its previous occurrence took, if that
  occurrence is at most ``WINDOW`` glyphs back, cycling default -> alt1 -> alt2 -> default; so
  "的的的" and "我的书和你的笔" show different glyphs for every 的. The rules look back at the
  glyphs already substituted, as every OpenType engine does for a chaining lookup.
- ``rand`` (randomize: HarfBuzz, which applies it by default, and a few apps pick one of the
  forms at random): it runs first, so it only chooses where a cycle starts;
- ``aalt`` (access all alternates: the glyph palette of a design app offers them).

A font whose GSUB holds only these features is refreshed when glyphs are merged into it
(:func:`refresh_alternates`), so characters added later are looked across too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from fontTools.feaLib.builder import addOpenTypeFeaturesFromString
from fontTools.ttLib import TTFont

WINDOW = 8  # glyphs looked back for the previous occurrence of a character (a short sentence)
FEATURES = ("aalt", "calt", "rand")
_ALT = re.compile(r"^(.+)\.alt([1-9][0-9]*)$")


def alternate_name(base: str, n: int) -> str:
    """The glyph name of the ``n``-th alternate (from 1) of the glyph ``base``."""
    return f"{base}.alt{n}"


def features(alternates: Mapping[str, Sequence[str]], glyphs: Iterable[str]) -> str:
    """The feature file for ``alternates`` (base glyph -> its alternates, in order) in a font of
    ``glyphs`` (every glyph name, for the glyphs looked across)."""
    bases = [b for b in alternates if alternates[b]]
    lines = ["languagesystem DFLT dflt;", "languagesystem hani dflt;", "languagesystem latn dflt;", ""]
    lines.append("@ZI2ZI_ANY = [" + " ".join(g for g in glyphs if g != ".notdef") + "];")
    lines.append("lookup zi2zi_alternates {")
    lines += [f"  sub {b} from [{b} {' '.join(alternates[b])}];" for b in bases]
    lines.append("} zi2zi_alternates;")
    # The cycle comes after the random pick in the lookup order (HarfBuzz applies rand by default):
    # any form of the character is taken as input, so the first occurrence keeps the form rand
    # gave it and every later one still takes the next form after its previous occurrence's.
    lines.append("lookup zi2zi_cycle {")
    for gap in range(WINDOW):  # the nearest previous occurrence decides: shorter gaps come first
        between = " @ZI2ZI_ANY" * gap
        for b in bases:
            forms = [b, *alternates[b]]
            for i, form in enumerate(forms):
                lines.append(f"  sub {form}{between} [{' '.join(forms)}]' by {forms[(i + 1) % len(forms)]};")
    lines.append("} zi2zi_cycle;")
    lines += ["feature rand { lookup zi2zi_alternates; } rand;",
              "feature calt { lookup zi2zi_cycle; } calt;",
              "feature aalt { feature rand; } aalt;"]
    return "\n".join(lines) + "\n"


def add_alternates(font: TTFont, alternates: Mapping[str, Sequence[str]]) -> None:
    """Compile the GSUB of ``alternates`` into ``font`` (replacing a GSUB it has)."""
    if any(alternates.values()):
        addOpenTypeFeaturesFromString(font, features(alternates, font.getGlyphOrder()), tables=["GSUB"])


def alternates_in(font: TTFont) -> dict[str, list[str]]:
    """Base glyph -> its alternates, found by name (``uniXXXX.altN``)."""
    order = set(font.getGlyphOrder())
    found: dict[str, dict[int, str]] = {}
    for name in font.getGlyphOrder():
        match = _ALT.match(name)
        if match and match.group(1) in order:
            found.setdefault(match.group(1), {})[int(match.group(2))] = name
    return {base: [names[n] for n in sorted(names)] for base, names in found.items()}


def refresh_alternates(font: TTFont) -> bool:
    """Rebuild a GSUB that holds only these features over the font's glyphs as they are now (after
    a merge added some), so the cycle looks across the new glyphs too; True when it did."""
    if "GSUB" not in font:
        return False
    table = font["GSUB"].table
    tags = {record.FeatureTag for record in (table.FeatureList.FeatureRecord if table.FeatureList else [])}
    # What add_alternates compiles: these three features over alternate lookups (type 3: rand's
    # and aalt's) and the cycle's chaining (6) and single (1) ones. Any other GSUB is the font's own.
    kinds = {lookup.LookupType for lookup in (table.LookupList.Lookup if table.LookupList else [])}
    ours = tags == set(FEATURES) and kinds == {1, 3, 6}
    alternates = alternates_in(font)
    if not ours or not alternates:
        return False  # another font's own GSUB: kept exactly as it is
    add_alternates(font, alternates)
    return True


__all__ = ["FEATURES", "WINDOW", "add_alternates", "alternate_name", "alternates_in", "features",
           "refresh_alternates"]
