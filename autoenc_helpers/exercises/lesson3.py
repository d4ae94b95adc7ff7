"""Exercises of lesson 3 (the latent space of a convolutional autoencoder on MNIST).

Bind them in the notebook with::

    ex1, ex2, ex3 = exercises.lesson(3, val_errors=val_errors, test_errors=test_errors,
                                     ood_errors=ood_errors, threshold=threshold,
                                     x_test_u8=x_test_u8, y_test=y_test, z_sub=z_sub,
                                     y_sub=y_sub, K=K)

``ood_errors["rot180"]`` must hold the errors of the first ``len(ood_errors["rot180"])`` test
digits turned by 180 degrees, in order, as the lesson builds them.
"""

from __future__ import annotations

import numpy as np

from autoenc_helpers.exercises import (Incorrect, as_array, as_number, expect, expect_close,
                                       register, unpack)


def _rate(errors, threshold) -> float:
    """Share flagged, ``error >= threshold`` (the course's rule, :func:`metrics.flag`)."""
    return float(np.mean(np.asarray(errors) >= threshold))


def _rate_matches(reported: float, errors, threshold) -> bool:
    # either side of a tie counts: > and >= differ only for errors equal to the threshold
    return any(np.isclose(reported, r, atol=1e-9) for r in
               (_rate(errors, threshold), float(np.mean(np.asarray(errors) > threshold))))


# --------------------------------------------------------------------------- exercise 1


def stricter_threshold(val_errors, test_errors, ood_errors, threshold):
    import pandas as pd

    from autoenc_helpers import metrics

    threshold_999 = metrics.percentile_threshold(val_errors, 99.9)  # validation digits only
    false_alarm_rate = metrics.flag_rate(test_errors, threshold_999)
    flag_rates = {kind: metrics.flag_rate(err, threshold_999) for kind, err in ood_errors.items()}
    table = pd.DataFrame({
        t_name: {"clean test digits (false alarms)": metrics.flag_rate(test_errors, t),
                 **{kind: metrics.flag_rate(err, t) for kind, err in ood_errors.items()}}
        for t_name, t in [(f"99th percentile ({threshold:.4f})", threshold),
                          (f"99.9th percentile ({threshold_999:.4f})", threshold_999)]})
    print("fraction flagged at each threshold:")
    print(table.map("{:.1%}".format).to_string())
    answer = (threshold_999, false_alarm_rate, flag_rates)
    return answer


def check_stricter_threshold(answer, val_errors, test_errors, ood_errors):
    t, far, rates = unpack(answer, ("threshold", "false-alarm rate", "flag rates by kind"))
    t = as_number(t, "your threshold")
    want = float(np.percentile(np.asarray(val_errors, np.float64), 99.9))
    if not np.isclose(t, want, rtol=1e-6):
        if np.isclose(t, np.percentile(test_errors, 99.9), rtol=1e-6):
            raise Incorrect("your threshold is the 99.9th percentile of the TEST errors: a "
                            "threshold is chosen on validation data (val_errors), never on the "
                            "test set.")
        if np.isclose(t, np.percentile(val_errors, 99), rtol=1e-6):
            raise Incorrect("that is the 99th percentile; the exercise asks for the 99.9th.")
        raise Incorrect(f"your threshold is {t:.6g}; the 99.9th percentile of val_errors is "
                        f"{want:.6g}.")
    far = as_number(far, "your false-alarm rate")
    if not _rate_matches(far, test_errors, t):
        if _rate_matches(far / 100, test_errors, t):
            raise Incorrect("give rates as fractions in [0, 1], not in percent.")
        if _rate_matches(far, val_errors, t):
            raise Incorrect("your false-alarm rate is measured on the validation errors, which "
                            "chose the threshold (about 0.1 % by construction): measure it on "
                            "the clean test digits (test_errors).")
        raise Incorrect(f"your false-alarm rate is {far:.4g}; the share of test_errors at or "
                        f"above the threshold is {_rate(test_errors, t):.4g}.")
    expect(isinstance(rates, dict), f"the flag rates should be a dict {{kind: rate}}, got "
           f"{type(rates).__name__}.")
    missing = sorted(set(ood_errors) - set(rates))
    expect(not missing, f"the flag rates miss these kinds: {missing}.")
    for kind, err in ood_errors.items():
        r = as_number(rates[kind], f"your flag rate for {kind!r}")
        expect(_rate_matches(r, err, t), f"your flag rate for {kind!r} is {r:.4g}; the share of "
               f"its errors at or above the threshold is {_rate(err, t):.4g}.")
    summary = ", ".join(f"{k} {_rate(e, t):.1%}" for k, e in ood_errors.items())
    return (f"threshold {t:.5g} (99.9th percentile of the validation errors), false-alarm rate "
            f"{_rate(test_errors, t):.2%} on the test digits, flag rates {summary}: all "
            f"recomputed.")


register(lesson=3, number=1, title="A stricter threshold", answer="(threshold, false-alarm rate "
         "on the test digits, {kind: flag rate})",
         hint="metrics.percentile_threshold(val_errors, 99.9) gives the threshold (validation "
              "errors only); metrics.flag_rate(errors, threshold) the share flagged, for "
              "test_errors and for each entry of ood_errors.",
         solution=stricter_threshold, check=check_stricter_threshold)


# --------------------------------------------------------------------------- exercise 2


