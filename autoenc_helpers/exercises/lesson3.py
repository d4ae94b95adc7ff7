"""Exercises of lesson 3 (the latent space on MNIST; ``ood_errors["rot180"]``: turned digits)."""

import numpy as np
from sklearn.manifold import trustworthiness

from autoenc_helpers import data, metrics, plots
from autoenc_helpers.exercises import PERCENT, as_array, exercise, expect, on_test, recomputed


def _stricter(_t, _far, _rates, val_errors, test_errors, ood_errors, q=99.9):
    t = float(np.percentile(np.asarray(val_errors, np.float64), q))
    rates = {kind: float(np.mean(e >= t)) for kind, e in ood_errors.items()}
    return t, float(np.mean(test_errors >= t)), rates


@exercise(3, 1, "A stricter threshold", ("threshold", "false-alarm rate", "flag rates by kind"),
          _stricter, rel=1e-6, mistakes=[on_test(val_errors="test_errors"), PERCENT,
              recomputed("that is the 99th percentile; the task asks for the 99.9th.", q=99),
              recomputed("your false alarms use validation errors.", test_errors="val_errors")],
          hint="metrics.percentile_threshold(val_errors, 99.9), then metrics.flag_rate per set.")
def stricter_threshold(val_errors, test_errors, ood_errors):
    threshold_999 = metrics.percentile_threshold(val_errors, 99.9)  # validation digits only
    false_alarm_rate = metrics.flag_rate(test_errors, threshold_999)
    flag_rates = {kind: metrics.flag_rate(err, threshold_999) for kind, err in ood_errors.items()}
    return threshold_999, false_alarm_rate, flag_rates


def _missed(idx, ood_errors, threshold, flagged=False):
    errors, got = np.asarray(ood_errors["rot180"]), np.asarray(idx)
    expect(got.dtype != bool, "give the indices (np.flatnonzero), not a boolean mask.")
    got = as_array(got, "your indices", shape=(None,), allow_empty=True)
    expect(set(got.tolist()) <= set(range(len(errors))) and len(set(got.tolist())) == len(got),
           f"indices must lie in [0, {len(errors)}), be whole numbers and appear once.")
    return set(np.flatnonzero((errors >= threshold) if flagged else (errors < threshold)).tolist())


@exercise(3, 2, "Which rotated digits slip through?", ("indices of rot180 digits NOT flagged",),
          _missed, mistakes=[recomputed("these rotated digits WERE flagged.", flagged=True)],
          advice="Some that slip through are missing, or some of yours are flagged.",
          hint="np.flatnonzero(ood_errors[\"rot180\"] < threshold) (the first test digits).")
def missed_rotations(ood_errors, threshold, x_test_u8, y_test):
    errors = ood_errors["rot180"]  # the first len(errors) test digits, turned by 180 degrees
    missed = np.flatnonzero(errors < threshold)  # not flagged: they slip through
    rotated = np.rot90(x_test_u8[:len(errors)], k=2, axes=(1, 2))
    plots.show_image_rows({"not flagged": data.to_float(rotated[missed[:12]])},
                          col_titles=[f"label {y_test[i]}" for i in missed[:12]],
                          title="Test digits turned by 180° that were not flagged")
    return missed


def _perplexity(points, _, z_sub, K, k=None):
    m = as_array(points, "your map", shape=(len(z_sub), 2))
    expect(m.std(axis=0).min() > 0, "your map has no spread along one axis.")
    expect(not np.allclose(m, np.asarray(z_sub)[:, :2]), "your map is the first two coordinates"
           " of the codes, not a t-SNE map: use latent.tsne_2d(z_sub, ..., perplexity=5).")
    return None, float(trustworthiness(z_sub, m, n_neighbors=k or K))


@exercise(3, 3, "t-SNE with a small perplexity", ("map", "trustworthiness"), _perplexity,
          rel=1e-6, mistakes=[recomputed("your trustworthiness uses another number of neighbours:"
                                         " n_neighbors=K.", k=k) for k in (5, 10, 15, 30)],
          passed="(The check cannot see which perplexity made the map.)",
          hint="latent.tsne_2d(z_sub, random_state=3, perplexity=5), scored by trustworthiness.")
def small_perplexity(z_sub, y_sub, K, latent):
    map_5 = latent.tsne_2d(z_sub, random_state=3, perplexity=5, n_jobs=2)
    trust_5 = trustworthiness(z_sub, map_5, n_neighbors=K)
    plots.plot_map(map_5, y_sub, title=f"t-SNE with perplexity 5, {len(z_sub)} test digits",
                   xlabel="t-SNE 1", ylabel="t-SNE 2")
    return map_5, trust_5
