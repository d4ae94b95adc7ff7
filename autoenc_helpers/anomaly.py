"""Anomaly detection by reconstruction error (lesson 4, ECG5000).

An autoencoder trained on *normal* examples only reconstructs normal examples well and
anomalies badly, so its reconstruction error is an **anomaly score**: the higher, the more
anomalous. A **threshold** on that score turns it into a decision.

Conventions used throughout:

- **Anomaly is the positive class**: labels are ``1`` for an anomaly and ``0`` for a normal
  example, so precision, recall and F1 are about catching anomalies. (``ecg.csv`` labels the
  other way round, 1 = normal: use ``1 - y``.)
- An example is flagged as an anomaly when its error is **at or above** the threshold
  (``error >= threshold``), the rule of :func:`sklearn.metrics.roc_curve`.

Contents:

- threshold strategies, pure functions on arrays of errors (no TensorFlow needed):
  :func:`mean_std_threshold`, :func:`percentile_threshold`, :func:`max_f1_threshold`, and the
  strategy objects :class:`MeanStdThreshold`, :class:`PercentileThreshold`,
  :class:`MaxF1Threshold` that a detector calls;
- :class:`ReconstructionAnomalyDetector`, a scikit-learn style estimator;
- :func:`train_val_test_split` (stratified, seeded) and :func:`classification_metrics`;
- the lesson's figures: :func:`plot_class_bands`, :func:`plot_reconstruction`,
  :func:`plot_error_histograms`, :func:`plot_threshold_view`, :func:`plot_roc_pr`, and the
  interactive :func:`threshold_explorer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.metrics import (ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay,
                             accuracy_score, average_precision_score, confusion_matrix,
                             precision_recall_curve, precision_recall_fscore_support,
                             roc_auc_score)
from sklearn.utils.validation import check_array, check_is_fitted

from autoenc_helpers.data import train_val_split

#: Names of the two classes, indexed by the anomaly label (0 = normal, 1 = anomaly).
CLASS_NAMES: tuple[str, str] = ("normal", "anomaly")


# --------------------------------------------------------------------------- input checks


def _errors(errors: ArrayLike, name: str = "errors") -> NDArray[np.float64]:
    """``errors`` as a finite 1-d float array with at least one value, else ValueError."""
    arr = np.asarray(errors, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array of errors, got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def _labels(y: ArrayLike, n: int, name: str = "y") -> NDArray[np.int64]:
    """``y`` as 0/1 integers (1 = anomaly) of length ``n``, else ValueError."""
    arr = np.asarray(y)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the errors, got {arr.shape}.")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold 0 (normal) and 1 (anomaly) only, "
                         f"got {np.unique(arr)[:10]}.")
    return arr.astype(np.int64)


# --------------------------------------------------------------------------- threshold rules


def mean_std_threshold(train_errors: ArrayLike, k: float = 1.0) -> float:
    """``mean + k * std`` of the training errors: the TensorFlow tutorial's rule (``k = 1``).

    Args:
        train_errors: ``(n,)`` reconstruction errors of the (normal) training examples.
        k: how many standard deviations above the mean.
    """
    e = _errors(train_errors, "train_errors")
    return float(e.mean() + k * e.std())


def percentile_threshold(normal_errors: ArrayLike, q: float = 95.0) -> float:
    """The ``q``-th percentile of errors of *normal* examples (validation normals).

    About ``100 - q`` percent of normal examples lie above it, so ``q`` sets the false
    positive rate we accept; no anomaly is needed to choose it.

    Args:
        normal_errors: ``(n,)`` errors of normal examples not used for training.
        q: percentile in [0, 100].
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be a percentile in [0, 100], got {q}.")
    return float(np.percentile(_errors(normal_errors, "normal_errors"), q))


