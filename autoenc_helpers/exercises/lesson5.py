"""Exercises of lesson 5 (sequence autoencoders on synthetic series, and on ECG5000).

Bind them in the notebook with::

    ex1, ex2, ex3, ex4 = exercises.lesson(
        5, train=train, split=split, x_train=x_train, x_val=x_val, x_test=x_test,
        LENGTH=LENGTH, LATENT=LATENT, UNITS=UNITS, x_all=x_all, y_all=y_all,
        build_conv=build_conv, make_detector=make_detector, ECG_MAX_EPOCHS=ECG_MAX_EPOCHS)

``train(model)`` is the notebook's training function (compile and ``fit(x, x)`` for
``EPOCHS``), ``split`` the :class:`~autoenc_helpers.data.SignalSplits` (labels = family),
``x_train`` / ``x_val`` the ``(n, LENGTH, 1)`` series; ``x_all`` ``(n, 140)`` the ECG5000
beats, ``y_all`` their labels (1 = anomaly), ``build_conv`` the notebook's ECG model builder,
``make_detector(build, seed, epochs=ECG_MAX_EPOCHS)`` its unfitted detector with lesson 4's
settings.
"""

from __future__ import annotations

import numpy as np

from autoenc_helpers.exercises import (Incorrect, as_model, as_number, expect, expect_close,
                                       predict, register, unpack)


