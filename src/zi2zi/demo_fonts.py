"""The fonts the demo uses, found by file name under the system font folders.

The demo's fonts come from Debian packages (see scripts/install-demo-fonts.sh and the README for
their licences); nothing is ever downloaded at run time.
"""

from __future__ import annotations

from pathlib import Path

from zi2zi.fonts.corpus import classifier_fonts
from zi2zi.fonts.system import find_font, font_dirs

# role -> (file name, Debian package)
DEMO_FONTS = {
    "source": ("uming.ttc", "fonts-arphic-uming"),  # AR PL UMing: Ming (Song) style
    "target": ("ukai.ttc", "fonts-arphic-ukai"),  # AR PL UKai: Kai (brush) style
}


def demo_font(role: str) -> Path:
    name, package = DEMO_FONTS[role]
    return find_font(name, package)


__all__ = ["DEMO_FONTS", "classifier_fonts", "demo_font", "find_font", "font_dirs"]
