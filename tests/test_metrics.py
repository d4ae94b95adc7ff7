"""Reconstruction errors, PSNR, the pixel conversion they rely on, and the one flag rule with
its thresholds and scores (anomaly = 1 = the positive class, flagged when error >= threshold)."""

from __future__ import annotations

import numpy as np
import pytest

from autoenc_helpers.data import to_float
from autoenc_helpers.metrics import (CLASS_NAMES, check_codes, check_errors, check_labels,
                                     classification_metrics, flag, flag_rate, max_f1_threshold,
                                     mean_std_threshold, percentile_threshold, psnr,
                                     ranking_metrics, reconstruction_errors)

# --------------------------------------------------------------------------- errors


def test_errors_per_example_in_batches():
    rng = np.random.default_rng(0)
    x = rng.random((7, 4, 4)).astype(np.float32)
    half = lambda b: b / 2  # noqa: E731
    expected = np.mean((x / 2 - x) ** 2, axis=(1, 2))
    np.testing.assert_allclose(reconstruction_errors(half, x, batch_size=3), expected, rtol=1e-6)
    np.testing.assert_allclose(reconstruction_errors(half, x, kind="mae"),
                               np.mean(np.abs(x / 2 - x), axis=(1, 2)), rtol=1e-6)
    assert reconstruction_errors(lambda b: b, x).max() == 0.0


