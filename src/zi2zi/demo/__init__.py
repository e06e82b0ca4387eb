"""The demos: the font demo (settings, light to import; its fonts, the pipeline and its report) and
the handwriting demo (:mod:`~zi2zi.demo.handwriting`), both run by ``zi2zi demo``.

``from zi2zi.demo import DemoSettings`` stays cheap for the CLI; the demos load torch when asked
for (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zi2zi.demo.settings import DemoSettings
from zi2zi.lazy import lazy_attributes

_HOMES = {
    "run_demo": "zi2zi.demo.pipeline",
    "run_handwriting_demo": "zi2zi.demo.handwriting",
}

if TYPE_CHECKING:
    from zi2zi.demo.handwriting import run_handwriting_demo
    from zi2zi.demo.pipeline import run_demo

__getattr__ = lazy_attributes(__name__, _HOMES)


__all__ = ["DemoSettings", "run_demo", "run_handwriting_demo"]
