"""zi2zi: make CJK fonts with style-transfer GANs.

Library first: rendering (:mod:`zi2zi.fonts`), datasets (:mod:`zi2zi.data`), models
(:mod:`zi2zi.models`), training (:mod:`zi2zi.training`), fine-tuning (:mod:`zi2zi.finetune`), using
a model (:mod:`zi2zi.generation`), metrics (:mod:`zi2zi.metrics`) and font export
(:mod:`zi2zi.export`). :func:`make_font` (:mod:`zi2zi.fontmaking`) chains them from a base model
and a target to a finished font file. The ``zi2zi`` command is a thin layer over them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zi2zi.lazy import lazy_attributes

__version__ = "0.1.0"

if TYPE_CHECKING:
    from zi2zi.fontmaking import MadeFont, font_from_model, make_font

# The chain loads on first use: `import zi2zi.fonts` must not pull in torch and the exporter.
__getattr__ = lazy_attributes(__name__, dict.fromkeys(["MadeFont", "font_from_model", "make_font"], "zi2zi.fontmaking"))
__all__ = ["MadeFont", "__version__", "font_from_model", "make_font"]
