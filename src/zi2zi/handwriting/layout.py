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
    """Read ``template.json`` (or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / TEMPLATE_JSON
    if not path.is_file():
        raise TemplateError(f"template {path} does not exist; give the template.json `zi2zi template` wrote")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemplateError(f"{path} is not readable JSON ({exc}); write the template again") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TemplateError(f"{path} is not a zi2zi template.json; give the one `zi2zi template` wrote")
    if data.get("version", 0) > FORMAT_VERSION:
        raise TemplateError(f"{path} has template version {data['version']}; upgrade zi2zi to read it")
    try:
        settings = TemplateSettings(**data["settings"])
        pages = [
            Page(
                int(page["index"]),
                [Marker(int(mk["id"]), mk["role"], Box(**mk["box"])) for mk in page["markers"]],
                [Cell(cell["char"], Box(**cell["box"]), Box(**cell["label"]), int(cell.get("sample", 0)))
                 for cell in page["cells"]],
            )
            for page in data["pages"]
        ]
        return Template(str(data["id"]), settings, tuple(data["page_mm"]), pages, data.get("reference_font", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"{path} is incomplete ({exc.__class__.__name__}: {exc}); write the template again") from None
