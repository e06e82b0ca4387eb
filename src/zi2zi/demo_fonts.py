"""Finding the free CJK fonts the demo uses, by file name under the usual system font folders.

The demo's fonts come from Debian packages (see scripts/install-demo-fonts.sh and the README for
their licences); nothing is ever downloaded at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

from zi2zi.errors import FontError

# role -> (file name, Debian package)
DEMO_FONTS = {
    "source": ("uming.ttc", "fonts-arphic-uming"),  # AR PL UMing: Ming (Song) style
    "target": ("ukai.ttc", "fonts-arphic-ukai"),  # AR PL UKai: Kai (brush) style
}
# Fonts for training the content classifier (several styles); the last one is held out.
CLASSIFIER_FONTS = [
    ("uming.ttc", "fonts-arphic-uming"),
    ("ukai.ttc", "fonts-arphic-ukai"),
    ("wqy-zenhei.ttc", "fonts-wqy-zenhei"),
    ("LXGWWenKai-Regular.ttf", "fonts-lxgw-wenkai"),
    ("wqy-microhei.ttc", "fonts-wqy-microhei"),
]


def font_dirs() -> list[Path]:
    dirs = [Path.home() / ".local/share/fonts", Path.home() / ".fonts",
            Path("/usr/local/share/fonts"), Path("/usr/share/fonts"), Path("/Library/Fonts")]
    extra = os.environ.get("ZI2ZI_FONT_DIRS")
    if extra:
        dirs = [Path(p) for p in extra.split(os.pathsep)] + dirs
    return [d for d in dirs if d.is_dir()]


def find_font(file_name: str, package: str | None = None) -> Path:
    """The first font file called ``file_name`` under the font folders, or a FontError saying
    which package (or ZI2ZI_FONT_DIRS folder) provides it."""
    for folder in font_dirs():
        for path in folder.rglob(file_name):
            return path
    hint = f"install the Debian package {package} (make fonts)" if package else "install it"
    raise FontError(
        f"font {file_name} not found under the system font folders; {hint}, "
        "or put it in a folder listed in ZI2ZI_FONT_DIRS"
    )


def demo_font(role: str) -> Path:
    name, package = DEMO_FONTS[role]
    return find_font(name, package)


def classifier_fonts() -> list[Path]:
    """The classifier fonts that are installed (the evaluation adds the dataset's own fonts)."""
    found = []
    for name, package in CLASSIFIER_FONTS:
        try:
            found.append(find_font(name, package))
        except FontError:
            continue
    return found