def max_f1_threshold(errors: ArrayLike, y: ArrayLike) -> float:
    """The threshold that maximises F1 (anomaly positive) on labelled examples.

    Every distinct error is a candidate threshold (:func:`sklearn.metrics.precision_recall_curve`).
    The returned value lies halfway between the best candidate and the next lower error, so that
    it separates the same examples but leaves a margin on both sides.

    Args:
        errors: ``(n,)`` reconstruction errors of labelled validation examples.
        y: ``(n,)`` labels, 1 = anomaly, 0 = normal; both classes must be present.
    """
    e = _errors(errors)
    labels = _labels(y, len(e))
    if labels.min() == labels.max():
        raise ValueError("max_f1_threshold needs both normal (0) and anomalous (1) examples.")
    precision, recall, thresholds = precision_recall_curve(labels, e)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = float(thresholds[int(np.argmax(f1[:-1]))])
    below = e[e < best]
    return (best + float(below.max())) / 2 if below.size else best


@dataclass(frozen=True)
class ThresholdStrategy:
    """A rule that picks a threshold from errors seen during fitting.

    Subclasses implement :meth:`__call__`. ``val_labels`` are 1 for anomalies; ``None`` means
    that every validation example is normal.
    """

    def __call__(self, train_errors: NDArray, val_errors: NDArray | None = None,
                 val_labels: NDArray | None = None) -> float:
        raise NotImplementedError

    @property
    def label(self) -> str:
        """A short description for legends and tables."""
        return type(self).__name__


def _val_normals(val_errors: NDArray | None, val_labels: NDArray | None,
                 who: str) -> NDArray:
    if val_errors is None:
        raise ValueError(f"{who} needs validation errors: pass X_val to fit().")
    e = _errors(val_errors, "val_errors")
    return e if val_labels is None else e[_labels(val_labels, len(e), "val_labels") == 0]


@dataclass(frozen=True)
class MeanStdThreshold(ThresholdStrategy):
    """``mean + k * std`` of the training errors (:func:`mean_std_threshold`)."""

    k: float = 1.0

    def __call__(self, train_errors, val_errors=None, val_labels=None) -> float:
        return mean_std_threshold(train_errors, self.k)

    @property
    def label(self) -> str:
        return f"train mean + {self.k:g}·std"


@dataclass(frozen=True)
class PercentileThreshold(ThresholdStrategy):
    """The ``q``-th percentile of the validation normals' errors (:func:`percentile_threshold`)."""

    q: float = 95.0

    def __call__(self, train_errors, val_errors=None, val_labels=None) -> float:
        return percentile_threshold(_val_normals(val_errors, val_labels, "PercentileThreshold"),
                                    self.q)

    @property
    def label(self) -> str:
        return f"{self.q:g}th percentile of val. normals"


@dataclass(frozen=True)
class MaxF1Threshold(ThresholdStrategy):
    """The threshold with the best validation F1, anomaly positive (:func:`max_f1_threshold`)."""

    def __call__(self, train_errors, val_errors=None, val_labels=None) -> float:
        if val_errors is None or val_labels is None:
            raise ValueError("MaxF1Threshold needs labelled validation data: "
                             "pass X_val and y_val (with both classes) to fit().")
        return max_f1_threshold(val_errors, val_labels)

    @property
    def label(self) -> str:
        return "best validation F1"


_STRATEGIES: dict[str, type[ThresholdStrategy]] = {
    "mean_std": MeanStdThreshold, "percentile": PercentileThreshold, "max_f1": MaxF1Threshold,
}


def make_threshold_strategy(spec: str | float | ThresholdStrategy) -> ThresholdStrategy | float:
    """A strategy from its name (``"mean_std"``, ``"percentile"``, ``"max_f1"``, default
    parameters), a strategy object (returned as is), or a fixed number (returned as a float)."""
    if isinstance(spec, ThresholdStrategy):
        return spec
    if isinstance(spec, str):
        if spec not in _STRATEGIES:
            raise ValueError(f"Unknown threshold strategy {spec!r}; choose one of "
                             f"{sorted(_STRATEGIES)}, a ThresholdStrategy or a number.")
        return _STRATEGIES[spec]()
    if isinstance(spec, (int, float, np.number)) and np.isfinite(spec):
        return float(spec)
    raise TypeError(f"threshold must be a strategy name, a ThresholdStrategy or a finite "
                    f"number, got {spec!r}.")


# --------------------------------------------------------------------------- the detector


