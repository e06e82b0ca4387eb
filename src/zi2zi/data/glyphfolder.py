"""The glyph folder: glyph images (``U+XXXX.png``) and the em box they were drawn in, the format
``zi2zi generate`` and ``zi2zi scan`` write and ``zi2zi export`` and fine-tuning read.

::

    manifest.json      format "zi2zi-glyphs", version, complete, render settings, em box,
                       advance, characters, and what the writer adds (model and style, or scan)
    U+6C38.png         one 8-bit grey image per character, all of one size
    variants/          more glyphs of characters the folder has (a hand's other samples of
                       them): U+6C38.1.png, U+6C38.2.png, ..., of the same size; the manifest's
                       "variants" counts them. Older readers skip the folder: they lose the
                       variants but misread nothing, so the format's version stays 1
    review/, ...       other sub-folders (a scan's contact sheet) are not glyphs

The format (:data:`KIND`), the reader (:func:`read_glyph_folder`) and the writer
(:func:`write_glyph`, :func:`write_manifest`) live here and nowhere else. The reader checks
everything before any work starts, so a bad file fails an export in a second instead of after
minutes of tracing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zi2zi import __version__
from zi2zi.config import RenderSettings
from zi2zi.data.layout import MANIFEST, glyph_filename
from zi2zi.errors import ExportError
from zi2zi.fonts.geometry import MAX_FONT_UNITS, EmBox
from zi2zi.images import MAX_GLYPH_PIXELS, open_image, read_grey, save_png
from zi2zi.storage.atomic import write_json
from zi2zi.storage.folders import FolderKind
from zi2zi.storage.reading import read_json_object

FORMAT = "zi2zi-glyphs"
FORMAT_VERSION = 1
KIND = FolderKind(noun="glyph folder", marker=MANIFEST, format=FORMAT, version=FORMAT_VERSION)

_NAME = re.compile(r"^U\+([0-9A-F]{4,6})\.png$")
VARIANTS_DIR = "variants"
_VARIANT = re.compile(r"^(U\+[0-9A-F]{4,6})\.([1-9][0-9]{0,2})\.png$")


@dataclass(frozen=True)
class GlyphFolder:
    """Validated glyph images and where their pixels sit in font units."""

    root: Path
    files: dict[int, Path]  # code point -> image file, ascending code points
    size: int  # side of every image in pixels
    embox: EmBox
    advance: int  # advance width in font units given to every exported glyph
    render: RenderSettings  # how the images were rendered (size, mode, margin)
    warnings: list[str] = field(default_factory=list)
    variants: dict[int, list[Path]] = field(default_factory=dict)  # code point -> its other glyphs, in order
    # Why a folder `zi2zi generate` did not finish (its manifest says "complete": false), else "".
    unfinished: str = ""

    @property
    def codepoints(self) -> list[int]:
        return list(self.files)

    def load(self, codepoint: int) -> np.ndarray:
        """The (S, S) uint8 grey image of one code point."""
        return load_image(self.files[codepoint])


def load_image(path: Path) -> np.ndarray:
    """(S, S) uint8 grey (see :func:`zi2zi.images.read_grey`; a damaged file is named in the error)."""
    return read_grey(path)


# ---- writing ---------------------------------------------------------------------------------


def write_glyph(folder: Path, char: str, image: np.ndarray) -> Path:
    """One glyph image, written atomically (a kill leaves the old file or none)."""
    return save_png(Path(folder) / glyph_filename(char), image)


def variant_filename(char: str, n: int) -> str:
    """``U+6C38.2.png``: the ``n``-th other glyph of ``char`` (from 1), in ``variants/``."""
    return glyph_filename(char).replace(".png", f".{n}.png")


def write_variant(folder: Path, char: str, n: int, image: np.ndarray) -> Path:
    """The ``n``-th variant glyph of ``char`` (from 1), written atomically into ``folder/variants``."""
    (Path(folder) / VARIANTS_DIR).mkdir(exist_ok=True)
    return save_png(Path(folder) / VARIANTS_DIR / variant_filename(char, n), image)


def write_manifest(
    folder: Path, *, render: RenderSettings, embox: EmBox, characters: Iterable[str], complete: bool, **fields: Any
) -> Path:
    """The manifest that makes ``folder`` a glyph folder. ``characters``: the glyphs in it;
    ``complete``: False while it is still being written; ``fields``: what the writer records
    beside the format (the model and style, or the scan's photos)."""
    return write_json(Path(folder) / MANIFEST, {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "zi2zi_version": __version__,
        "complete": complete,
        **fields,
        "render": asdict(render),
        "embox": embox.to_dict(),
        "advance": embox.units_per_em,
        "characters": "".join(sorted(set(characters), key=ord)),
    })


# ---- reading ---------------------------------------------------------------------------------


def read_glyph_folder(root: str | Path, *, em_box: tuple[int, int, int] | None = None) -> GlyphFolder:
    """List, name-check and size-check a glyph folder and find the em box its images were drawn in.

    The em box comes from the folder's manifest (as `zi2zi generate` writes it), else from the
    manifest of the dataset the folder belongs to (its ``source`` or ``styles/N`` folder), else
    from `em_box` = (units per em, ascender, descender). It is never guessed: a glyph placed in
    the wrong box comes out the wrong size and height, and a round-trip check cannot see it.
    `em_box` also overrides a manifest (with a warning when they differ).
    """
    root = Path(root)
    if not root.is_dir():
        raise ExportError(f"glyph folder {root} does not exist; give the folder of U+XXXX.png images")
    files = _list_glyph_files(root)
    size = _common_size(root, files)
    warnings: list[str] = []
    own = _read_manifest(root)
    # With --em-box given, a manifest of 'fit' glyphs is no reason to refuse: the box is the user's.
    placed = em_box is not None
    found = ((_box_from(root / MANIFEST, own, size, placed=placed) if own is not None else None)
             or _read_dataset_manifest(root, size, placed=placed))
    if em_box is not None:
        embox, advance, render = _explicit_box(em_box, size, found[2].margin if found else 0.0)
        if found and (found[0].units_per_em, found[0].ascender, found[0].descender) != tuple(em_box):
            warnings.append(
                f"the em box given ({', '.join(map(str, em_box))}) replaces the manifest's "
                f"({found[0].units_per_em}, {found[0].ascender}, {found[0].descender})"
            )
    elif found is None:
        raise ExportError(
            f"{root} has no {MANIFEST} saying which em box its glyphs were drawn in, and is not a "
            f"folder of a zi2zi dataset; pass --em-box UNITS_PER_EM,ASCENDER,DESCENDER (the font "
            f"they were rendered from, e.g. 1000,880,-120) or export the folder `zi2zi generate` wrote"
        )
    else:
        embox, advance, render = found
    variants = _list_variants(root, files, size, warnings)
    unfinished = _unfinished(root / MANIFEST, own, files, warnings) if own is not None else ""
    return GlyphFolder(root, files, size, embox, advance, render, warnings, variants=variants, unfinished=unfinished)


def check_finished(folder: GlyphFolder, *, allow_incomplete: bool) -> None:
    """Refuse (or, allowed, warn about) a glyph folder whose generation did not finish."""
    if not folder.unfinished:
        return
    if allow_incomplete:
        folder.warnings.append(f"{folder.root} is unfinished ({folder.unfinished}); exporting the "
                               f"{len(folder.files)} glyph(s) it has")
        return
    raise ExportError(
        f"--glyphs {folder.root} is unfinished (its {MANIFEST} says \"complete\": false): {folder.unfinished}; "
        f"finish it with `zi2zi generate --resume` (the same --checkpoint, --style, characters and "
        f"--out {folder.root}), or pass --allow-incomplete to export the {len(folder.files)} glyph(s) it has"
    )


def _unfinished(path: Path, manifest: dict[str, Any], files: dict[int, Path], warnings: list[str]) -> str:
    """What an unfinished generated folder lacks; a scan that could not read some pages is
    complete as far as it goes (the user chose --skip-unreadable), and only warned about."""
    if manifest.get("complete") is not False:
        return ""
    if manifest.get("source") == "scan":
        pages = manifest.get("pages_not_read")
        warnings.append(f"{path}: the scan could not read every page"
                        + (f" (pages {', '.join(str(p) for p in pages)})" if isinstance(pages, list) and pages else "")
                        + "; their characters are missing")
        return ""
    requested = manifest.get("requested")
    skipped = manifest.get("missing_in_source")
    if not isinstance(requested, str) or not requested:
        return "its generation stopped before the end"
    lacking = set(skipped) if isinstance(skipped, str) else set()
    missing = [c for c in dict.fromkeys(requested) if ord(c) not in files and c not in lacking]
    if not missing:
        return "its generation stopped before writing that it had finished"
    shown = "".join(missing[:20]) + (" ..." if len(missing) > 20 else "")
    return f"{len(missing)} of the {len(dict.fromkeys(requested))} characters asked for are missing ({shown})"


def _list_variants(root: Path, files: dict[int, Path], size: int, warnings: list[str]) -> dict[int, list[Path]]:
    """``variants/``: checked like the glyphs (names, PNG, size); variants of characters the folder
    lacks are left out with a warning."""
    folder = root / VARIANTS_DIR
    if not folder.is_dir():
        return {}
    found: dict[int, dict[int, Path]] = {}
    bad, orphans = [], set()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        match = _VARIANT.match(entry.name)
        codepoint = _codepoint(match.group(1) + ".png") if match and entry.is_file() else None
        if match is None or codepoint is None:
            bad.append(entry.name)
            continue
        if codepoint not in files:
            orphans.add(codepoint)
            continue
        found.setdefault(codepoint, {})[int(match.group(2))] = entry
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ExportError(f"{folder} holds {len(bad)} file(s) that are not variant glyphs: {shown}; it may hold only "
                          "U+XXXX.N.png images (e.g. U+4E00.1.png): move the others out")
    if orphans:
        warnings.append(f"{folder} has variants of {len(orphans)} character(s) the folder has no glyph of "
                        f"({''.join(chr(c) for c in sorted(orphans)[:10])}); they are left out")
    variants = {cp: [paths[n] for n in sorted(paths)] for cp, paths in sorted(found.items())}
    if variants:
        _common_size(folder, {i: p for i, p in enumerate(p for ps in variants.values() for p in ps)}, expect=size)
    return variants


def _explicit_box(em_box: tuple[int, int, int], size: int, margin: float) -> tuple[EmBox, int, RenderSettings]:
    try:
        upm, ascender, descender = (int(v) for v in em_box)
    except (TypeError, ValueError):
        raise ExportError(f"em box {em_box!r} is not three integers; give UNITS_PER_EM,ASCENDER,DESCENDER") from None
    if not (16 <= upm <= 16384) or ascender <= descender:
        raise ExportError(
            f"em box {upm},{ascender},{descender} cannot be used; give UNITS_PER_EM (16-16384),ASCENDER,DESCENDER "
            f"with ascender above descender, e.g. 1000,880,-120"
        )
    box = EmBox(units_per_em=upm, ascender=ascender, descender=descender, size=size, margin=margin)
    return box, upm, RenderSettings(size=size, mode="em", margin=margin)


def _read_dataset_manifest(root: Path, size: int, *, placed: bool = False) -> tuple[EmBox, int, RenderSettings] | None:
    """The em box of a dataset's ``source`` or ``styles/N`` folder, from the dataset's manifest."""
    from zi2zi.data.layout import KIND as DATASET_KIND

    for parent in (root.parent, root.parent.parent):
        path = parent / MANIFEST
        # Only a zi2zi dataset's manifest: a manifest.json of another tool above the glyphs is not ours to judge.
        manifest = DATASET_KIND.read_marker(parent)
        if manifest is None:
            continue
        try:
            entries = [manifest.get("source", {})] + list(manifest.get("styles", []))
            entry = next((e for e in entries if e.get("dir") and (parent / e["dir"]).resolve() == root.resolve()), None)
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise ExportError(f"{path} is not a readable zi2zi manifest ({exc}); fix or delete it") from None
        if entry is None:
            continue
        return _box_from(path, {"render": manifest.get("render", {}), "embox": entry.get("embox")}, size,
                         placed=placed)
    return None


def _list_glyph_files(root: Path) -> dict[int, Path]:
    files: dict[int, Path] = {}
    bad: list[str] = []
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name == MANIFEST or name.startswith(".") or entry.is_dir():
            continue  # the manifest, hidden system files and sub-folders are not glyphs
        codepoint = _codepoint(name)
        if codepoint is None:
            bad.append(name)
            continue
        files[codepoint] = entry
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ExportError(
            f"glyph folder {root} holds {len(bad)} file(s) that are not glyph images: {shown}; "
            f"it may hold only U+XXXX.png images (uppercase hex, 4-6 digits, e.g. U+4E00.png) "
            f"and {MANIFEST}: move the others out"
        )
    if not files:
        raise ExportError(
            f"glyph folder {root} holds no U+XXXX.png images; "
            f"point --glyphs at the folder `zi2zi generate` wrote"
        )
    return dict(sorted(files.items()))


def _codepoint(name: str) -> int | None:
    """The code point a glyph file name ``U+XXXX.png`` stands for; None for any other name."""
    match = _NAME.match(name)
    codepoint = int(match.group(1), 16) if match else -1
    if (
        match is None
        or codepoint > 0x10FFFF  # checked before chr(), which refuses such numbers
        or 0xD800 <= codepoint <= 0xDFFF
        or name != glyph_filename(chr(codepoint))  # one spelling per code point: no U+04E00
    ):
        return None
    return codepoint


def _common_size(root: Path, files: dict[int, Path], expect: int | None = None) -> int:
    sizes: dict[tuple[int, int], list[str]] = {}
    for path in files.values():
        with open_image(path, max_pixels=MAX_GLYPH_PIXELS, what="glyph image",
                        advice="re-create or remove it") as image:  # reads the header only
            if image.format != "PNG":
                raise ExportError(f"{path} is a {image.format} image named .png; save it as PNG")
            sizes.setdefault(image.size, []).append(path.name)
    if len(sizes) > 1:
        common = max(sizes, key=lambda s: len(sizes[s]))
        odd = [f"{name} ({w}x{h})" for (w, h), names in sizes.items() if (w, h) != common for name in names]
        shown = ", ".join(odd[:5]) + (f" and {len(odd) - 5} more" if len(odd) > 5 else "")
        raise ExportError(
            f"glyph images in {root} differ in size: most are {common[0]}x{common[1]} but {shown}; "
            f"re-render them all at one size"
        )
    (width, height), names = next(iter(sizes.items()))
    if expect is not None and (width, height) != (expect, expect):
        raise ExportError(f"glyph images in {root} are {width}x{height} (e.g. {names[0]}), the folder's glyphs "
                          f"{expect}x{expect}; re-scan or re-render them at one size")
    if width != height:
        raise ExportError(
            f"glyph images in {root} are {width}x{height}, not square (e.g. {names[0]}); "
            f"zi2zi glyphs are S x S images in the em box: re-render them"
        )
    if width < 8:
        raise ExportError(f"glyph images in {root} are only {width} px; render them at 64 px or more")
    return width


def _read_manifest(root: Path) -> dict[str, Any] | None:
    path = root / MANIFEST
    if not path.exists():
        return None
    return read_json_object(path, what="glyph manifest", error=ExportError)


def _box_from(path: Path, manifest: dict, size: int, *, placed: bool = False) -> tuple[EmBox, int, RenderSettings] | None:
    """The em box, advance and render settings of a manifest; None when it names no em box.
    ``placed``: the caller places the glyphs itself (--em-box), so 'fit' glyphs are not refused."""
    try:
        render_info = manifest.get("render", {}) or {}
        render = RenderSettings(
            size=int(render_info.get("size", size)),
            mode=render_info.get("mode", "em"),
            margin=float(render_info.get("margin", 0.0)),
        )
    except (ValueError, AttributeError, TypeError, OverflowError) as exc:
        raise ExportError(f"{path} is not a readable zi2zi manifest ({exc}); fix or delete it") from None
    if render.size != size:
        raise ExportError(
            f"{path} says the glyphs were rendered at {render.size} px but the images are {size} px; "
            f"the images do not belong to this manifest: regenerate them or fix the manifest"
        )
    if render.mode == "fit":
        if placed:
            return None
        raise ExportError(
            f"{path}: the glyphs were rendered in 'fit' mode, each scaled to its own box, so no em box "
            f"places them; re-render in 'em' mode, or pass --em-box to place them anyway"
        )
    if not manifest.get("embox"):
        return None
    try:
        box = EmBox.from_dict(manifest["embox"])
        advance = int(round(float(manifest.get("advance", box.units_per_em))))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ExportError(f"{path}: its 'embox' entry is incomplete or out of range ({exc}); "
                          "regenerate the glyphs") from None
    if box.size != size:
        raise ExportError(
            f"{path}: its em box is for {box.size} px images but the images are {size} px; "
            f"regenerate the glyphs or fix the manifest"
        )
    if not 1 <= advance <= MAX_FONT_UNITS:
        raise ExportError(f"{path}: em box {box} / advance {advance} cannot be used; regenerate the glyphs")
    return box, advance, render
