"""Pictures and pages for reports: loss curves, comparison grids, and small HTML helpers."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from zi2zi.grid import glyph_grid


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The records of a run's ``metrics.jsonl`` (through the one reader, which skips a torn last line)."""
    from zi2zi.training.runlog import METRICS_FILE
    from zi2zi.training.runlog import read_metrics as read_file

    return read_file(Path(run_dir) / METRICS_FILE)


def plot_loss_curves(runs: dict[str, Sequence[dict]], out: str | Path, *, title: str = "") -> Path:
    """Generator/discriminator losses and validation L1 against step, one line per run."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    panels = [("g_loss", "G loss (total)"), ("d_loss", "D loss"), ("l1", "train L1 (images in [-1, 1])"),
              ("val_l1", "validation L1 (dashed: baseline)")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    for ax, (key, label) in zip(axes, panels):
        for name, rows in runs.items():
            points = [(r["step"], r[key]) for r in rows if key in r and r.get("kind") in ("train", "eval")]
            if points:
                steps, values = zip(*points)
                line, = ax.plot(steps, values, label=name, linewidth=1)
                baseline = next((r[key] for r in rows if r.get("kind") == "baseline" and key in r), None)
                if baseline is not None:  # the source glyph as the prediction: what G must beat
                    ax.axhline(baseline, linestyle="--", linewidth=0.8, color=line.get_color())
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    labelled = [ax for ax in axes if ax.get_legend_handles_labels()[0]]
    if len(runs) > 1 and labelled:  # a run without validation leaves the last panel empty
        labelled[-1].legend(fontsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def comparison_grid(
    columns: Sequence[Sequence[np.ndarray]], *, per_row: int = 10, cell: int = 64, gap: int = 4
) -> Image.Image:
    """Glyph triples (e.g. source | generated | target) tiled ``per_row`` to a row.

    ``columns[k][i]`` is image k of item i; items are separated by a gap, images of one item
    touch, so the eye reads each triple as one unit.
    """
    return glyph_grid(list(zip(*columns)), per_line=per_row, cell=cell, gap=gap)


def html_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 4px 8px; }
th { background: #f3f3f3; } img { max-width: 100%; border: 1px solid #eee; } code { background: #f6f6f6; }
"""


def html_page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{PAGE_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
