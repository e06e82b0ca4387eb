"""zi2zi: make CJK fonts with style-transfer GANs.

Library first: rendering (:mod:`zi2zi.fonts`), datasets (:mod:`zi2zi.data`), models
(:mod:`zi2zi.models`), training (:mod:`zi2zi.training`), metrics (:mod:`zi2zi.metrics`) and font
export (:mod:`zi2zi.export`). The ``zi2zi`` command is a thin layer over them.
"""

__version__ = "0.1.0"
