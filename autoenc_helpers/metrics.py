"""Reconstruction errors, image quality, and the one rule that turns errors into flags.

Every lesson that flags inputs by their reconstruction error (lesson 3's out-of-distribution
digits, lesson 4's abnormal heartbeats) uses the functions here, so the rule is the same
everywhere:

- an input is **flagged** when its error is **at or above** the threshold (``error >=
  threshold``), the rule of :func:`sklearn.metrics.roc_curve`;
- **flagged / anomalous is the positive class**: labels are ``1`` for an anomaly (or an
  out-of-distribution input) and ``0`` for a normal one, so precision, recall and F1 are about
  catching anomalies.

Thresholds: :func:`percentile_threshold` (normal errors only), :func:`mean_std_threshold`
(the TensorFlow tutorial's rule), :func:`max_f1_threshold` (labelled validation data).

Lesson 8's scores: :func:`masked_mse` (the error inside an inpainted hole) and
:func:`precision_at_k` (a search's share of retrieved items of the query's class).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autoenc_helpers.data import to_float

#: Names of the two classes, indexed by label (0 = normal, 1 = anomaly, the positive class).
CLASS_NAMES: tuple[str, str] = ("normal", "anomaly")

# --------------------------------------------------------------------------- errors


def reconstruction_errors(reconstruct, x: NDArray, batch_size: int = 1000,
                          kind: str = "mse", targets: NDArray | None = None
                          ) -> NDArray[np.float32]:
    """Per-example reconstruction error, one batch at a time.

    Args:
        reconstruct: a Keras model, or any function mapping a float batch ``(b, ...)`` to its
            reconstruction of the same shape (a PCA round trip, a filter...).
        x: ``(n, ...)`` inputs; uint8 images are scaled to [0, 1] first (:func:`data.to_float`),
            other arrays are used as they are.
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

    def as_float(batch: NDArray) -> NDArray[np.float32]:
        return to_float(batch) if batch.dtype == np.uint8 else batch.astype(np.float32, copy=False)

    fn = getattr(reconstruct, "predict_on_batch", reconstruct)
    out = np.empty(len(x), np.float32)
    for start in range(0, len(x), batch_size):
        batch = as_float(x[start:start + batch_size])
        target = batch if targets is None else as_float(targets[start:start + batch_size])
        output = np.asarray(fn(batch), np.float32)
        if output.shape != target.shape:
            raise ValueError(f"the reconstruction of a batch of shape {batch.shape} has shape "
                             f"{output.shape}; it must match the "
                             f"{'inputs' if targets is None else 'targets'} "
                             f"{target.shape} (does the model end in the right Reshape?).")
        diff = output - target
        err = np.square(diff) if kind == "mse" else np.abs(diff)
        out[start:start + len(batch)] = err.reshape(len(batch), -1).mean(axis=1)
    return out


def psnr(mse: NDArray | float, max_value: float = 1.0) -> NDArray | float:
    """Peak signal-to-noise ratio in dB, ``10 log10(max_value**2 / mse)``, element-wise."""
    return 10.0 * np.log10(max_value**2 / np.asarray(mse, dtype=np.float64))


def masked_mse(images: NDArray, filled: NDArray, masks: NDArray) -> NDArray[np.float64]:
    """Per-image mean squared error over the pixels of a mask only (lesson 8: the error inside
    the hole of an inpainted image).

    Args:
        images: ``(n, h, w)`` the true images. filled: ``(n, h, w)`` the filled-in images;
            uint8 of either is scaled to [0, 1] (:func:`data.to_float`).
        masks: ``(n, h, w)``, 1 (or True) on the pixels that count; every image needs one.

    Returns:
        ``(n,)`` errors; :func:`psnr` of their mean is the PSNR inside the holes.
    """
    x, x_hat = to_float(images), to_float(filled)
    m = np.asarray(masks, dtype=np.float64)
    if not x.shape == x_hat.shape == m.shape:
        raise ValueError(f"images {x.shape}, filled {x_hat.shape} and masks {m.shape} must "
                         "have the same shape.")
    counts = m.reshape(len(m), -1).sum(axis=1)
    if np.any(counts == 0):
        raise ValueError(f"{int(np.sum(counts == 0))} mask(s) select no pixel.")
    sq = (np.square(x_hat.astype(np.float64) - x) * m).reshape(len(m), -1).sum(axis=1)
    return sq / counts


def precision_at_k(query_labels: ArrayLike, neighbour_labels: ArrayLike) -> NDArray[np.float64]:
    """Share of each query's retrieved items that have the query's label (lesson 8).

    Args:
        query_labels: ``(n,)`` labels of the queries.
        neighbour_labels: ``(n, k)`` labels of each query's ``k`` retrieved items.

    Returns:
        ``(n,)`` precision@k of every query; its mean is the search's precision@k.
    """
    q = np.asarray(query_labels)
    nb = np.asarray(neighbour_labels)
    if nb.ndim != 2 or q.shape != (len(nb),):
        raise ValueError(f"expected (n,) query labels and (n, k) neighbour labels, got "
                         f"{q.shape} and {nb.shape}.")
    return (nb == q[:, None]).mean(axis=1)


# --------------------------------------------------------------------------- input checks


