"""The template's charsets: the default 300 (see ``charset_derivation``) or any zi2zi charset, and
the page of punctuation, digits and Latin that follows them."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from zi2zi.errors import CharsetError
from zi2zi.fonts.charsets import resolve_charset

DEFAULT_CHARSET = "handwriting-300"


@lru_cache(maxsize=1)
def default_charset() -> tuple[str, ...]:
    """300 characters, most useful first: frequent in text, and every common radical once."""
    text = resources.files("zi2zi.handwriting").joinpath("data/default300.txt").read_text(encoding="utf-8")
    return tuple(c for line in text.splitlines() if not line.startswith("#") for c in line.strip())


def template_charset(spec: str | None) -> list[str]:
    """``handwriting-300`` (also the default), or any spec ``resolve_charset`` takes; ``:N`` keeps
    the first N (``gb2312-1:200``)."""
    spec = spec or DEFAULT_CHARSET
    head = None
    base, sep, count = spec.rpartition(":")
    if sep and count.isdecimal() and not spec.startswith("text:"):
        spec, head = base, int(count)
        if head == 0:
            raise CharsetError(f"charset {base}:0 keeps no characters; give :N with N of 1 or more (e.g. {base}:200)")
    try:
        chars = list(default_charset()) if spec == DEFAULT_CHARSET else resolve_charset(spec)
    except CharsetError as exc:
        if str(exc).startswith("unknown charset"):
            raise CharsetError(f"{exc}; or {DEFAULT_CHARSET}, the template's default") from None
        raise
    return chars[:head] if head is not None else chars


def template_extras_for(spec: str | None, extras: bool = True) -> list[str]:
    """The extras page (``zi2zi.fonts.punctuation.template_extras``) a template of ``spec`` gets:
    on by default, off when asked, and off for ``text:`` (exactly the characters given)."""
    from zi2zi.fonts.punctuation import template_extras

    return template_extras() if extras and not (spec or "").startswith("text:") else []