class ReconstructionAnomalyDetector(BaseEstimator):
    """Anomaly detector: a dense autoencoder trained on normal examples, scored by its
    reconstruction error, with a threshold chosen by a :class:`ThresholdStrategy`.

    The interface follows scikit-learn (``get_params``, :func:`sklearn.base.clone`, fitted
    attributes end in ``_``) with one difference from its outlier detectors: here
    :meth:`score_samples` is the *anomaly* score (higher = more anomalous) and :meth:`predict`
    returns **1 for an anomaly and 0 for a normal example**, the labels the metrics use.

    Args:
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        latent_dim: size of the bottleneck.
        threshold: a strategy name (``"max_f1"``, ``"percentile"``, ``"mean_std"``), a
            :class:`ThresholdStrategy` or a fixed number.
        error: per-example error, ``"mae"`` or ``"mse"`` (the training loss is always MAE).
        scale: fit a :class:`~autoenc_helpers.data.MinMaxScaler1D` on the training examples
            in :meth:`fit` (so on normal training data only) and apply it everywhere.
        epochs: maximum number of epochs; early stopping on the validation normals' loss
            usually ends training sooner.
        batch_size, learning_rate: for Adam.
        patience: epochs without improvement of the validation loss before stopping (the best
            weights are restored). Without ``X_val``, training runs all ``epochs``.
        random_state: seeds Keras (weights, shuffling) at the start of :meth:`fit`.
        verbose: Keras' ``verbose`` for ``fit``.

    Fitted attributes:
        ``model_`` (the Keras autoencoder), ``scaler_``, ``n_features_in_``, ``history_``
        (loss per epoch), ``train_errors_`` and ``val_errors_`` (``(n,)`` arrays),
        ``val_labels_``, ``threshold_`` (float).
    """

    def __init__(self, hidden: Sequence[int] = (128, 64), latent_dim: int = 8,
                 threshold: str | float | ThresholdStrategy = "max_f1", error: str = "mae",
                 scale: bool = True, epochs: int = 200, batch_size: int = 64,
                 learning_rate: float = 3e-3, patience: int = 10, random_state: int = 0,
                 verbose: int = 0):
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.threshold = threshold
        self.error = error
        self.scale = scale
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose

    # -- input checks
    def _check_X(self, X: ArrayLike, name: str = "X", fitting: bool = False) -> NDArray[np.float32]:
        """``X`` as a finite ``(n, n_features)`` float32 array, else a ValueError saying why."""
        X = check_array(X, dtype=np.float32, ensure_all_finite=True, input_name=name,
                        estimator=self)
        if not fitting:
            check_is_fitted(self, "model_")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"{name} has {X.shape[1]} features (samples per example), but "
                                 f"{type(self).__name__} was fitted with "
                                 f"{self.n_features_in_}.")
        return X

    # -- scikit-learn interface
    def fit(self, X: ArrayLike, X_val: ArrayLike | None = None,
            y_val: ArrayLike | None = None) -> ReconstructionAnomalyDetector:
        """Train the autoencoder on normal examples and choose the threshold.

        Args:
            X: ``(n, n_features)`` **normal** training examples only.
            X_val: optional ``(m, n_features)`` validation examples. Their normal ones drive
                early stopping; the threshold strategy may use all of them.
            y_val: ``(m,)`` labels of ``X_val``, 1 = anomaly, 0 = normal; ``None`` means
                ``X_val`` is all normal.

        Returns:
            ``self``, fitted.
        """
        import keras
        import tensorflow as tf

        from autoenc_helpers import data, models

        if self.error not in ("mae", "mse"):
            raise ValueError(f"error must be 'mae' or 'mse', got {self.error!r}.")
        strategy = make_threshold_strategy(self.threshold)  # fail early on a bad spec
        X = self._check_X(X, fitting=True)
        if X_val is not None:
            X_val = check_array(X_val, dtype=np.float32, input_name="X_val", estimator=self)
            if X_val.shape[1] != X.shape[1]:
                raise ValueError(f"X_val has {X_val.shape[1]} features but X has {X.shape[1]}.")
            y_val = (np.zeros(len(X_val), np.int64) if y_val is None
                     else _labels(y_val, len(X_val), "y_val"))
            if not (y_val == 0).any():
                raise ValueError("X_val holds no normal example (y_val == 0) for early stopping.")
        elif y_val is not None:
            raise ValueError("y_val was given without X_val.")

        self.n_features_in_ = X.shape[1]
        self.scaler_ = data.MinMaxScaler1D().fit(X) if self.scale else None
        x_fit = self._scale(X)

        keras.utils.set_random_seed(self.random_state)
        model, _, _ = models.dense_autoencoder((self.n_features_in_,), self.latent_dim,
                                               tuple(self.hidden), name="anomaly_ae")
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mae",
                      steps_per_execution=16)
        # tf.data pipelines: far less per-epoch overhead than NumPy arrays for small data.
        # One private thread and no autotuning: plenty for data this small, and it keeps
        # training fast when other processes compete for the CPU.
        options = tf.data.Options()
        options.threading.private_threadpool_size = 1
        options.autotune.enabled = False
        train_ds = (tf.data.Dataset.from_tensor_slices((x_fit, x_fit))
                    .shuffle(len(x_fit), seed=self.random_state, reshuffle_each_iteration=True)
                    .batch(self.batch_size).prefetch(2).with_options(options))
        kwargs: dict = {}
        if X_val is not None:
            x_stop = self._scale(X_val[y_val == 0])
            kwargs["validation_data"] = (tf.data.Dataset.from_tensor_slices((x_stop, x_stop))
                                         .batch(1024).cache().with_options(options))
            kwargs["callbacks"] = [keras.callbacks.EarlyStopping(
                patience=self.patience, restore_best_weights=True)]
        self.model_ = model
        self.history_ = model.fit(train_ds, epochs=self.epochs, verbose=self.verbose,
                                  shuffle=False, **kwargs).history  # train_ds shuffles

        self.train_errors_ = self.score_samples(X)
        self.val_errors_ = None if X_val is None else self.score_samples(X_val)
        self.val_labels_ = y_val
        self.threshold_ = self.choose_threshold(strategy)
        return self

    def _forward(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        # a direct (eager) call: unlike predict(), it traces no tf.function, which keeps
        # repeated fits quiet and fast on small data
        return np.asarray(self.model_(x, training=False), np.float32)

    def _scale(self, X: NDArray[np.float32]) -> NDArray[np.float32]:
        return self.scaler_.transform(X) if self.scaler_ is not None else X

    def choose_threshold(self, strategy: str | float | ThresholdStrategy) -> float:
        """The threshold ``strategy`` picks from the errors stored by :meth:`fit` (no
        retraining; ``threshold_`` is not changed)."""
        check_is_fitted(self, "model_")
        strategy = make_threshold_strategy(strategy)
        if isinstance(strategy, float):
            return strategy
        return float(strategy(self.train_errors_, self.val_errors_, self.val_labels_))

    def reconstruct(self, X: ArrayLike, scaled: bool = False) -> NDArray[np.float32]:
        """``(n, n_features)`` reconstructions of ``X``: in the units of ``X``, or with
        ``scaled=True`` in the scaled units the network works in (those of the errors)."""
        X = self._check_X(X)
        out = self._forward(self._scale(X))
        if self.scaler_ is not None and not scaled:
            out = out * np.float32(self.scaler_.max_ - self.scaler_.min_) + np.float32(
                self.scaler_.min_)
        return out

    def transform_input(self, X: ArrayLike) -> NDArray[np.float32]:
        """``X`` scaled as the network sees it (with the scaler fitted on the training
        normals), ``(n, n_features)``."""
        return self._scale(self._check_X(X))

    def score_samples(self, X: ArrayLike) -> NDArray[np.float32]:
        """Anomaly score: the ``(n,)`` per-example reconstruction error (``error``), computed on
        scaled data. Higher means more anomalous."""
        from autoenc_helpers.metrics import reconstruction_errors

        X = self._check_X(X)
        return reconstruction_errors(self._forward, self._scale(X), batch_size=1024,
                                     kind=self.error)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float32]:
        """``score_samples(X) - threshold_``: ``(n,)``, positive (or zero) for an anomaly."""
        check_is_fitted(self, "threshold_")
        return self.score_samples(X) - np.float32(self.threshold_)

    def predict(self, X: ArrayLike, threshold: float | None = None) -> NDArray[np.int64]:
        """``(n,)`` labels: 1 = anomaly (error >= threshold), 0 = normal.

        Args:
            threshold: overrides ``threshold_`` for this call.
        """
        check_is_fitted(self, "threshold_")
        t = self.threshold_ if threshold is None else float(threshold)
        return (self.score_samples(X) >= t).astype(np.int64)


