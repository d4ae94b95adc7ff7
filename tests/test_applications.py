"""Lesson 8's helpers: the few-label draws, the PCA fill of a hidden square, and the scores of
search and inpainting (precision@k, the MSE inside a mask)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from autoenc_helpers.applications import labelled_subset, pca_fill
from autoenc_helpers.metrics import masked_mse, precision_at_k


def _square_masks(n: int, side: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, 8, 8), np.float32)
    for i, (r, c) in enumerate(rng.integers(0, 8 - side + 1, (n, 2))):
        masks[i, r:r + side, c:c + side] = 1
    return masks


def _low_rank_images(n: int, rank: int, seed: int) -> np.ndarray:
    """``(n, 8, 8)`` float images in [0, 1] that lie (up to tiny noise) in a ``rank``-d
    affine subspace, so that PCA with ``rank`` components can restore any hidden part."""
    basis = np.random.default_rng(0).normal(size=(rank, 64))     # one subspace for every seed
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=(n, rank))
    flat = 0.5 + 0.02 * (coef @ basis) + 1e-5 * rng.normal(size=(n, 64))
    assert 0 <= flat.min() and flat.max() <= 1
    return flat.reshape(n, 8, 8).astype(np.float32)


def test_labelled_subset_draws_n_per_class_without_replacement():
    y = np.repeat(np.arange(3), [5, 7, 9])
    idx = labelled_subset(y, 4, seed=1)
    assert len(idx) == 12 and len(set(idx)) == 12
    assert np.bincount(y[idx]).tolist() == [4, 4, 4]
    assert not np.array_equal(idx, labelled_subset(y, 4, seed=2))
    np.testing.assert_array_equal(idx, labelled_subset(y, 4, seed=1))
    with pytest.raises(ValueError, match="class 0 has 5"):
        labelled_subset(y, 6)


def test_pca_fill_restores_a_low_rank_image_and_keeps_visible_pixels():
    train, test = _low_rank_images(500, 5, seed=0), _low_rank_images(20, 5, seed=1)
    pca = PCA().fit(train.reshape(500, -1))
    masks = _square_masks(20, 3, seed=3)
    scribbled = np.where(masks > 0, 1.0, test).astype(np.float32)   # under the hole: never read
    filled = pca_fill(pca, scribbled, masks, n_components=5)
    np.testing.assert_array_equal(filled[masks == 0], test[masks == 0])
    assert masked_mse(test, filled, masks).max() < 1e-4
    mean_fill = np.where(masks > 0, pca.mean_.reshape(8, 8), test)
    assert masked_mse(test, mean_fill, masks).mean() > 100 * masked_mse(test, filled, masks).mean()


def test_pca_fill_checks_its_inputs():
    pca = PCA(4).fit(np.random.default_rng(0).random((50, 64)))
    images = np.zeros((2, 8, 8), np.float32)
    with pytest.raises(ValueError, match="shape"):
        pca_fill(pca, images, np.zeros((2, 8, 7)))
    with pytest.raises(ValueError, match="n_components"):
        pca_fill(pca, images, np.zeros((2, 8, 8)), n_components=5)
    with pytest.raises(ValueError, match="64 pixels"):
        pca_fill(pca, np.zeros((2, 4, 4), np.float32), np.zeros((2, 4, 4)))


def test_masked_mse_counts_the_masked_pixels_only():
    x = np.zeros((2, 2, 2), np.float32)
    filled = np.array([[[1, 1], [0, 0]], [[0.5, 0], [0, 0]]], np.float32)
    masks = np.array([[[1, 0], [0, 0]], [[1, 1], [0, 0]]], np.float32)
    np.testing.assert_allclose(masked_mse(x, filled, masks), [1.0, 0.125])
    black, white = np.zeros((1, 2, 2), np.uint8), np.full((1, 2, 2), 255, np.uint8)
    np.testing.assert_allclose(masked_mse(black, white, np.ones((1, 2, 2))), [1.0])
    with pytest.raises(ValueError, match="no pixel"):
        masked_mse(x, filled, np.zeros_like(masks))
    with pytest.raises(ValueError, match="same shape"):
        masked_mse(x, filled, masks[:1])


def test_precision_at_k_is_the_share_of_neighbours_of_the_query_class():
    p = precision_at_k([0, 1], [[0, 0, 1, 2], [1, 1, 1, 1]])
    np.testing.assert_allclose(p, [0.5, 1.0])
    with pytest.raises(ValueError, match="neighbour labels"):
        precision_at_k([0, 1, 2], [[0, 0], [1, 1]])
