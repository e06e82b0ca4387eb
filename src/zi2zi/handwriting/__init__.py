"""Your handwriting as a font: printable template sheets, and scans or phone photos read back.

``write_template`` prints the sheets (PDF, PNG, template.json), with extra samples of the most
frequent characters (``variants``); ``scan`` reads photos of the written pages into a glyph folder
that ``zi2zi export`` and fine-tuning read, the extra samples as its variants; ``synthetic_photos``
fills and photographs sheets without a person or a camera, for tests, benchmarks and the demo.
"""

from zi2zi.handwriting.charset import DEFAULT_CHARSET, default_charset, template_charset
from zi2zi.handwriting.draw import draw_page, write_template
from zi2zi.handwriting.intake import PageResult, ScanError, ScanSettings, read_page, read_photo
from zi2zi.handwriting.layout import Template, TemplateError, TemplateSettings, load_template, plan_template
from zi2zi.handwriting.scan import ScanReport, scan
from zi2zi.handwriting.synthetic import HandSettings, PhotoSettings, synthetic_photos

__all__ = [
    "DEFAULT_CHARSET",
    "HandSettings",
    "PageResult",
    "PhotoSettings",
    "ScanError",
    "ScanReport",
    "ScanSettings",
    "Template",
    "TemplateError",
    "TemplateSettings",
    "default_charset",
    "draw_page",
    "load_template",
    "plan_template",
    "read_page",
    "read_photo",
    "scan",
    "synthetic_photos",
    "template_charset",
    "write_template",
]
