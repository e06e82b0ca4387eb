import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from zi2zi.images import to_unit
from zi2zi.metrics.frechet import frechet_distance
from zi2zi.metrics.pixel import (
    METRICS,
    PSNR_CAP_DB,
    MetricAccumulator,
    ink_iou,
    l1,
    psnr,
    rmse,
    ssim,
)


def _rect_glyph(top: int, left: int, h: int, w: int, size: int = 64) -> torch.Tensor:
    img = torch.ones(1, 1, size, size)  # white paper
    img[..., top : top + h, left : left + w] = 0.0  # black ink
    return img


def _glyphish(seed: int, size: int = 64) -> torch.Tensor:
    """Random strokes on paper with some grey: a stand-in for antialiased glyphs."""
    rng = np.random.default_rng(seed)
    img = np.ones((size, size))
    for _ in range(6):
        r, c = rng.integers(4, size - 20, 2)
        if rng.random() < 0.5:
            img[r : r + 4, c : c + rng.integers(8, 20)] = 0.0
        else:
            img[r : r + rng.integers(8, 20), c : c + 4] = 0.0
    img = np.clip(img + rng.normal(0, 0.08, img.shape), 0, 1)
    return torch.from_numpy(img).float()[None, None]


def test_identical_images_are_perfect():
    a = torch.cat([_glyphish(0), _glyphish(1)])
    assert torch.allclose(l1(a, a), torch.zeros(2))
    assert torch.allclose(rmse(a, a), torch.zeros(2))
    assert torch.allclose(ssim(a, a), torch.ones(2), atol=1e-5)
    assert torch.equal(ink_iou(a, a), torch.ones(2))
    # Zero error is reported as the documented cap rather than inf, so averages stay finite.
    assert torch.allclose(psnr(a, a), torch.full((2,), PSNR_CAP_DB))


def test_known_values():
    white = torch.ones(1, 1, 32, 32)
    grey = torch.full((1, 1, 32, 32), 0.75)
    assert l1(grey, white).item() == pytest.approx(0.25)
    assert rmse(grey, white).item() == pytest.approx(0.25)
    assert psnr(grey, white).item() == pytest.approx(-10 * math.log10(0.0625))


@pytest.mark.parametrize("k", [1, 3, 7])
def test_ink_iou_of_shifted_rectangle(k):
    h, w = 30, 10
    a = _rect_glyph(10, 20, h, w)
    b = _rect_glyph(10, 20 + k, h, w)
    # Overlap is (w - k) columns, union (w + k) columns, both of height h.
    expected = (w - k) * h / ((w + k) * h)
    assert ink_iou(a, b).item() == pytest.approx(expected)
    assert ink_iou(b, a).item() == pytest.approx(expected)


def test_ink_iou_edge_cases():
    blank = torch.ones(1, 1, 16, 16)
    assert ink_iou(blank, blank).item() == 1.0
    assert ink_iou(blank, _rect_glyph(2, 2, 4, 4, size=16)).item() == 0.0
    # Mid-grey (0.5) is paper, just darker is ink.
    assert ink_iou(torch.full((1, 1, 16, 16), 0.5), blank).item() == 1.0
    assert ink_iou(torch.full((1, 1, 16, 16), 0.49), blank).item() == 0.0


def test_ssim_matches_scikit_image():
    preds = torch.cat([_glyphish(s) for s in range(4)])
    targets = torch.cat([_glyphish(s + 100) for s in range(3)] + [_glyphish(0).roll(2, -1)])
    ours = ssim(preds, targets)
    for i in range(4):
        ref = structural_similarity(
            preds[i, 0].numpy().astype(np.float64),
            targets[i, 0].numpy().astype(np.float64),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
        )
        assert ours[i].item() == pytest.approx(ref, abs=1e-3)
    # Not a degenerate agreement: the pairs differ, so SSIM is well below 1.
    assert (ours < 0.9).all()


def test_per_image_values_and_shape_check():
    a = torch.cat([_rect_glyph(5, 5, 20, 20), _rect_glyph(5, 5, 20, 20)])
    b = torch.cat([_rect_glyph(5, 5, 20, 20), torch.ones(1, 1, 64, 64)])
    assert l1(a, b)[0].item() == 0.0 and l1(a, b)[1].item() > 0.0
    with pytest.raises(ValueError, match="same shape"):
        l1(a, b[:, :, :32])


def test_to_unit_maps_model_convention():
    x = torch.tensor([-1.0, 0.0, 1.0])
    assert torch.equal(to_unit(x), torch.tensor([0.0, 0.5, 1.0]))


def test_registry_directions():
    assert set(METRICS) == {"l1", "rmse", "psnr", "ssim", "ink_iou"}
    assert not METRICS["l1"].higher_is_better and not METRICS["rmse"].higher_is_better
    assert METRICS["ssim"].higher_is_better and METRICS["psnr"].higher_is_better
    assert METRICS["ink_iou"].higher_is_better


def test_accumulator_averages_per_style_and_overall():
    acc = MetricAccumulator(["l1"])
    white = torch.ones(3, 1, 16, 16)
    pred = white.clone()
    pred[0] = 0.0  # l1 = 1 for image 0 (style 0); 0 for the others
    acc.update(pred, white, torch.tensor([0, 0, 1]))
    acc.update(white[:1], white[:1], torch.tensor([1]))
    res = acc.result()
    assert res["count"] == 4
    assert res["overall"]["l1"] == pytest.approx(0.25)  # mean over images
    assert res["per_style"][0] == {"count": 2, "l1": pytest.approx(0.5)}
    assert res["per_style"][1] == {"count": 2, "l1": pytest.approx(0.0)}


def test_frechet_distance_gaussians():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3))
    y = rng.normal(size=(4000, 3)) + np.array([1.0, 0.0, 0.0])
    # Same distribution: ~0. Mean shifted by a unit vector: ~1 (covariances equal).
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(x, y) == pytest.approx(1.0, abs=0.15)
    # Scaled: for N(0, I) vs N(0, 4I) in d dims the distance is d * (1 + 4 - 2*2) = d.
    assert frechet_distance(x, 2.0 * rng.normal(size=(4000, 3))) == pytest.approx(3.0, abs=0.4)
