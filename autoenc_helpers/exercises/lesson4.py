"""Exercises of lesson 4 (ECG anomaly detection, anomaly = positive class).

Bind them in the notebook with::

    ex1, ex2, ex3 = exercises.lesson(4, detector=detector, split=split,
                                     x_train_normal=x_train_normal)

``detector`` is the fitted :class:`~autoenc_helpers.anomaly.ReconstructionAnomalyDetector`
(MAE score), ``split`` the :class:`~autoenc_helpers.anomaly.Splits` (labels 1 = anomaly).
"""

from __future__ import annotations

import numpy as np

from autoenc_helpers.exercises import (Incorrect, as_number, dense_widths, expect,
                                       expect_close, predict, register, unpack)


def _errors(detector, x, kind: str) -> np.ndarray:
    """Per-beat error of the detector's network on ``x`` (scaled as in fit), recomputed."""
    x_scaled = detector.transform_input(x)
    diff = predict(detector.model_, x_scaled) - x_scaled
    return (np.abs(diff) if kind == "mae" else np.square(diff)).mean(axis=1)


def _auc(y, scores) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def _precision_recall(y, errors, t, positive: int = 1) -> tuple[float, float]:
    y = np.asarray(y)
    flagged = np.asarray(errors) >= t
    pred_pos = flagged if positive == 1 else ~flagged
    actual_pos = y == positive
    tp = float(np.sum(pred_pos & actual_pos))
    precision = tp / max(float(pred_pos.sum()), 1.0)
    recall = tp / max(float(actual_pos.sum()), 1.0)
    return precision, recall


def _close(a: float, b: float) -> bool:
    return bool(np.isclose(a, b, rtol=1e-4, atol=1e-6))


# --------------------------------------------------------------------------- exercise 1


def squared_error_score(detector, split):
    from sklearn.metrics import roc_auc_score

    from autoenc_helpers import metrics

    # no retraining: score the same network's reconstructions of the validation beats two ways
    x_val_scaled = detector.transform_input(split.x_val)
    auc = {}
    for kind in ("mae", "mse"):
        errors = metrics.reconstruction_errors(detector.model_, x_val_scaled, kind=kind)
        auc[kind] = roc_auc_score(split.y_val, errors)  # y = 1 (anomaly) is the positive class
        print(f"validation ROC AUC with the {kind.upper()} score: {auc[kind]:.4f}")
    answer = (auc["mae"], auc["mse"])
    return answer


def check_squared_error_score(answer, detector, split):
    r_mae, r_mse = unpack(answer, ("ROC AUC of the MAE score", "ROC AUC of the MSE score"))
    r_mae = as_number(r_mae, "your MAE ROC AUC")
    r_mse = as_number(r_mse, "your MSE ROC AUC")
    auc = {kind: _auc(split.y_val, _errors(detector, split.x_val, kind))
           for kind in ("mae", "mse")}
    if not (_close(r_mae, auc["mae"]) and _close(r_mse, auc["mse"])):
        if _close(r_mae, auc["mse"]) and _close(r_mse, auc["mae"]):
            raise Incorrect("your two numbers are swapped: the answer is (MAE, MSE).")
        if _close(r_mae, 1 - auc["mae"]) or _close(r_mse, 1 - auc["mse"]):
            raise Incorrect("your ROC AUC is 1 minus the right one: the anomaly (y = 1) is the "
                            "positive class and a higher error means more anomalous; pass "
                            "split.y_val and the errors as they are.")
        test = {kind: _auc(split.y_test, _errors(detector, split.x_test, kind))
                for kind in ("mae", "mse")}
        if _close(r_mae, test["mae"]) or _close(r_mse, test["mse"]):
            raise Incorrect("these are TEST-set numbers: compare the scores on the validation "
                            "set (split.x_val, split.y_val); the test set is for the end.")
        raise Incorrect(f"recomputing on the validation set gives ROC AUC {auc['mae']:.4f} "
                        f"(MAE) and {auc['mse']:.4f} (MSE); you have {r_mae:.4g} and "
                        f"{r_mse:.4g}. Score detector.transform_input(split.x_val) with "
                        "detector.model_.")
    return (f"validation ROC AUC {auc['mae']:.4f} with the MAE score and {auc['mse']:.4f} with "
            "the MSE score (anomaly positive), both recomputed from the same network.")


