"""Per-image pixel metrics on glyph bitmaps.

Every metric takes ``(pred, target)`` as float tensors (B, 1, H, W) in [0, 1] (0 = ink, 1 = paper;
convert the model's [-1, 1] tensors with :func:`to_unit`) and returns one value per image, (B,).
Per-image values (not a batch mean) let callers average per style as well as overall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import kornia
import torch

# SSIM as in Wang et al. 2004: 11-tap Gaussian, sigma 1.5, K1 0.01, K2 0.03, mean over the part of
# the image the whole window covers. scikit-image's structural_similarity(gaussian_weights=True,
# sigma=1.5, use_sample_covariance=False, data_range=1) computes the same number (tested).
SSIM_WINDOW = 11

# An exact reproduction has zero error and an infinite PSNR; one infinite image would make every
# average infinite, so the MSE is floored. The smallest non-zero MSE of 8-bit images of <= 1024^2
# pixels is (1/255)^2 / 1024^2 (~ 108 dB), so 1e-12 (120 dB) is above anything real.
PSNR_CAP_DB = 120.0
_MSE_FLOOR = 10.0 ** (-PSNR_CAP_DB / 10.0)

# A pixel darker than mid-grey counts as ink.
INK_THRESHOLD = 0.5


def _check(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape or pred.dim() != 4 or pred.shape[1] != 1:
        raise ValueError(
            f"pixel metrics need two (B, 1, H, W) tensors of the same shape, "
            f"got {tuple(pred.shape)} and {tuple(target.shape)}"
        )


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error per image. Lower is better."""
    _check(pred, target)
    return (pred.float() - target.float()).abs().mean(dim=(1, 2, 3))  # (B,)


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image (the base of RMSE and PSNR)."""
    _check(pred, target)
    return (pred.float() - target.float()).pow(2).mean(dim=(1, 2, 3))  # (B,)


def rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Root mean squared error per image. Lower is better."""
    return mse(pred, target).sqrt()


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB (data range 1), capped at PSNR_CAP_DB. Higher is better."""
    return -10.0 * torch.log10(mse(pred, target).clamp_min(_MSE_FLOOR))


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean structural similarity per image over the valid region. Higher is better (1 = equal)."""
    _check(pred, target)
    if min(pred.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels")
    smap = kornia.metrics.ssim(
        pred.float(), target.float(), SSIM_WINDOW, max_val=1.0, padding="valid"
    )  # (B, 1, H-10, W-10)
    return smap.mean(dim=(1, 2, 3))


def ink_iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Intersection over union of the ink pixels (value < 0.5). Two blank images score 1."""
    _check(pred, target)
    a = pred < INK_THRESHOLD
    b = target < INK_THRESHOLD
    inter = (a & b).sum(dim=(1, 2, 3)).float()
    union = (a | b).sum(dim=(1, 2, 3)).float()
    return torch.where(union > 0, inter / union.clamp_min(1.0), torch.ones_like(union))


@dataclass(frozen=True)
class Metric:
    """A named per-image metric and which direction is better (for tables and best-checkpoint choice)."""

    name: str
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    higher_is_better: bool
    description: str

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.fn(pred, target)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("l1", l1, False, "mean absolute pixel error"),
        Metric("rmse", rmse, False, "root mean squared pixel error"),
        Metric("psnr", psnr, True, f"peak signal-to-noise ratio, dB (capped at {PSNR_CAP_DB:g})"),
        Metric("ssim", ssim, True, "structural similarity (Gaussian 11, sigma 1.5)"),
        Metric("ink_iou", ink_iou, True, "IoU of ink pixels (value < 0.5)"),
    )
}


def compute_all(
    pred: torch.Tensor, target: torch.Tensor, names: list[str] | None = None
) -> dict[str, torch.Tensor]:
    """Every registered metric (or those named) per image: {name: (B,)} on the CPU."""
    names = list(METRICS) if names is None else names
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {sorted(METRICS)}")
    with torch.no_grad():
        return {n: METRICS[n](pred, target).detach().double().cpu() for n in names}


class MetricAccumulator:
    """Collects per-image metric values batch by batch and averages them per style and overall.

    Overall is the mean over images (not over styles), so styles with more glyphs weigh more.
    """

    def __init__(self, names: list[str] | None = None) -> None:
        self.names = list(METRICS) if names is None else list(names)
        self._values: dict[str, list[torch.Tensor]] = {n: [] for n in self.names}
        self._styles: list[torch.Tensor] = []

    def update(self, pred: torch.Tensor, target: torch.Tensor, style_ids: torch.Tensor) -> None:
        """pred, target: (B, 1, H, W) in [0, 1]; style_ids: (B,)."""
        values = compute_all(pred, target, self.names)
        for n in self.names:
            self._values[n].append(values[n])
        self._styles.append(style_ids.detach().long().cpu().reshape(-1))

    @property
    def count(self) -> int:
        return int(sum(s.numel() for s in self._styles))

    def per_image(self) -> dict[str, list[float]]:
        """Every image's value of every metric, in the order the images came: {name: [value, ...]}."""
        return {n: torch.cat(v).tolist() if v else [] for n, v in self._values.items()}

    def result(self) -> dict:
        """{"count": N, "overall": {metric: mean}, "per_style": {style_id: {"count", metric: mean}}}."""
        if not self._styles:
            return {"count": 0, "overall": {}, "per_style": {}}
        styles = torch.cat(self._styles)
        values = {n: torch.cat(v) for n, v in self._values.items()}
        out: dict = {
            "count": int(styles.numel()),
            "overall": {n: float(v.mean()) for n, v in values.items()},
            "per_style": {},
        }
        for sid in sorted(int(s) for s in styles.unique()):
            mask = styles == sid
            row: dict[str, float] = {"count": int(mask.sum())}
            row.update({n: float(v[mask].mean()) for n, v in values.items()})
            out["per_style"][sid] = row
        return out
