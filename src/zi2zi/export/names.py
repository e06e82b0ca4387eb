"""What a font calls itself: family and style, PostScript name, version, copyright and licence.

A family named in CJK (e.g. "霞鹜文楷 Plus") gets its name in a localised record of its language
as well as the default English one, an ASCII PostScript name, and ASCII CFF names; the unique ID
carries the export time, so two exports never claim to be the same font.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from dataclasses import dataclass

from zi2zi import __version__
from zi2zi.errors import ExportError

_WEIGHTS = {
    "thin": 100, "hairline": 100,
    "extralight": 200, "ultralight": 200,
    "light": 300,
    "regular": 400, "normal": 400, "book": 400, "roman": 400, "": 400,
    "medium": 500,
    "semibold": 600, "demibold": 600,
    "bold": 700,
    "extrabold": 800, "ultrabold": 800,
    "black": 900, "heavy": 900,
}
WEIGHT_NAMES = {100: "Thin", 200: "ExtraLight", 300: "Light", 400: "Regular", 500: "Medium",
                600: "SemiBold", 700: "Bold", 800: "ExtraBold", 900: "Black"}
VENDOR_ID = "NONE"  # OS/2 achVendID: no registered vendor


def check_visible(text: str, option: str, *, allowed: str = " ") -> str:
    """Refuse control characters (and bytes that were not UTF-8) in text that becomes a name
    record: apps show them as boxes, or stop reading the name there."""
    bad = next((c for c in text if c not in allowed and c != " "
                and (unicodedata.category(c) in ("Cc", "Cs") or c in "\u2028\u2029")), None)
    if bad is not None:
        raise ExportError(f"{option} holds the control character U+{ord(bad):04X}; give printable text")
    return text


def without_controls(text: str) -> str:
    """``text`` with control characters dropped (names read from a font someone else made)."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cs"))


@dataclass(frozen=True)
class FontInfo:
    """Version and legal records of a new font (name IDs 0, 5, 13, 14); all optional."""

    version: str = "1.000"
    copyright: str | None = None
    license: str | None = None
    license_url: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{1,5}\.\d{1,3}", self.version, flags=re.ASCII):
            raise ExportError(f"font version {self.version!r} is not of the form MAJOR.MINOR (e.g. 1.000); fix --version")
        if int(self.version.split(".")[0]) > 32767:  # head.fontRevision is a signed 16.16 number
            raise ExportError(f"font version {self.version!r}: the major number is at most 32767; fix --version")
        # A licence text may run over lines; nothing else invisible belongs in a name record.
        for option, text in (("--copyright", self.copyright), ("--license", self.license),
                             ("--license-url", self.license_url)):
            check_visible(text or "", option, allowed="\n\r\t" if option != "--license-url" else "")


@dataclass(frozen=True)
class FontNames:
    """Everything the name, OS/2 and head tables need to know about a family and style."""

    family: str
    style: str
    weight: int
    italic: bool

    @classmethod
    def parse(cls, family: str, style: str = "Regular") -> FontNames:
        check_visible(family, "--family")
        family = " ".join(family.split())
        if not family:
            raise ExportError("the family name is empty; pass --family NAME")
        key = re.sub(r"[\s_-]+", "", style).casefold()
        italic = key.endswith(("italic", "oblique"))
        if italic:
            key = key.removesuffix("italic").removesuffix("oblique")
        if key not in _WEIGHTS:
            known = ", ".join(sorted({n for n in WEIGHT_NAMES.values()}))
            raise ExportError(f"style {style!r} is unknown; use one of {known}, optionally + ' Italic'")
        weight = _WEIGHTS[key]
        words = [] if weight == 400 and italic else [WEIGHT_NAMES[weight]]
        return cls(family, " ".join(words + (["Italic"] if italic else [])), weight, italic)

    @property
    def ribbi(self) -> bool:
        """Regular / Italic / Bold / Bold Italic: the four styles a legacy family name can hold."""
        return self.weight in (400, 700)

    @property
    def full_name(self) -> str:
        return self.family if self.style == "Regular" else f"{self.family} {self.style}"

    @property
    def ascii_family(self) -> str:
        """The family for places that take ASCII only (CFF names): non-ASCII characters dropped,
        with a short hash of the real name so "测试 Kai" and "Kai" stay apart."""
        kept = " ".join(re.sub(r"[^ -~]", "", self.family).split())
        if kept != self.family:
            kept = f"{kept or 'zi2zi'} {hashlib.sha1(self.family.encode('utf-8')).hexdigest()[:6]}"
        return kept

    @property
    def ascii_full_name(self) -> str:
        style = " ".join(re.sub(r"[^ -~]", "", self.style).split())
        return self.ascii_family if style in ("Regular", "") else f"{self.ascii_family} {style}"

    @property
    def postscript_name(self) -> str:
        """ASCII without spaces or PostScript delimiters, at most 63 characters."""
        family = re.sub(r"[\[\](){}<>/% ]", "", self.ascii_family)
        style = re.sub(r"[^!-~]|[\[\](){}<>/%]", "", self.style) or "Regular"
        return f"{family[: 62 - len(style)]}-{style}"

    @property
    def language(self) -> str | None:
        """BCP 47 tag of a non-Latin family name's language, guessed from its script; None for
        an ASCII name. Kana means Japanese, hangul Korean, other CJK Chinese ("zh": the PRC,
        Windows language 0x0804)."""
        if self.family.isascii():
            return None
        scripts = {unicodedata.name(c, "").split(" ")[0] for c in self.family if not c.isascii()}
        if scripts & {"HIRAGANA", "KATAKANA"}:
            return "ja"
        if "HANGUL" in scripts:
            return "ko"
        return "zh"

    def name_records(self, info: FontInfo = FontInfo()) -> dict[str, str | dict[str, str]]:
        """Records for fontTools' FontBuilder.setupNameTable; localised ones as {lang: text}."""
        family = self.family if self.ribbi else f"{self.family} {WEIGHT_NAMES[self.weight]}"
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        records: dict[str, str | dict[str, str]] = {
            "familyName": family,
            "styleName": self.style if self.ribbi else ("Italic" if self.italic else "Regular"),
            "uniqueFontIdentifier": f"{info.version};{VENDOR_ID};{self.postscript_name};{stamp}",
            "fullName": self.full_name,
            "version": f"Version {info.version}",
            "psName": self.postscript_name,
            "description": f"Glyphs traced from bitmaps by zi2zi {__version__}",
        }
        if not self.ribbi:
            records["typographicFamily"] = self.family
            records["typographicSubfamily"] = self.style
        if info.copyright:
            records["copyright"] = info.copyright
        if info.license:
            records["licenseDescription"] = info.license
        if info.license_url:
            records["licenseInfoURL"] = info.license_url
        language = self.language
        if language:
            # The name in its own language, beside the default (English) record that apps fall
            # back to; the style name stays English, as in Source Han and Noto CJK.
            for key in ("familyName", "fullName", "typographicFamily"):
                value = records.get(key)
                if isinstance(value, str):
                    records[key] = {"en": value, language: value}
        return records