def missed_rotations(ood_errors, threshold, x_test_u8, y_test):
    import pandas as pd

    from autoenc_helpers import data, plots

    errors = ood_errors["rot180"]  # the first len(errors) test digits, turned by 180 degrees
    labels = y_test[:len(errors)]
    missed = np.flatnonzero(errors < threshold)  # not flagged: they slip through
    rotated = np.rot90(x_test_u8[:len(errors)], k=2, axes=(1, 2))
    shown = missed[:12]
    plots.show_image_rows({"not flagged": data.to_float(rotated[shown])},
                          col_titles=[f"label {labels[i]}" for i in shown],
                          title="Test digits turned by 180° that were not flagged")
    print(f"{len(missed)} of {len(errors)} rotated digits slip through; share per true digit:")
    print(pd.Series(errors < threshold).groupby(labels).mean().round(2).to_string())
    answer = missed
    return answer


def check_missed_rotations(answer, ood_errors, threshold):
    errors = np.asarray(ood_errors["rot180"])
    n = len(errors)
    arr = np.asarray(answer) if isinstance(answer, (list, tuple, np.ndarray)) else None
    expect(arr is None or arr.dtype != bool, "that is a boolean mask; give the indices, e.g. "
           "np.flatnonzero(mask).")
    got = as_array(answer, "your indices", allow_empty=True)
    expect(got.ndim == 1, f"give a 1-d array of indices, got shape {got.shape}.")
    expect(got.size == 0 or np.all(got == np.round(got)), "indices must be whole numbers.")
    got = got.astype(np.int64)
    expect(got.size == 0 or (got.min() >= 0 and got.max() < n), f"indices must lie in [0, {n}), "
           "the positions in ood_errors[\"rot180\"].")
    expect(len(np.unique(got)) == len(got), "some indices appear twice.")
    want = set(np.flatnonzero(errors < threshold).tolist())
    ties = set(np.flatnonzero(errors == threshold).tolist())
    got_set = set(got.tolist())
    flagged = set(range(n)) - want
    if got_set != want and got_set - ties != want - ties:
        if got_set == flagged:
            raise Incorrect("these are the rotated digits that WERE flagged; the exercise asks "
                            "for those that slip through (error below the threshold).")
        extra, missing = sorted(got_set - want), sorted(want - got_set)
        problems = []
        if missing:
            problems.append(f"{len(missing)} rotated digit(s) that slip through are missing "
                            f"(e.g. {missing[:5]})")
        if extra:
            problems.append(f"{len(extra)} of yours are flagged (e.g. {extra[:5]})")
        raise Incorrect(" and ".join(problems) + ". Compare ood_errors[\"rot180\"] with the "
                        "threshold.")
    return (f"{len(want)} of {n} rotated digits slip through the threshold, the same "
            f"{len(want)} as in your answer.")


register(lesson=3, number=2, title="Which rotated digits slip through?",
         answer="the indices (positions in ood_errors[\"rot180\"]) of the rot180 digits that "
                "are NOT flagged",
         hint="np.flatnonzero(ood_errors[\"rot180\"] < threshold) gives their positions; the "
              "rotated images are the first len(...) test digits turned by 180 degrees, and "
              "y_test gives their labels.",
         solution=missed_rotations, check=check_missed_rotations)


# --------------------------------------------------------------------------- exercise 3


def small_perplexity(z_sub, y_sub, K):
    from sklearn.manifold import trustworthiness

    from autoenc_helpers import latent, plots

    map_5 = latent.tsne_2d(z_sub, random_state=3, perplexity=5, n_jobs=2)
    trust_5 = trustworthiness(z_sub, map_5, n_neighbors=K)
    plots.plot_map(map_5, y_sub, title=f"t-SNE with perplexity 5, {len(z_sub)} test digits",
                   xlabel="t-SNE 1", ylabel="t-SNE 2")
    print(f"perplexity 5: trustworthiness ({K} neighbours) {trust_5:.3f}, kNN-{K} accuracy "
          f"(5-fold CV) {latent.knn_cv_accuracy(map_5, y_sub, k=K):.3f}")
    answer = (map_5, trust_5)
    return answer


def check_small_perplexity(answer, z_sub, K):
    from sklearn.manifold import trustworthiness

    points, reported = unpack(answer, ("map", "trustworthiness"))
    z = np.asarray(z_sub)
    m = as_array(points, "your map", shape=(len(z), 2))
    expect(float(m.std(axis=0).min()) > 0, "your map has no spread along one axis.")
    expect(not np.allclose(m, z[:, :2]), "your map is the first two coordinates of the codes, "
           "not a t-SNE map: use latent.tsne_2d(z_sub, ..., perplexity=5).")
    actual = float(trustworthiness(z, m, n_neighbors=K))
    try:
        value = expect_close(reported, actual, "your trustworthiness", rel=1e-6, abs_tol=1e-6,
                             advice=f"Compute trustworthiness(z_sub, map, n_neighbors=K) for "
                                    f"the map you return (K = {K}).")
    except Incorrect:
        r = as_number(reported, "your trustworthiness")
        if any(np.isclose(r, trustworthiness(z, m, n_neighbors=k)) for k in (5, 10, 15, 30)
               if k != K and k < len(z) / 2):
            raise Incorrect(f"your trustworthiness uses another number of neighbours; use "
                            f"n_neighbors=K = {K}, as the lesson's table does.") from None
        raise
    return (f"a ({len(z)}, 2) map with trustworthiness {value:.3f} ({K} neighbours), "
            "recomputed. (The check cannot see which perplexity made the map.)")


register(lesson=3, number=3, title="t-SNE with a small perplexity", answer="(map of z_sub, "
         "its trustworthiness)",
         hint="latent.tsne_2d(z_sub, random_state=3, perplexity=5) returns an (n, 2) map; "
              "sklearn.manifold.trustworthiness(z_sub, map, n_neighbors=K) scores it; "
              "plots.plot_map draws it.",
         solution=small_perplexity, check=check_small_perplexity)
