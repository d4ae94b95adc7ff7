"""Lesson 6: the penalties (closed form against automatic differentiation), the penalised
models, the sparsity and sensitivity measures, and their input checks."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autoenc_helpers import regularised
from autoenc_helpers.models import (ContractiveAutoencoder, KLSparseAutoencoder,
                                    L1SparseAutoencoder, contractive_penalty,
                                    kl_sparsity_penalty, l1_penalty, single_layer_autoencoder)


def _random_encoder(input_shape=(28, 28), code_size=32, seed=0):
    keras.utils.set_random_seed(seed)
    _, encoder, decoder = single_layer_autoencoder(input_shape, code_size=code_size)
    rng = np.random.default_rng(seed)
    kernel, bias = encoder.get_layer("code").get_weights()
    # weights large enough that many units are far from the linear part of the sigmoid
    encoder.get_layer("code").set_weights([rng.normal(0, 0.2, kernel.shape).astype("float32"),
                                           rng.normal(0, 1.0, bias.shape).astype("float32")])
    return encoder, decoder


# --------------------------------------------------------------------------- builder


@pytest.mark.parametrize("input_shape", [(28, 28), (140,)])
def test_single_layer_autoencoder_shapes(input_shape):
    ae, enc, dec = single_layer_autoencoder(input_shape, code_size=48)
    x = np.random.default_rng(0).random((5, *input_shape)).astype("float32")
    code = enc.predict(x, verbose=0)
    out = ae.predict(x, verbose=0)
    assert code.shape == (5, 48) and 0 < code.min() and code.max() < 1
    assert out.shape == (5, *input_shape)
    np.testing.assert_allclose(out, dec.predict(code, verbose=0), atol=1e-6)
    n_in = int(np.prod(input_shape))
    assert ae.count_params() == (n_in * 48 + 48) + (48 * n_in + n_in)


def test_single_layer_autoencoder_refuses_bad_sizes():
    with pytest.raises(ValueError, match="code_size"):
        single_layer_autoencoder((28, 28), code_size=0)
    with pytest.raises(ValueError, match="input_shape"):
        single_layer_autoencoder((28, 0))


# --------------------------------------------------------------------------- penalties


def _batch_jacobian(encoder, x):
    """``(b, d, D)``: the encoder's Jacobian at each float image of ``x`` ``(b, h, w)``, by
    TensorFlow's ``GradientTape.batch_jacobian`` (a check independent of the package)."""
    import tensorflow as tf

    flat = tf.constant(x.reshape(len(x), -1))
    with tf.GradientTape() as tape:
        tape.watch(flat)
        code = encoder(tf.reshape(flat, x.shape), training=False)
    return tape.batch_jacobian(code, flat).numpy()


def test_closed_form_contractive_penalty_matches_autodiff():
    encoder, _ = _random_encoder()
    x = np.random.default_rng(1).random((16, 28, 28)).astype("float32")
    code = encoder.predict(x, verbose=0)
    closed = float(contractive_penalty(code, encoder.get_layer("code").kernel))
    autodiff = regularised.jacobian_norms(encoder, x, batch_size=5)   # three batches
    assert autodiff.shape == (16,) and closed > 0
    np.testing.assert_allclose(closed, autodiff.mean(), rtol=1e-5)
    # and image by image, from the full Jacobian
    jac = _batch_jacobian(encoder, x[:3])
    assert jac.shape == (3, 32, 784)
    kernel = encoder.get_layer("code").kernel.numpy()
    expected = (code[:3, :, None] * (1 - code[:3, :, None])) * kernel.T[None]
    np.testing.assert_allclose(jac, expected, rtol=1e-4, atol=1e-7)


def test_l1_penalty_is_the_mean_l1_norm():
    code = np.array([[0.1, -0.2, 0.0], [0.5, 0.5, 1.0]], "float32")
    assert float(l1_penalty(code)) == pytest.approx((0.3 + 2.0) / 2)


def test_kl_penalty_is_zero_at_the_target_and_grows_away_from_it():
    rho = 0.1
    at_target = np.array([[0.0, 0.2], [0.2, 0.0]], "float32")    # unit means: 0.1, 0.1
    assert float(kl_sparsity_penalty(at_target, rho)) == pytest.approx(0.0, abs=1e-6)
    q = np.array([0.3, 0.05])
    expected = np.sum(rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q)))
    code = np.tile(q.astype("float32"), (4, 1))
    assert float(kl_sparsity_penalty(code, rho)) == pytest.approx(expected, rel=1e-5)
    assert float(kl_sparsity_penalty(np.full((4, 2), 0.5, "float32"), rho)) > expected


