"""Analysis tools for lesson 6 (regularised autoencoders): how sparse a code is, how much it
moves when the input moves.

The models and their penalties live in :mod:`autoenc_helpers.models` (lesson 6 section); this
module only *measures* trained encoders. Images are ``(n, h, w)`` arrays, uint8 in [0, 255] or
float in [0, 1] (uint8 is scaled on the fly); codes are ``(n, d)``.
"""

from __future__ import annotations

import keras
import numpy as np
from numpy.typing import NDArray

from autoenc_helpers.data import to_float
from autoenc_helpers.metrics import check_codes

__all__ = ["activation_summary", "code_sensitivity", "feature_images",
           "jacobian_norms", "near_zero_fraction", "unit_mean_activation", "units_on"]


def _check_batch(x: NDArray, encoder: keras.Model) -> None:
    expected = tuple(encoder.input_shape[1:])
    if x.ndim < 1 or len(x) == 0 or tuple(x.shape[1:]) != expected:
        shape = ", ".join(map(str, expected))
        raise ValueError(f"x must be a non-empty batch of shape (n, {shape}) for this encoder, "
                         f"got {x.shape}.")


def unit_mean_activation(codes: NDArray) -> NDArray[np.float32]:
    """Mean activation of every code unit over a set of images.

    Args:
        codes: ``(n, d)`` code activations, e.g. sigmoid outputs in [0, 1].

    Returns:
        ``(d,)``: the mean of each unit over the ``n`` images, the quantity the KL penalty
        pulls towards its target.
    """
    return check_codes(codes, dtype=np.float32).mean(axis=0)


def near_zero_fraction(codes: NDArray, tol: float = 0.01) -> NDArray[np.float32]:
    """Per image, the fraction of code units whose activation is below ``tol`` ("off").

    Args:
        codes: ``(n, d)`` non-negative activations (sigmoid or ReLU).
        tol: a unit counts as off when its activation is ``< tol``.

    Returns:
        ``(n,)`` fractions in [0, 1].
    """
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}.")
    return (check_codes(codes, dtype=np.float32) < tol).mean(axis=1, dtype=np.float32)


def units_on(codes: NDArray, tol: float = 0.01) -> NDArray[np.float32]:
    """Per image, the share of code units that are on: activation at or above ``tol``.

    Args:
        codes: ``(n, d)`` non-negative activations (sigmoid or ReLU).
        tol: a unit counts as on when its activation is ``>= tol`` (and as off below it).

    Returns:
        ``(n,)`` shares in [0, 1], ``1 - near_zero_fraction(codes, tol)``; their median over
        the images is how many units the typical image uses.
    """
    return np.float32(1.0) - near_zero_fraction(codes, tol)


def activation_summary(codes: NDArray, tol: float = 0.01) -> dict[str, float]:
    """A few numbers that describe how sparse a code is, the threshold ``tol`` stated.

    Args:
        codes: ``(n, d)`` activations. tol: threshold below which a unit counts as off.

    Returns:
        ``{"mean activation", "units on: median", "units on: 10th percentile", "units on: 90th
        percentile", "units never on"}``: the mean over all images and units; the median and
        the spread over the images of the share of units on per image (:func:`units_on`); the
        share of units that stay below ``tol`` on every image (dead units).
    """
    codes = check_codes(codes, dtype=np.float32)
    on = units_on(codes, tol)
    return {"mean activation": float(codes.mean()),
            "units on: median": float(np.median(on)),
            "units on: 10th percentile": float(np.quantile(on, 0.1)),
            "units on: 90th percentile": float(np.quantile(on, 0.9)),
            "units never on": float((codes < tol).all(axis=0).mean())}


def _jacobian_norms_function(encoder: keras.Model):
    """A compiled TensorFlow function: flat inputs ``(b, D)`` -> the squared Frobenius norms
    ``(b,)`` of the encoder's Jacobians ``(b, d, D)``. Compiling it (``tf.function``) makes the
    ``d`` backward passes several times faster than running them eagerly."""
    import tensorflow as tf

    shape = tuple(encoder.input_shape[1:])

    @tf.function(reduce_retracing=True)
    def jacobian(flat):
        with tf.GradientTape() as tape:
            tape.watch(flat)
            code = encoder(tf.reshape(flat, (-1, *shape)), training=False)
        if len(code.shape) != 2:
            raise ValueError(f"the encoder must output (n, d) codes, got {code.shape}.")
        return tf.reduce_sum(tf.square(tape.batch_jacobian(code, flat)), axis=[1, 2])

    return jacobian


