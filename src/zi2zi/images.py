"""Glyph images in every form zi2zi uses, and the only conversions between them.

- files: 8-bit grey PNG, black ink on white paper (255 = paper);
- arrays: uint8 (H, W) or (B, H, W), as files hold them;
- model tensors: float (B, 1, H, W) in [-1, 1], +1 = paper (the GAN's tanh range);
- metric tensors: float (B, 1, H, W) in [0, 1], 1 = paper.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from zi2zi.config import MAX_IMAGE_SIZE
from zi2zi.errors import Zi2ziError
from zi2zi.storage.atomic import write_bytes
from zi2zi.storage.reading import check_regular

if TYPE_CHECKING:
    import torch

# PNG compression level 1: glyphs are mostly paper, so files stay small, and encoding is ~4x
# faster than level 3 (measured: 0.75 vs 3.3 ms per 256 px glyph).
PNG_LEVEL = 1


class ImageError(Zi2ziError):
    """An image file that cannot be read as a glyph."""


class ImageTooLarge(ImageError):
    """An image with more pixels than zi2zi reads (refused from its header)."""


# A glyph image is at most MAX_IMAGE_SIZE px square; a photo or scan of a template page at most 80
# megapixels (a 300 dpi A4 scan is 8.7). Larger is refused from the header, before any decoding:
# a 60000 x 60000 PNG is half a megabyte on disk and 3.6 GB in memory.
MAX_GLYPH_PIXELS = MAX_IMAGE_SIZE * MAX_IMAGE_SIZE
MAX_PHOTO_PIXELS = 80_000_000


@contextmanager
def open_image(source: str | Path | BinaryIO, *, max_pixels: int, what: str = "image",
               advice: str = "") -> Iterator[Image.Image]:
    """A Pillow image, opened (the header read, nothing decoded) only when it is a regular file of
    at most ``max_pixels`` pixels; anything else is one line naming it (:class:`ImageError`, or
    :class:`ImageTooLarge`). Pillow's own
    decompression-bomb warning and error become that line too, never a warning on the terminal.
    A missing file raises FileNotFoundError; ``advice`` ends the line of an unreadable one."""
    name = source if isinstance(source, (str, Path)) else "the upload"
    tail = f"; {advice}" if advice else ""
    if isinstance(source, (str, Path)):
        check_regular(source, what=what, error=ImageError)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except FileNotFoundError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageTooLarge(f"{what} {name} has more pixels than zi2zi reads ({max_pixels:,}); "
                                "it is not a glyph image or a photo of a page") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise ImageError(f"{what} {name} is not a readable image ({exc}){tail}") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLarge(f"{what} {name} is {width} x {height} pixels, more than the {max_pixels:,} "
                                "zi2zi reads; scale it down")
        yield image


def read_grey(path: str | Path, *, max_pixels: int = MAX_GLYPH_PIXELS) -> np.ndarray:
    """uint8 (H, W) of a glyph file; colour is converted and transparency laid on white paper.

    A missing file raises FileNotFoundError (callers know what it means there); an unreadable,
    truncated, oversized or non-regular one raises :class:`ImageError` naming it.
    """
    path = Path(path)
    advice = "delete it and render or generate it again"
    with open_image(path, max_pixels=max_pixels, advice=advice) as image:
        try:
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(paper, image.convert("RGBA"))
            return np.asarray(image.convert("L"))  # decodes all of it: truncation shows here
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise ImageError(f"{path} is not a readable image ({exc}); {advice}") from None


def png_bytes(image: np.ndarray | Image.Image) -> bytes:
    picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return buffer.getvalue()


def save_png(path: str | Path, image: np.ndarray | Image.Image) -> Path:
    """Write a PNG atomically (a kill leaves the old file or none, never half an image)."""
    return write_bytes(path, png_bytes(image))


def resize_glyph(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 (H, H) -> (size, size): area-averaged down (thin strokes stay as grey instead of
    dropping out), bicubic up."""
    if image.shape[0] == size:
        return image
    method = Image.Resampling.BOX if image.shape[0] > size else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(image).resize((size, size), method))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W), 255 = paper -> float (..., 1, H, W) in [-1, 1], +1 = paper."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images)).float().div_(127.5).sub_(1.0).unsqueeze(-3)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 1, H, W) in [-1, 1] -> uint8 (B, H, W), 255 = paper."""
    import torch

    x = ((images.detach().float().cpu().clamp(-1.0, 1.0) + 1.0) * 127.5).round()
    return x.to(torch.uint8)[:, 0].numpy()


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Model convention ([-1, 1], +1 = paper) -> metric convention ([0, 1], 1 = paper)."""
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)
