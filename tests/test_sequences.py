"""Lesson 5: the synthetic-signal generator, the sequence builders and the sequence helpers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autoenc_helpers import models, sequences

# --------------------------------------------------------------------------- signal generator


def test_make_signals_shapes_labels_and_dtypes():
    x, y = sequences.make_signals(7, length=30, seed=1)
    n_families = len(sequences.SIGNAL_FAMILIES)
    assert x.shape == (7 * n_families, 30) and x.dtype == np.float32
    assert y.shape == (7 * n_families,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [7] * n_families
    assert np.isfinite(x).all()
    assert len(sequences.signal_names()) == n_families


def test_make_signals_is_deterministic_and_seed_dependent():
    a, ya = sequences.make_signals(5, seed=3)
    b, yb = sequences.make_signals(5, seed=3)
    c, _ = sequences.make_signals(5, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.allclose(a, c)


def test_families_differ_in_frequency_and_shape():
    """Noise-free, the families are told apart by their dominant frequency or their shape."""
    x, y = sequences.make_signals(20, length=200, seed=0, noise=0.0, period_jitter=0.0)
    spectrum = np.abs(np.fft.rfft(x - x.mean(axis=1, keepdims=True), axis=1))
    peak = spectrum.argmax(axis=1)
    for label, (_, period) in enumerate(sequences.SIGNAL_FAMILIES):
        assert np.all(np.abs(peak[y == label] - 200 / period) <= 1)
    kinds = [kind for kind, _ in sequences.SIGNAL_FAMILIES]
    square, saw = kinds.index("square"), kinds.index("sawtooth")
    # a square wave sits at +-amplitude, a sawtooth spreads evenly between the extremes
    assert np.median(np.abs(x[y == square])) > 0.75
    assert np.median(np.abs(x[y == saw])) < 0.7


def _min_window_gap(xa: np.ndarray, xb: np.ndarray, max_shift: int) -> float:
    """Smallest max-abs difference between a series of ``xa`` and one of ``xb`` over their
    overlap, for every shift of one against the other by up to ``max_shift`` steps."""
    n = xa.shape[1]
    gaps = []
    for shift in range(max_shift + 1):
        for a, b in ((xa, xb), (xb, xa)):
            gaps.append(np.abs(a[:, None, shift:] - b[None, :, : n - shift]).max(axis=2).min())
    return float(min(gaps))


def test_signal_splits_share_no_series_and_no_window():
    s = sequences.make_signal_splits(30, 10, 10, length=40, seed=0)
    assert s.x_train.shape == (120, 40)
    assert s.x_val.shape == (40, 40) and s.x_test.shape == (40, 40)
    parts = {"train": s.x_train, "val": s.x_val, "test": s.x_test}
    names = list(parts)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            # no identical series, and no series that is a shifted window of another:
            # with independent series even the overlapping parts differ by the noise
            assert _min_window_gap(parts[a], parts[b], 20) > 0.05, f"{a} and {b} share a window"
    again = sequences.make_signal_splits(30, 10, 10, length=40, seed=0)
    np.testing.assert_array_equal(again.x_test, s.x_test)


def test_overlapping_windows_would_be_caught():
    """The check above does find windows cut from one long series (it can fail)."""
    x, _ = sequences.make_signals(1, length=80, seed=0)
    long_series = x[0]
    windows = np.stack([long_series[i:i + 40] for i in range(0, 40, 5)])
    assert _min_window_gap(windows[::2], windows[1::2], 20) < 1e-6


@pytest.mark.parametrize("kwargs", [dict(n_per_family=0), dict(n_per_family=3, length=1),
                                    dict(n_per_family=3, noise=-1.0),
                                    dict(n_per_family=3, families=(("zigzag", 10.0),)),
                                    dict(n_per_family=3, families=(("sine", 0.0),))])
def test_make_signals_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        sequences.make_signals(**kwargs)


# --------------------------------------------------------------------------- builders


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_autoencoder_shapes(cell):
    ae, enc, dec = models.recurrent_autoencoder(12, n_features=2, latent_dim=3, units=4,
                                                cell=cell)
    x = np.random.default_rng(0).normal(size=(5, 12, 2)).astype("float32")
    assert enc.predict(x, verbose=0).shape == (5, 3)
    assert dec.predict(np.zeros((5, 3), "float32"), verbose=0).shape == (5, 12, 2)
    assert ae.predict(x, verbose=0).shape == (5, 12, 2)
    enc_rnn = enc.get_layer(f"enc_{cell}")
    dec_rnn = dec.get_layer(f"dec_{cell}")
    assert not enc_rnn.return_sequences and dec_rnn.return_sequences


@pytest.mark.parametrize("latent_dim, code_shape", [(None, (5, 8)), (6, (6,))])
def test_conv1d_autoencoder_shapes(latent_dim, code_shape):
    ae, enc, dec = models.conv1d_autoencoder(20, n_features=3, filters=(4, 8), kernel_size=3,
                                             latent_dim=latent_dim)
    x = np.random.default_rng(0).normal(size=(2, 20, 3)).astype("float32")
    assert enc.predict(x, verbose=0).shape == (2, *code_shape)
    assert ae.predict(x, verbose=0).shape == (2, 20, 3)
    assert dec.output_shape == (None, 20, 3)


def test_conv1d_autoencoder_outputs_any_range():
    """The last layer is linear: series are not squeezed into [0, 1]."""
    ae, _, _ = models.conv1d_autoencoder(140, filters=(4, 8), latent_dim=8)
    assert ae.get_layer("decoder").get_layer("per_step").activation is keras.activations.linear
    y = ae.predict(np.random.default_rng(0).normal(size=(3, 140, 1)).astype("float32"), verbose=0)
    assert y.shape == (3, 140, 1)


def test_conditional_autoencoder_shapes_and_condition():
    ae, enc, dec = models.conditional_recurrent_autoencoder(8, latent_dim=3, units=4)
    x = np.arange(2 * 8, dtype="float32").reshape(2, 8, 1)
    assert ae.predict(x, verbose=0).shape == (2, 8, 1)
    assert enc.predict(x, verbose=0).shape == (2, 3)
    cond = np.asarray(models.reverse_and_delay(x))
    # step s holds x[T - s]: zero first, then the last sample, ... down to x[1]
    np.testing.assert_array_equal(cond[0, :, 0], [0, 7, 6, 5, 4, 3, 2, 1])
    assert dec.predict([np.zeros((2, 3), "float32"), cond], verbose=0).shape == (2, 8, 1)


@pytest.mark.parametrize("call", [
    lambda: models.recurrent_autoencoder(1),
    lambda: models.recurrent_autoencoder(10, cell="rnn"),
    lambda: models.conv1d_autoencoder(30, filters=(4, 8)),  # 30 not divisible by 4
    lambda: models.conditional_recurrent_autoencoder(10, n_features=0),
])
def test_builders_reject_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------- helpers


def test_as_sequences_adds_a_feature_axis():
    assert sequences.as_sequences(np.zeros((3, 5))).shape == (3, 5, 1)
    assert sequences.as_sequences(np.zeros((3, 5, 2))).dtype == np.float32


@pytest.mark.parametrize("bad, match", [(np.zeros(5), "shape"), (np.zeros((2, 3, 4, 5)), "shape"),
                                        (np.array([[0.0, np.nan]]), "NaN"),
                                        (np.zeros((0, 4)), "empty")])
def test_as_sequences_rejects_wrong_rank_nan_and_empty(bad, match):
    with pytest.raises(ValueError, match=match):
        sequences.as_sequences(bad)


def test_linear_probe_separates_separable_codes_and_not_noise():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    z = rng.normal(size=(120, 4)) + 5 * np.eye(3, 4)[y]
    assert sequences.linear_probe(z[::2], y[::2], z[1::2], y[1::2]) == 1.0
    noise = rng.normal(size=(120, 4))
    assert sequences.linear_probe(noise[::2], y[::2], noise[1::2], y[1::2]) < 0.7
    with pytest.raises(ValueError, match="differ"):
        sequences.linear_probe(z, y, z[:, :3], y)
    with pytest.raises(ValueError, match="NaN"):
        sequences.linear_probe(np.full((4, 2), np.nan), y[:4], z[:4, :2], y[:4])


def test_pca_features_fit_on_train_only():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 6)), rng.normal(size=(10, 6)) + 100
    ta, tb = sequences.pca_features(a, b, 3)
    assert ta.shape == (50, 3) and tb.shape == (10, 3)
    np.testing.assert_allclose(ta.mean(axis=0), 0, atol=1e-9)  # centred on the train rows
    assert np.abs(tb.mean(axis=0)).max() > 1  # ... not on the test rows


def test_code_ablation_reports_three_errors():
    _, enc, dec = models.recurrent_autoencoder(6, latent_dim=2, units=2)
    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    z = models.encode(enc, x[..., None])
    out = sequences.code_ablation(dec, z, x, seed=0)

    def mse(codes, target=x):
        return float(np.mean((np.asarray(dec(codes)).reshape(target.shape) - target) ** 2))

    assert out["own code"] == pytest.approx(mse(z), rel=1e-5)
    assert out["zero code"] == pytest.approx(mse(np.zeros_like(z)), rel=1e-5)
    assert out["own code"] != pytest.approx(out["zero code"])  # the code reaches the output
    # two series: "another series' code" can only be the other one's, whatever the seed
    for seed in range(5):
        pair = sequences.code_ablation(dec, z[:2], x[:2], seed=seed)
        assert pair["another series' code"] == pytest.approx(mse(z[[1, 0]], x[:2]), rel=1e-5)
    with pytest.raises(ValueError, match="codes"):
        sequences.code_ablation(dec, np.zeros((3, 2)), x)
    with pytest.raises(ValueError, match=">= 2"):
        sequences.code_ablation(dec, z[:1], x[:1])
