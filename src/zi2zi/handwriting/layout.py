"""Where everything sits on a template page, in millimetres, and ``template.json``.

The layout is the contract between the printed sheet, the scanner and the tests: the drawing code
renders it, the scanner reads cells from it, the synthetic photographer fills it. Everything is in
millimetres from the page's top-left corner (y down); pixel boxes at the template's DPI are written
into ``template.json`` beside them for readers that prefer pixels.

The writing square of a cell is one em: the glyph image cut from it is the em box of
``EmBox.cjk_default`` (1000 units, ascender 880, descender -120), so a character written low in
its square sits low in the font.

A character may have more than one square (``Cell.sample`` 1, 2, ...: the variants that
``zi2zi.handwriting.variants`` asks for); they follow the characters, in rounds, so the hand
writes them at other moments than the first sample. A template with such squares is written as
version 2, which older readers refuse instead of taking the samples for retakes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from zi2zi.errors import Zi2ziError
from zi2zi.fonts.geometry import EmBox
from zi2zi.handwriting.variants import SAMPLES
from zi2zi.storage import FolderKind, write_json

FORMAT = "zi2zi-template"
FORMAT_VERSION = 2  # the newest version read; a template without variant squares is written as 1
TEMPLATE_JSON = "template.json"
KIND = FolderKind(noun="template folder", marker=TEMPLATE_JSON, format=FORMAT, version=FORMAT_VERSION)

Paper = Literal["a4", "letter"]
Guide = Literal["none", "light"]
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")


class TemplateError(Zi2ziError):
    """A template request or template.json that cannot be used."""


@dataclass(frozen=True)
class TemplateSettings:
    """How a template is laid out. Defaults suit A4 / Letter and a ballpoint or felt pen."""

    paper: Paper = "a4"
    cell_mm: float = 15.0  # side of the writing square (one em)
    guide: Guide = "light"  # "light": a faint centre cross inside each square that drops out
    dpi: int = 300  # PNG and PDF raster resolution; 300 prints sharply on any printer
    margin_mm: float = 8.0  # blank border: most printers cannot print the outer ~5 mm
    marker_mm: float = 14.0  # corner marker side (6 x 6 modules of a 4x4 ArUco marker)
    label_mm: float = 4.5  # strip above each square holding the printed reference character
    gap_x_mm: float = 3.0  # between squares in a row
    gap_y_mm: float = 2.0  # below each square

    def check(self) -> None:
        if self.paper not in PAPER_MM:
            raise TemplateError(f"unknown paper {self.paper!r}; use one of {', '.join(PAPER_MM)}")
        if self.guide not in ("none", "light"):
            raise TemplateError(f"unknown guide {self.guide!r}; use none or light")
        if not 8.0 <= self.cell_mm <= 60.0:
            raise TemplateError(f"--cell-mm {self.cell_mm} is out of range; use 8 to 60 mm")
        if not 72 <= self.dpi <= 1200:
            raise TemplateError(f"--dpi {self.dpi} is out of range; use 72 to 1200")


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in millimetres (x, y of the top-left corner, y down)."""

    x: float
    y: float
    w: float
    h: float

    def px(self, dpi: float) -> list[float]:
        s = dpi / 25.4
        return [round(self.x * s, 2), round(self.y * s, 2), round(self.w * s, 2), round(self.h * s, 2)]

    def corners(self) -> list[tuple[float, float]]:
        """Top-left, top-right, bottom-right, bottom-left: the order ArUco reports marker corners."""
        return [(self.x, self.y), (self.x + self.w, self.y), (self.x + self.w, self.y + self.h), (self.x, self.y + self.h)]


@dataclass(frozen=True)
class Cell:
    char: str
    box: Box  # the writing square (one em)
    label: Box  # where the reference character is printed
    sample: int = 0  # 0: the character's square; 1, 2, ...: its extra samples (variants)


@dataclass(frozen=True)
class Marker:
    id: int  # ArUco id in DICT_4X4_1000
    role: str  # a corner name, or "template" for the template fingerprint
    box: Box


@dataclass(frozen=True)
class Page:
    index: int
    markers: list[Marker]
    cells: list[Cell]


