"""The free CJK fonts zi2zi may learn from (the corpus) and the fonts that must stay unseen.

Base models train only on :data:`CORPUS` fonts. :data:`EVALUATION` fonts stand for a user's new
font in the few-shot report and the demo, so no base model may ever see them. Every font comes
from a Debian package (``scripts/install-corpus-fonts.sh``); nothing is downloaded at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zi2zi.errors import FontError
from zi2zi.fonts.system import find_font

_INSTALL = "scripts/install-corpus-fonts.sh"


@dataclass(frozen=True)
class CorpusFont:
    """One face of an installed font file, with where it comes from and what it looks like."""

    name: str  # the style name models use
    file: str  # file name under the system font folders
    face: int  # face index in a collection (.ttc)
    package: str  # the Debian package that installs it
    licence: str
    style: str  # style class: Song/Ming, Hei (sans), Kai, rounded, ...

    @property
    def spec(self) -> str:
        """``PATH#FACE`` for this face on this machine; FontError naming the package if missing."""
        return f"{self.path()}#{self.face}"

    def path(self) -> Path:
        return find_font(self.file, self.package, hint=_INSTALL)


_OFL = "SIL Open Font License 1.1"
_ARPHIC = "Arphic Public License"
_IPA = "IPA Font License 1.0"
_GPL_FE = "GPL v2 with font embedding exception"


def _noto(kind: str, weight: str, style: str) -> CorpusFont:
    # Face 2 of every Noto CJK collection is the Simplified Chinese (SC) one.
    return CorpusFont(f"Noto {kind} CJK SC {weight}", f"Noto{kind}CJK-{weight}.ttc", 2,
                      "fonts-noto-cjk" if weight in ("Regular", "Bold") else "fonts-noto-cjk-extra",
                      _OFL, style)


CORPUS: tuple[CorpusFont, ...] = (
    *(_noto("Serif", w, "Song (serif)") for w in ("ExtraLight", "Light", "Regular", "Medium", "SemiBold", "Bold", "Black")),
    *(_noto("Sans", w, "Hei (sans)") for w in ("Thin", "Light", "DemiLight", "Regular", "Medium", "Bold", "Black")),
    CorpusFont("WenQuanYi Zen Hei", "wqy-zenhei.ttc", 0, "fonts-wqy-zenhei", _GPL_FE, "Hei (sans)"),
    CorpusFont("WenQuanYi Micro Hei", "wqy-microhei.ttc", 0, "fonts-wqy-microhei", _GPL_FE, "Hei (sans)"),
    CorpusFont("AR PL UMing CN", "uming.ttc", 0, "fonts-arphic-uming", _ARPHIC, "Ming (serif)"),
    CorpusFont("AR PL SungtiL GB", "gbsn00lp.ttf", 0, "fonts-arphic-gbsn00lp", _ARPHIC, "Song (serif)"),
    CorpusFont("AR PL Mingti2L Big5", "bsmi00lp.ttf", 0, "fonts-arphic-bsmi00lp", _ARPHIC, "Ming (serif)"),
    CorpusFont("TW-Sung", "TW-Sung-98_1.ttf", 0, "fonts-cns11643-sung", "Open Government Data License Taiwan 1.0", "Song (serif)"),
    CorpusFont("TW-Kai", "TW-Kai-98_1.ttf", 0, "fonts-cns11643-kai", "Open Government Data License Taiwan 1.0", "Kai (brush)"),
    CorpusFont("IPAGothic", "ipag.ttf", 0, "fonts-ipafont-gothic", _IPA, "Gothic (sans)"),
    CorpusFont("IPAMincho", "ipam.ttf", 0, "fonts-ipafont-mincho", _IPA, "Mincho (serif)"),
    CorpusFont("IPAexGothic", "ipaexg.ttf", 0, "fonts-ipaexfont-gothic", _IPA, "Gothic (sans)"),
    CorpusFont("IPAexMincho", "ipaexm.ttf", 0, "fonts-ipaexfont-mincho", _IPA, "Mincho (serif)"),
    CorpusFont("HanaMinA", "HanaMinA.ttf", 0, "fonts-hanazono", "SIL Open Font License 1.1 or Hanazono Font License", "Mincho (serif)"),
    CorpusFont("VL Gothic", "VL-Gothic-Regular.ttf", 0, "fonts-vlgothic", "M+ FONTS licence and BSD-3-Clause (Sazanami)", "Gothic (sans)"),
    CorpusFont("MigMix 1P", "migmix-1p-regular.ttf", 0, "fonts-migmix", _IPA, "Gothic (sans)"),
    CorpusFont("MigMix 2P Bold", "migmix-2p-bold.ttf", 0, "fonts-migmix", _IPA, "Gothic (sans)"),
    CorpusFont("Smiley Sans Oblique", "SmileySans-Oblique.ttf", 0, "fonts-smiley-sans", _OFL, "condensed oblique sans"),
    CorpusFont("Droid Sans Fallback", "DroidSansFallbackFull.ttf", 0, "fonts-droid-fallback", "Apache License 2.0", "Hei (sans)"),
)

# Never in a base model: they stand for the user's new font.
EVALUATION: tuple[CorpusFont, ...] = (
    CorpusFont("AR PL UKai CN", "ukai.ttc", 0, "fonts-arphic-ukai", _ARPHIC, "Kai (brush)"),
    CorpusFont("LXGW WenKai", "LXGWWenKai-Regular.ttf", 0, "fonts-lxgw-wenkai", _OFL, "Kai (handwritten)"),
    CorpusFont("YOzN", "YOzRN_.ttf", 0, "fonts-yozvox-yozfont", _OFL, "handwritten"),
)
# Arphic's relatives of UKai: also never in a base (KaitiM is UKai's ancestor).
EVALUATION_RELATIVES = ("gkai00mp.ttf", "bkai00mp.ttf")

# The source font every base model reads: complete GB2312, Big5 and JIS X 0208 coverage.
BASE_SOURCE = next(f for f in CORPUS if f.name == "Noto Serif CJK SC Regular")

# Extra fonts for the glyph classifier of `zi2zi evaluate`: a few distinct designs, so that it
# reads an unseen font reliably even when a dataset has only one or two fonts.
CLASSIFIER_EXTRA = ("Noto Sans CJK SC Regular", "Noto Serif CJK SC Bold", "TW-Kai", "WenQuanYi Micro Hei")


def corpus_font(name: str) -> CorpusFont:
    for font in CORPUS + EVALUATION:
        if font.name == name:
            return font
    raise FontError(f"no corpus or evaluation font named {name!r}")


def is_evaluation_font(path: str | Path) -> bool:
    """Whether a file is one of the fonts that must stay out of every base model."""
    name = Path(path).name
    return name in {f.file for f in EVALUATION} or name in EVALUATION_RELATIVES or name.startswith(
        ("LXGWWenKai", "YOz"))


def installed(fonts: tuple[CorpusFont, ...] | list[CorpusFont]) -> list[CorpusFont]:
    """The fonts of ``fonts`` that are on this machine."""
    found = []
    for font in fonts:
        try:
            font.path()
        except FontError:
            continue
        found.append(font)
    return found


def classifier_fonts() -> list[str]:
    """Specs of the installed classifier extras (the evaluation adds the dataset's own fonts)."""
    return [f.spec for f in installed([corpus_font(n) for n in CLASSIFIER_EXTRA])]
