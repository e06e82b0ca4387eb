"""Which model style each dataset style trains, and making room in a trained model for new styles.

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
_FONT_FIELDS = ("id", "name", "font", "embox", "placement")  # placement: zi2zi.data.placement


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
    # New styles take the spare embedding rows first (rows no style of the checkpoint uses), then
    # rows appended after them.
    used = {int(st["id"]) for st in ckpt_styles}
    free = iter([r for r in range(num_rows) if r not in used] + list(range(num_rows, num_rows + len(data_styles))))
    for s in data_styles:
        name = new_style if new_style is not None else s["name"]
        if name in by_name:
            mapping[int(s["id"])] = by_name[name]
            continue
        new_id = next(free)
        mapping[int(s["id"])] = new_id
        styles.append({"id": new_id, "name": name})
        added.append(new_id)
        names.append(name)
        by_name[name] = new_id
    return StylePlan(styles=styles, data_to_model=mapping, added=added, added_names=names)


def claim_rows(generator: Generator, discriminator: Discriminator, ids: list[int], *, like: list[int] | None = None) -> None:
    """Make style rows ``ids`` ready for new styles: spare rows are reset (G's to the mean of the
    ``like`` rows, D's category outputs re-initialised), rows past the end are appended."""
    if generator.num_styles != discriminator.num_styles:
        raise CheckpointError(
            f"generator and discriminator disagree on style count ({generator.num_styles} vs "
            f"{discriminator.num_styles}); the checkpoint is inconsistent"
        )
    spare = [i for i in ids if i < generator.num_styles]
    if spare:
        generator.reset_styles(spare, like=like)
        discriminator.reset_styles(spare)
    extra = len(ids) - len(spare)
    if extra:
        grown = generator.add_styles(extra, like=like)
        discriminator.add_styles(extra)
        if grown != [i for i in ids if i not in spare]:
            raise CheckpointError(f"grew styles {grown}, expected {ids}; the checkpoint is inconsistent")


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
