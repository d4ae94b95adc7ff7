"""Lesson 7: the sampling layer, the two ELBO terms (against a Monte Carlo estimate and a hand
computation), the VAE model and builder, binarisation and the latent-grid figure."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from autoenc_helpers import data, plots  # noqa: E402
from autoenc_helpers.models import (Sampling, VariationalAutoencoder, bernoulli_nll,  # noqa: E402
                                    dense_vae, gaussian_kl, iwae_nll, log_importance_weights)


def _np(t) -> np.ndarray:
    return keras.ops.convert_to_numpy(t)


# --------------------------------------------------------------------------- sampling


def test_sampling_shapes_and_seeded_determinism():
    mean = np.zeros((5, 3), "float32")
    log_var = np.zeros((5, 3), "float32")
    a, b, c = Sampling(seed=11), Sampling(seed=11), Sampling(seed=12)
    first = _np(a([mean, log_var]))
    assert first.shape == (5, 3)
    assert np.allclose(first, _np(b([mean, log_var])))           # same seed, same draws
    assert not np.allclose(first, _np(a([mean, log_var])))        # a new draw every call
    assert not np.allclose(first, _np(c([mean, log_var])))        # another seed, other draws


def test_sampling_draws_from_the_given_normal():
    n = 20000
    mean = np.tile(np.array([[2.0, -1.0]], "float32"), (n, 1))
    log_var = np.tile(np.log(np.array([[0.25, 4.0]], "float32")), (n, 1))
    z = _np(Sampling(seed=3)([mean, log_var]))
    assert np.allclose(z.mean(axis=0), [2.0, -1.0], atol=0.05)
    assert np.allclose(z.std(axis=0), [0.5, 2.0], rtol=0.03)


def test_sampling_in_a_compiled_function_draws_new_noise_each_call():
    import tensorflow as tf

    layer = Sampling(seed=5)
    zeros = tf.zeros((2, 4))
    draw = tf.function(lambda: layer([zeros, zeros]))
    assert not np.allclose(draw().numpy(), draw().numpy())


# --------------------------------------------------------------------------- the ELBO terms


def test_gaussian_kl_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mean = rng.normal(0, 1, (3, 4))
    log_var = rng.normal(0, 0.7, (3, 4))
    kl = _np(gaussian_kl(mean.astype("float32"), log_var.astype("float32")))
    std = np.exp(0.5 * log_var)
    z = mean + std * rng.standard_normal((200000, 3, 4))
    log_q = -0.5 * (((z - mean) / std) ** 2 + log_var + np.log(2 * np.pi))
    log_p = -0.5 * (z ** 2 + np.log(2 * np.pi))
    estimate = (log_q - log_p).sum(axis=-1).mean(axis=0)
    assert kl.shape == (3,)
    assert np.allclose(kl, estimate, atol=0.03)


def test_gaussian_kl_is_zero_only_at_the_prior():
    zeros = np.zeros((2, 5), "float32")
    assert np.allclose(_np(gaussian_kl(zeros, zeros)), 0.0)
    assert (_np(gaussian_kl(zeros + 0.1, zeros)) > 0).all()
    assert (_np(gaussian_kl(zeros, zeros - 0.5)) > 0).all()


def test_bernoulli_nll_is_the_summed_or_averaged_log_loss():
    rng = np.random.default_rng(1)
    x = (rng.random((4, 3, 5)) < 0.5).astype("float32")
    logits = rng.normal(0, 2, (4, 3, 5)).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    by_hand = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(4, -1)
    assert np.allclose(_np(bernoulli_nll(x, logits)), by_hand.sum(axis=1), rtol=1e-5)
    assert np.allclose(_np(bernoulli_nll(x, logits, "mean")), by_hand.mean(axis=1), rtol=1e-5)
    with pytest.raises(ValueError, match="reduction"):
        bernoulli_nll(x, logits, "max")


def _tiny_vae(seed: int = 21, beta: float = 1.0) -> tuple[VariationalAutoencoder, dict]:
    """A VAE on 6 binary pixels with a 2-d code, no hidden layer, and random weights."""
    keras.utils.set_random_seed(0)
    vae, encoder, decoder = dense_vae((6,), latent_dim=2, hidden=(), beta=beta, seed=seed)
    rng = np.random.default_rng(2)
    weights = {}
    for layer in (encoder.get_layer("mean"), encoder.get_layer("log_var"),
                  decoder.get_layer("logits")):
        kernel, bias = layer.get_weights()
        new = [rng.normal(0, 0.5, kernel.shape).astype("float32"),
               rng.normal(0, 0.3, bias.shape).astype("float32")]
        layer.set_weights(new)
        weights[layer.name] = new
    return vae, weights


def test_elbo_terms_match_a_hand_computation_on_a_tiny_batch():
    vae, w = _tiny_vae(seed=21)
    x = np.array([[1, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]], "float32")
    # The VAE's sampling layer draws the same eps as a fresh layer with the same seed.
    eps = _np(Sampling(seed=21)([np.zeros((3, 2), "float32"), np.zeros((3, 2), "float32")]))
    mean = x @ w["mean"][0] + w["mean"][1]
    log_var = x @ w["log_var"][0] + w["log_var"][1]
    z = mean + np.exp(0.5 * log_var) * eps
    logits = z @ w["logits"][0] + w["logits"][1]
    reconstruction = np.sum(np.logaddexp(0, logits) - x * logits, axis=1)  # -log Bernoulli
    kl = 0.5 * np.sum(mean ** 2 + np.exp(log_var) - 1 - log_var, axis=1)

    out = vae(x)                                   # the one forward pass
    assert set(out) == {"logits", "mean", "log_var"}
    assert np.allclose(_np(out["mean"]), mean, rtol=1e-4, atol=1e-6)
    assert np.allclose(_np(bernoulli_nll(x, out["logits"])), reconstruction, rtol=1e-4)
    assert np.allclose(_np(gaussian_kl(out["mean"], out["log_var"])), kl, rtol=1e-4)


def test_compute_loss_is_the_batch_mean_with_beta_and_tracks_both_terms():
    x = np.array([[1, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1]], "float32")
    vae, _ = _tiny_vae(seed=4)
    out = vae(x)
    reconstruction = _np(bernoulli_nll(x, out["logits"]))
    kl = _np(gaussian_kl(out["mean"], out["log_var"]))
    vae.beta.assign(0.25)
    loss = float(_np(vae.compute_loss(x=x, y_pred=out)))
    assert loss == pytest.approx(reconstruction.mean() + 0.25 * kl.mean(), rel=1e-5)
    assert float(_np(vae.reconstruction_tracker.result())) == pytest.approx(
        reconstruction.mean(), rel=1e-5)
    assert float(_np(vae.kl_tracker.result())) == pytest.approx(kl.mean(), rel=1e-5)


def test_negative_elbo_sums_pixels_whatever_the_training_reduction():
    x = (np.random.default_rng(3).random((7, 6)) < 0.5).astype("float32")
    vae, _ = _tiny_vae(seed=8)
    vae.reduction = "mean"
    reference, _ = _tiny_vae(seed=8)
    first = reference(x)
    reconstruction = _np(bernoulli_nll(x, first["logits"]))
    kl = _np(gaussian_kl(first["mean"], first["log_var"]))
    out = vae.negative_elbo(x)                  # one batch: the same draw as the reference
    assert set(out) == {"nelbo", "reconstruction", "kl"}
    assert all(v.shape == (7,) for v in out.values())
    assert np.allclose(out["reconstruction"], reconstruction, rtol=1e-5)
    assert np.allclose(out["nelbo"], out["reconstruction"] + out["kl"])
    assert np.allclose(out["kl"], kl, rtol=1e-5)
    in_batches = vae.negative_elbo((x * 255).astype(np.uint8), batch_size=3)  # uint8: / 255
    assert all(v.shape == (7,) for v in in_batches.values())
    assert np.allclose(in_batches["kl"], kl, rtol=1e-5)  # the KL term draws nothing


# --------------------------------------------------------------------------- the IWAE bound


def _exact_terms(w: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``-log p(x)`` and negative ELBO of the tiny VAE, by integrating over a grid of
    2-d codes."""
    from scipy.special import logsumexp

    grid = np.linspace(-7, 7, 281)
    step = grid[1] - grid[0]
    z = np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2)                  # (g, 2)
    logits = z @ w["logits"][0] + w["logits"][1]                              # (g, 6)
    log_px_z = x @ logits.T - np.logaddexp(0, logits).sum(axis=1)             # (n, g)
    log_pz = -0.5 * (z ** 2).sum(axis=1) - np.log(2 * np.pi)                   # (g,)
    nll = -(logsumexp(log_px_z + log_pz, axis=1) + 2 * np.log(step))
    mean = x @ w["mean"][0] + w["mean"][1]
    log_var = x @ w["log_var"][0] + w["log_var"][1]
    q = np.exp(-0.5 * (((z[None] - mean[:, None]) ** 2) / np.exp(log_var)[:, None]).sum(-1)
               - 0.5 * log_var.sum(-1)[:, None] - np.log(2 * np.pi)) * step ** 2  # (n, g)
    kl = 0.5 * np.sum(mean ** 2 + np.exp(log_var) - 1 - log_var, axis=1)
    nelbo = -(q * log_px_z).sum(axis=1) / q.sum(axis=1) + kl
    return nll, nelbo


