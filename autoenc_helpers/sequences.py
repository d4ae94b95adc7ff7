"""Sequence autoencoders (lesson 5): the synthetic series, input checks, what a code knows.

The models themselves live in :mod:`autoenc_helpers.models` (:func:`~autoenc_helpers.models.
recurrent_autoencoder`, :func:`~autoenc_helpers.models.conv1d_autoencoder`,
:func:`~autoenc_helpers.models.conditional_recurrent_autoencoder`; codes come from
:func:`~autoenc_helpers.models.encode`), the lesson's figures in :mod:`autoenc_helpers.plots`.
This module holds:

- :func:`make_signals` and :func:`make_signal_splits`: labelled synthetic series
  (:data:`SIGNAL_FAMILIES`, named by :func:`signal_names`), the three parts drawn independently
  (an :class:`autoenc_helpers.data.Splits`);
- :func:`as_sequences`: ``(n, T)`` or ``(n, T, F)`` arrays checked and shaped for a sequence
  model, with a clear ``ValueError`` for a wrong rank or a NaN;
- :func:`linear_probe` and :func:`pca_features`: how much of the labels a linear classifier
  can read from codes, raw samples or their principal components;
- :func:`code_ablation`: what a decoder makes of its own code, a zero code and another
  series' code.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autoenc_helpers.data import Splits

# --------------------------------------------------------------------------- the synthetic series

#: The families of :func:`make_signals`, indexed by label: ``(waveform, period in samples)``.
#: The two sines are the tutorial's periods of 20 and 80 samples, sampled half as often.
SIGNAL_FAMILIES: tuple[tuple[str, float], ...] = (
    ("sine", 10.0), ("sine", 40.0), ("square", 20.0), ("sawtooth", 20.0),
)
_WAVEFORMS = ("sine", "square", "sawtooth", "triangle")


def signal_names(families: tuple[tuple[str, float], ...] = SIGNAL_FAMILIES) -> list[str]:
    """Readable names of the families, indexed by label, e.g. ``"sine, period 10"``."""
    return [f"{kind}, period {period:g}" for kind, period in families]


def _waveform(kind: str, cycles: NDArray[np.float64]) -> NDArray[np.float64]:
    """One of :data:`_WAVEFORMS` in [-1, 1] at the given (fractional) numbers of cycles."""
    frac = cycles - np.floor(cycles)
    if kind == "sine":
        return np.sin(2 * np.pi * cycles)
    if kind == "square":
        return np.where(frac < 0.5, 1.0, -1.0)
    if kind == "sawtooth":
        return 2.0 * frac - 1.0
    return 1.0 - 4.0 * np.abs(frac - 0.5)  # triangle


def make_signals(n_per_family: int, length: int = 50, seed: int | np.random.Generator = 0,
                 noise: float = 0.1, families: tuple[tuple[str, float], ...] = SIGNAL_FAMILIES,
                 period_jitter: float = 0.1, amplitude_jitter: float = 0.2
                 ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Labelled synthetic series: every series is drawn on its own, never cut from another.

    Each series of family ``(kind, period)`` is ``a * waveform(t / p + phase) + noise`` with
    a random phase in [0, 1), a period ``p`` within ``period_jitter`` (relative) of the
    family's, an amplitude ``a`` within ``amplitude_jitter`` of 1, and Gaussian noise of
    standard deviation ``noise``. The same arguments always give the same series.

    Args:
        n_per_family: series per family. length: samples per series.
        seed: an integer, or a NumPy ``Generator`` to draw from.
        families: ``(waveform, period)`` pairs, waveform one of ``"sine"``, ``"square"``,
            ``"sawtooth"``, ``"triangle"``; the label of a series is its family's index.

    Returns:
        ``(x, y)``: ``x`` ``(n_per_family * len(families), length)`` float32, ``y`` the
        ``(n,)`` int64 labels; rows in random order.
    """
    if n_per_family < 1 or length < 2:
        raise ValueError(f"need n_per_family >= 1 and length >= 2, got {n_per_family} "
                         f"and {length}.")
    if noise < 0 or not 0 <= period_jitter < 1 or not 0 <= amplitude_jitter < 1:
        raise ValueError("noise must be >= 0 and the jitters in [0, 1), got "
                         f"{noise}, {period_jitter}, {amplitude_jitter}.")
    for kind, period in families:
        if kind not in _WAVEFORMS or not period > 0:
            raise ValueError(f"unknown family ({kind!r}, {period}): waveform one of "
                             f"{_WAVEFORMS} and a positive period.")
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64)
    xs, ys = [], []
    for label, (kind, period) in enumerate(families):
        shape = (n_per_family, 1)
        periods = period * rng.uniform(1 - period_jitter, 1 + period_jitter, shape)
        phases = rng.uniform(0.0, 1.0, shape)
        amplitudes = rng.uniform(1 - amplitude_jitter, 1 + amplitude_jitter, shape)
        clean = amplitudes * _waveform(kind, t / periods + phases)
        xs.append(clean + noise * rng.standard_normal((n_per_family, length)))
        ys.append(np.full(n_per_family, label, np.int64))
    order = rng.permutation(n_per_family * len(families))
    return np.concatenate(xs).astype(np.float32)[order], np.concatenate(ys)[order]


