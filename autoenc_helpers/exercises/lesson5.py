"""Exercises of lesson 5 (sequence autoencoders on ``(n, LENGTH, 1)`` series)."""

from functools import partial

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from autoenc_helpers import models
from autoenc_helpers.exercises import as_model, exercise, expect, layers_of, on_test, predict
from autoenc_helpers.metrics import ranking_metrics


def _probe(encoder, _, split, x_train, x_val, LATENT, size=None, cell=None, part="y_val"):
    z_train, z_val = (predict(as_model(encoder, "your encoder"), x, flat=True)
                      for x in (x_train, x_val))
    expect(z_train.shape[1] == (size or LATENT), f"your encoder's code has {z_train.shape[1]} "
           f"numbers; the task asks for {size or LATENT}.")
    kinds = {type(la).__name__ for la in layers_of(encoder)} & {"LSTM", "GRU"}
    expect(cell is None or kinds == {cell}, f"your encoder's recurrent layers are "
           f"{sorted(kinds) or 'none'}; use {cell} layers.")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    return None, float(probe.fit(z_train, split.y_train).score(z_val, getattr(split, part)))


_PROBE = dict(parts=("encoder", "validation probe accuracy"), rel=1e-6,
              mistakes=[on_test(part="y_test", x_val="x_test")],
              advice="Fit the probe on x_train's codes, score it on x_val's (linear_probe).")


@exercise(5, 1, "A GRU instead of an LSTM", expected=partial(_probe, cell="GRU"), **_PROBE,
          hint="models.recurrent_autoencoder(..., cell=\"gru\"); train it; probe its codes.")
def gru_encoder(train, x_train, x_val, split, LENGTH, LATENT, UNITS, sequences):
    gru_ae, gru_enc, _ = models.recurrent_autoencoder(LENGTH, latent_dim=LATENT, units=UNITS,
                                                      cell="gru")
    train(gru_ae)
    acc = sequences.linear_probe(gru_enc.predict(x_train, verbose=0), split.y_train,
                                 gru_enc.predict(x_val, verbose=0), split.y_val)
    return gru_enc, acc


@exercise(5, 2, "A code of 4 numbers", expected=partial(_probe, size=4), **_PROBE,
          hint="The same builder with latent_dim=4; train it, then probe its codes.")
def code_of_four(train, x_train, x_val, split, LENGTH, UNITS, sequences):
    small_ae, small_enc, _ = models.recurrent_autoencoder(LENGTH, latent_dim=4, units=UNITS)
    train(small_ae)
    acc = sequences.linear_probe(small_enc.predict(x_train, verbose=0), split.y_train,
                                 small_enc.predict(x_val, verbose=0), split.y_val)
    return small_enc, acc


def _leak(rms_windows, _, split):
    x_train, x_val = np.asarray(split.x_train), np.asarray(split.x_val)
    d2 = np.square(x_val[:, None, :] - x_train[None, :, :]).sum(axis=2)  # (n_val, n_train)
    want = float(np.mean(np.sqrt(d2.min(axis=1) / x_train.shape[1])))
    expect(0 < float(rms_windows) < want, "the nearest overlapping window should be closer "
           f"than the nearest separate series ({want:.3f}): cut windows with a step < LENGTH.")
    return None, want


@exercise(5, 3, "How windows of one series leak",
          ("gap with windows", "gap with separate series"), _leak, rel=1e-4,
          advice="Divide each distance to the nearest series by sqrt(LENGTH), and average.",
          hint="Windows every 4 steps of make_signals(1, length=20 * LENGTH); NearestNeighbors.")
def windows_leak(split, LENGTH, sequences):
    def nearest_rms(train, test):
        dist, _ = NearestNeighbors(n_neighbors=1).fit(train).kneighbors(test)
        return float(np.mean(dist[:, 0] / np.sqrt(train.shape[1])))

    long_x, _ = sequences.make_signals(1, length=20 * LENGTH, seed=123)  # one series a family
    windows = np.stack([row[s:s + LENGTH] for row in long_x
                        for s in range(0, long_x.shape[1] - LENGTH, 4)])
    train_w, test_w = np.array_split(np.random.default_rng(0).permutation(windows), 2)
    return nearest_rms(train_w, test_w), nearest_rms(split.x_train, split.x_val)  # ours: series


def _budget(short, long, ECG_MAX_EPOCHS):
    for det, n, what in ((short, 1, "your first detector"), (long, 2, "your second detector")):
        expect(getattr(det, "val_errors_", None) is not None, f"{what} is not fitted with "
               "validation data: a ReconstructionAnomalyDetector, fit(..., sp.x_val, sp.y_val).")
        expect(det.epochs == n * ECG_MAX_EPOCHS, f"{what} has a budget of {det.epochs} epochs, "
               f"not {n * ECG_MAX_EPOCHS}.")
        expect("Conv1D" in {type(la).__name__ for la in layers_of(det.model_)},
               f"{what} trains no Conv1D layer: pass build_conv as its model builder.")
    expect(np.array_equal(short.val_labels_, long.val_labels_), "the two detectors saw "
           "different data: fit both on the same split (seed=0).")


@exercise(5, 4, "A longer training budget",
          ("detector with ECG_MAX_EPOCHS", "detector with twice as many"), _budget,
          passed="Both use build_conv, the two budgets and one split; compare their validation"
                 " ROC AUC (one split is noisy: the lesson's choice looked at all five).",
          hint="make_detector(build_conv, 0), and with epochs=2 * ECG_MAX_EPOCHS; split seed=0.")
def longer_budget(x_all, y_all, build_conv, make_detector, ECG_MAX_EPOCHS, train_val_test_split):
    sp = train_val_test_split(x_all, y_all, 0.2, 0.2, seed=0)  # split 0, as in evaluate
    detectors = [make_detector(build_conv, 0, epochs=n * ECG_MAX_EPOCHS) for n in (1, 2)]
    for det in detectors:
        det.fit(sp.x_train[sp.y_train == 0], sp.x_val, sp.y_val)
        auc = ranking_metrics(det.val_labels_, det.val_errors_)["roc_auc"]
        print(f"budget {det.epochs} epochs: validation ROC AUC {auc:.4f}")
    return tuple(detectors)