def check_errors(errors: ArrayLike, name: str = "errors") -> NDArray[np.float64]:
    """``errors`` as a finite 1-d float array with at least one value, else ValueError."""
    arr = np.asarray(errors, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array of errors, got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def check_labels(y: ArrayLike, n: int, name: str = "y") -> NDArray[np.int64]:
    """``y`` as 0/1 integers (1 = anomaly) of length ``n``, else ValueError."""
    arr = np.asarray(y)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the errors, got {arr.shape}.")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold 0 (normal) and 1 (anomaly) only, "
                         f"got {np.unique(arr)[:10]}.")
    return arr.astype(np.int64)


def check_codes(codes: ArrayLike, name: str = "codes", dtype=None) -> NDArray:
    """``codes`` as a finite, non-empty ``(n, d)`` array (of ``dtype`` when given, else of its
    own), else a ValueError naming ``name``. Lessons 3 and 6 check codes with it."""
    arr = np.asarray(codes, dtype=dtype)
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"{name}: expected a non-empty array of codes of shape (n, d), got an "
                         f"array of shape {arr.shape}; flatten images first, e.g. "
                         "x.reshape(len(x), -1).")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: the codes contain NaN or infinite values.")
    return arr


# --------------------------------------------------------------------------- the flag rule


def flag(errors: ArrayLike, threshold: float) -> NDArray[np.int64]:
    """``(n,)`` flags: 1 where ``errors >= threshold`` (anomalous, out of distribution), else 0."""
    return (check_errors(errors) >= float(threshold)).astype(np.int64)


def flag_rate(errors: ArrayLike, threshold: float) -> float:
    """Fraction of inputs flagged by :func:`flag`: on normal data the false-alarm rate, on
    anomalies the recall (true-positive rate)."""
    return float(flag(errors, threshold).mean())


# --------------------------------------------------------------------------- thresholds


def percentile_threshold(normal_errors: ArrayLike, q: float = 95.0) -> float:
    """The ``q``-th percentile of errors of *normal* examples not used for training.

    About ``100 - q`` percent of normal examples lie above it, so ``q`` sets the false-alarm
    rate we accept; no anomaly is needed to choose it.

    Args:
        normal_errors: ``(n,)`` errors of normal (validation) examples.
        q: percentile in [0, 100].
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be a percentile in [0, 100], got {q}.")
    return float(np.percentile(check_errors(normal_errors, "normal_errors"), q))


def mean_std_threshold(train_errors: ArrayLike, k: float = 1.0) -> float:
    """``mean + k * std`` of the training errors: the TensorFlow tutorial's rule (``k = 1``).

    Args:
        train_errors: ``(n,)`` reconstruction errors of the (normal) training examples.
        k: how many standard deviations above the mean.
    """
    e = check_errors(train_errors, "train_errors")
    return float(e.mean() + k * e.std())


def max_f1_threshold(errors: ArrayLike, y: ArrayLike) -> float:
    """The threshold that maximises F1 (anomaly positive) on labelled examples.

    Every distinct error is a candidate threshold (:func:`sklearn.metrics.precision_recall_curve`).
    The returned value lies halfway between the best candidate and the next lower error, so that
    it separates the same examples but leaves a margin on both sides.

    Args:
        errors: ``(n,)`` reconstruction errors of labelled validation examples.
        y: ``(n,)`` labels, 1 = anomaly, 0 = normal; both classes must be present.
    """
    from sklearn.metrics import precision_recall_curve

    e = check_errors(errors)
    labels = check_labels(y, len(e))
    if labels.min() == labels.max():
        raise ValueError("max_f1_threshold needs both normal (0) and anomalous (1) examples.")
    precision, recall, thresholds = precision_recall_curve(labels, e)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = float(thresholds[int(np.argmax(f1[:-1]))])
    below = e[e < best]
    return (best + float(below.max())) / 2 if below.size else best


# --------------------------------------------------------------------------- scores


def classification_metrics(y_true: ArrayLike, scores: ArrayLike,
                           threshold: float) -> dict[str, float]:
    """Accuracy, precision, recall and F1 with **anomaly (1) as the positive class**, for the
    flags of :func:`flag` (``scores >= threshold``).

    Args:
        y_true: ``(n,)`` labels, 1 = anomaly. scores: ``(n,)`` anomaly scores (errors).
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    s = check_errors(scores, "scores")
    y = check_labels(y_true, len(s), "y_true")
    pred = flag(s, threshold)
    p, r, f, _ = precision_recall_fscore_support(y, pred, pos_label=1, average="binary",
                                                 zero_division=0)
    return {"accuracy": float(accuracy_score(y, pred)), "precision": float(p),
            "recall": float(r), "f1": float(f)}


def ranking_metrics(y_true: ArrayLike, scores: ArrayLike) -> dict[str, float]:
    """Threshold-free metrics of the scores, anomaly positive: ``roc_auc`` and ``pr_auc``
    (average precision, the usual estimate of the area under the precision-recall curve)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    s = check_errors(scores, "scores")
    y = check_labels(y_true, len(s), "y_true")
    return {"roc_auc": float(roc_auc_score(y, s)), "pr_auc": float(average_precision_score(y, s))}