def make_signal_splits(n_train: int, n_val: int, n_test: int, length: int = 50, seed: int = 0,
                       **kwargs) -> Splits:
    """Train, validation and test sets of :func:`make_signals`, ``n_*`` series per family, as a
    :class:`autoenc_helpers.data.Splits` (``x_*``: ``(n, length)``, ``y_*``: ``(n,)``).

    The three parts come from three independent random streams (``SeedSequence(seed).spawn``):
    separate series, never windows of one long series, so nothing seen in training reappears
    in validation or test. ``kwargs`` go to :func:`make_signals`.
    """
    streams = np.random.SeedSequence(seed).spawn(3)
    parts = [make_signals(n, length, seed=np.random.default_rng(s), **kwargs)
             for n, s in zip((n_train, n_val, n_test), streams)]
    return Splits(*parts[0], *parts[1], *parts[2])


# --------------------------------------------------------------------------- input checks


def as_sequences(x: ArrayLike, name: str = "x") -> NDArray[np.float32]:
    """``x`` as a finite float32 ``(n, timesteps, n_features)`` array.

    Args:
        x: ``(n, timesteps)`` univariate series (a feature axis of size 1 is added) or
            ``(n, timesteps, n_features)``.

    Raises:
        ValueError: ``x`` has another rank, is empty, or holds NaN or infinite values.
    """
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise ValueError(f"{name} must be (n, timesteps) or (n, timesteps, n_features) "
                         f"sequences, got an array of shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or impute them first.")
    return arr


def _features(f: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(f, dtype=np.float64)
    if arr.ndim < 2 or len(arr) == 0:
        raise ValueError(f"{name} must be (n, d) features (or (n, ...) arrays to flatten), "
                         f"got shape {arr.shape}.")
    arr = arr.reshape(len(arr), -1)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


# --------------------------------------------------------------------------- what the code knows


def linear_probe(train_features: ArrayLike, y_train: ArrayLike, test_features: ArrayLike,
                 y_test: ArrayLike) -> float:
    """Test accuracy of a linear probe: standardisation and a logistic regression fitted on
    the training features, scored once on the test features.

    Args:
        train_features: ``(n, d)`` (or ``(n, ...)``, flattened). y_train: ``(n,)`` labels.
        test_features: ``(m, d)`` of the same ``d``. y_test: ``(m,)`` labels.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    a = _features(train_features, "train_features")
    b = _features(test_features, "test_features")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"train and test features differ in size: {a.shape[1]} vs "
                         f"{b.shape[1]}.")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if y_train.shape != (len(a),) or y_test.shape != (len(b),):
        raise ValueError(f"labels {y_train.shape} and {y_test.shape} must match the features "
                         f"({len(a)} and {len(b)} rows).")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    return float(probe.fit(a, y_train).score(b, y_test))


def pca_features(x_train: ArrayLike, x_test: ArrayLike, n_components: int,
                 seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The first ``n_components`` principal components of ``(n, d)`` training rows and of
    ``(m, d)`` test rows, PCA fitted on the training rows only. Returns ``(n, k)``, ``(m, k)``."""
    from sklearn.decomposition import PCA

    a, b = _features(x_train, "x_train"), _features(x_test, "x_test")
    pca = PCA(n_components=n_components, random_state=seed).fit(a)
    return pca.transform(a), pca.transform(b)


def code_ablation(decoder, codes: ArrayLike, x: ArrayLike, condition: ArrayLike | None = None,
                  seed: int = 0, batch_size: int = 1024) -> dict[str, float]:
    """Mean squared reconstruction error when the decoder gets each series' own code, an
    all-zero code, or the code of another, randomly chosen series (never its own: the series,
    in a random order, each take the code of the one before).

    Args:
        decoder: a Keras decoder, ``codes -> (n, T[, F])``, or ``[codes, condition] -> ...``
            for a conditional one. codes: ``(n, latent_dim)``. x: ``(n, T[, F])`` the targets.
        condition: ``(n, T, F)`` the conditional decoder's second input; ``None`` otherwise.

    Returns:
        ``{"own code": mse, "zero code": mse, "another series' code": mse}``.
    """
    z = np.asarray(codes, dtype=np.float32)
    target = as_sequences(x)
    if z.ndim != 2 or len(z) != len(target) or len(z) < 2:
        raise ValueError(f"codes must be (n, latent_dim) with n = {len(target)} >= 2, got "
                         f"{z.shape}.")
    order = np.random.default_rng(seed).permutation(len(z))
    other = np.empty_like(order)
    other[order] = np.roll(order, 1)                 # series order[i] gets order[i - 1]'s code
    shuffled = z[other]
    cond = None if condition is None else np.asarray(condition, np.float32)
    out = {}
    for label, code in (("own code", z), ("zero code", np.zeros_like(z)),
                        ("another series' code", shuffled)):
        # the decoder called directly, batch by batch: no new predict function to trace
        parts = [decoder(code[i:i + batch_size] if cond is None
                         else [code[i:i + batch_size], cond[i:i + batch_size]], training=False)
                 for i in range(0, len(code), batch_size)]
        y = np.concatenate([np.asarray(part, np.float32) for part in parts])
        out[label] = float(np.mean((y.reshape(target.shape) - target) ** 2))
    return out
