"""Shared bits of the benchmarks: finding the demo fonts and describing the machine."""

from __future__ import annotations

import os
import platform

# Debian packages installed by scripts/install-demo-fonts.sh; looked up by file name under the
# usual font folders so other systems with the same fonts work too.
DEMO_FONT_FILES = {
    "source": "uming.ttc",
    "target": "ukai.ttc",
}


def machine() -> dict:
    import torch

    from zi2zi.device import cpu_name

    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
