"""Where things live inside a dataset directory, and how its manifest is read.

A dataset directory describes itself::

    manifest.json            characters, styles, fonts (+ hashes), renderer settings, split
    source/U+6C38.png        the source font's glyph, one PNG per character
    styles/0/U+6C38.png      each target font (a style) in its own folder, named by style id

The manifest is written last, so a directory without one is never mistaken for a finished dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zi2zi.errors import DatasetError, Zi2ziError
from zi2zi.storage.folders import FolderKind
from zi2zi.storage.reading import read_json

FORMAT = "zi2zi-dataset"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SOURCE_DIR = "source"
STYLES_DIR = "styles"
KIND = FolderKind(noun="dataset", marker=MANIFEST, format=FORMAT, version=FORMAT_VERSION)


def glyph_filename(char: str) -> str:
    return f"U+{ord(char):04X}.png"


def style_dir(root: Path, style_id: int) -> Path:
    return root / STYLES_DIR / str(style_id)


def is_dataset(path: Path) -> bool:
    """True only for a folder whose manifest names this format at a version zi2zi can read."""
    return KIND.read_marker(path) is not None


def inside(root: Path, relative: object, what: str) -> Path:
    """``root / relative`` for a folder named in a manifest, refused unless it stays inside
    ``root``: a crafted manifest must not make zi2zi read (or show) files elsewhere."""
    if not isinstance(relative, str) or not relative or Path(relative).is_absolute() or "\\" in relative:
        raise DatasetError(f"{root / MANIFEST}: {what} {relative!r} is not a folder inside the dataset; "
                           "render the dataset again")
    resolved_root = root.resolve()
    path = (root / relative).resolve()
    if path != resolved_root and resolved_root not in path.parents:
        raise DatasetError(f"{root / MANIFEST}: {what} {relative!r} points outside the dataset; "
                           "render the dataset again")
    return root / relative


def glyph_file(root: Path, folder: Path, char: str) -> Path:
    """The image of ``char`` in ``folder`` of the dataset ``root``, refused when it (or a folder on
    its way) is a link that leads outside ``root``: a dataset sent by someone must not make zi2zi
    read, train on or show files elsewhere on this machine."""
    path = folder / glyph_filename(char)
    resolved_root = root.resolve()
    if resolved_root not in path.resolve().parents:
        raise DatasetError(f"{path} leads outside the dataset {root} (a link to {path.resolve()}); "
                           "zi2zi reads only the dataset's own files: render the dataset again")
    return path


def style_folder(root: Path, style: dict[str, Any]) -> Path:
    """The folder of a manifest's style entry (its ``dir``, checked to lie inside ``root``)."""
    return inside(root, style.get("dir", f"{STYLES_DIR}/{style.get('id')}"), f"style {style.get('id')} dir")


def read_manifest(root: str | Path) -> dict[str, Any]:
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"dataset {root} does not exist; create it with `zi2zi render`")
    path = root / MANIFEST
    if not path.exists():
        raise DatasetError(
            f"{root} is not a zi2zi dataset (no {MANIFEST}); give the folder `zi2zi render` wrote, "
            "or render one into a new folder with `zi2zi render --out`"
        )
    manifest = read_json(path, what="dataset manifest", error=DatasetError, advice="render the dataset again")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DatasetError(f"{path} is not a zi2zi dataset manifest (its format is not {FORMAT!r})")
    version: Any = manifest.get("version")
    if not _whole(version) or version < 1:
        raise DatasetError(f"{path} has no valid format version; render the dataset again")
    if version > FORMAT_VERSION:
        raise DatasetError(f"{path} has format version {version}; upgrade zi2zi to read it")
    _check_structure(root, manifest)
    return manifest


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> bool:
    """Characters as zi2zi writes them: a string of real code points (no lone surrogates)."""
    return isinstance(value, str) and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


# A style id is a row of the style embedding; a dataset of more styles than this is not zi2zi's.
MAX_STYLES = 100_000


def _check_structure(root: Path, manifest: dict[str, Any]) -> None:
    """The fields every reader indexes, with the types and ranges they assume, and folders inside
    ``root`` (a manifest may be crafted: it is checked before anything is built from it)."""
    from zi2zi.config import RenderSettings

    path = root / MANIFEST

    def bad(what: str) -> DatasetError:
        return DatasetError(f"{path}: {what}; render the dataset again")

    render, styles, split = manifest.get("render"), manifest.get("styles"), manifest.get("split")
    if not isinstance(render, dict):
        raise bad("its 'render' entry is missing or not a mapping")
    try:
        RenderSettings(size=render.get("size"), mode=render.get("mode", "em"),  # type: ignore[arg-type]
                       margin=render.get("margin", 0.0)).validate(prefix="render.")
    except Zi2ziError as exc:
        raise bad(f"its render settings cannot be used ({exc})") from None
    if not _text(manifest.get("characters")):
        raise bad("its 'characters' entry is missing or not text")
    if not isinstance(split, dict) or not all(_text(split.get(name, "")) for name in ("train", "val", "holdout")):
        raise bad("its 'split' entry is not a mapping of train / val / holdout characters")
    if not isinstance(styles, list) or not styles or len(styles) > MAX_STYLES:
        raise bad("its 'styles' entry is not a list of styles")
    ids = set()
    for style in styles:
        if not (isinstance(style, dict) and _whole(style.get("id")) and 0 <= style["id"] < MAX_STYLES
                and isinstance(style.get("name"), str) and _text(style.get("characters"))):
            raise bad("a style entry lacks an id (a whole number from 0), a name or its characters")
        if style["id"] in ids:
            raise bad(f"style id {style['id']} appears twice")
        ids.add(style["id"])
    for name in ("train", "val", "holdout"):
        split.setdefault(name, "")  # readers index all three
    source = manifest.get("source")
    if not isinstance(source, dict):
        raise bad("its 'source' entry is missing or not a mapping")
    inside(root, source.get("dir", SOURCE_DIR), "source dir")
    for style in styles:
        style_folder(root, style)