@dataclass(frozen=True)
class Template:
    """A planned template: pages of cells, and what a scanner needs to read them back."""

    id: str  # short hash of the characters and the layout: tells templates apart
    settings: TemplateSettings
    page_mm: tuple[float, float]
    pages: list[Page]
    reference_font: dict[str, Any] = field(default_factory=dict)

    @property
    def chars(self) -> list[str]:
        """The characters, each once (the squares of their first sample)."""
        return [cell.char for page in self.pages for cell in page.cells if cell.sample == 0]

    @property
    def variants(self) -> dict[str, int]:
        """Character -> how many extra samples the template asks for."""
        counts: dict[str, int] = {}
        for page in self.pages:
            for cell in page.cells:
                if cell.sample:
                    counts[cell.char] = counts.get(cell.char, 0) + 1
        return counts

    @property
    def fingerprint_marker(self) -> int:
        return fingerprint_marker_id(self.id)

    def embox(self, size: int) -> EmBox:
        """The em box of a glyph image cut from a writing square at ``size`` px."""
        return EmBox.cjk_default(size)

    def to_dict(self) -> dict[str, Any]:
        dpi = self.settings.dpi
        scale = dpi / 25.4
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION if self.variants else 1,
            "id": self.id,
            "settings": asdict(self.settings),
            "page_mm": list(self.page_mm),
            "dpi": dpi,
            "page_px": [round(self.page_mm[0] * scale), round(self.page_mm[1] * scale)],
            "units": "boxes are [x, y, width, height] from the page's top-left corner, y down: "
                     "'box' in mm, 'box_px' in pixels at 'dpi'",
            "em": "each cell's writing square is one em: the glyph's em box "
                  "(units_per_em 1000, ascender 880, descender -120) spans the square exactly",
            "embox": {"units_per_em": 1000, "ascender": 880, "descender": -120, "margin": 0.0},
            "marker_dictionary": "DICT_4X4_1000",
            "reference_font": self.reference_font,
            "characters": "".join(self.chars),
            **({"variants": self.variants} if self.variants else {}),
            "pages": [
                {
                    "index": page.index,
                    "markers": [
                        {"id": m.id, "role": m.role, "box": asdict(m.box), "box_px": m.box.px(dpi)}
                        for m in page.markers
                    ],
                    "cells": [
                        {
                            "char": c.char,
                            "codepoint": f"U+{ord(c.char):04X}",
                            "box": asdict(c.box),
                            "box_px": c.box.px(dpi),
                            "label": asdict(c.label),
                            **({"sample": c.sample} if c.sample else {}),
                        }
                        for c in page.cells
                    ],
                }
                for page in self.pages
            ],
        }

    def save(self, path: str | Path) -> Path:
        return write_json(path, self.to_dict())


def corner_marker_id(page: int, corner: int) -> int:
    """Corner markers carry the page: id = 4 * page + corner, so every marker alone says which
    page and which corner it is (orientation follows, upside-down photos included)."""
    return 4 * page + corner


MAX_PAGES = 200  # ids 0..799 are corner markers; 800..999 fingerprints


def fingerprint_marker_id(template_id: str) -> int:
    return 800 + int(template_id, 16) % 200


