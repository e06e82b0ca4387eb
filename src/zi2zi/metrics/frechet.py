"""Frechet distance between two sets of feature vectors (FID-style, on glyph-classifier features).

Each set is summarised by a Gaussian (mean, covariance); the distance between N(m1, S1) and
N(m2, S2) is |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).

The trace of the matrix square root is computed without ``scipy.linalg.sqrtm``: S1 S2 is similar
to the symmetric PSD matrix S1^(1/2) S2 S1^(1/2), so tr((S1 S2)^(1/2)) is the sum of the square
roots of that matrix's eigenvalues. Two symmetric eigendecompositions (``numpy.linalg.eigh``) are
stable for singular covariances (fewer samples than features), where sqrtm returns complex noise,
and they keep scipy out of the runtime dependencies.
"""

from __future__ import annotations

import numpy as np


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and population covariance (D, D) of features (N, D), in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need a (N >= 2, D) feature array, got shape {x.shape}")
    mu = x.mean(axis=0)
    centred = x - mu
    cov = centred.T @ centred / x.shape[0]
    return mu, cov


def _psd_sqrt(mat: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((mat + mat.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_from_stats(
    mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray
) -> float:
    """Frechet distance between N(mu1, cov1) and N(mu2, cov2)."""
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    tr_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_sqrt)
    return max(value, 0.0)  # rounding can leave a tiny negative for equal sets


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Frechet distance between two feature sets (N, D) and (M, D). 0 = same distribution."""
    mu1, cov1 = gaussian_stats(features_a)
    mu2, cov2 = gaussian_stats(features_b)
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature sizes differ: {mu1.shape[0]} vs {mu2.shape[0]}")
    return frechet_from_stats(mu1, cov1, mu2, cov2)
