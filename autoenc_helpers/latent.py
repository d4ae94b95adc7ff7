"""Latent-space helpers for lesson 3: reconstruction snapshots, class means, t-SNE maps and
their scores, and out-of-distribution inputs for an autoencoder-based novelty detector.

Images are ``(n, h, w)`` arrays, uint8 in [0, 255] or float in [0, 1]; codes are ``(n, d)``,
as :func:`autoenc_helpers.models.encode` returns them.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from numpy.typing import NDArray

from autoenc_helpers.data import to_float
from autoenc_helpers.metrics import check_codes


class ReconstructionSnapshots(keras.callbacks.Callback):
    """Keep the model's reconstructions of a few fixed images after chosen epochs.

    Args:
        images: ``(m, h, w)`` images (uint8 or float in [0, 1]) to reconstruct.
        epochs: 1-based epoch numbers after which to take a snapshot.

    After ``fit``, ``snapshots`` maps each epoch number reached to an ``(m, h, w)`` float32
    array of reconstructions.
    """

    def __init__(self, images: NDArray, epochs: Sequence[int]):
        super().__init__()
        self.images = to_float(np.asarray(images))
        self.epochs = {int(e) for e in epochs}
        self.snapshots: dict[int, NDArray[np.float32]] = {}

    def on_epoch_end(self, epoch: int, logs=None) -> None:  # noqa: D102 (Keras hook)
        if epoch + 1 in self.epochs:
            out = self.model.predict_on_batch(self.images)
            self.snapshots[epoch + 1] = np.asarray(out, np.float32)


# --------------------------------------------------------------------------- class means


def class_means(z: NDArray, y: NDArray) -> NDArray[np.float32]:
    """Mean code of each class ``0 .. y.max()``: ``(n_classes, d)`` from ``(n, d)`` codes."""
    z, y = _codes_and_labels(z, y, "class_means")
    return np.stack([z[y == c].mean(axis=0) for c in range(int(y.max()) + 1)]).astype(np.float32)


# ------------------------------------------------------------------------ maps and their quality


def _codes_and_labels(z: NDArray, y: NDArray, who: str) -> tuple[NDArray, NDArray]:
    """``(z, y)`` checked: :func:`~autoenc_helpers.metrics.check_codes`, and ``(n,)`` labels."""
    z, y = check_codes(z, who), np.asarray(y)
    if y.shape != (len(z),):
        raise ValueError(f"{who}: expected {len(z)} labels of shape ({len(z)},), got shape "
                         f"{y.shape}.")
    return z, y


def tsne_2d(z: NDArray, random_state: int = 0, n_jobs: int = 2, perplexity: float = 30.0,
            n_iter: int = 500, negative_gradient_method: str = "auto",
            initialization: str = "pca") -> NDArray[np.float32]:
    """A 2-d t-SNE map of codes with openTSNE (its own API, not scikit-learn's).

    Defaults are openTSNE's: PCA initialisation, perplexity 30, 250 early-exaggeration
    iterations then ``n_iter``, and its ``"auto"`` gradient method, which picks the fastest
    approximation for the size: Barnes-Hut below 10,000 points, FFT interpolation above.

    Args:
        z: ``(n, d)`` codes, ``n`` larger than ``3 * perplexity``.
        random_state: fixes the neighbour search and the PCA initialisation: reruns agree.
        n_iter: iterations after the 250 of early exaggeration.

    Returns:
        ``(n, 2)`` float32 map coordinates, one row per code.
    """
    from openTSNE import TSNE

    z = check_codes(z, "tsne_2d")
    if len(z) <= 3 * perplexity:
        raise ValueError(f"tsne_2d: need more than 3 * perplexity = {3 * perplexity:g} points, "
                         f"got {len(z)}; lower the perplexity.")
    tsne = TSNE(n_components=2, perplexity=perplexity, n_iter=n_iter,
                initialization=initialization,
                negative_gradient_method=negative_gradient_method, n_jobs=n_jobs,
                random_state=random_state)
    return np.asarray(tsne.fit(np.ascontiguousarray(z, dtype=np.float64)), np.float32)


def knn_accuracy(z_train: NDArray, y_train: NDArray, z_test: NDArray, y_test: NDArray,
                 k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour classifier fitted on ``(z_train, y_train)`` and scored on
    ``(z_test, y_test)``: how well codes of the same label cluster. Codes are ``(n, d)``."""
    from sklearn.neighbors import KNeighborsClassifier

    z_train, y_train = _codes_and_labels(z_train, y_train, "knn_accuracy")
    z_test, y_test = _codes_and_labels(z_test, y_test, "knn_accuracy")
    if z_train.shape[1] != z_test.shape[1]:
        raise ValueError(f"knn_accuracy: training codes have {z_train.shape[1]} dimensions, "
                         f"test codes {z_test.shape[1]}.")
    return float(KNeighborsClassifier(k).fit(z_train, y_train).score(z_test, y_test))


def knn_cv_accuracy(z: NDArray, y: NDArray, k: int = 5, folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy of a k-nearest-neighbour classifier under stratified ``folds``-fold
    cross-validation on the ``(n, d)`` points ``z`` with labels ``y``: usable on a 2-d map,
    whose points cannot be placed next to the training codes."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    z, y = _codes_and_labels(z, y, "knn_cv_accuracy")
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(cross_val_score(KNeighborsClassifier(k), z, y, cv=cv).mean())


# --------------------------------------------------------------------------- out-of-distribution


def rotate(images: NDArray, degrees: int) -> NDArray:
    """Images ``(n, h, w)`` rotated anticlockwise by a multiple of 90 degrees (same dtype)."""
    if degrees % 90:
        raise ValueError(f"rotate: degrees must be a multiple of 90, got {degrees}.")
    images = _image_stack(images, "rotate")
    return np.ascontiguousarray(np.rot90(images, k=(degrees // 90) % 4, axes=(1, 2)))


def invert(images: NDArray) -> NDArray:
    """Negatives ``(n, h, w)``: white digits on black become black on white (same dtype)."""
    images = _image_stack(images, "invert")
    return (255 - images) if images.dtype == np.uint8 else (1.0 - images).astype(images.dtype)


def noise_images(n: int, shape: Sequence[int] = (28, 28), seed: int = 0) -> NDArray[np.uint8]:
    """``(n, *shape)`` uint8 images of independent uniform noise in [0, 255]."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _image_stack(images: NDArray, who: str) -> NDArray:
    """``images`` as an array of shape ``(n, h, w)``, else a ValueError naming ``who``."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"{who}: expected images of shape (n, h, w), got {images.shape}.")
    return images
