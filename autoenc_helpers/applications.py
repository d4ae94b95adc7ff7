"""Tools for lesson 8 (autoencoders at work): the non-learned baseline of the inpainting
application and the label draws of the few-label application.

The search itself is scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`, the
classifiers scikit-learn's and Keras'; the scores live in :mod:`autoenc_helpers.metrics`
(:func:`~autoenc_helpers.metrics.precision_at_k`, :func:`~autoenc_helpers.metrics.masked_mse`)
and the figures in :mod:`autoenc_helpers.plots`. Images are ``(n, h, w)``, uint8 in
[0, 255] or float in [0, 1]; masks are ``(n, h, w)`` with 1 where a pixel is hidden.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from autoenc_helpers.data import to_float

__all__ = ["labelled_subset", "pca_fill"]


def labelled_subset(y: NDArray, n_per_class: int, seed: int = 0) -> NDArray[np.int64]:
    """Indices of ``n_per_class`` examples of every class, drawn without replacement.

    Lesson 8's few-label draws: each draw (a new ``seed``) is a new labelled subset of the
    training set; the rest of the training set stays unlabelled.

    Args:
        y: ``(n,)`` integer labels. n_per_class: examples taken from every class.

    Returns:
        ``(n_classes * n_per_class,)`` sorted indices into ``y``.

    Raises:
        ValueError: a class has fewer than ``n_per_class`` examples.
    """
    y = np.asarray(y)
    if y.ndim != 1 or n_per_class < 1:
        raise ValueError(f"expected (n,) labels and n_per_class >= 1, got shape {y.shape} "
                         f"and {n_per_class}.")
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < n_per_class:
            raise ValueError(f"class {c} has {len(members)} examples, fewer than "
                             f"n_per_class={n_per_class}.")
        picked.append(rng.choice(members, n_per_class, replace=False))
    return np.sort(np.concatenate(picked))


def pca_fill(pca, images: NDArray, masks: NDArray,
             n_components: int | None = None) -> NDArray[np.float32]:
    """Fill the hidden pixels of each image from its visible ones with a fitted PCA.

    The probabilistic reading of PCA (Tipping and Bishop): an image is the mean plus
    ``c @ components`` plus pixel noise of variance ``pca.noise_variance_``, with independent
    normal coefficients of variance ``pca.explained_variance_``. Given only the visible pixels
    ``v``, the most probable coefficients solve

        (W_v W_vᵀ + σ² diag(1 / λ)) c = W_v (x_v − mean_v),

    a small ridge regression per image (``W_v``: the components restricted to ``v``); the
    hole is then filled with ``mean + c @ components`` and the visible pixels are kept.
    With ``n_components`` only the first components are used, and σ² is the mean variance of
    the others (fit the PCA with every component to choose ``n_components`` freely).

    Args:
        pca: a fitted :class:`sklearn.decomposition.PCA` on flattened ``(n, h * w)`` images.
        images: ``(n, h, w)`` images (what is under the hole is never read).
        masks: ``(n, h, w)``, 1 (or True) where a pixel is hidden.
        n_components: components used (default: all of the fitted PCA's).

    Returns:
        ``(n, h, w)`` float32 images in [0, 1]: visible pixels as given, the hole filled.
    """
    x = to_float(images)
    hidden = np.asarray(masks, dtype=np.float32)
    if hidden.shape != x.shape:
        raise ValueError(f"masks {hidden.shape} must have the shape of the images {x.shape}.")
    n = len(x)
    flat_x, flat_h = x.reshape(n, -1), hidden.reshape(n, -1)
    if flat_x.shape[1] != pca.components_.shape[1]:
        raise ValueError(f"the PCA was fitted on {pca.components_.shape[1]} pixels, the images "
                         f"have {flat_x.shape[1]}.")
    k = len(pca.components_) if n_components is None else int(n_components)
    if not 1 <= k <= len(pca.components_):
        raise ValueError(f"n_components must be in [1, {len(pca.components_)}], got {k}.")
    variances = pca.explained_variance_.astype(np.float64)
    noise = variances[k:].mean() if k < len(variances) else pca.noise_variance_
    w = pca.components_[:k].astype(np.float32)                    # (k, p), orthonormal rows
    mean = pca.mean_.astype(np.float32)                           # (p,)
    prior = np.diag(np.float32(max(noise, 1e-8)) / variances[:k]).astype(np.float32)
    # W_v W_vᵀ = I − W_h W_hᵀ (W W ᵀ = I): only the hidden pixels enter the k × k systems.
    # Each image's hidden pixels come first in `order`, padded with visible ones weighted 0.
    n_hidden = int(flat_h.sum(axis=1).max()) if n else 0
    order = np.argsort(-flat_h, axis=1, kind="stable")[:, :max(n_hidden, 1)]
    out = np.empty_like(flat_x)
    batch_size = max(1, 2**22 // (k * max(n_hidden, 1)))          # about 16 MB per (b, k, m) array
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        xb, hb = flat_x[start:stop], flat_h[start:stop]
        ob = order[start:stop]
        wh = w[:, ob].transpose(1, 0, 2) * np.take_along_axis(hb, ob, axis=1)[:, None, :]
        gram = np.eye(k, dtype=np.float32) - wh @ wh.transpose(0, 2, 1) + prior   # (b, k, k)
        rhs = ((1.0 - hb) * (xb - mean)) @ w.T                                      # (b, k)
        coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
        fill = np.clip(mean + coef @ w, 0.0, 1.0)
        out[start:stop] = (1.0 - hb) * xb + hb * fill
    return out.reshape(x.shape)