_X6 = np.array([[1, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]], "float32")


def test_iwae_with_one_sample_is_the_elbo_in_expectation():
    vae, w = _tiny_vae(seed=3)
    _, nelbo = _exact_terms(w, _X6)
    log_w = log_importance_weights(vae, _X6, k=20000, batch_size=2, seed=1)
    assert log_w.shape == (3, 20000)
    assert np.allclose(iwae_nll(log_w, k=1), -log_w.mean(axis=1))
    assert np.allclose(iwae_nll(log_w, k=1), nelbo, atol=0.05)


def test_iwae_bound_tightens_with_k_towards_the_likelihood():
    vae, w = _tiny_vae(seed=3)
    nll, nelbo = _exact_terms(w, _X6)
    assert (nll < nelbo - 0.1).all()                    # a gap worth closing on this toy
    log_w = log_importance_weights(vae, _X6, k=20000, batch_size=3, seed=2)
    bounds = [iwae_nll(log_w, k) for k in (1, 10, 100, 1000)]
    for looser, tighter in zip(bounds, bounds[1:]):
        assert (tighter < looser).all()
    assert (bounds[-1] >= nll - 0.01).all()             # still an upper bound on -log p(x)
    assert np.allclose(iwae_nll(log_w), nll, atol=0.02)  # k = 20000: close to the truth


