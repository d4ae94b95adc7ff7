"""Anomaly detection (lesson 4): threshold strategies on errors with known answers, splits,
and the detector's interface and input checks, with a model built by the test itself (the
rules behind the strategies are tested in test_metrics, the figures in test_plots)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from autoenc_helpers.anomaly import (MaxF1Threshold, MeanStdThreshold, PercentileThreshold,
                                     ReconstructionAnomalyDetector, make_threshold_strategy)
from autoenc_helpers.metrics import (classification_metrics, max_f1_threshold,
                                     mean_std_threshold, ranking_metrics)

# --------------------------------------------------------------------------- threshold strategies


def test_strategies_use_the_right_errors():
    train = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    val = np.r_[np.arange(101, dtype=float), [1000.0, 2000.0]]
    val_y = np.r_[np.zeros(101, int), [1, 1]]
    # mean + k std: training errors only
    assert MeanStdThreshold(k=1)(train, val, val_y) == pytest.approx(3 + np.sqrt(2))
    # percentile: validation normals only, the anomalies' huge errors change nothing
    assert PercentileThreshold(q=90)(train, val, val_y) == pytest.approx(90.0)
    # max F1: labelled validation data; separable, so between 100 and 1000
    assert MaxF1Threshold()(train, val, val_y) == pytest.approx(550.0)
    with pytest.raises(ValueError, match="X_val"):
        PercentileThreshold()(train)
    with pytest.raises(ValueError, match="y_val"):
        MaxF1Threshold()(train, val)


def test_make_threshold_strategy():
    assert make_threshold_strategy("mean_std") == MeanStdThreshold(k=1.0)
    assert make_threshold_strategy("percentile") == PercentileThreshold(q=95.0)
    assert isinstance(make_threshold_strategy("max_f1"), MaxF1Threshold)
    assert make_threshold_strategy(0.25) == 0.25
    strategy = PercentileThreshold(q=99)
    assert make_threshold_strategy(strategy) is strategy
    with pytest.raises(ValueError, match="Unknown threshold strategy"):
        make_threshold_strategy("median")
    with pytest.raises(TypeError):
        make_threshold_strategy(float("nan"))


# --------------------------------------------------------------------------- the detector

N_FEATURES = 24


def _signals(n: int, anomalous: bool, rng: np.random.Generator) -> np.ndarray:
    """Normal: smooth sine waves; anomalous: the same with a large random spike added."""
    t = np.linspace(0, 2 * np.pi, N_FEATURES)
    x = np.sin(t[None, :] + rng.uniform(-0.3, 0.3, (n, 1))) + rng.normal(0, 0.05, (n, N_FEATURES))
    if anomalous:
        x[np.arange(n), rng.integers(0, N_FEATURES, n)] += rng.choice([-3.0, 3.0], n)
    return x.astype(np.float32)


def build_small(n_features: int, hidden: int = 16, latent_dim: int = 3) -> keras.Model:
    """The kind of function lesson 4 writes: ``n_features -> `` an uncompiled dense
    autoencoder ``(n, n_features) -> (n, n_features)``."""
    inputs = keras.Input((n_features,))
    x = layers.Dense(hidden, activation="relu")(inputs)
    code = layers.Dense(latent_dim)(x)
    y = layers.Dense(hidden, activation="relu")(code)
    return keras.Model(inputs, layers.Dense(n_features, activation="sigmoid")(y))


def build_tiny(n_features: int) -> keras.Model:
    return build_small(n_features, hidden=4, latent_dim=2)


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    x_train = _signals(300, False, rng)
    x_val = np.r_[_signals(60, False, rng), _signals(30, True, rng)]
    y_val = np.r_[np.zeros(60, int), np.ones(30, int)]
    x_test = np.r_[_signals(60, False, rng), _signals(30, True, rng)]
    y_test = y_val.copy()
    det = ReconstructionAnomalyDetector(build_small, epochs=40, batch_size=32,
                                        learning_rate=1e-2, patience=40, random_state=0)
    det.fit(x_train, x_val, y_val)
    det.x_train_for_test = x_train  # kept for the scaling test
    return det, x_test, y_test


def test_detector_scores_anomalies_higher_and_predicts_one_for_them(toy):
    det, x_test, y_test = toy
    scores = det.score_samples(x_test)
    assert scores.shape == (len(x_test),) and scores.dtype == np.float32
    assert ranking_metrics(y_test, scores)["roc_auc"] > 0.95
    pred = det.predict(x_test)
    assert set(np.unique(pred)) <= {0, 1}
    assert np.array_equal(pred, (scores >= det.threshold_).astype(int))
    assert np.array_equal(pred, (det.decision_function(x_test) >= 0).astype(int))
    assert classification_metrics(y_test, scores, det.threshold_)["f1"] > 0.9
    assert det.predict(x_test, threshold=np.inf).sum() == 0


def test_detector_stores_errors_and_switches_threshold_without_retraining(toy):
    det, _, _ = toy
    assert det.train_errors_.shape == (300,) and det.val_errors_.shape == (90,)
    assert det.threshold_ == pytest.approx(max_f1_threshold(det.val_errors_, det.val_labels_))
    assert det.choose_threshold("mean_std") == pytest.approx(mean_std_threshold(det.train_errors_))
    assert det.choose_threshold(PercentileThreshold(50)) == pytest.approx(
        np.median(det.val_errors_[:60]))
    assert det.choose_threshold(0.123) == 0.123
    assert 1 <= len(det.history_["loss"]) <= 40 and "val_loss" in det.history_


def test_detector_scales_with_training_statistics_and_reconstructs_in_input_units(toy):
    det, x_test, _ = toy
    x_train = det.x_train_for_test
    assert (det.scaler_.min_, det.scaler_.max_) == pytest.approx((x_train.min(), x_train.max()))
    scaled = det.transform_input(x_test)
    np.testing.assert_allclose(scaled, (x_test - det.scaler_.min_)
                               / (det.scaler_.max_ - det.scaler_.min_), rtol=1e-5)
    rec, rec_scaled = det.reconstruct(x_test), det.reconstruct(x_test, scaled=True)
    assert rec.shape == x_test.shape
    np.testing.assert_allclose(np.abs(rec_scaled - scaled).mean(axis=1),
                               det.score_samples(x_test), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(det.transform_input(rec), rec_scaled, atol=1e-5)


def test_detector_rejects_bad_input(toy):
    det, x_test, _ = toy
    with pytest.raises(ValueError, match="23 features.*fitted with 24"):
        det.score_samples(x_test[:, :-1])
    bad = x_test.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.predict(bad)
    with pytest.raises(ValueError, match="2D array"):
        det.score_samples(x_test[0])


def test_detector_must_be_fitted_first_and_clones_unfitted(toy):
    det, x_test, _ = toy
    fresh = clone(det)
    assert fresh.get_params() == det.get_params()
    for method in (fresh.score_samples, fresh.predict, fresh.decision_function,
                   fresh.reconstruct):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            method(x_test)


def test_fit_checks_its_arguments():
    rng = np.random.default_rng(1)
    x = _signals(40, False, rng)
    det = ReconstructionAnomalyDetector(build_tiny, epochs=1)
    with pytest.raises(ValueError, match="NaN"):
        det.fit(np.where(np.eye(40, N_FEATURES) > 0, np.nan, x))
    with pytest.raises(ValueError, match="X_val has 20 features"):
        det.fit(x, x[:, :20])
    with pytest.raises(ValueError, match="y_val must hold 0"):
        det.fit(x, x, np.full(40, 2))
    with pytest.raises(ValueError, match="no normal example"):
        det.fit(x, x, np.ones(40, int))
    with pytest.raises(ValueError, match="needs both"):  # max F1 with normals only
        det.fit(x, x)
    with pytest.raises(ValueError, match="Unknown threshold"):
        det.set_params(threshold="best").fit(x)
    with pytest.raises(ValueError, match="error must be"):
        det.set_params(threshold="mean_std", error="rmse").fit(x)
    # the tutorial's set-up: no validation data, threshold from the training errors
    det.set_params(error="mse").fit(x)
    assert det.threshold_ == pytest.approx(mean_std_threshold(det.train_errors_))
    assert det.val_errors_ is None
    # build_model is called after seeding: a refit starts from the same weights
    first = det.train_errors_.copy()
    np.testing.assert_allclose(det.fit(x).train_errors_, first, rtol=1e-6)


def test_detector_trains_the_model_it_is_given(toy):
    det, x_test, _ = toy
    assert isinstance(det.model_, keras.Model)
    assert det.get_params()["build_model"] is build_small
    assert det.model_.count_params() == build_small(N_FEATURES).count_params()
    np.testing.assert_allclose(det.reconstruct(x_test[:4], scaled=True),
                               det.model_.predict(det.transform_input(x_test[:4]), verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("build_model", [None, 3, "dense"])  # None is the default
def test_fit_needs_a_build_model_function(build_model):
    x = _signals(20, False, np.random.default_rng(3))
    with pytest.raises(ValueError, match="build_model must be a function n_features -> "
                                         "keras.Model"):
        ReconstructionAnomalyDetector(build_model, threshold="mean_std", epochs=1).fit(x)


def test_fit_checks_what_build_model_returns():
    x = _signals(20, False, np.random.default_rng(4))

    def not_a_model(n):
        return [n]

    def wrong_output(n):
        inputs = keras.Input((n,))
        return keras.Model(inputs, layers.Dense(n - 1)(inputs))

    def images_out(n):
        inputs = keras.Input((n,))
        return keras.Model(inputs, layers.Reshape((n, 1))(inputs))

    with pytest.raises(ValueError, match=r"build_model\(24\) must return a keras.Model, got list"):
        ReconstructionAnomalyDetector(not_a_model, threshold="mean_std", epochs=1).fit(x)
    for build in (wrong_output, images_out):
        with pytest.raises(ValueError, match=r"maps to shape .* not \(24,\)"):
            ReconstructionAnomalyDetector(build, threshold="mean_std", epochs=1).fit(x)
