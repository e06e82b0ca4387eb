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

FORMAT = "zi2zi-dataset"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SOURCE_DIR = "source"
STYLES_DIR = "styles"


def glyph_filename(char: str) -> str:
    return f"U+{ord(char):04X}.png"


def style_dir(root: Path, style_id: int) -> Path:
    return root / STYLES_DIR / str(style_id)


def is_dataset(path: Path) -> bool:
    return (path / MANIFEST).is_file()


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
    if manifest.get("format") != FORMAT:
        raise DatasetError(f"{path} is not a zi2zi dataset manifest")
    if manifest.get("version", 0) > FORMAT_VERSION:
        raise DatasetError(f"{path} has format version {manifest['version']}; upgrade zi2zi to read it")
    return manifest