# --------------------------------------------------------------------------- splits, metrics


@dataclass(frozen=True)
class Splits:
    """Train, validation and test examples (``x_*``: ``(n, d)``) and labels (``y_*``: ``(n,)``)."""

    x_train: NDArray
    y_train: NDArray
    x_val: NDArray
    y_val: NDArray
    x_test: NDArray
    y_test: NDArray

    def sizes(self) -> dict[str, dict[str, int]]:
        """``{"train": {"normal": n0, "anomaly": n1}, ...}`` for a quick table (labels 0/1)."""
        return {name: {CLASS_NAMES[c]: int((y == c).sum()) for c in (0, 1)}
                for name, y in (("train", self.y_train), ("validation", self.y_val),
                                ("test", self.y_test))}


def train_val_test_split(x: NDArray, y: NDArray, val_fraction: float = 0.2,
                         test_fraction: float = 0.2, seed: int = 0) -> Splits:
    """Stratified, seeded split into train / validation / test.

    Args:
        x: ``(n, d)`` examples. y: ``(n,)`` labels (stratified on).
        val_fraction, test_fraction: shares of the *whole* data set.
    """
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError("val_fraction and test_fraction must be in (0, 1) and sum below 1, got "
                         f"{val_fraction} and {test_fraction}.")
    x_rest, x_test, y_rest, y_test = train_val_split(x, y, test_fraction, seed)
    x_train, x_val, y_train, y_val = train_val_split(x_rest, y_rest,
                                                     val_fraction / (1 - test_fraction), seed)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test)