def jacobian_norms(encoder: keras.Model, x: NDArray, batch_size: int = 100) -> NDArray[np.float32]:
    """Squared Frobenius norm ``||J_f(x)||_F^2`` of the encoder's Jacobian at every image.

    This is the contractive penalty computed the general way, by automatic differentiation
    (TensorFlow's ``GradientTape.batch_jacobian``), so it works for any encoder, penalised or
    not. It costs about ``d`` backward passes per image: for thousands of images and a dense
    sigmoid encoder, the closed form :func:`autoenc_helpers.models.contractive_penalty` is far
    cheaper.

    Args:
        encoder: ``(n, *input_shape) -> (n, d)`` Keras model. x: ``(n, *input_shape)`` inputs.
        batch_size: images per Jacobian (memory grows with ``batch_size * d * D``).

    Returns:
        ``(n,)`` float32 squared norms.
    """
    x = np.asarray(x)
    _check_batch(x, encoder)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    norms = _jacobian_norms_function(encoder)
    out = np.empty(len(x), np.float32)
    for start in range(0, len(x), batch_size):
        chunk = to_float(x[start:start + batch_size])
        out[start:start + len(chunk)] = norms(chunk.reshape(len(chunk), -1)).numpy()
    return out


def code_sensitivity(encoder: keras.Model, x: NDArray, noise_std: float = 0.05, seed: int = 0,
                     batch_size: int = 1000) -> NDArray[np.float32]:
    """How far the code moves when the input moves a little: ``||f(x + e) - f(x)|| / ||e||``.

    ``e`` is Gaussian noise of standard deviation ``noise_std`` on every input value (not
    clipped, so that ``e`` is exactly the perturbation); the same noise (from ``seed``) is used
    for every encoder, so that encoders can be compared image by image. For small noise the
    mean square of the ratio approaches ``||J_f(x)||_F^2 / prod(input_shape)``.

    Args:
        encoder: ``(n, *input_shape) -> (n, d)`` Keras model. x: ``(n, *input_shape)`` inputs.
        noise_std: size of the perturbation, in pixel units ([0, 1] scale).

    Returns:
        ``(n,)`` float32 ratios (code distance per unit of input distance).
    """
    x = np.asarray(x)
    _check_batch(x, encoder)
    if not noise_std > 0:
        raise ValueError(f"noise_std must be positive, got {noise_std}.")
    rng = np.random.default_rng(seed)
    out = np.empty(len(x), np.float32)
    for start in range(0, len(x), batch_size):
        clean = to_float(x[start:start + batch_size])
        noise = rng.normal(0.0, noise_std, clean.shape).astype(np.float32)
        # direct calls: no tf.function to trace for every encoder measured
        moved = (np.asarray(encoder(clean + noise, training=False))
                 - np.asarray(encoder(clean, training=False)))
        n = len(clean)
        out[start:start + n] = (np.linalg.norm(moved.reshape(n, -1), axis=1)
                                / np.linalg.norm(noise.reshape(n, -1), axis=1))
    return out


def feature_images(kernel: NDArray,
                   image_shape: tuple[int, int] = (28, 28)) -> NDArray[np.float32]:
    """The weights of a dense layer, one image per code unit, scaled to [0, 1] for display.

    Args:
        kernel: ``(d, h * w)`` weights from a code of ``d`` units to ``h * w`` pixels (the
            decoder's output layer), or ``(h * w, d)`` (an encoder's code layer): the axis of
            size ``h * w`` is found by its size.
        image_shape: ``(h, w)``.

    Returns:
        ``(d, h, w)``: each unit's weights min-max scaled on their own, so that 0 (black) is
        the most negative weight and 1 (white) the most positive.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    n_pixels = int(np.prod(image_shape))
    if kernel.ndim != 2 or n_pixels not in kernel.shape:
        raise ValueError(f"kernel must be a 2-d array with an axis of size {n_pixels} "
                         f"(= {image_shape[0]}x{image_shape[1]} pixels), got {kernel.shape}.")
    rows = kernel if kernel.shape[1] == n_pixels else kernel.T
    low, high = rows.min(axis=1, keepdims=True), rows.max(axis=1, keepdims=True)
    scaled = (rows - low) / np.maximum(high - low, 1e-12)
    return scaled.reshape(len(rows), *image_shape)