def plan_template(chars: list[str], settings: TemplateSettings | None = None,
                  reference_font: dict[str, Any] | None = None, *, extras: Sequence[str] = (),
                  variants: Sequence[str] = (), samples: int = SAMPLES) -> Template:
    """Lay ``chars`` out on as many pages as they need, in order; then ``samples - 1`` more squares
    for each of ``variants`` (characters of ``chars``), round by round; ``extras`` (punctuation,
    digits, Latin: ``zi2zi.fonts.punctuation.template_extras``) follow on pages of their own."""
    settings = settings or TemplateSettings()
    settings.check()
    if not chars and not extras:
        raise TemplateError("the charset is empty; give at least one character")
    chars = list(dict.fromkeys(chars))
    extras = [c for c in dict.fromkeys(extras) if c not in set(chars)]
    variants = [c for c in dict.fromkeys(variants) if c in set(chars)]
    if variants and not 2 <= samples <= 9:
        raise TemplateError(f"{samples} samples of a character cannot be asked for; use 2 to 9")
    repeats = [(c, k) for k in range(1, samples) for c in variants] if variants else []
    page_w, page_h = PAPER_MM[settings.paper]
    m, mk = settings.margin_mm, settings.marker_mm
    pitch_x = settings.cell_mm + settings.gap_x_mm
    pitch_y = settings.label_mm + settings.cell_mm + settings.gap_y_mm
    top = m + mk + 3.0  # below the top markers and the title between them
    bottom = page_h - m - mk - 3.0
    width = page_w - 2 * m
    cols = int((width + settings.gap_x_mm) // pitch_x)
    rows = int((bottom - top + settings.gap_y_mm) // pitch_y)
    if cols < 1 or rows < 1:
        raise TemplateError(f"--cell-mm {settings.cell_mm} does not fit on {settings.paper} paper; use a smaller cell")
    per_page = cols * rows
    first = [(c, 0) for c in chars] + repeats
    sections = [section for section in (first, [(c, 0) for c in extras]) if section]
    page_chars = [section[i : i + per_page] for section in sections for i in range(0, len(section), per_page)]
    npages = len(page_chars)
    if npages > MAX_PAGES:
        raise TemplateError(f"{len(chars) + len(extras)} characters need {npages} pages, more than {MAX_PAGES}; "
                            "split the charset")
    x0 = m + (width - (cols * pitch_x - settings.gap_x_mm)) / 2.0
    # Extras and variants change the id only when there are some: templates written before them keep theirs.
    digest = hashlib.sha256(
        json.dumps([chars, asdict(settings)] + ([extras] if extras else []) + ([repeats] if repeats else []),
                   ensure_ascii=False).encode("utf-8")
    ).hexdigest()[:8]
    fingerprint = fingerprint_marker_id(digest)
    pages = []
    for p in range(npages):
        markers = [
            Marker(corner_marker_id(p, 0), CORNERS[0], Box(m, m, mk, mk)),
            Marker(corner_marker_id(p, 1), CORNERS[1], Box(page_w - m - mk, m, mk, mk)),
            Marker(corner_marker_id(p, 2), CORNERS[2], Box(page_w - m - mk, page_h - m - mk, mk, mk)),
            Marker(corner_marker_id(p, 3), CORNERS[3], Box(m, page_h - m - mk, mk, mk)),
            Marker(fingerprint, "template", Box((page_w - mk) / 2.0, page_h - m - mk, mk, mk)),
        ]
        cells = []
        for i, (char, sample) in enumerate(page_chars[p]):
            r, c = divmod(i, cols)
            x, y = x0 + c * pitch_x, top + r * pitch_y
            cells.append(Cell(char, Box(x, y + settings.label_mm, settings.cell_mm, settings.cell_mm),
                              Box(x, y, settings.cell_mm, settings.label_mm), sample))
        pages.append(Page(p, markers, cells))
    return Template(digest, settings, (page_w, page_h), pages, reference_font or {})


def load_template(path: str | Path) -> Template:
    """Read ``template.json`` (or the folder holding it). Every value is type- and range-checked
    (a template may come from anyone), so a crafted one is one line, never a traceback or an
    allocation of its choosing."""
    from zi2zi.storage.reading import read_json_object

    path = Path(path)
    if path.is_dir():
        path = path / TEMPLATE_JSON
    if not path.exists():
        raise TemplateError(f"template {path} does not exist; give the template.json `zi2zi template` wrote")
    data = read_json_object(path, what="template", error=TemplateError, max_bytes=MAX_TEMPLATE_BYTES,
                            advice="write the template again with `zi2zi template`")
    if data.get("format") != FORMAT:
        raise TemplateError(f"{path} is not a zi2zi template.json; give the one `zi2zi template` wrote")
    version = data.get("version", 0)
    if not _is_int(version) or version > FORMAT_VERSION:
        raise TemplateError(f"{path} has template version {version!r}; upgrade zi2zi to read it")
    try:
        return _template_from(data)
    except (KeyError, TypeError, ValueError) as exc:
        why = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise TemplateError(f"{path} is incomplete or damaged ({why}); write the template again") from None


# A page holds a few hundred squares at the smallest cell size; a template.json of zi2zi's is well
# under a few MB even at MAX_PAGES pages.
MAX_CELLS_PER_PAGE = 2000
MAX_TEMPLATE_BYTES = 32 << 20
_ROLES = (*CORNERS, "template")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{what} {value!r} is not a number from {low:g} to {high:g}")
    return float(value)


def _box(data: Any, what: str, page: tuple[float, float]) -> Box:
    if not isinstance(data, dict):
        raise TypeError(f"{what} is not a box")
    x = _number(data["x"], f"{what} x", 0.0, page[0])
    y = _number(data["y"], f"{what} y", 0.0, page[1])
    w = _number(data["w"], f"{what} width", 0.0, page[0])
    h = _number(data["h"], f"{what} height", 0.0, page[1])
    return Box(x, y, w, h)


def _list(value: Any, what: str, most: int) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} is not a list")
    if len(value) > most:
        raise ValueError(f"{len(value)} {what}, more than {most}")
    return value


def _template_from(data: dict[str, Any]) -> Template:
    if not isinstance(data["settings"], dict):
        raise TypeError("settings is not a mapping")
    settings = TemplateSettings(**data["settings"])
    numbers = {k: v for k, v in asdict(settings).items() if k not in ("paper", "guide")}
    for name, value in numbers.items():
        _number(value, f"settings.{name}", 0.0, 1200.0)
    if not _is_int(settings.dpi):
        raise TypeError(f"settings.dpi {settings.dpi!r} is not a whole number")
    settings.check()
    size = _list(data["page_mm"], "page sizes", 2)
    if len(size) != 2:
        raise ValueError("page_mm is not [width, height]")
    page_mm = (_number(size[0], "page width", 50.0, 1000.0), _number(size[1], "page height", 50.0, 1000.0))
    template_id = data["id"]
    if not isinstance(template_id, str) or not 1 <= len(template_id) <= 64 or \
            any(c not in "0123456789abcdef" for c in template_id):
        raise ValueError(f"id {str(template_id)[:20]!r} is not a template fingerprint")
    pages = []
    for n, page in enumerate(_list(data["pages"], "pages", MAX_PAGES)):
        if not isinstance(page, dict):
            raise TypeError(f"page {n + 1} is not a mapping")
        if page["index"] != n or not _is_int(page["index"]):
            raise ValueError(f"page {n + 1} has index {page['index']!r}")
        markers = []
        for mk in _list(page["markers"], "markers", len(_ROLES)):
            if not isinstance(mk, dict) or not _is_int(mk["id"]) or not 0 <= mk["id"] < 1000:
                raise ValueError(f"page {n + 1} has a marker without an ArUco id from 0 to 999")
            markers.append(Marker(mk["id"], mk["role"], _box(mk["box"], f"page {n + 1} marker", page_mm)))
        if sorted(str(m.role) for m in markers) != sorted(_ROLES):
            raise ValueError(f"page {n + 1} lacks its markers (it needs {', '.join(_ROLES)})")
        cells = []
        for cell in _list(page["cells"], f"cells on page {n + 1}", MAX_CELLS_PER_PAGE):
            if not isinstance(cell, dict):
                raise TypeError(f"a cell on page {n + 1} is not a mapping")
            char = cell["char"]
            if not isinstance(char, str) or len(char) != 1 or char.isspace() or 0xD800 <= ord(char) <= 0xDFFF:
                raise ValueError(f"a cell on page {n + 1} holds {str(char)[:8]!r}, not one character")
            sample = cell.get("sample", 0)
            if not _is_int(sample) or not 0 <= sample <= 64:
                raise ValueError(f"cell {char} on page {n + 1} has sample {str(sample)[:8]!r}, not a number from 0 to 64")
            cells.append(Cell(char, _box(cell["box"], f"cell {char}", page_mm),
                              _box(cell["label"], f"label of {char}", page_mm), sample))
        pages.append(Page(n, markers, cells))
    if not pages or not any(page.cells for page in pages):
        raise ValueError("it has no cells")
    reference = data.get("reference_font", {})
    if not isinstance(reference, dict):
        raise TypeError("reference_font is not a mapping")
    return Template(template_id, settings, page_mm, pages, reference)