# --------------------------------------------------------------------------- models


def test_penalised_model_logs_both_terms_and_their_weighted_sum():
    encoder, decoder = _random_encoder(code_size=16)
    model = L1SparseAutoencoder(encoder, decoder, weight=1e-3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = (np.random.default_rng(0).random((64, 28, 28)) > 0.7).astype("float32")
    history = model.fit(x, x, validation_data=(x, x), epochs=2, batch_size=16, verbose=0)
    assert {"loss", "reconstruction", "penalty", "val_loss", "val_reconstruction",
            "val_penalty"} <= set(history.history)
    logs = model.evaluate(x, x, batch_size=64, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + 1e-3 * logs["penalty"], rel=1e-5)
    recon_mse = float(np.mean((model.predict(x, verbose=0) - x) ** 2))
    assert logs["reconstruction"] == pytest.approx(recon_mse, rel=1e-4)
    assert logs["penalty"] == pytest.approx(float(l1_penalty(encoder.predict(x, verbose=0))),
                                            rel=1e-4)


def test_kl_penalty_pulls_the_mean_activation_to_the_target():
    keras.utils.set_random_seed(0)
    _, encoder, decoder = single_layer_autoencoder((20,), code_size=8)
    x = np.random.default_rng(0).random((256, 20)).astype("float32")
    before = regularised.unit_mean_activation(encoder.predict(x, verbose=0)).mean()
    model = KLSparseAutoencoder(encoder, decoder, weight=1.0, target=0.1)
    model.compile(optimizer=keras.optimizers.Adam(0.05), steps_per_execution=4)
    model.fit(x, epochs=30, batch_size=64, verbose=0)
    after = regularised.unit_mean_activation(encoder.predict(x, verbose=0))
    assert abs(before - 0.1) > 0.2                       # started far from the target
    np.testing.assert_allclose(after, 0.1, rtol=0.2)     # every unit ends near it


def test_contractive_model_shrinks_the_jacobian():
    x = np.random.default_rng(0).random((256, 20)).astype("float32")
    norms = {}
    for weight in (0.0, 0.1):
        keras.utils.set_random_seed(0)
        _, encoder, decoder = single_layer_autoencoder((20,), code_size=16)
        model = ContractiveAutoencoder(encoder, decoder, weight=weight)
        model.compile(optimizer=keras.optimizers.Adam(0.01), steps_per_execution=4)
        model.fit(x, epochs=15, batch_size=64, verbose=0)
        code = encoder.predict(x, verbose=0)
        norms[weight] = float(contractive_penalty(code, encoder.get_layer("code").kernel))
    assert norms[0.1] < 0.5 * norms[0.0]


def test_models_refuse_bad_settings():
    _, encoder, decoder = single_layer_autoencoder((20,), code_size=8)
    with pytest.raises(ValueError, match="weight"):
        L1SparseAutoencoder(encoder, decoder, weight=-1.0)
    with pytest.raises(ValueError, match="rho"):
        KLSparseAutoencoder(encoder, decoder, weight=1.0, target=1.5)
    _, _, other_decoder = single_layer_autoencoder((20,), code_size=4)
    with pytest.raises(ValueError, match="does not fit"):
        L1SparseAutoencoder(encoder, other_decoder, weight=1.0)
    _, relu_encoder, relu_decoder = single_layer_autoencoder((20,), code_size=8,
                                                             code_activation="relu")
    with pytest.raises(ValueError, match="sigmoid"):
        ContractiveAutoencoder(relu_encoder, relu_decoder, weight=1.0)
    # the KL divergence between coins needs activations in (0, 1): a ReLU or linear code is refused
    with pytest.raises(ValueError, match="KL sparsity penalty needs code activations in"):
        KLSparseAutoencoder(relu_encoder, relu_decoder, weight=1.0)
    _, linear_encoder, linear_decoder = single_layer_autoencoder((20,), code_size=8,
                                                                 code_activation=None)
    with pytest.raises(ValueError, match="'code' must have a sigmoid activation"):
        KLSparseAutoencoder(linear_encoder, linear_decoder, weight=1.0)
    KLSparseAutoencoder(encoder, decoder, weight=1.0)   # the sigmoid code is accepted
    deep = keras.Sequential([keras.Input((20,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(8, activation="sigmoid", name="code")])
    with pytest.raises(ValueError, match="one Dense layer"):
        ContractiveAutoencoder(deep, decoder, weight=1.0)


# --------------------------------------------------------------------------- measures


def test_activation_measures():
    codes = np.array([[0.0, 0.5, 0.001, 0.9], [0.0, 0.02, 0.3, 0.9]], "float32")
    np.testing.assert_allclose(regularised.unit_mean_activation(codes), [0.0, 0.26, 0.1505, 0.9])
    np.testing.assert_allclose(regularised.near_zero_fraction(codes, tol=0.01), [0.5, 0.25])
    np.testing.assert_allclose(regularised.units_on(codes, tol=0.01), [0.5, 0.75])
    summary = regularised.activation_summary(codes, tol=0.01)
    assert summary["mean activation"] == pytest.approx(codes.mean())
    assert summary["units on: median"] == pytest.approx(0.625)
    assert summary["units on: 10th percentile"] == pytest.approx(0.525)
    assert summary["units on: 90th percentile"] == pytest.approx(0.725)
    assert summary["units never on"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        regularised.unit_mean_activation(np.zeros(4))
    with pytest.raises(ValueError, match="tol"):
        regularised.near_zero_fraction(codes, tol=0.0)


def _scaled_identity_encoder(scale: float, dim: int = 16) -> keras.Model:
    inputs = keras.Input((dim,))
    dense = keras.layers.Dense(dim, use_bias=False)
    encoder = keras.Model(inputs, dense(inputs))
    dense.set_weights([scale * np.eye(dim, dtype="float32")])
    return encoder


def test_sensitivity_and_jacobian_of_a_linear_encoder():
    encoder = _scaled_identity_encoder(0.5)
    x = np.random.default_rng(0).random((30, 16)).astype("float32")
    np.testing.assert_allclose(regularised.code_sensitivity(encoder, x, noise_std=0.1,
                                                            batch_size=7), 0.5, rtol=1e-5)
    np.testing.assert_allclose(regularised.jacobian_norms(encoder, x), 0.25 * 16, rtol=1e-5)


def test_measures_refuse_inputs_of_the_wrong_shape():
    encoder = _scaled_identity_encoder(1.0)
    with pytest.raises(ValueError, match=r"\(n, 16\)"):
        regularised.jacobian_norms(encoder, np.zeros((4, 28, 28), "float32"))
    with pytest.raises(ValueError, match=r"\(n, 16\)"):
        regularised.code_sensitivity(encoder, np.zeros((0, 16), "float32"))
    with pytest.raises(ValueError, match="noise_std"):
        regularised.code_sensitivity(encoder, np.zeros((4, 16), "float32"), noise_std=0)


def test_feature_images():
    kernel = np.random.default_rng(0).normal(size=(5, 784)).astype("float32")
    images = regularised.feature_images(kernel)
    assert images.shape == (5, 28, 28)
    np.testing.assert_allclose(images.reshape(5, -1).min(axis=1), 0.0)
    np.testing.assert_allclose(images.reshape(5, -1).max(axis=1), 1.0)
    np.testing.assert_allclose(regularised.feature_images(kernel.T), images)  # encoder layout
    with pytest.raises(ValueError, match="784"):
        regularised.feature_images(np.zeros((5, 100)))


def test_two_layer_contractive_penalty_matches_batch_jacobian():
    from autoenc_helpers.models import dense_autoencoder, relu_contractive_penalty

    keras.utils.set_random_seed(3)
    _, encoder, decoder = dense_autoencoder((28, 28), latent_dim=5, hidden=(16,))
    x = np.random.default_rng(3).random((6, 28, 28)).astype("float32")
    jacobian = _batch_jacobian(encoder, x)
    model = ContractiveAutoencoder(encoder, decoder, weight=1.0)
    expected = float(np.mean(np.sum(jacobian ** 2, axis=(1, 2))))
    assert float(model.penalty(x, encoder(x))) == pytest.approx(expected, rel=1e-4)
    hidden = encoder.get_layer("enc_dense_0")
    direct = relu_contractive_penalty(hidden(x.reshape(6, -1)), hidden.kernel,
                                      encoder.get_layer("code").kernel)
    assert float(direct) == pytest.approx(expected, rel=1e-4)