def _probe(z_train, y_train, z_eval, y_eval) -> float:
    """Accuracy of standardisation + logistic regression, recomputed with scikit-learn."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    return float(probe.fit(z_train, y_train).score(z_eval, y_eval))


def _recurrent_layers(model) -> list[str]:
    """Class names of the recurrent layers of a model, nested models included."""
    import keras

    names: list[str] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += _recurrent_layers(layer)
        elif isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
            names.append(type(layer).__name__)
    return names


def _check_probe(answer, split, x_train, x_val, x_test=None, code_size: int | None = None,
                 cell: str | None = None) -> str:
    """Shared check: ``(encoder, validation probe accuracy)``."""
    encoder, acc = unpack(answer, ("encoder", "validation probe accuracy"))
    encoder = as_model(encoder, "your encoder")
    z_train = predict(encoder, x_train).reshape(len(x_train), -1)
    z_val = predict(encoder, x_val).reshape(len(x_val), -1)
    if code_size is not None:
        expect(z_val.shape[1] == code_size, f"your encoder's code has {z_val.shape[1]} numbers; "
               f"the exercise asks for {code_size}.")
    if cell is not None:
        kinds = _recurrent_layers(encoder)
        expect(kinds and all(k == cell for k in kinds),
               f"your encoder's recurrent layers are {kinds or 'none'}; use {cell} layers.")
    want = _probe(z_train, split.y_train, z_val, split.y_val)
    value = as_number(acc, "your probe accuracy")
    if x_test is not None and not np.isclose(value, want):
        z_test = predict(encoder, x_test).reshape(len(x_test), -1)
        if np.isclose(value, _probe(z_train, split.y_train, z_test, split.y_test)):
            raise Incorrect("this is the TEST accuracy: compare models on the validation "
                            "series (x_val, split.y_val); the test series are for the end.")
    expect_close(value, want, "your validation probe accuracy", rel=1e-6,
                 advice="Fit the probe on the codes of x_train, score it on those of x_val "
                        "(sequences.linear_probe).")
    return (f"a {z_val.shape[1]}-number code; validation probe accuracy {want:.3f} "
            "(logistic regression on training codes, recomputed).")


# --------------------------------------------------------------------------- exercise 1


def gru_encoder(train, x_train, x_val, split, LENGTH, LATENT, UNITS):
    from autoenc_helpers import models, sequences

    gru_ae, gru_enc, _ = models.recurrent_autoencoder(LENGTH, latent_dim=LATENT, units=UNITS,
                                                      cell="gru")
    train(gru_ae)
    acc = sequences.linear_probe(sequences.encode(gru_enc, x_train), split.y_train,
                                 sequences.encode(gru_enc, x_val), split.y_val)
    print(f"GRU: {gru_ae.count_params():,} weights; validation probe accuracy {acc:.3f}")
    answer = (gru_enc, acc)
    return answer


def check_gru_encoder(answer, split, x_train, x_val, LATENT, x_test=None):
    return _check_probe(answer, split, x_train, x_val, x_test, code_size=LATENT, cell="GRU")


register(lesson=5, number=1, title="A GRU instead of an LSTM",
         answer="(the GRU encoder, its validation probe accuracy)",
         hint="models.recurrent_autoencoder(LENGTH, latent_dim=LATENT, units=UNITS, "
              "cell=\"gru\") builds it; train(...) it; sequences.linear_probe on the codes of "
              "x_train (with split.y_train) and of x_val (with split.y_val).",
         solution=gru_encoder, check=check_gru_encoder)


# --------------------------------------------------------------------------- exercise 2


def code_of_four(train, x_train, x_val, split, LENGTH, UNITS):
    from autoenc_helpers import models, sequences

    small_ae, small_enc, _ = models.recurrent_autoencoder(LENGTH, latent_dim=4, units=UNITS)
    train(small_ae)
    acc = sequences.linear_probe(sequences.encode(small_enc, x_train), split.y_train,
                                 sequences.encode(small_enc, x_val), split.y_val)
    print(f"a code of 4 numbers: validation probe accuracy {acc:.3f}")
    answer = (small_enc, acc)
    return answer


def check_code_of_four(answer, split, x_train, x_val, x_test=None):
    return _check_probe(answer, split, x_train, x_val, x_test, code_size=4)


register(lesson=5, number=2, title="A code of 4 numbers",
         answer="(the encoder, its validation probe accuracy)",
         hint="The same builder with latent_dim=4; train it, then probe its codes: fit on "
              "x_train's codes, score on x_val's.",
         solution=code_of_four, check=check_code_of_four)


# --------------------------------------------------------------------------- exercise 3


def windows_leak(split, LENGTH):
    from sklearn.neighbors import NearestNeighbors

    from autoenc_helpers import data

    def nearest_rms(train, test):
        """RMS difference between each test row and its nearest training row, averaged."""
        dist, _ = NearestNeighbors(n_neighbors=1).fit(train).kneighbors(test)
        return float(np.mean(dist[:, 0] / np.sqrt(train.shape[1])))

    # the tutorial's way: one long series per family, cut into overlapping windows
    long_x, _ = data.make_signals(1, length=20 * LENGTH, seed=123)
    starts = range(0, long_x.shape[1] - LENGTH, 4)
    windows = np.stack([row[s:s + LENGTH] for row in long_x for s in starts])
    order = np.random.default_rng(0).permutation(len(windows))
    half = len(order) // 2
    rms_windows = nearest_rms(windows[order[:half]], windows[order[half:]])
    # our way: separate series for training and validation
    rms_series = nearest_rms(split.x_train, split.x_val)
    print(f"RMS gap to the nearest training example: {rms_windows:.3f} for random windows of "
          f"one series, {rms_series:.3f} for separate series")
    answer = (rms_windows, rms_series)
    return answer


def check_windows_leak(answer, split):
    from sklearn.neighbors import NearestNeighbors

    rms_windows, rms_series = unpack(answer, ("gap with windows", "gap with separate series"))
    rms_windows = as_number(rms_windows, "your gap with windows")
    dist, _ = NearestNeighbors(n_neighbors=1).fit(split.x_train).kneighbors(split.x_val)
    want = float(np.mean(dist[:, 0] / np.sqrt(split.x_train.shape[1])))
    expect_close(rms_series, want, "your gap with separate series", rel=1e-4,
                 advice="For each series of split.x_val find its nearest series in "
                        "split.x_train (sklearn.neighbors.NearestNeighbors), divide the "
                        "distance by sqrt(LENGTH), and average.")
    expect(rms_windows > 0, f"a gap is positive, got {rms_windows:.4g}.")
    expect(rms_windows < want, f"with overlapping windows on both sides the nearest training "
           f"window ({rms_windows:.3f}) should be closer than with separate series "
           f"({want:.3f}): did the windows overlap (a step smaller than LENGTH) and were they "
           "split at random?")
    return (f"nearest training example {rms_windows:.3f} (RMS) away with leaky windows, "
            f"{want:.3f} with separate series (recomputed): a random split of overlapping "
            "windows puts near-copies of the test windows in the training set.")


register(lesson=5, number=3, title="How windows of one series leak",
         answer="(mean RMS gap to the nearest training window, to the nearest training series)",
         hint="data.make_signals(1, length=20 * LENGTH) gives one long series per family; "
              "cut windows every 4 steps, split them at random in halves, and use "
              "sklearn.neighbors.NearestNeighbors(n_neighbors=1) to find each test window's "
              "nearest training window; then the same from split.x_val to split.x_train.",
         solution=windows_leak, check=check_windows_leak)


# --------------------------------------------------------------------------- exercise 4


def longer_budget(x_all, y_all, build_conv, make_detector, ECG_MAX_EPOCHS):
    from autoenc_helpers.anomaly import train_val_test_split
    from autoenc_helpers.metrics import ranking_metrics

    sp = train_val_test_split(x_all, y_all, 0.2, 0.2, seed=0)  # split 0, as in evaluate
    detectors = []
    for budget in (ECG_MAX_EPOCHS, 2 * ECG_MAX_EPOCHS):
        det = make_detector(build_conv, 0, epochs=budget)
        det.fit(sp.x_train[sp.y_train == 0], sp.x_val, sp.y_val)
        auc = ranking_metrics(det.val_labels_, det.val_errors_)["roc_auc"]
        print(f"budget {budget} epochs: trained {len(det.history_['loss'])}, "
              f"validation ROC AUC {auc:.4f}")
        detectors.append(det)
    answer = tuple(detectors)
    return answer


def check_longer_budget(answer, ECG_MAX_EPOCHS):
    import keras

    from autoenc_helpers.anomaly import ReconstructionAnomalyDetector
    from autoenc_helpers.metrics import ranking_metrics

    short, long = unpack(answer, ("detector with ECG_MAX_EPOCHS",
                                  "detector with twice as many"))
    aucs = []
    for det, what, budget in ((short, "your first detector", ECG_MAX_EPOCHS),
                              (long, "your second detector", 2 * ECG_MAX_EPOCHS)):
        expect(isinstance(det, ReconstructionAnomalyDetector),
               f"{what} should be a ReconstructionAnomalyDetector, got {type(det).__name__}.")
        expect(getattr(det, "val_errors_", None) is not None,
               f"{what} is not fitted with validation data: call "
               "det.fit(sp.x_train[sp.y_train == 0], sp.x_val, sp.y_val).")
        expect(det.epochs == budget, f"{what} has a budget of {det.epochs} epochs; the "
               f"exercise asks for {budget}.")
        expect(any(isinstance(layer, keras.layers.Conv1D) for layer in det.model_.layers),
               f"{what} trains no Conv1D layer: pass build_conv as its model builder.")
        aucs.append(ranking_metrics(det.val_labels_, det.val_errors_)["roc_auc"])
    expect(np.array_equal(short.val_labels_, long.val_labels_)
           and len(short.train_errors_) == len(long.train_errors_),
           "the two detectors saw different data: fit both on the same split (seed=0).")
    gain = aucs[1] - aucs[0]
    verdict = ("the longer budget helped on this split's validation set" if gain > 0 else
               "the longer budget did not help on this split's validation set")
    return (f"validation ROC AUC {aucs[0]:.4f} after at most {ECG_MAX_EPOCHS} epochs, "
            f"{aucs[1]:.4f} after at most {2 * ECG_MAX_EPOCHS} ({gain:+.4f}, recomputed from "
            f"the detectors' validation errors): {verdict}. One split is noisy; the notebook's "
            "choice of budget looked at all five.")


register(lesson=5, number=4, title="A longer training budget",
         answer="(the detector fitted with ECG_MAX_EPOCHS, the one fitted with twice as many)",
         hint="sp = train_val_test_split(x_all, y_all, 0.2, 0.2, seed=0); make two "
              "detectors, make_detector(build_conv, 0) and make_detector(build_conv, 0, "
              "epochs=2 * ECG_MAX_EPOCHS); fit each on "
              "sp.x_train[sp.y_train == 0] with sp.x_val, sp.y_val; compare "
              "ranking_metrics(det.val_labels_, det.val_errors_).",
         solution=longer_budget, check=check_longer_budget)
