"""Reconstruction errors and image-quality metrics, computed in batches to save memory."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Reconstructor = Callable[[NDArray[np.float32]], NDArray[np.float32]]


def as_unit_float(batch: NDArray) -> NDArray[np.float32]:
    """uint8 pixels scaled to [0, 1] float32; other arrays as float32, unchanged in value."""
    if batch.dtype == np.uint8:
        return batch.astype(np.float32) / np.float32(255.0)
    return batch.astype(np.float32, copy=False)


def reconstruction_errors(reconstruct, x: NDArray, batch_size: int = 1000,
                          kind: str = "mse", targets: NDArray | None = None
                          ) -> NDArray[np.float32]:
    """Per-example reconstruction error, one batch at a time.

    Args:
        reconstruct: a Keras model, or any function mapping a float batch ``(b, ...)`` to its
            reconstruction of the same shape (a PCA round trip, a filter...).
        x: ``(n, ...)`` inputs; uint8 images are scaled to [0, 1] first.
        kind: ``"mse"`` (mean squared error) or ``"mae"`` (mean absolute error) per example.
        targets: ``(n, ...)`` what the output should be, if not ``x`` itself (the clean images
            for a denoiser, say); uint8 is scaled like ``x``.

    Returns:
        ``(n,)`` float32 errors; their mean is the data set's MSE (or MAE).
    """
    if kind not in ("mse", "mae"):
        raise ValueError(f"kind must be 'mse' or 'mae', got {kind!r}")
    if targets is not None and targets.shape != x.shape:
        raise ValueError(f"targets {targets.shape} must have the shape of x {x.shape}.")
    fn = getattr(reconstruct, "predict_on_batch", reconstruct)
    out = np.empty(len(x), np.float32)
    for start in range(0, len(x), batch_size):
        batch = as_unit_float(x[start:start + batch_size])
        target = batch if targets is None else as_unit_float(targets[start:start + batch_size])
        diff = np.asarray(fn(batch), np.float32) - target
        err = np.square(diff) if kind == "mse" else np.abs(diff)
        out[start:start + len(batch)] = err.reshape(len(batch), -1).mean(axis=1)
    return out


def psnr(mse: NDArray | float, max_value: float = 1.0) -> NDArray | float:
    """Peak signal-to-noise ratio in dB, ``10 log10(max_value**2 / mse)``, element-wise."""
    return 10.0 * np.log10(max_value**2 / np.asarray(mse, dtype=np.float64))
