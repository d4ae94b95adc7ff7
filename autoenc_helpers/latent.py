"""Latent-space helpers for lesson 3: encode in batches, interpolate, map with t-SNE, score a
map, and make out-of-distribution inputs for an autoencoder-based novelty detector.

Images are ``(n, h, w)`` arrays, uint8 in [0, 255] or float in [0, 1]; codes are ``(n, d)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from numpy.typing import NDArray

from autoenc_helpers.data import to_float


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


# --------------------------------------------------------------------------- encode, interpolate


def encode(encoder, x: NDArray, batch_size: int = 1000) -> NDArray[np.float32]:
    """Codes of ``x``, one batch at a time (uint8 batches are scaled to [0, 1] on the fly).

    Args:
        encoder: a Keras model, or any function from a float batch ``(b, h, w)`` to ``(b, d)``.
        x: ``(n, h, w)`` images matching the encoder's input shape.

    Returns:
        ``(n, d)`` float32 codes.

    Raises:
        ValueError: ``x`` does not have the encoder's input shape, or ``batch_size < 1``.
    """
    x = np.asarray(x)
    expected = getattr(encoder, "input_shape", None)
    if expected is not None and (x.ndim != len(expected)
                                 or tuple(x.shape[1:]) != tuple(expected[1:])):
        raise ValueError(f"encode: the encoder expects inputs of shape (n, "
                         f"{', '.join(map(str, expected[1:]))}), got an array of shape {x.shape}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    fn = getattr(encoder, "predict_on_batch", encoder)
    chunks = [np.asarray(fn(to_float(x[i:i + batch_size])), np.float32)
              for i in range(0, len(x), batch_size)]
    if not chunks:
        raise ValueError("encode: got no inputs (an empty array).")
    codes = np.concatenate(chunks)
    return codes.reshape(len(x), -1)


def interpolate(a: NDArray, b: NDArray, n_steps: int = 10) -> NDArray[np.float32]:
    """Points on the straight line from ``a`` to ``b``, both included.

    Works for codes ``(d,)`` and for images ``(h, w)`` (interpolation in pixel space) alike.

    Returns:
        ``(n_steps, *a.shape)`` float32: ``out[0] == a``, ``out[-1] == b``, evenly spaced.

    Raises:
        ValueError: ``a`` and ``b`` differ in shape, or ``n_steps < 2``.
    """
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    if a.shape != b.shape:
        raise ValueError(f"interpolate: both ends must have the same shape, got {a.shape} "
                         f"and {b.shape} (pass single codes, e.g. z[i], not z[i:i+1] and z[j]).")
    if n_steps < 2:
        raise ValueError(f"n_steps must be at least 2 (the two ends), got {n_steps}.")
    t = np.linspace(0.0, 1.0, n_steps, dtype=np.float32).reshape((-1,) + (1,) * a.ndim)
    out = (1.0 - t) * a + t * b
    out[0], out[-1] = a, b  # exact ends, whatever the rounding
    return out


def class_means(z: NDArray, y: NDArray) -> NDArray[np.float32]:
    """Mean code of each class ``0 .. y.max()``: ``(n_classes, d)`` from ``(n, d)`` codes."""
    z, y = _check_codes(z, y, "class_means")
    return np.stack([z[y == c].mean(axis=0) for c in range(int(y.max()) + 1)]).astype(np.float32)


# ------------------------------------------------------------------------ maps and their quality


def _check_codes(z: NDArray, y: NDArray | None = None, who: str = "") -> tuple[NDArray, NDArray]:
    z = np.asarray(z)
    if z.ndim != 2:
        raise ValueError(f"{who}: expected codes of shape (n, d), got an array of shape "
                         f"{z.shape}; flatten images first, e.g. x.reshape(len(x), -1).")
    if not np.isfinite(z).all():
        raise ValueError(f"{who}: the codes contain NaN or infinite values.")
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(z),):
            raise ValueError(f"{who}: expected {len(z)} labels of shape ({len(z)},), "
                             f"got shape {y.shape}.")
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

    z, _ = _check_codes(z, None, "tsne_2d")
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

    z_train, y_train = _check_codes(z_train, y_train, "knn_accuracy")
    z_test, y_test = _check_codes(z_test, y_test, "knn_accuracy")
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

    z, y = _check_codes(z, y, "knn_cv_accuracy")
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
