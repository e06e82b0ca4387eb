"""Uploads: read with a size cap, checked to be what they claim (a font, an image, a PDF, a
checkpoint) before anything else opens them, and stored under a name the app chooses."""

from __future__ import annotations

import io
from pathlib import Path

from zi2zi.storage.atomic import write_bytes
from zi2zi.ui.errors import UiError

MAX_FONT_BYTES = 64 << 20      # a full CJK font with several faces stays below this
MAX_IMAGE_BYTES = 32 << 20     # a phone photo or a 600 dpi page scan
MAX_CHECKPOINT_BYTES = 256 << 20

# Leading bytes of the font containers fontTools and FreeType read, and the extension each keeps.
_FONT_MAGIC = {
    b"\x00\x01\x00\x00": ".ttf", b"true": ".ttf", b"OTTO": ".otf", b"ttcf": ".ttc", b"wOF2": ".woff2",
    b"wOFF": ".woff",
}
_IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def read_capped(stream, limit: int, what: str) -> bytes:
    """At most ``limit`` bytes from a file-like object; refuses a larger upload without storing it."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UiError(f"the {what} is larger than {limit >> 20} MB; choose a smaller file", 413)
    if not data:
        raise UiError(f"the {what} is empty; choose the file again")
    return data


def font_suffix(data: bytes) -> str:
    """The container of a font file by its first bytes, after fontTools has parsed it."""
    suffix = _FONT_MAGIC.get(data[:4])
    if suffix is None:
        raise UiError("that file is not a font (TTF, OTF, TTC, WOFF or WOFF2)", 415)
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        if suffix == ".ttc":
            fonts = TTCollection(io.BytesIO(data)).fonts
        else:
            fonts = [TTFont(io.BytesIO(data), lazy=True)]
        for font in fonts:
            if "cmap" not in font or font.getBestCmap() is None:
                raise UiError("that font has no character map; zi2zi cannot use it", 415)
    except (TTLibError, AssertionError, KeyError, ValueError, EOFError, IndexError) as exc:
        raise UiError(f"that font file is damaged and cannot be read ({type(exc).__name__})", 415) from None
    return suffix


def store_font(data: bytes, folder: Path, stem: str) -> Path:
    suffix = font_suffix(data)
    if suffix == ".woff" or suffix == ".woff2":
        # The renderer (FreeType) reads WOFF but not every build reads WOFF2: store it as sfnt.
        from fontTools.ttLib import TTFont

        font = TTFont(io.BytesIO(data))
        font.flavor = None
        buffer = io.BytesIO()
        font.save(buffer)
        data = buffer.getvalue()
        suffix = ".otf" if "CFF " in font else ".ttf"
    # Opened as the renderer will open it before the font it replaces goes: a font whose cmap
    # reads but whose other tables do not must not cost the project its working font.
    from zi2zi.errors import FontError
    from zi2zi.fonts import open_font

    candidate = write_bytes(folder / f".{stem}-upload{suffix}", data)
    try:
        open_font(candidate)
    except FontError as exc:
        candidate.unlink(missing_ok=True)
        raise UiError(f"that font cannot be used: {str(exc).splitlines()[0]}", 415) from None
    for old in folder.glob(f"{stem}.*"):
        old.unlink()
    final = folder / f"{stem}{suffix}"
    candidate.replace(final)
    return final


def image_suffix(data: bytes, *, allow_pdf: bool = False) -> str:
    """``.png`` / ``.jpg`` (decoded by Pillow to be sure) or, for scans, ``.pdf``."""
    if allow_pdf and data.startswith(b"%PDF-"):
        return ".pdf"
    suffix = next((s for magic, s in _IMAGE_MAGIC.items() if data.startswith(magic)), None)
    if suffix is None:
        kinds = "a PNG, a JPEG or a PDF" if allow_pdf else "a PNG or a JPEG"
        raise UiError(f"that file is not {kinds} image", 415)
    from zi2zi.images import MAX_PHOTO_PIXELS, ImageTooLarge, open_image

    try:
        with open_image(io.BytesIO(data), max_pixels=MAX_PHOTO_PIXELS) as image:
            image.verify()
    except ImageTooLarge:
        raise UiError(f"that image has more than {MAX_PHOTO_PIXELS // 1_000_000} megapixels; scale it down",
                      413) from None
    except Exception:  # Pillow raises many kinds for broken files; all mean the same to the user
        raise UiError("that image is damaged and cannot be read", 415) from None
    return suffix


def checkpoint_ok(data: bytes) -> None:
    """A safetensors file with zi2zi's metadata (the header is JSON after an 8-byte length) that
    describes a model zi2zi builds, whose tensors are that model's."""
    import struct

    from zi2zi.checkpoints.files import check_fits, parse_metadata
    from zi2zi.config import Config
    from zi2zi.errors import Zi2ziError
    from zi2zi.storage.reading import parse_json

    if len(data) < 16:
        raise UiError("that file is not a zi2zi checkpoint (.safetensors)", 415)
    (size,) = struct.unpack("<Q", data[:8])
    try:
        header = parse_json(data[8 : 8 + size], what="the upload's header")
    except Zi2ziError:
        raise UiError("that file is not a zi2zi checkpoint (.safetensors)", 415) from None
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict) \
            or "zi2zi" not in header["__metadata__"]:
        raise UiError("that .safetensors file carries no zi2zi metadata; export it with zi2zi", 415)
    # The model it describes, checked as loading it would (sizes, then every tensor's shape),
    # without building anything: a crafted upload must not reach the trainer.
    try:
        doc = parse_metadata(header["__metadata__"], "that checkpoint")
        cfg = Config.from_dict(doc["config"])
        shapes = {k: tuple(int(n) for n in v["shape"]) for k, v in header.items() if k != "__metadata__"}
        emb = shapes.get("generator.style_embedding.weight")
        check_fits(Path("that checkpoint"), cfg, int(emb[0]) if emb else cfg.model.generator.num_styles, shapes)
    except Zi2ziError as exc:
        raise UiError(str(exc).splitlines()[0], 415) from None
    except (TypeError, KeyError, ValueError):
        raise UiError("that .safetensors file has a malformed header; it is not a zi2zi checkpoint", 415) from None