register(lesson=4, number=1, title="Squared instead of absolute error as the score",
         answer="(validation ROC AUC of the MAE score, of the MSE score)",
         hint="No retraining: x = detector.transform_input(split.x_val) is what the network "
              "sees; metrics.reconstruction_errors(detector.model_, x, kind=\"mse\") (or "
              "\"mae\") scores it; sklearn.metrics.roc_auc_score(split.y_val, errors).",
         solution=squared_error_score, check=check_squared_error_score)


# --------------------------------------------------------------------------- exercise 2


def percentile_99(detector, split):
    import pandas as pd

    from autoenc_helpers.anomaly import PercentileThreshold
    from autoenc_helpers.metrics import classification_metrics

    rows = {}
    for q in (95, 99):
        t = detector.choose_threshold(PercentileThreshold(q=q))  # validation normals' errors
        rows[f"{q}th percentile"] = {"threshold": t, **classification_metrics(
            split.y_val, detector.val_errors_, t)}
    print("validation set, positive class = anomaly:")
    print(pd.DataFrame(rows).T.round(3).to_string())
    best = rows["99th percentile"]
    answer = (best["threshold"], best["precision"], best["recall"])
    return answer


def check_percentile_99(answer, detector, split):
    t, precision, recall = unpack(answer, ("threshold", "precision", "recall"))
    t = as_number(t, "your threshold")
    errors, y = np.asarray(detector.val_errors_, np.float64), np.asarray(split.y_val)
    want = float(np.percentile(errors[y == 0], 99))
    if not _close(t, want):
        if _close(t, float(np.percentile(errors, 99))):
            raise Incorrect("your percentile is taken over ALL validation errors, anomalies "
                            "included; the rule uses the normal beats only (y_val == 0).")
        if _close(t, float(np.percentile(detector.train_errors_, 99))):
            raise Incorrect("your percentile is taken over the training errors, which are "
                            "optimistic; use the validation normals.")
        raise Incorrect(f"your threshold is {t:.6g}; the 99th percentile of the validation "
                        f"normals' errors is {want:.6g}.")
    p = as_number(precision, "your precision")
    r = as_number(recall, "your recall")
    p_want, r_want = _precision_recall(y, errors, t)
    if not (_close(p, p_want) and _close(r, r_want)):
        if _close(p, r_want) and _close(r, p_want):
            raise Incorrect("your precision and recall are swapped.")
        if (_close(p, _precision_recall(y, errors, t, positive=0)[0])
                and _close(r, _precision_recall(y, errors, t, positive=0)[1])):
            raise Incorrect("you took the NORMAL class as positive; here the anomaly (y = 1) "
                            "is the positive class.")
        raise Incorrect(f"at this threshold (flag when error >= threshold) the validation "
                        f"precision is {p_want:.4f} and the recall {r_want:.4f}; you have "
                        f"{p:.4g} and {r:.4g}.")
    return (f"threshold {t:.5g} (99th percentile of the validation normals' errors); "
            f"validation precision {p_want:.3f} and recall {r_want:.3f}, anomaly positive, "
            "recomputed.")


register(lesson=4, number=2, title="A 99th-percentile threshold", answer="(threshold, "
         "validation precision, validation recall), anomaly positive",
         hint="detector.choose_threshold(PercentileThreshold(q=99)) takes the percentile of the "
              "validation normals' errors; classification_metrics(split.y_val, "
              "detector.val_errors_, threshold) gives precision and recall (anomaly positive).",
         solution=percentile_99, check=check_percentile_99)


# --------------------------------------------------------------------------- exercise 3


