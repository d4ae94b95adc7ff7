"""Exercises of lesson 4 (ECG anomaly detection; the anomaly, label 1, is the positive class)."""

import keras
import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from autoenc_helpers import metrics
from autoenc_helpers.config import get_settings
from autoenc_helpers.exercises import (ONE_MINUS_AUC, exercise, expect, expect_widths, on_test,
                                       predict, recomputed, swapped)


def _errors(det, x, kind: str) -> np.ndarray:  # (n,): each beat's, scaled as in fit
    diff = predict(det.model_, det.transform_input(x)) - det.transform_input(x)
    return (np.abs(diff) if kind == "mae" else np.square(diff)).mean(axis=1)


def _squared(_a, _b, detector, split, part="val"):
    x, y = getattr(split, f"x_{part}"), getattr(split, f"y_{part}")
    return tuple(float(roc_auc_score(y, _errors(detector, x, kind))) for kind in ("mae", "mse"))


@exercise(4, 1, "Squared instead of absolute error as the score",
          ("ROC AUC of the MAE score", "ROC AUC of the MSE score"), _squared, rel=1e-4,
          mistakes=[swapped(), ONE_MINUS_AUC, on_test(part="test")],
          hint="No retraining: reconstruction_errors(..., kind=\"mse\") on transform_input(x).")
def squared_error_score(detector, split):
    x_val_scaled = detector.transform_input(split.x_val)  # what the network sees
    return tuple(roc_auc_score(split.y_val, metrics.reconstruction_errors(
        detector.model_, x_val_scaled, kind=kind)) for kind in ("mae", "mse"))


def _percentile(_t, _p, _r, detector, split, pool="normals", positive=1):
    errors, y = np.asarray(detector.val_errors_, np.float64), np.asarray(split.y_val)
    pools = {"normals": errors[y == 0], "all": errors, "train": detector.train_errors_}
    t = float(np.percentile(pools[pool], 99))
    flagged, actual = (errors >= t) == (positive == 1), y == positive
    return t, precision_score(actual, flagged, zero_division=0.0), recall_score(actual, flagged)


@exercise(4, 2, "A 99th-percentile threshold", ("threshold", "precision", "recall"),
          _percentile, rel=1e-4, advice="Flag when error >= threshold; the anomaly is positive.",
          mistakes=[swapped(1, 2),
                    recomputed("your percentile is over ALL validation errors.", pool="all"),
                    recomputed("your percentile is over the training errors.", pool="train"),
                    recomputed("you took the NORMAL class as positive.", positive=0)],
          hint="t = detector.choose_threshold(PercentileThreshold(q=99)); classification_metrics.")
def percentile_99(detector, split, PercentileThreshold):
    t = detector.choose_threshold(PercentileThreshold(q=99))  # validation normals' errors
    scores = metrics.classification_metrics(split.y_val, detector.val_errors_, t)
    return t, scores["precision"], scores["recall"]


def _tutorial(det, _auc, _f1, detector, split):
    expect(det is not detector, "that is the lesson's detector: build a new one.")
    expect(isinstance(det, type(detector)) and hasattr(det, "model_"), "give a fitted detector.")
    expect_widths(det.model_, [32, 16, 8, 16, 32, det.n_features_in_])
    for name, want in (("epochs", get_settings().epochs(20)), ("batch_size", 512),
                       ("learning_rate", 1e-3), ("threshold", "mean_std")):
        expect(getattr(det, name) == want, f"use {name}={want!r}, as the tutorial does.")
    expect(det.val_errors_ is None, "fit it on x_train_normal only (no early stopping).")
    errors = _errors(det, split.x_val, det.error)
    f1 = f1_score(split.y_val, errors >= det.threshold_, zero_division=0.0)
    return None, float(roc_auc_score(split.y_val, errors)), float(f1)


@exercise(4, 3, "The tutorial's recipe, on the validation set",
          ("detector", "validation ROC AUC", "validation F1"), _tutorial, rel=1e-4,
          mistakes=[ONE_MINUS_AUC], advice="Score split.x_val at the detector's own threshold_.",
          hint="Dense layers 32, 16, 8, 16, 32; threshold=\"mean_std\", epochs=S.epochs(20), "
               "batch_size=512, learning_rate=1e-3.")
def tutorial_recipe(split, x_train_normal, ReconstructionAnomalyDetector):
    def build_tutorial(n_features):  # the TensorFlow tutorial's autoencoder
        hidden = [keras.layers.Dense(n, activation="relu") for n in (32, 16, 8, 16, 32)]
        return keras.Sequential([keras.Input((n_features,)), *hidden,
                                 keras.layers.Dense(n_features, activation="sigmoid")])

    tutorial = ReconstructionAnomalyDetector(build_tutorial, threshold="mean_std",
                                             epochs=get_settings().epochs(20), batch_size=512,
                                             learning_rate=1e-3, random_state=0)
    tutorial.fit(x_train_normal)  # no validation data: no early stopping, as in the tutorial
    errors = tutorial.score_samples(split.x_val)
    roc_auc = metrics.ranking_metrics(split.y_val, errors)["roc_auc"]
    f1 = metrics.classification_metrics(split.y_val, errors, tutorial.threshold_)["f1"]
    return tutorial, roc_auc, f1