def classification_metrics(y_true: ArrayLike, scores: ArrayLike,
                           threshold: float) -> dict[str, float]:
    """Accuracy, precision, recall and F1 with **anomaly (1) as the positive class**, for the
    decision ``scores >= threshold``.

    Args:
        y_true: ``(n,)`` labels, 1 = anomaly. scores: ``(n,)`` anomaly scores (errors).
    """
    s = _errors(scores, "scores")
    y = _labels(y_true, len(s), "y_true")
    pred = (s >= threshold).astype(np.int64)
    p, r, f, _ = precision_recall_fscore_support(y, pred, pos_label=1, average="binary",
                                                 zero_division=0)
    return {"accuracy": float(accuracy_score(y, pred)), "precision": float(p),
            "recall": float(r), "f1": float(f)}


def ranking_metrics(y_true: ArrayLike, scores: ArrayLike) -> dict[str, float]:
    """Threshold-free metrics of the scores, anomaly positive: ``roc_auc`` and ``pr_auc``
    (average precision, the usual estimate of the area under the precision-recall curve)."""
    s = _errors(scores, "scores")
    y = _labels(y_true, len(s), "y_true")
    return {"roc_auc": float(roc_auc_score(y, s)), "pr_auc": float(average_precision_score(y, s))}


# --------------------------------------------------------------------------- figures


def plot_class_bands(x: NDArray, y: NDArray, title: str = "Mean beat of each class, ± 1 std",
                     ax: plt.Axes | None = None) -> plt.Axes:
    """Mean of each class as a line and its mean ± one standard deviation as a band.

    Args:
        x: ``(n, d)`` signals. y: ``(n,)`` labels, 1 = anomaly, 0 = normal.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    t = np.arange(x.shape[1])
    for c, colour in ((0, "tab:blue"), (1, "tab:red")):
        xc = x[np.asarray(y) == c]
        mean, std = xc.mean(axis=0), xc.std(axis=0)
        ax.plot(t, mean, color=colour, label=f"{CLASS_NAMES[c]} (n={len(xc)})")
        ax.fill_between(t, mean - std, mean + std, color=colour, alpha=0.2)
    ax.set(title=title, xlabel="sample (time step)", ylabel="amplitude")
    ax.legend()
    return ax


def plot_reconstruction(beat: NDArray, reconstruction: NDArray, title: str,
                        ax: plt.Axes | None = None) -> plt.Axes:
    """One signal and its reconstruction, the gap between them shaded; the mean absolute error
    is in the legend. ``beat`` and ``reconstruction``: ``(d,)``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    t = np.arange(len(beat))
    ax.plot(t, beat, color="black", lw=1.5, label="input")
    ax.plot(t, reconstruction, color="tab:orange", lw=1.5, label="reconstruction")
    mae = float(np.mean(np.abs(np.asarray(beat) - np.asarray(reconstruction))))
    ax.fill_between(t, beat, reconstruction, color="tab:red", alpha=0.3,
                    label=f"error (MAE {mae:.3f})")
    ax.set(title=title, xlabel="sample (time step)", ylabel="amplitude (scaled)")
    ax.legend(fontsize=9)
    return ax


