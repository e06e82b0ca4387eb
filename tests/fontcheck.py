"""fontbakery, the font checker the export tests run, in the environment `make setup` gives it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def fontbakery_command() -> list[str] | None:
    """fontbakery pins freetype-py < 2.4, which zi2zi's renderer cannot use, so `make setup` puts
    it in its own environment (.venv-fontbakery); ZI2ZI_FONTBAKERY may name another binary."""
    candidates = [os.environ.get("ZI2ZI_FONTBAKERY"), str(REPO / ".venv-fontbakery" / "bin" / "fontbakery"),
                  shutil.which("fontbakery")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return [candidate]
    return None


# Checks left out, and why:
# - fontdata_namecheck asks a web service whether the name is taken: tests run offline.
EXCLUDED = ["fontdata_namecheck"]
# - opentype/monospace reads the glyf table of every font it finds monospaced, and CJK fonts
#   (one width for ideographs, half for the space) are: on a CFF font it fails with KeyError
#   'glyf', a fontbakery error, not a finding (fontbakery issue 5040, in 1.1.0). Its conditions are
#   asserted for both kinds in test_export_font.py (whitespace, gasp and names; the fontbakery test).
EXCLUDED_CFF = ["opentype/monospace"]


def fontbakery_findings(font: Path, kind: str, tmp_path: Path) -> dict[str, list[str]]:
    """Check ids by result (PASS, WARN, FAIL, ...) of fontbakery's universal profile on ``font``;
    skips the test when fontbakery is not installed."""
    command = fontbakery_command()
    if command is None:
        pytest.skip("fontbakery is not installed: `make setup` installs it in .venv-fontbakery")
    report = tmp_path / "fontbakery.json"
    excluded = EXCLUDED + (EXCLUDED_CFF if kind == "otf" else [])
    args = command + ["check-universal", "--json", str(report)]
    for check in excluded:
        args += ["-x", check]
    subprocess.run(args + [str(font)], capture_output=True, timeout=300)
    results = json.loads(report.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for section in results["sections"]:
        for check in section["checks"]:
            check_id = check["key"][1].split(":", 1)[1].rstrip(">")
            found.setdefault(check["result"], []).append(check_id)
    return found