def tutorial_recipe(detector, split, x_train_normal):
    import keras
    from keras import layers

    from autoenc_helpers.anomaly import ReconstructionAnomalyDetector
    from autoenc_helpers.config import get_settings
    from autoenc_helpers.metrics import classification_metrics, ranking_metrics

    def build_tutorial(n_features: int) -> keras.Model:
        """The TensorFlow tutorial's autoencoder: 140 -> 32 -> 16 -> 8 -> 16 -> 32 -> 140."""
        beat = keras.Input(shape=(n_features,))
        x = layers.Dense(32, activation="relu")(beat)
        x = layers.Dense(16, activation="relu")(x)
        code = layers.Dense(8, activation="relu")(x)
        y = layers.Dense(16, activation="relu")(code)
        y = layers.Dense(32, activation="relu")(y)
        return keras.Model(beat, layers.Dense(n_features, activation="sigmoid")(y))

    tutorial = ReconstructionAnomalyDetector(build_tutorial, threshold="mean_std",
                                             epochs=get_settings().epochs(20), batch_size=512,
                                             learning_rate=1e-3, random_state=0)
    tutorial.fit(x_train_normal)  # no validation data: no early stopping, as in the tutorial
    print("validation set, anomaly positive:")
    results = {}
    for name, det in [("tutorial recipe", tutorial), ("lesson's detector", detector)]:
        errors = det.score_samples(split.x_val)
        roc_auc = ranking_metrics(split.y_val, errors)["roc_auc"]
        scores = classification_metrics(split.y_val, errors, det.threshold_)
        print(f"{name:18s} ROC AUC {roc_auc:.4f}; at its threshold: precision "
              f"{scores['precision']:.3f}, recall {scores['recall']:.3f}, F1 {scores['f1']:.3f}")
        results[name] = (roc_auc, scores["f1"])
    answer = (tutorial, *results["tutorial recipe"])
    return answer


def check_tutorial_recipe(answer, detector, split):
    from autoenc_helpers.anomaly import ReconstructionAnomalyDetector
    from autoenc_helpers.config import get_settings

    det, roc_auc, f1 = unpack(answer, ("detector", "validation ROC AUC", "validation F1"))
    expect(isinstance(det, ReconstructionAnomalyDetector), "the first item should be a "
           f"ReconstructionAnomalyDetector, got {type(det).__name__}.")
    expect(det is not detector, "that is the lesson's detector: build a new one with the "
           "tutorial's settings.")
    expect(hasattr(det, "model_"), "the detector is not fitted yet: call fit(x_train_normal).")
    n = int(det.n_features_in_)
    widths = dense_widths(det.model_)
    expect(widths == [32, 16, 8, 16, 32, n], f"its Dense layers have {widths} units; the "
           f"tutorial's are [32, 16, 8, 16, 32, {n}].")
    epochs = get_settings().epochs(20)
    for name, want in (("epochs", epochs), ("batch_size", 512), ("learning_rate", 1e-3)):
        expect(np.isclose(getattr(det, name), want), f"{name} is {getattr(det, name)}; the "
               f"tutorial uses {want}.")
    expect(len(det.history_.get("loss", [])) == epochs and det.val_errors_ is None,
           f"it trained {len(det.history_.get('loss', []))} epochs with validation data; fit "
           f"it on the training normals only (no validation data, so all {epochs} epochs run).")
    train_errors = np.asarray(det.train_errors_, np.float64)
    t_want = float(train_errors.mean() + train_errors.std())
    expect(_close(det.threshold_, t_want), f"its threshold is {det.threshold_:.5g}; mean + 1 "
           f"std of its training errors is {t_want:.5g}: use threshold=\"mean_std\".")
    errors = _errors(det, split.x_val, det.error)
    auc_want = _auc(split.y_val, errors)
    p, r = _precision_recall(split.y_val, errors, det.threshold_)
    f1_want = 2 * p * r / (p + r) if p + r else 0.0
    expect_close(roc_auc, auc_want, "your validation ROC AUC", rel=1e-4,
                 advice="Score split.x_val with the new detector and use split.y_val.")
    expect_close(f1, f1_want, "your validation F1", rel=1e-4, abs_tol=1e-6,
                 advice="Use the new detector's own threshold_ (anomaly positive).")
    return (f"the tutorial's 32-16-8 network, trained for epochs={epochs} with batches of 512 "
            f"at learning rate 0.001, threshold mean + 1 std of its training errors; validation "
            f"ROC AUC {auc_want:.4f} and F1 {f1_want:.4f}, recomputed.")


register(lesson=4, number=3, title="The tutorial's recipe, on the validation set",
         answer="(fitted detector, validation ROC AUC, validation F1 at its threshold)",
         hint="Write a builder n_features -> keras.Model with Dense layers 32, 16, 8, 16, 32 and "
              "a sigmoid output; ReconstructionAnomalyDetector(builder, threshold=\"mean_std\", "
              "epochs=S.epochs(20), batch_size=512, learning_rate=1e-3).fit(x_train_normal), "
              "then ranking_metrics and classification_metrics on split.x_val.",
         solution=tutorial_recipe, check=check_tutorial_recipe)
