"""The fonts the demo uses, found by file name under the system font folders.

They come from Debian packages (scripts/install-demo-fonts.sh; the README lists their licences);
nothing is ever downloaded at run time.
"""

from __future__ import annotations

from pathlib import Path

from zi2zi.fonts.system import find_font

# role -> (file name, Debian package)
DEMO_FONTS = {
    "source": ("uming.ttc", "fonts-arphic-uming"),  # AR PL UMing: Ming (Song) style
    "target": ("ukai.ttc", "fonts-arphic-ukai"),  # AR PL UKai: Kai (brush) style
}


def demo_font(role: str) -> Path:
    name, package = DEMO_FONTS[role]
    return find_font(name, package)
