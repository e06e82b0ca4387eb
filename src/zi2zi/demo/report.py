"""The demo's HTML report and the sample set with the exported font."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zi2zi.reporting import html_page, html_table


def font_sample(font_path: Path, text: str, out: Path, *, target: Path | None = None) -> Path | None:
    """Set text at 150 px with the exported font through Pillow/FreeType (proof the font file works,
    at the size a reader judges it), under the same text in the ``target`` font when given."""
    from zi2zi.generation.textline import font_lines, set_line

    if np.asarray(set_line(font_path, text, px=56)).min() == 255:
        return None
    lines = ([("target font", target, 0)] if target is not None else []) + [("exported font", font_path, 0)]
    font_lines(lines, text, px=150).save(out)
    return out


def _metric_rows(result: dict) -> list[list[object]]:
    """metric | model | baseline | real targets (classifier ceiling) | which direction is better."""
    res = result["results"]
    rows = []
    for name, info in result["metrics"].items():
        model = res["model"]["overall"].get(name)
        baseline = res["baseline"]["overall"].get(name)
        real = res.get("real", {}).get("overall", {}).get(name, "")
        rows.append([name, model, baseline, real, "higher" if info["higher_is_better"] else "lower"])
    return rows


def report_html(summary: dict, results: dict, has_font_sample: bool) -> str:
    fonts = summary["fonts"]
    s = summary["settings"]
    body = [
        "<p>Source font <code>{}</code> to target font <code>{}</code> (AR PL UKai, Arphic Public License), {} px: "
        "{}; {} held-out characters never seen in training.</p>".format(
            fonts["source"], fonts["target"], s["size"], summary["train"]["how"], s["holdout"]),
        "<h2>Held-out characters: source | generated | target</h2>",
        "<img src='held-out-comparison.png' alt='held-out comparison'>",
    ]
    for split, result in results.items():
        body.append(f"<h2>Metrics on {split} characters (model vs. trivial baseline = the source glyph)</h2>")
        body.append(html_table(["metric", "model", "baseline", "real targets", "better"], _metric_rows(result)))
        body.append(f"<p>{result['pairs']} pairs, {result['characters']} characters, checkpoint step {result['step']}.</p>")
        if result.get("classifier"):
            c = result["classifier"]
            body.append(
                f"<p>Content accuracy and Frechet distance use a glyph classifier trained by zi2zi on "
                f"{', '.join(map(str, c.get('train_fonts') or []))}; on the font it never saw "
                f"({c.get('holdout_font')}) it reads {c.get('holdout_accuracy', 0):.1%} of glyphs correctly.</p>"
            )
        for note in result.get("notes", []):
            body.append(f"<p><em>{note}</em></p>")
    body += [
        "<h2>Loss curves</h2><img src='loss-curves.png' alt='loss curves'>",
        "<h2>Exported font</h2>",
        f"<p><a href='zi2zi-demo.ttf'>zi2zi-demo.ttf</a>: {summary['export']['glyphs']} glyphs traced from the "
        "generated bitmaps. Below, held-out characters set at 150 px through FreeType in the target font and in "
        "that file:</p>",
        "<img src='exported-font-sample.png' alt='font sample'>" if has_font_sample else "<p>(the sample rendered empty)</p>",
        "<h2>Dataset</h2><img src='dataset-preview.png' alt='dataset preview'>",
        "<h2>Run</h2>",
        f"<pre>{json.dumps({k: summary[k] for k in ('train', 'timings_s')}, indent=1, default=str)}</pre>",
    ]
    return html_page("zi2zi demo: a Kai font", "\n".join(body))