def test_uint8_inputs_and_separate_targets():
    x = np.full((2, 3, 3), 255, np.uint8)
    zeros = np.zeros((2, 3, 3), np.uint8)
    np.testing.assert_allclose(reconstruction_errors(lambda b: b, x, targets=zeros), [1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        reconstruction_errors(lambda b: b, x, targets=zeros[:1])
    with pytest.raises(ValueError, match="kind"):
        reconstruction_errors(lambda b: b, x, kind="rmse")


def test_psnr():
    assert psnr(0.01) == pytest.approx(20.0)
    np.testing.assert_allclose(psnr(np.array([1.0, 0.001])), [0.0, 30.0])


# --------------------------------------------------------------------------- to_float


def test_to_float_scales_uint8_once():
    x = np.array([[0, 51, 255]], np.uint8)
    out = to_float(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out, [[0.0, 0.2, 1.0]], rtol=1e-6)
    # already float: returned unchanged in value, never divided by 255 a second time
    again = to_float(out)
    assert again.dtype == np.float32
    np.testing.assert_array_equal(again, out)
    halves = np.full((2, 2), 0.5, np.float64)
    np.testing.assert_array_equal(to_float(halves), halves)
    np.testing.assert_array_equal(halves, 0.5)  # the input is left untouched


@pytest.mark.parametrize("bad, match", [
    (np.array([0.0, 2.0]), r"\[0, 255\] stored as floats"),  # floats in [0, 255]: not scaled yet
    (np.array([-0.1, 0.5]), r"got values in \[-0.1, 0.5\]\.$"),
    (np.array([0.5, np.nan]), "1 NaN value"),
    (np.array([0, 255], np.int16), "dtype"),
    (np.array([0, 1], np.int64), "dtype"),
    (np.array([True, False]), "dtype"),
])
def test_to_float_refuses_other_dtypes_and_ranges(bad, match):
    with pytest.raises(ValueError, match=match):
        to_float(bad)


def test_to_float_on_nan_names_the_nans_without_a_numpy_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # a RuntimeWarning would fail here
        with pytest.raises(ValueError, match="2 NaN value"):
            to_float(np.full((2, 1), np.nan, np.float32))


def test_errors_name_a_reconstruction_of_the_wrong_shape():
    x = np.zeros((3, 4, 4), np.float32)
    with pytest.raises(ValueError, match=r"shape \(3, 16\).*inputs \(3, 4, 4\)"):
        reconstruction_errors(lambda b: b.reshape(len(b), -1), x)
    with pytest.raises(ValueError, match="targets"):
        reconstruction_errors(lambda b: b[:, :2], x, targets=x)


def test_errors_use_to_float_for_uint8_only():
    """uint8 images are scaled by 1/255; float arrays (signals, say) are used as they are."""
    signals = np.array([[2.0, 4.0]], np.float32)   # outside [0, 1], not images: no check
    np.testing.assert_allclose(reconstruction_errors(lambda b: b * 0, signals), [10.0])
    np.testing.assert_allclose(reconstruction_errors(lambda b: b * 0, np.full((1, 2), 255,
                                                                              np.uint8)), [1.0])


# --------------------------------------------------------------------------- input checks


def test_check_errors_and_labels():
    np.testing.assert_array_equal(check_errors([1, 2]), [1.0, 2.0])
    with pytest.raises(ValueError, match="non-empty 1-d"):
        check_errors([])
    with pytest.raises(ValueError, match="non-empty 1-d"):
        check_errors(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        check_errors([0.1, np.inf])
    assert check_labels([0, 1, 1], 3).dtype == np.int64
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        check_labels([0, 1], 3)
    with pytest.raises(ValueError, match="0 \\(normal\\) and 1 \\(anomaly\\)"):
        check_labels([0, 1, -1], 3)
    assert CLASS_NAMES == ("normal", "anomaly")


def test_check_codes_keeps_or_sets_the_dtype_and_refuses_bad_codes():
    z = np.zeros((3, 2), np.float64)
    assert check_codes(z).dtype == np.float64
    assert check_codes(z, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"tsne_2d: .*shape \(n, d\).*\(3, 2, 2\)"):
        check_codes(np.zeros((3, 2, 2)), "tsne_2d")
    with pytest.raises(ValueError, match="non-empty"):
        check_codes(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="NaN"):
        check_codes([[0.0, np.nan]])


# --------------------------------------------------------------------------- the flag rule


def test_flag_is_at_or_above_the_threshold():
    errors = np.array([0.1, 0.5, 0.50000001, 0.49999999, 2.0])
    np.testing.assert_array_equal(flag(errors, 0.5), [0, 1, 1, 0, 1])  # equal: flagged
    assert flag(errors, 0.5).dtype == np.int64
    assert flag([3.0], 3.0).tolist() == [1]
    assert flag(errors, np.inf).sum() == 0 and flag(errors, -np.inf).sum() == len(errors)
    with pytest.raises(ValueError, match="NaN"):
        flag([0.1, np.nan], 0.5)


def test_flag_rate():
    errors = np.arange(1, 101, dtype=float)            # 1 .. 100
    t = percentile_threshold(errors, 90)
    assert 90 <= t <= 91
    assert flag_rate(errors, t) == pytest.approx(0.10)
    assert flag_rate(np.array([0.1, 200.0]), t) == 0.5
    assert flag_rate(errors, 100.0) == pytest.approx(0.01)  # the equal value counts
    assert isinstance(flag_rate(errors, 50.0), float)
    with pytest.raises(ValueError, match="non-empty"):
        flag_rate(np.zeros((3, 3)), 0.5)


# --------------------------------------------------------------------------- thresholds


def test_mean_std_threshold_is_mean_plus_k_std():
    errors = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # mean 3, population std sqrt(2)
    assert mean_std_threshold(errors) == pytest.approx(3 + np.sqrt(2))
    assert mean_std_threshold(errors, k=2.5) == pytest.approx(3 + 2.5 * np.sqrt(2))
    assert mean_std_threshold(errors, k=0) == pytest.approx(3.0)


def test_percentile_threshold_is_the_percentile():
    errors = np.arange(101, dtype=float)  # 0..100: the q-th percentile is q
    assert percentile_threshold(errors, 95) == pytest.approx(95.0)
    assert percentile_threshold(errors[::-1], 50) == pytest.approx(50.0)
    assert percentile_threshold(errors, 100) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="percentile"):
        percentile_threshold(errors, 120)
    with pytest.raises(ValueError, match="percentile"):
        percentile_threshold(errors, -1)
    with pytest.raises(ValueError, match="non-empty"):
        percentile_threshold(np.zeros((3, 3)))


def test_max_f1_threshold_separates_separable_classes_with_a_margin():
    errors = np.array([0.1, 0.5, 0.2, 0.6, 0.3])
    y = np.array([0, 1, 0, 1, 0])
    t = max_f1_threshold(errors, y)
    assert t == pytest.approx(0.4)  # halfway between the last normal and the first anomaly
    assert classification_metrics(y, errors, t)["f1"] == 1.0


def test_max_f1_threshold_matches_brute_force_on_overlapping_classes():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(300, int), np.ones(100, int)]
    errors = np.r_[rng.normal(1.0, 0.3, 300), rng.normal(2.0, 0.5, 100)]
    t = max_f1_threshold(errors, y)
    # brute force: F1 (anomaly positive) of every candidate threshold, flagged when >=
    flags = errors[None, :] >= np.unique(errors)[:, None]
    tp = (flags & (y == 1)).sum(axis=1)
    best = (2 * tp / (flags.sum(axis=1) + (y == 1).sum())).max()
    assert classification_metrics(y, errors, t)["f1"] == pytest.approx(best)
    assert 1.0 < t < 2.0


def test_max_f1_threshold_needs_both_classes_and_valid_labels():
    with pytest.raises(ValueError, match="both"):
        max_f1_threshold([0.1, 0.2, 0.3], [0, 0, 0])
    with pytest.raises(ValueError, match="0 \\(normal\\) and 1 \\(anomaly\\)"):
        max_f1_threshold([0.1, 0.2, 0.3], [0, 1, 2])
    with pytest.raises(ValueError, match="shape"):
        max_f1_threshold([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        max_f1_threshold([0.1, np.nan, 0.3], [0, 1, 1])


# --------------------------------------------------------------------------- scores


def test_classification_metrics_use_anomaly_as_positive_class():
    y = np.array([0, 0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.6, 0.7, 0.8, 0.3])
    m = classification_metrics(y, scores, threshold=0.5)  # flags examples 2, 3, 4
    # TP 1 (example 4), FP 2, FN 1, TN 2; with "normal" positive precision would be 2/3
    assert m == pytest.approx({"accuracy": 0.5, "precision": 1 / 3, "recall": 0.5, "f1": 0.4})
    # a score equal to the threshold counts as an anomaly, as in flag()
    assert classification_metrics([0, 1], [0.1, 0.5], 0.5)["recall"] == 1.0
    assert m["recall"] == flag_rate(scores[y == 1], 0.5)
    with pytest.raises(ValueError, match="y_true"):
        classification_metrics([0, 1, 1], [0.1, 0.5], 0.5)


def test_ranking_metrics():
    assert ranking_metrics([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == {"roc_auc": 1.0, "pr_auc": 1.0}
    assert ranking_metrics([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1])["roc_auc"] == 0.0
    with pytest.raises(ValueError, match="0 \\(normal\\) and 1 \\(anomaly\\)"):
        ranking_metrics([0, 2], [0.1, 0.2])