def test_log_importance_weights_are_seeded_and_batched():
    vae, _ = _tiny_vae(seed=3)
    x_u8 = (_X6 * 255).astype(np.uint8)
    first = log_importance_weights(vae, x_u8, k=5, batch_size=3, seed=4)
    assert np.array_equal(first, log_importance_weights(vae, _X6, k=5, batch_size=3, seed=4))
    assert not np.allclose(first, log_importance_weights(vae, _X6, k=5, batch_size=3, seed=5))
    assert log_importance_weights(vae, _X6, k=5, batch_size=1, seed=4).shape == (3, 5)
    with pytest.raises(ValueError, match="divide"):
        iwae_nll(first, k=2)


# --------------------------------------------------------------------------- model and builder


def test_dense_vae_shapes():
    vae, encoder, decoder = dense_vae((28, 28), latent_dim=20, hidden=(64,))
    x = np.random.default_rng(0).random((3, 28, 28)).astype("float32")
    mean, log_var = encoder(x)
    assert tuple(mean.shape) == tuple(log_var.shape) == (3, 20)
    assert tuple(decoder(np.zeros((3, 20), "float32")).shape) == (3, 28, 28)
    out = vae(x)
    assert tuple(out["logits"].shape) == (3, 28, 28) and tuple(out["mean"].shape) == (3, 20)
    assert np.allclose(_np(out["mean"]), _np(mean), atol=1e-6)
    probabilities = _np(vae.reconstruct(x))
    assert probabilities.shape == (3, 28, 28) and probabilities.min() >= 0
    assert probabilities.max() <= 1
    generated = _np(vae.decode(np.zeros((2, 20), "float32")))
    assert generated.shape == (2, 28, 28) and generated.min() >= 0 and generated.max() <= 1
    assert np.allclose(probabilities, _np(vae.decode(encoder(x)[0])), atol=1e-6)  # the mean
    assert [layer.name for layer in encoder.layers if layer.weights] == ["enc_dense_0", "mean",
                                                                        "log_var"]
    assert isinstance(vae, VariationalAutoencoder)
    assert float(_np(vae.beta)) == 1.0 and not vae.beta.trainable


