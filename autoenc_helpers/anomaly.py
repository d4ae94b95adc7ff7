"""Anomaly detection by reconstruction error (lesson 4, ECG5000).

An autoencoder trained on *normal* examples only reconstructs normal examples well and
anomalies badly, so its reconstruction error is an **anomaly score**: the higher, the more
anomalous. A **threshold** on that score turns it into a decision. The conventions are those of
:mod:`autoenc_helpers.metrics`: labels are 1 for an anomaly (the positive class) and 0 for a
normal example, and an example is flagged when its error is at or above the threshold.
(``ecg.csv`` labels the other way round, 1 = normal: use ``1 - y``.)

Contents:

- the threshold strategies :class:`MeanStdThreshold`, :class:`PercentileThreshold` and
  :class:`MaxF1Threshold`, objects that a detector calls with the errors it saw in ``fit``
  (the rules themselves are in :mod:`autoenc_helpers.metrics`);
- :class:`ReconstructionAnomalyDetector`, a scikit-learn style estimator that trains the
  Keras model the notebook defines.

The stratified train / validation / test split is
:func:`autoenc_helpers.data.train_val_test_split`.

The lesson's figures are in :mod:`autoenc_helpers.plots`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted

from autoenc_helpers.data import MinMaxScaler1D
from autoenc_helpers.metrics import (check_errors, check_labels, flag, max_f1_threshold,
                                     mean_std_threshold, percentile_threshold,
                                     reconstruction_errors)


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
    e = check_errors(val_errors, "val_errors")
    return e if val_labels is None else e[check_labels(val_labels, len(e), "val_labels") == 0]


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
    """Anomaly detector: an autoencoder trained on normal examples, scored by its
    reconstruction error, with a threshold chosen by a :class:`ThresholdStrategy`.

    The interface follows scikit-learn (``get_params``, :func:`sklearn.base.clone`, fitted
    attributes end in ``_``) and the convention of PyOD, the common library for anomaly
    detection: :meth:`score_samples` is the *anomaly* score (higher = more anomalous) and
    :meth:`predict` returns **1 for an anomaly and 0 for a normal example**, the labels the
    metrics use. (scikit-learn's own outlier detectors do the opposite: low score = abnormal,
    ``predict`` in {-1, +1}.)

    Args:
        build_model: a function ``n_features -> keras.Model`` that returns a fresh, uncompiled
            autoencoder mapping ``(n, n_features)`` to ``(n, n_features)``: the architecture is
            the notebook's to write. It is called in :meth:`fit` after seeding, so a refit
            starts from the same weights.
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
        ``model_`` (the trained Keras autoencoder), ``scaler_``, ``n_features_in_``,
        ``history_`` (loss per epoch), ``train_errors_`` and ``val_errors_`` (``(n,)``
        arrays), ``val_labels_``, ``threshold_`` (float).

    Examples:
        >>> import keras
        >>> def build(n):
        ...     x = keras.Input((n,))
        ...     code = keras.layers.Dense(2)(x)
        ...     return keras.Model(x, keras.layers.Dense(n, activation="sigmoid")(code))
        >>> rng = np.random.default_rng(0)
        >>> normal = rng.normal(0, 1, (200, 10)).astype("float32")
        >>> det = ReconstructionAnomalyDetector(build, threshold="percentile", epochs=2)
        >>> det = det.fit(normal[:150], normal[150:])
        >>> det.predict(normal[:5] + 10).tolist()  # far from anything seen: anomalies
        [1, 1, 1, 1, 1]
    """

    def __init__(self, build_model: Callable[[int], object] | None = None,
                 threshold: str | float | ThresholdStrategy = "max_f1", error: str = "mae",
                 scale: bool = True, epochs: int = 200, batch_size: int = 64,
                 learning_rate: float = 3e-3, patience: int = 10, random_state: int = 0,
                 verbose: int = 0):
        self.build_model = build_model
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
    def _check_X(self, X: ArrayLike, name: str = "X",
                 fitting: bool = False) -> NDArray[np.float32]:
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

        if isinstance(self.build_model, keras.Model) or not callable(self.build_model):
            raise ValueError("build_model must be a function n_features -> keras.Model (the "
                             f"autoencoder to train), got {self.build_model!r}; wrap a model "
                             "builder, e.g. lambda n: make_model(n), so that every fit starts "
                             "from fresh weights.")
        if self.error not in ("mae", "mse"):
            raise ValueError(f"error must be 'mae' or 'mse', got {self.error!r}.")
        strategy = make_threshold_strategy(self.threshold)  # fail early on a bad spec
        X = self._check_X(X, fitting=True)
        if X_val is not None:
            X_val = check_array(X_val, dtype=np.float32, input_name="X_val", estimator=self)
            if X_val.shape[1] != X.shape[1]:
                raise ValueError(f"X_val has {X_val.shape[1]} features but X has {X.shape[1]}.")
            y_val = (np.zeros(len(X_val), np.int64) if y_val is None
                     else check_labels(y_val, len(X_val), "y_val"))
            if not (y_val == 0).any():
                raise ValueError("X_val holds no normal example (y_val == 0) for early stopping.")
        elif y_val is not None:
            raise ValueError("y_val was given without X_val.")

        n_features = X.shape[1]
        scaler = MinMaxScaler1D().fit(X) if self.scale else None
        keras.utils.set_random_seed(self.random_state)
        model = self.build_model(n_features)
        if not isinstance(model, keras.Model):
            raise ValueError(f"build_model({n_features}) must return a keras.Model, "
                             f"got {type(model).__name__}.")
        if tuple(model.output_shape[1:]) != (n_features,):
            raise ValueError(f"the model built by build_model maps to shape "
                             f"{model.output_shape[1:]}, not ({n_features},): an "
                             "autoencoder must return its input's shape.")
        self.n_features_in_, self.scaler_ = n_features, scaler
        x_stop = None if X_val is None else self._scale(X_val[y_val == 0])
        self.model_ = model
        self.history_ = self._train(model, self._scale(X), x_stop)

        self.train_errors_ = self.score_samples(X)
        self.val_errors_ = None if X_val is None else self.score_samples(X_val)
        self.val_labels_ = y_val
        self.threshold_ = self.choose_threshold(strategy)
        return self

    def _train(self, model, x_train: NDArray[np.float32],
               x_stop: NDArray[np.float32] | None) -> dict[str, list[float]]:
        """Compile and train ``model`` to reconstruct the scaled training normals ``x_train``
        (input = target), early-stopping on the scaled validation normals ``x_stop``.
        Returns the loss history."""
        import keras
        import tensorflow as tf

        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mae",
                      steps_per_execution=16)
        # tf.data with one private thread: little per-epoch overhead for data this small
        options = tf.data.Options()
        options.threading.private_threadpool_size = 1
        options.autotune.enabled = False
        train_ds = (tf.data.Dataset.from_tensor_slices((x_train, x_train))
                    .shuffle(len(x_train), seed=self.random_state, reshuffle_each_iteration=True)
                    .batch(self.batch_size).prefetch(2).with_options(options))
        kwargs: dict = {}
        if x_stop is not None:
            kwargs["validation_data"] = (tf.data.Dataset.from_tensor_slices((x_stop, x_stop))
                                         .batch(1024).cache().with_options(options))
            kwargs["callbacks"] = [keras.callbacks.EarlyStopping(
                patience=self.patience, restore_best_weights=True)]
        return model.fit(train_ds, epochs=self.epochs, verbose=self.verbose, shuffle=False,
                         **kwargs).history

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
        return flag(self.score_samples(X), t)
