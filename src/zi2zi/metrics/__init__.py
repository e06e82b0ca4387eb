"""Evaluation metrics: pixel metrics, a glyph classifier for content accuracy, Frechet distance.

Only the light pixel metrics are imported here; the classifier and the evaluation runner are
imported from their modules so that ``import zi2zi.metrics`` stays cheap.
"""

from zi2zi.images import to_unit
from zi2zi.metrics.pixel import (
    METRICS,
    Metric,
    MetricAccumulator,
    compute_all,
    ink_iou,
    l1,
    psnr,
    rmse,
    ssim,
)

__all__ = [
    "METRICS",
    "Metric",
    "MetricAccumulator",
    "compute_all",
    "ink_iou",
    "l1",
    "psnr",
    "rmse",
    "ssim",
    "to_unit",
]
