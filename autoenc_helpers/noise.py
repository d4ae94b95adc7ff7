"""Corruption helpers for denoising autoencoders, and a non-learned baseline filter.

Two kinds of noise, both clipped to [0, 1] afterwards:

- ``"gaussian"``: additive, ``x + level * z`` with ``z ~ N(0, 1)`` per pixel; dark background
  pixels get as much noise as bright ones.
- ``"speckle"``: multiplicative, ``x + level * x * z`` (as in scikit-image's ``"speckle"``);
  the noise grows with the brightness, the black background stays black.

The maths lives in one function, :func:`_corrupt`, used by both front ends:

- :func:`add_noise` for NumPy arrays with an integer seed: one fixed, reproducible noisy copy
  of a (small) validation or test set;
- :func:`make_corrupt`, which builds the ``corrupt(clean_batch, seed_pair)`` function that
  :func:`autoenc_helpers.data.autoencoder_dataset` calls for every training batch, with
  TensorFlow's stateless random ops: new noise for every batch and epoch, reproducible, and no
  noisy copy of the training set in memory.

Both front ends validate their arguments through :class:`Noise` (a clear ``ValueError`` for an
unknown kind or a negative level).

Also here: :func:`denoising_errors` (per-image MSE of a denoiser's output against the clean
images); the non-learned baseline, :func:`filter_images`, a classical Gaussian or median filter
from ``scipy.ndimage`` applied to each image separately, whose strength :func:`choose_filter`
picks on validation data. The lesson's convolutional autoencoder is written in the notebook
(and kept in :func:`autoenc_helpers.models.conv_autoencoder`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from autoenc_helpers.data import to_float
from autoenc_helpers.metrics import reconstruction_errors

#: The kinds of noise the helpers know.
NOISE_KINDS: tuple[str, ...] = ("gaussian", "speckle")
#: Baseline filters known to :func:`filter_images` and what their parameter means.
FILTER_METHODS: dict[str, str] = {"gaussian": "sigma (pixels)", "median": "window size (pixels)"}


@dataclass(frozen=True)
class Noise:
    """One kind of noise at one level, validated on creation.

    Attributes:
        kind: one of :data:`NOISE_KINDS`.
        level: standard deviation of the Gaussian factor ``z`` (``>= 0``; 0 means no noise).

    Raises:
        ValueError: unknown kind, or a level that is negative, NaN or infinite.
    """

    kind: str = "gaussian"
    level: float = 0.2

    def __post_init__(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise kind {self.kind!r}; choose one of {NOISE_KINDS}.")
        if isinstance(self.level, bool) or not isinstance(self.level, (int, float, np.number)):
            raise ValueError(f"noise level must be a number, got {self.level!r}.")
        if not math.isfinite(self.level) or self.level < 0:
            raise ValueError(f"noise level must be a finite number >= 0, got {self.level}.")
        object.__setattr__(self, "level", float(self.level))

    @property
    def label(self) -> str:
        """A short name for tables and figures, e.g. ``"gaussian 0.2"``."""
        return f"{self.kind} {self.level:g}"

    def __str__(self) -> str:
        return self.label


def _as_noise(noise: Noise | str, level: float | None) -> Noise:
    if isinstance(noise, Noise):
        if level is not None:
            raise ValueError("give either a Noise, or a kind and a level, not both.")
        return noise
    return Noise(noise, 0.2 if level is None else level)


def _corrupt(x, z, level, speckle, clip: Callable):
    """The noise model, shared by the NumPy and TensorFlow front ends.

    ``x`` clean images in [0, 1], ``z`` standard normal numbers of the same shape, ``level`` the
    noise level and ``speckle`` 1 for multiplicative noise, 0 for additive (scalars, or arrays
    that broadcast against ``x``). Returns ``clip(x + level * z * (1 - speckle + speckle * x))``.
    """
    return clip(x + level * z * ((1.0 - speckle) + speckle * x))


def add_noise(images: NDArray, noise: Noise | str = "gaussian", level: float | None = None,
              seed: int = 0, chunk: int = 1000) -> NDArray[np.float32]:
    """A noisy copy of ``images``, reproducible from ``seed``.

    Args:
        images: ``(n, ...)`` uint8 pixels (scaled to [0, 1] first) or floats in [0, 1].
        noise: a :class:`Noise`, or a kind (``"gaussian"``/``"speckle"``) with ``level``
            (default 0.2).
        seed: seed of NumPy's generator; the same seed gives the same noise.
        chunk: images processed at a time, to keep temporary arrays small (the result does
            not depend on it).

    Returns:
        ``(n, ...)`` float32 in [0, 1], a new array (the input is left untouched).

    Raises:
        ValueError: unknown kind, negative level, or images outside [0, 1].
    """
    spec = _as_noise(noise, level)
    images = np.asarray(images)
    if images.ndim < 1:
        raise ValueError("images must be an array of shape (n, ...).")
    rng = np.random.default_rng(seed)
    level32, speckle = np.float32(spec.level), np.float32(spec.kind == "speckle")
    out = np.empty(images.shape, np.float32)
    chunk = max(1, int(chunk))
    for start in range(0, len(images), chunk):
        x = to_float(images[start:start + chunk])
        z = rng.standard_normal(x.shape, dtype=np.float32)  # one stream, whatever the chunks
        out[start:start + len(x)] = _corrupt(x, z, level32, speckle,
                                             lambda t: np.clip(t, 0.0, 1.0))
    return out


def make_corrupt(noise: Noise | str | Sequence[Noise] = "gaussian", level: float | None = None):
    """The ``corrupt(clean_batch, seed_pair)`` function for
    :func:`autoenc_helpers.data.autoencoder_dataset`.

    Args:
        noise: a :class:`Noise` (or a kind with ``level``), or a sequence of them: each image of
            a batch then gets one of them, drawn at random (a *mixture* of noises).

    Returns:
        A TensorFlow function mapping a float32 batch ``(b, h, w)`` in [0, 1] and a ``(2,)``
        int seed tensor to a noisy ``(b, h, w)`` float32 batch in [0, 1]. Stateless: the same
        seed pair gives the same noise.
    """
    import tensorflow as tf

    if isinstance(noise, (Noise, str)):
        specs = [_as_noise(noise, level)]
    else:
        if level is not None:
            raise ValueError("level applies to a single kind of noise, not to a sequence.")
        specs = [n if isinstance(n, Noise) else Noise(*n) for n in noise]
        if not specs:
            raise ValueError("give at least one Noise.")
    levels = tf.constant([s.level for s in specs], tf.float32)
    speckles = tf.constant([float(s.kind == "speckle") for s in specs], tf.float32)

    def clip(t):
        return tf.clip_by_value(t, 0.0, 1.0)

    def corrupt(clean, seed_pair):
        clean = tf.convert_to_tensor(clean, tf.float32)
        seeds = tf.random.experimental.stateless_split(tf.cast(seed_pair, tf.int64), 2)
        z = tf.random.stateless_normal(tf.shape(clean), seed=seeds[0], dtype=tf.float32)
        if len(specs) == 1:
            return _corrupt(clean, z, levels[0], speckles[0], clip)
        pick = tf.random.stateless_uniform(tf.shape(clean)[:1], seed=seeds[1],
                                           maxval=len(specs), dtype=tf.int32)
        per_image = tf.concat([tf.shape(clean)[:1], tf.ones_like(tf.shape(clean)[1:])], 0)
        lvl = tf.reshape(tf.gather(levels, pick), per_image)
        spk = tf.reshape(tf.gather(speckles, pick), per_image)
        return _corrupt(clean, z, lvl, spk, clip)

    return corrupt


# --------------------------------------------------------------------------- measuring


def denoising_errors(denoise, noisy: NDArray, clean: NDArray,
                     batch_size: int = 1000) -> NDArray[np.float32]:
    """Per-image mean squared error between ``denoise(noisy)`` and the clean images.

    Args:
        denoise: a Keras model (``predict_on_batch`` is used) or any function mapping a float
            batch ``(b, h, w)`` to ``(b, h, w)``; ``None`` scores the noisy images themselves.
        noisy: ``(n, h, w)`` float32 inputs in [0, 1]. clean: ``(n, h, w)`` targets, uint8 or
            float in [0, 1].

    Returns:
        ``(n,)`` float32; the mean is the data set's MSE, ``metrics.psnr`` of it its PSNR.
    """
    if len(noisy) != len(clean) or noisy.shape[1:] != clean.shape[1:]:
        raise ValueError(f"noisy {noisy.shape} and clean {clean.shape} must have the same shape.")
    to_float(clean[:1])
    identity = lambda batch: batch  # noqa: E731  (score the noisy images themselves)
    return reconstruction_errors(identity if denoise is None else denoise, noisy,
                                 batch_size=batch_size, targets=clean)


# --------------------------------------------------------------------------- baseline


def filter_images(images: NDArray, method: str = "gaussian",
                  param: float = 1.0) -> NDArray[np.float32]:
    """A classical, non-learned denoiser applied to each image separately.

    Args:
        images: ``(n, h, w)`` uint8 or float in [0, 1].
        method: ``"gaussian"`` (blur with standard deviation ``param`` pixels,
            ``scipy.ndimage.gaussian_filter``) or ``"median"`` (median of a ``param`` x
            ``param`` window, ``scipy.ndimage.median_filter``).

    Returns:
        ``(n, h, w)`` float32 in [0, 1].
    """
    from scipy import ndimage

    x = to_float(images)
    if x.ndim != 3:
        raise ValueError(f"images must be (n, h, w), got shape {x.shape}.")
    if method == "gaussian":
        if not param > 0:
            raise ValueError(f"the Gaussian filter's sigma must be > 0, got {param}.")
        return ndimage.gaussian_filter(x, sigma=(0, param, param), mode="nearest")
    if method == "median":
        if int(param) != param or param < 1:
            raise ValueError(f"the median filter's window size must be an integer >= 1, "
                             f"got {param}.")
        return ndimage.median_filter(x, size=(1, int(param), int(param)), mode="nearest")
    raise ValueError(f"unknown filter {method!r}; choose one of {tuple(FILTER_METHODS)}.")


def choose_filter(noisy: NDArray, clean: NDArray,
                  candidates: Mapping[str, Sequence[float]]) -> tuple[str, float, dict]:
    """Pick the baseline filter and strength with the lowest MSE, on validation data.

    Args:
        noisy: ``(n, h, w)`` noisy validation images. clean: their clean originals.
        candidates: ``{method: [param, ...]}``, e.g. ``{"gaussian": [0.5, 1], "median": [3]}``.

    Returns:
        ``(method, param, scores)`` with ``scores[(method, param)]`` the validation MSE of each.
    """
    scores = {(m, p): float(denoising_errors(lambda b, m=m, p=p: filter_images(b, m, p),
                                             noisy, clean).mean())
              for m, params in candidates.items() for p in params}
    if not scores:
        raise ValueError("give at least one candidate filter.")
    method, param = min(scores, key=scores.get)
    return method, param, scores