_STYLE = ("--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)))


def plot_error_histograms(errors: NDArray, y: NDArray,
                          thresholds: Mapping[str, float] | None = None, bins: int = 50,
                          title: str = "Reconstruction errors by class",
                          ax: plt.Axes | None = None) -> plt.Axes:
    """Histograms of the errors of normal and anomalous examples, thresholds as vertical lines.

    Args:
        errors: ``(n,)`` anomaly scores. y: ``(n,)`` labels, 1 = anomaly.
        thresholds: ``{"label": value}`` drawn as vertical lines.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    errors, y = np.asarray(errors), np.asarray(y)
    edges = np.histogram_bin_edges(errors, bins=bins)
    for c, colour in ((0, "tab:blue"), (1, "tab:red")):
        ax.hist(errors[y == c], bins=edges, color=colour, alpha=0.55,
                label=f"{CLASS_NAMES[c]} (n={int((y == c).sum())})")
    for i, (label, value) in enumerate((thresholds or {}).items()):
        ax.axvline(value, color="black", ls=_STYLE[i % len(_STYLE)], lw=1.5,
                   label=f"{label}: {value:.4f}")
    ax.set(title=title, xlabel="reconstruction error (anomaly score)", ylabel="examples")
    ax.legend(fontsize=8)
    return ax


def plot_threshold_view(errors: NDArray, y: NDArray, threshold: float,
                        title: str = "") -> plt.Figure:
    """What one threshold does: error histograms with the threshold, the confusion matrix and
    the metrics (anomaly positive). The figure behind :func:`threshold_explorer`.

    Args:
        errors: ``(n,)`` anomaly scores. y: ``(n,)`` labels, 1 = anomaly.
    """
    fig, (ax_h, ax_c) = plt.subplots(1, 2, figsize=(10, 3.6),
                                     gridspec_kw={"width_ratios": [1.9, 1]})
    plot_error_histograms(errors, y, {"threshold": threshold}, ax=ax_h,
                          title="Errors by class and the threshold")
    y = np.asarray(y)
    pred = (np.asarray(errors) >= threshold).astype(np.int64)
    ConfusionMatrixDisplay(confusion_matrix(y, pred, labels=[0, 1]),
                           display_labels=list(CLASS_NAMES)).plot(ax=ax_c, colorbar=False)
    ax_c.grid(False)
    m = classification_metrics(y, errors, threshold)
    ax_c.set_title("Confusion matrix")
    ax_c.set_xlabel(f"predicted\nacc {m['accuracy']:.3f}  prec {m['precision']:.3f}  "
                    f"rec {m['recall']:.3f}  F1 {m['f1']:.3f}", fontsize=9)
    fig.suptitle(title or f"Threshold {threshold:.4f} (positive class: anomaly)")
    fig.tight_layout()
    return fig


def plot_roc_pr(y: NDArray, scores: NDArray, thresholds: Mapping[str, float] | None = None,
                title: str = "Test set: ROC and precision-recall curves (positive: anomaly)",
                zoom: bool = True) -> plt.Figure:
    """ROC and precision-recall curves of the scores with their AUCs, and a marker where each
    threshold sits on them; with ``zoom``, an inset magnifies the corner where the markers are.

    Args:
        y: ``(n,)`` labels, 1 = anomaly. scores: ``(n,)`` anomaly scores.
        thresholds: ``{"label": value}`` marked on both curves.
    """
    y, scores = np.asarray(y), np.asarray(scores)
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.6))
    roc = RocCurveDisplay.from_predictions(y, scores, pos_label=1, ax=ax_roc,
                                           name="autoencoder", plot_chance_level=True)
    pr = PrecisionRecallDisplay.from_predictions(y, scores, pos_label=1, ax=ax_pr,
                                                 name="autoencoder", plot_chance_level=True)
    points = []  # (label, fpr, recall, precision) of each threshold
    for label, t in (thresholds or {}).items():
        pred = scores >= t
        precision = float(y[pred].mean()) if pred.any() else 1.0
        points.append((label, float(pred[y == 0].mean()), float(pred[y == 1].mean()), precision))
    axes = [(ax_roc, None), (ax_pr, None)]
    if zoom:
        fprs, recalls, precisions = (np.array([p[i] for p in points] or [0.0]) for i in (1, 2, 3))
        roc_in = ax_roc.inset_axes([0.38, 0.47, 0.57, 0.37])
        roc_in.plot(roc.fpr, roc.tpr, color=roc.line_.get_color())
        roc_in.set(xlim=(-0.005, max(0.1, 1.5 * fprs.max())),
                   ylim=(min(0.9, recalls.min() - 0.03), 1.005))
        pr_in = ax_pr.inset_axes([0.32, 0.53, 0.57, 0.31])
        pr_in.plot(pr.recall, pr.precision, color=pr.line_.get_color())
        pr_in.set(xlim=(min(0.9, recalls.min() - 0.03), 1.005),
                  ylim=(min(0.9, precisions.min() - 0.03), 1.005))
        for parent, inset in ((ax_roc, roc_in), (ax_pr, pr_in)):
            inset.tick_params(labelsize=8)
            inset.set_title("zoom", fontsize=8)
            parent.indicate_inset_zoom(inset, edgecolor="grey")
        axes = [(ax_roc, roc_in), (ax_pr, pr_in)]
    markers = "osD^v"
    for i, (label, fpr, recall, precision) in enumerate(points):
        kw = dict(marker=markers[i % len(markers)], ms=9, ls="none", mec="black", label=label)
        for (ax, inset), xy in zip(axes, ((fpr, recall), (recall, precision))):
            for target in (ax, inset):
                if target is not None:
                    line = target.plot(*xy, **kw)[0]
                    kw["color"] = line.get_color()
                    kw["label"] = None
            kw["label"] = label
    ax_roc.set(title="ROC curve", xlabel="false positive rate (normals flagged)",
               ylabel="true positive rate (recall)")
    ax_pr.set(title="Precision-recall curve", xlabel="recall (anomalies caught)",
              ylabel="precision")
    for ax in (ax_roc, ax_pr):
        ax.legend(fontsize=8, loc="lower left" if ax is ax_pr else "lower right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def threshold_explorer(errors: NDArray, y: NDArray, initial: float, title: str = "",
                       draw_initial: bool = False) -> object:
    """An ``ipywidgets.interactive`` slider over the threshold that redraws
    :func:`plot_threshold_view` each time it moves.

    Widgets only render in a live notebook front end, so draw the static figure for
    ``initial`` first (it is what headless runs, nbval and static viewers show); by default the
    widget then skips its own first drawing, which would repeat that figure.

    Args:
        errors: ``(n,)`` anomaly scores. y: ``(n,)`` labels, 1 = anomaly.
        initial: the slider's starting threshold.
        draw_initial: draw the figure for ``initial`` under the slider at once.

    Returns:
        The ``interactive`` widget (display it, or let it be the last expression of a cell).
    """
    import ipywidgets as widgets

    errors = np.asarray(errors)
    lo, hi = float(np.min(errors)), float(np.percentile(errors, 99.5))
    slider = widgets.FloatSlider(value=float(np.clip(initial, lo, hi)), min=lo, max=hi,
                                 step=(hi - lo) / 200, description="threshold",
                                 readout_format=".4f", continuous_update=False,
                                 layout=widgets.Layout(width="70%"))

    first = [not draw_initial]  # skip the call that interactive() makes on creation

    def draw(threshold: float) -> None:
        if first[0]:
            first[0] = False
            print("Move the slider: the figure for the new threshold appears here.")
            return
        plot_threshold_view(errors, y, threshold, title=title)
        plt.show()

    return widgets.interactive(draw, threshold=slider)

