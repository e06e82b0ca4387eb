"""Loading a rendered dataset for training and evaluation.

PNGs are decoded once, into contiguous uint8 arrays held in memory: a training step only indexes
arrays, it never decodes an image. At 256 px the 6763 GB2312 pairs of one style take ~0.9 GB.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zi2zi.data import layout
from zi2zi.errors import DatasetError
from zi2zi.images import read_grey, to_tensor

SPLITS = ("train", "val", "holdout", "all")


class GlyphDataset(torch.utils.data.Dataset):
    """Source/target pairs of one split, for every style (or the chosen ``styles``)."""

    def __init__(
        self, root: str | Path, split: str = "train", *, styles: Sequence[int] | None = None
    ) -> None:
        self.root = Path(root)
        self.manifest: dict[str, Any] = layout.read_manifest(self.root)
        self.split = split
        chars = self.split_characters(self.manifest, split)
        all_styles = self.manifest["styles"]
        if styles is not None:
            known = {s["id"] for s in all_styles}
            unknown = sorted(set(styles) - known)
            if unknown:
                raise DatasetError(f"{self.root} has no style id {unknown[0]}; it has {sorted(known)}")
        chosen = [s for s in all_styles if styles is None or s["id"] in set(styles)]
        self.styles: list[dict[str, Any]] = [{"id": s["id"], "name": s["name"]} for s in chosen]
        self.image_size: int = int(self.manifest["render"]["size"])

        wanted = set(chars)
        pairs = [(c, s["id"]) for s in chosen for c in s["characters"] if c in wanted]
        unique_chars = sorted({c for c, _ in pairs}, key=ord)
        source_index = {c: i for i, c in enumerate(unique_chars)}
        with ThreadPoolExecutor(8) as pool:
            sources = list(pool.map(lambda c: self._load(self.root / layout.SOURCE_DIR, c), unique_chars))
            targets = list(pool.map(lambda p: self._load(layout.style_dir(self.root, p[1]), p[0]), pairs))
        size = (self.image_size, self.image_size)
        self._source_images = np.stack(sources) if sources else np.zeros((0, *size), np.uint8)
        self._source_of_pair = np.array([source_index[c] for c, _ in pairs], dtype=np.int64)
        self.targets: np.ndarray = np.stack(targets) if targets else np.zeros((0, *size), np.uint8)
        self.style_ids: np.ndarray = np.array([s for _, s in pairs], dtype=np.int64)
        self.codepoints: np.ndarray = np.array([ord(c) for c, _ in pairs], dtype=np.int64)

    @staticmethod
    def has_split(root: str | Path, split: str) -> bool:
        """Does the dataset's manifest list any characters for ``split``?"""
        manifest = layout.read_manifest(root)
        return split == "all" or bool(manifest["split"].get(split))

    @staticmethod
    def split_characters(manifest: dict[str, Any], split: str) -> str:
        if split == "all":
            return manifest["characters"]
        available = [name for name in SPLITS if name == "all" or manifest["split"].get(name)]
        if split not in manifest["split"] or not manifest["split"][split]:
            raise DatasetError(
                f"the dataset has no {split!r} split (or it is empty); available: {', '.join(available)}"
            )
        return manifest["split"][split]

    def _load(self, folder: Path, char: str) -> np.ndarray:
        path = layout.glyph_file(self.root, folder, char)
        try:
            image = read_grey(path, max_pixels=self.image_size * self.image_size)
        except FileNotFoundError:
            raise DatasetError(f"{path} is listed in the manifest but missing; render the dataset again") from None
        if image.shape != (self.image_size, self.image_size):
            raise DatasetError(f"{path} is {image.shape}, expected {self.image_size} px square")
        return image

    @property
    def sources(self) -> np.ndarray:
        """Source glyph of every pair, uint8 (N, S, S) (a view built on demand; sources are shared)."""
        return self._source_images[self._source_of_pair]

    def source_batch(self, indices: np.ndarray) -> np.ndarray:
        return self._source_images[self._source_of_pair[indices]]

    @property
    def characters(self) -> list[str]:
        return [chr(c) for c in self.codepoints]

    @property
    def num_styles(self) -> int:
        return 1 + max((s["id"] for s in self.manifest["styles"]), default=-1)

    def __len__(self) -> int:
        return len(self.style_ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {
            "source": to_tensor(self._source_images[self._source_of_pair[i]]),
            "target": to_tensor(self.targets[i]),
            "style": int(self.style_ids[i]),
            "codepoint": int(self.codepoints[i]),
        }

    def batch(self, indices: np.ndarray) -> dict[str, torch.Tensor]:
        """A whole batch at once: (B, 1, S, S) sources and targets in [-1, 1], (B,) styles."""
        return {
            "source": to_tensor(self.source_batch(indices)),
            "target": to_tensor(self.targets[indices]),
            "style": torch.from_numpy(self.style_ids[indices]),
            "codepoint": torch.from_numpy(self.codepoints[indices]),
        }