def test_vae_trains_and_logs_both_terms():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    prototypes = (rng.random((2, 8, 8)) < 0.5).astype("float32")
    x = prototypes[rng.integers(0, 2, 256)]
    vae, _, _ = dense_vae((8, 8), latent_dim=2, hidden=(16,), seed=1)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = vae.fit(x, epochs=5, batch_size=32, validation_data=(x[:64],), verbose=0).history
    assert {"loss", "reconstruction", "kl", "val_loss", "val_reconstruction",
            "val_kl"} <= set(history)
    assert history["loss"][-1] < 0.6 * history["loss"][0]
    assert np.allclose(history["loss"], np.add(history["reconstruction"], history["kl"]),
                       rtol=1e-4)


def test_one_forward_pass_per_training_step():
    """Keras' train_step calls the model once and hands its output to compute_loss: the
    encoder and the decoder each run once per step."""
    keras.utils.set_random_seed(0)
    vae, encoder, decoder = dense_vae((6,), latent_dim=2, hidden=(4,), seed=1)
    calls = {"encoder": 0, "decoder": 0}
    for name, part in (("encoder", encoder), ("decoder", decoder)):
        original = part.call

        def counted(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)
        part.call = counted
    vae.compile(optimizer="adam", run_eagerly=True)
    x = (np.random.default_rng(0).random((8, 6)) < 0.5).astype("float32")
    vae.fit(x, epochs=1, batch_size=8, verbose=0)           # one step
    assert calls == {"encoder": 1, "decoder": 1}


def test_vae_refuses_bad_parts_and_settings():
    _, encoder, decoder = dense_vae((6,), latent_dim=2, hidden=())
    _, _, other_decoder = dense_vae((6,), latent_dim=3, hidden=())
    with pytest.raises(ValueError, match="do not fit"):
        VariationalAutoencoder(encoder, other_decoder)
    with pytest.raises(ValueError, match="reduction"):
        VariationalAutoencoder(encoder, decoder, reduction="median")
    with pytest.raises(ValueError, match="beta"):
        VariationalAutoencoder(encoder, decoder, beta=-1.0)
    single = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"\[mean, log_var\]"):
        VariationalAutoencoder(single, decoder)


# --------------------------------------------------------------------------- data and figure


def test_binarise_draws_each_pixel_with_its_intensity():
    images = np.tile(np.array([0, 51, 128, 255], np.uint8), (50000, 1))
    binary = data.binarise(images, seed=0)
    assert binary.dtype == np.uint8 and set(np.unique(binary)) <= {0, 255}
    assert np.array_equal(binary, data.binarise(images, seed=0))
    assert not np.array_equal(binary, data.binarise(images, seed=1))
    on = (binary == 255).mean(axis=0)
    assert on[0] == 0.0 and on[3] == 1.0
    assert np.allclose(on[1:3], [51 / 255, 128 / 255], atol=0.01)
    assert np.array_equal(data.to_float(binary[:2]), binary[:2] / 255.0)
    with pytest.raises(ValueError, match="uint8"):
        data.binarise(images.astype("float32"))


def test_plot_map_takes_a_categorical_palette_for_ten_digits():
    import matplotlib.colors as mcolors

    rng = np.random.default_rng(0)
    ax = plots.plot_map(rng.normal(size=(100, 2)), np.arange(100) % 10, "map", palette="tab10",
                        s=5, ticks=True)
    colours = [mcolors.to_hex(c.get_facecolor()[0]) for c in ax.collections]
    assert len(set(colours)) == 10
    assert colours == [mcolors.to_hex(c) for c in matplotlib.colormaps["tab10"].colors]
    matplotlib.pyplot.close("all")


def test_plot_image_grid_tiles_and_labels():
    images = np.random.default_rng(0).random((3, 4, 5, 6))
    ax = plots.plot_image_grid(images, "grid", xvalues=[0, 1, 2, 3], yvalues=[1, 0, -1],
                               xlabel="z1", ylabel="z2")
    assert ax.get_title() == "grid" and ax.get_xlabel() == "z1"
    assert ax.get_images()[0].get_array().shape == (15, 24)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1.0", "0.0", "-1.0"]
    with pytest.raises(ValueError, match="rows, cols"):
        plots.plot_image_grid(images[0], "bad")
    with pytest.raises(ValueError, match="tick values"):
        plots.plot_image_grid(images, "bad", xvalues=[0, 1])
    matplotlib.pyplot.close("all")
