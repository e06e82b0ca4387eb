"""Where things live inside a dataset directory, and how its manifest is read.

A dataset directory describes itself::

    manifest.json            characters, styles, fonts (+ hashes), renderer settings, split
    source/U+6C38.png        the source font's glyph, one PNG per character
    styles/0/U+6C38.png      each target font (a style) in its own folder, named by style id

The manifest is written last, so a directory without one is never mistaken for a finished dataset.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zi2zi.errors import DatasetError
from zi2zi.storage.folders import FolderKind

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


def style_folder(root: Path, style: dict[str, Any]) -> Path:
    """The folder of a manifest's style entry (its ``dir``, checked to lie inside ``root``)."""
    return inside(root, style.get("dir", f"{STYLES_DIR}/{style.get('id')}"), f"style {style.get('id')} dir")


def read_manifest(root: str | Path) -> dict[str, Any]:
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"dataset {root} does not exist; create it with `zi2zi render`")
    path = root / MANIFEST
    if not path.is_file():
        raise DatasetError(
            f"{root} is not a finished zi2zi dataset (no {MANIFEST}); "
            "render it again with `zi2zi render --overwrite`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path} is corrupt ({exc}); render the dataset again") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DatasetError(f"{path} is not a zi2zi dataset manifest (its format is not {FORMAT!r})")
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise DatasetError(f"{path} has no valid format version; render the dataset again")
    if version > FORMAT_VERSION:
        raise DatasetError(f"{path} has format version {version}; upgrade zi2zi to read it")
    _check_structure(root, manifest)
    return manifest


def _check_structure(root: Path, manifest: dict[str, Any]) -> None:
    """The fields every reader indexes, with the types they assume, and folders inside ``root``."""
    path = root / MANIFEST
    try:
        size = manifest["render"]["size"]
        styles = manifest["styles"]
        split = manifest["split"]
        ok = (isinstance(size, int) and isinstance(styles, list) and isinstance(split, dict)
              and isinstance(manifest["characters"], str))
        for style in styles:
            ok = ok and isinstance(style, dict) and isinstance(style["id"], int) and isinstance(style["characters"], str)
    except (KeyError, TypeError) as exc:
        raise DatasetError(f"{path} lacks the entry {exc}; render the dataset again") from None
    if not ok:
        raise DatasetError(f"{path} has entries of the wrong type; render the dataset again")
    inside(root, manifest.get("source", {}).get("dir", SOURCE_DIR), "source dir")
    for style in styles:
        style_folder(root, style)
