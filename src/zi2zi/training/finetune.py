"""Which model style each dataset style trains, and growing a trained model for new styles.

A dataset numbers its styles 0..K-1; a model has its own style ids. For a fresh run they are the
same. When training starts from a checkpoint (``--init-from``), dataset styles are matched to the
checkpoint's styles by name; the others become new embedding rows (G.add_styles / D.add_styles),
and the dataset's ids are remapped to them. The mapping is recorded in the run and checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zi2zi.errors import CheckpointError, DatasetError
from zi2zi.models import Discriminator, Generator

# Manifest fields of a style/source record that describe the font (the rest is per-dataset bulk:
# character lists, folders).
_FONT_FIELDS = ("id", "name", "font", "embox")


@dataclass
class StylePlan:
    styles: list[dict[str, Any]]  # the model's styles after this run: [{id, name}]
    data_to_model: dict[int, int]  # dataset style id -> model style id
    added: list[int] = field(default_factory=list)  # model ids created for this run
    added_names: list[str] = field(default_factory=list)

    def lookup(self) -> np.ndarray:
        """An int64 array mapping dataset style ids to model ids (-1 where unused)."""
        table = np.full(max(self.data_to_model, default=-1) + 1, -1, dtype=np.int64)
        for d, m in self.data_to_model.items():
            table[d] = m
        return table


def fresh_plan(data_styles: list[dict[str, Any]]) -> StylePlan:
    return StylePlan(
        styles=[{"id": int(s["id"]), "name": s["name"]} for s in data_styles],
        data_to_model={int(s["id"]): int(s["id"]) for s in data_styles},
    )


def plan_from_checkpoint(
    ckpt_styles: list[dict[str, Any]],
    data_styles: list[dict[str, Any]],
    num_rows: int,
    *,
    new_style: str | None = None,
) -> StylePlan:
    """Match dataset styles to checkpoint styles by name; unmatched ones get ids from ``num_rows`` up.

    ``new_style``: the dataset must have exactly one style, which is added as a new style with this
    name (whatever the dataset calls it); a name the checkpoint already has is refused.
    """
    by_name = {s["name"]: int(s["id"]) for s in ckpt_styles}
    styles = [{"id": int(s["id"]), "name": s["name"]} for s in ckpt_styles]
    mapping: dict[int, int] = {}
    added: list[int] = []
    names: list[str] = []
    if new_style is not None:
        if len(data_styles) != 1:
            raise DatasetError(
                f"--new-style {new_style!r} names the one style of the new dataset, but it has "
                f"{len(data_styles)} styles ({', '.join(s['name'] for s in data_styles)}); "
                "render one target font, or leave out --new-style to match styles by name"
            )
        if new_style in by_name:
            raise CheckpointError(
                f"the checkpoint already has a style named {new_style!r} (id {by_name[new_style]}); "
                "choose another --new-style name, or leave it out to keep training that style"
            )
    next_id = num_rows
    for s in data_styles:
        name = new_style if new_style is not None else s["name"]
        if name in by_name:
            mapping[int(s["id"])] = by_name[name]
            continue
        mapping[int(s["id"])] = next_id
        styles.append({"id": next_id, "name": name})
        added.append(next_id)
        names.append(name)
        by_name[name] = next_id
        next_id += 1
    return StylePlan(styles=styles, data_to_model=mapping, added=added, added_names=names)


def grow(generator: Generator, discriminator: Discriminator, n: int, *, like: list[int] | None = None) -> list[int]:
    """Add ``n`` styles to both G's embedding and D's category head; returns the new ids."""
    ids = generator.add_styles(n, like=like)
    d_ids = discriminator.add_styles(n)
    if ids != d_ids:
        raise CheckpointError(
            f"generator and discriminator disagree on style count ({generator.num_styles} vs "
            f"{discriminator.num_styles}); the checkpoint is inconsistent"
        )
    return ids


def data_info(manifest: dict[str, Any], plan: StylePlan, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dataset facts a checkpoint carries: the source font and each style's font, with em boxes,
    keyed by *model* style id. Records of a checkpoint's older styles are kept (``previous``)."""
    source = {k: v for k, v in manifest.get("source", {}).items() if k in ("font", "embox")}
    records: dict[int, dict[str, Any]] = {}
    for rec in (previous or {}).get("styles", []):
        records[int(rec["id"])] = dict(rec)
    for rec in manifest.get("styles", []):
        model_id = plan.data_to_model.get(int(rec["id"]))
        if model_id is None:
            continue
        kept = {k: v for k, v in rec.items() if k in _FONT_FIELDS}
        kept["id"] = model_id
        kept["name"] = next(s["name"] for s in plan.styles if s["id"] == model_id)
        records[model_id] = kept
    return {"source": source, "styles": [records[k] for k in sorted(records)]}
