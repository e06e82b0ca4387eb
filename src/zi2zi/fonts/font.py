"""Opening fonts (TTF / OTF / TTC) and reading what zi2zi needs from them.

Coverage comes from the font's cmap, never from comparing rendered images (the forks' hash trick
misses glyphs that render as boxes or blanks).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

from zi2zi.errors import FontError
from zi2zi.fonts.geometry import EmBox

_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


@dataclass(frozen=True)
class FontFile:
    """One face of a font file, with the metrics and coverage the renderer and datasets use."""

    path: Path
    face_index: int
    family: str
    style: str
    units_per_em: int
    ascender: int
    descender: int
    coverage: frozenset[int] = field(repr=False)
    advances: dict[int, int] = field(repr=False)  # code point -> advance width in font units

    @property
    def name(self) -> str:
        return f"{self.family} {self.style}".strip()

    def embox(self, size: int, margin: float = 0.0) -> EmBox:
        return EmBox(self.units_per_em, self.ascender, self.descender, size, margin)

    def covers(self, char: str) -> bool:
        return ord(char) in self.coverage

    def advance(self, char: str) -> int:
        return self.advances.get(ord(char), self.units_per_em)

    @cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        with open(self.path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def record(self) -> dict:
        """What a manifest stores to identify this face and reproduce its rendering."""
        return {
            "path": str(self.path),
            "face": self.face_index,
            "family": self.family,
            "style": self.style,
            "sha256": self.sha256,
            "units_per_em": self.units_per_em,
            "ascender": self.ascender,
            "descender": self.descender,
        }


def _read_faces(path: Path) -> list[TTFont]:
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise FontError(f"font file {path} cannot be read ({exc.strerror}); check its permissions") from None
    if magic in (b"wOFF", b"wOF2"):
        # FreeType, which renders every glyph, is not built with WOFF2 support everywhere.
        raise FontError(
            f"{path} is a web font ({'WOFF2' if magic == b'wOF2' else 'WOFF'}); zi2zi reads glyphs from "
            "TrueType/OpenType files: convert it first (e.g. fontTools: `fonttools ttLib.woff2 decompress`)"
        )
    try:
        if magic == b"ttcf":
            return list(TTCollection(str(path), lazy=True).fonts)
        return [TTFont(str(path), lazy=True)]
    except Exception as exc:  # fontTools raises many types (TTLibError, struct.error, ...) for bad files
        raise FontError(
            f"{path} is not a readable font ({exc.__class__.__name__}: {exc}); "
            f"give a TrueType/OpenType font or collection ({', '.join(_FONT_SUFFIXES)})"
        ) from None


def _name(tt: TTFont, name_id: int) -> str:
    try:
        name = tt["name"].getBestFamilyName() if name_id == 1 else tt["name"].getDebugName(name_id)
    except Exception:  # a missing or damaged name table: the face is still usable, just unnamed
        return ""
    return name or ""


def face_names(path: str | Path) -> list[str]:
    """Family + style name of every face in a file, in index order."""
    return [f"{family} {style}".strip() for family, style in face_family_styles(path)]


def face_family_styles(path: str | Path) -> list[tuple[str, str]]:
    """(family, style) of every face in a file, in index order; reads the name tables only."""
    path = _check_path(path)
    return [(_name(tt, 1), _name(tt, 2)) for tt in _read_faces(path)]


def _check_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FontError(f"font file {path} does not exist; check the path")
    if path.is_dir():
        raise FontError(f"{path} is a folder; give a font file ({', '.join(_FONT_SUFFIXES)})")
    from zi2zi.storage.reading import check_regular

    # A pipe would block the reader until someone writes into it; a device never ends.
    return check_regular(path, what="font", error=FontError)


def open_font(path: str | Path, face: int | str = 0) -> FontFile:
    """Open one face of a font file by index or by (family / full) name.

    Raises :class:`FontError` for a missing path, a file that is not a font, or a face that the
    file does not have (the message lists the faces it does have).
    """
    path = _check_path(path)
    faces = _read_faces(path)
    names = [f"{_name(tt, 1)} {_name(tt, 2)}".strip() for tt in faces]
    if isinstance(face, str) and _is_index(face):
        face = int(face)
    if isinstance(face, int):
        if not 0 <= face < len(faces):
            listing = "; ".join(f"{i}: {n}" for i, n in enumerate(names))
            raise FontError(
                f"{path} has no face {face}; it has {len(faces)} face(s): {listing}"
            )
        index = face
    else:
        wanted = face.casefold()
        matches = [
            i
            for i, tt in enumerate(faces)
            if wanted in (names[i].casefold(), _name(tt, 1).casefold(), _name(tt, 4).casefold())
        ]
        if not matches:
            raise FontError(f"{path} has no face named {face!r}; it has: {', '.join(names)}")
        index = matches[0]
    tt = faces[index]
    try:
        cmap = tt.getBestCmap() or {}
        hmtx = tt["hmtx"].metrics
        hhea = tt["hhea"]
        upm = int(tt["head"].unitsPerEm)
    except KeyError as exc:
        raise FontError(f"{path} (face {index}) lacks a table zi2zi needs: {exc}") from None
    except Exception as exc:  # a truncated or damaged table only fails when it is read (lazy)
        raise FontError(
            f"{path} (face {index}) is damaged ({type(exc).__name__}: {exc}); use an intact copy of the font"
        ) from None
    advances = {cp: int(hmtx[glyph][0]) for cp, glyph in cmap.items() if glyph in hmtx}
    ascender, descender = int(hhea.ascent), int(hhea.descent)
    if ascender <= descender:  # broken hhea: fall back to the ideographic em box
        ascender, descender = round(upm * 0.88), -round(upm * 0.12)
    return FontFile(
        path=path.resolve(),
        face_index=index,
        family=_name(tt, 1),
        style=_name(tt, 2),
        units_per_em=upm,
        ascender=ascender,
        descender=descender,
        coverage=frozenset(cmap),
        advances=advances,
    )


def _is_index(text: str) -> bool:
    """Digits int() reads (``isdecimal``; ``isdigit`` also accepts "①" and "²", which int() refuses)."""
    return text.strip().removeprefix("-").isdecimal()


def parse_font_spec(spec: str) -> tuple[str, int | str]:
    """``path.ttc#2`` or ``path.ttc#Face Name`` selects a face; a bare path means face 0. A path
    that itself holds ``#`` (``Font #2.ttf``) is taken whole when such a file exists; otherwise the
    face follows the last ``#``."""
    from zi2zi.storage.reading import names_a_file

    if names_a_file(spec):
        return spec, 0
    path, sep, face = spec.rpartition("#")
    if not sep:
        return spec, 0
    return path, int(face) if _is_index(face) else face


def open_font_spec(spec: str) -> FontFile:
    """A face from a command-line spec (see :func:`parse_font_spec`)."""
    path, face = parse_font_spec(spec)
    return open_font(path, face)
