"""Model builders: composition, shapes, parameter counts against models written out layer by
layer (as the lessons write them), argument checks, and that they train."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from autoenc_helpers import models
from autoenc_helpers.models import compose, conv_autoencoder, dense_autoencoder


def _layer_signature(model: keras.Model) -> list[tuple[str, tuple, int]]:
    """``(layer class, output shape without batch axis, parameters)`` of every layer but the
    input, in order: two models with the same signature have the same architecture."""
    return [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
            for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


# --------------------------------------------------------------------------- compose, dense


def test_compose_shares_the_layers_of_encoder_and_decoder():
    inputs = keras.Input((6,))
    encoder = keras.Model(inputs, layers.Dense(2)(inputs), name="enc")
    codes = keras.Input((2,))
    decoder = keras.Model(codes, layers.Dense(6, activation="sigmoid")(codes), name="dec")
    ae = compose(encoder, decoder, name="tiny_ae")
    assert ae.name == "tiny_ae" and ae.input_shape == (None, 6) and ae.output_shape == (None, 6)
    assert ae.count_params() == encoder.count_params() + decoder.count_params() == 14 + 18
    # shared weights: changing the encoder changes the autoencoder
    x = np.random.default_rng(0).random((4, 6)).astype("float32")
    np.testing.assert_allclose(ae.predict(x, verbose=0),
                               decoder.predict(encoder.predict(x, verbose=0), verbose=0),
                               atol=1e-6)
    encoder.layers[-1].kernel.assign(np.zeros((6, 2), np.float32))
    encoder.layers[-1].bias.assign(np.zeros(2, np.float32))
    np.testing.assert_allclose(ae.predict(x, verbose=0),
                               decoder.predict(np.zeros((4, 2), np.float32), verbose=0), atol=1e-6)


def test_dense_autoencoder_shapes():
    ae, enc, dec = dense_autoencoder((28, 28), latent_dim=16, hidden=(64,))
    x = np.random.rand(5, 28, 28).astype("float32")
    assert enc.predict(x, verbose=0).shape == (5, 16)
    out = ae.predict(x, verbose=0)
    assert out.shape == (5, 28, 28) and out.min() >= 0 and out.max() <= 1
    np.testing.assert_allclose(out, dec.predict(enc.predict(x, verbose=0), verbose=0), atol=1e-5)


def test_linear_autoencoder_has_only_two_dense_layers():
    ae, enc, dec = dense_autoencoder((140,), latent_dim=8, hidden=(), activation=None,
                                     output_activation=None)
    assert ae.count_params() == 140 * 8 + 8 + 8 * 140 + 140
    assert enc.output_shape == (None, 8) and dec.output_shape == (None, 140)


def test_dense_autoencoder_matches_the_model_written_out():
    """Lesson 1 writes the model with the functional API and checks it against the builder."""
    _, enc, dec = dense_autoencoder((28, 28), latent_dim=32, hidden=(128,))
    inputs = keras.Input((28, 28))
    x = layers.Flatten()(inputs)
    x = layers.Dense(128, activation="relu")(x)
    ref_enc = keras.Model(inputs, layers.Dense(32)(x))
    codes = keras.Input((32,))
    y = layers.Dense(128, activation="relu")(codes)
    y = layers.Dense(784, activation="sigmoid")(y)
    ref_dec = keras.Model(codes, layers.Reshape((28, 28))(y))
    assert _layer_signature(enc) == _layer_signature(ref_enc)
    assert _layer_signature(dec) == _layer_signature(ref_dec)


# --------------------------------------------------------------------------- conv_autoencoder


def _lesson2_reference(decoder_filters: int) -> tuple[keras.Model, keras.Model]:
    """Lesson 2's denoiser, written out: 28 -> 14 -> 7 with one more convolution at 7 x 7."""
    encoder = keras.Sequential([
        keras.Input((28, 28)),
        layers.Reshape((28, 28, 1)),
        layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
    ])
    decoder = keras.Sequential([
        keras.Input((7, 7, 64)),
        layers.Conv2DTranspose(decoder_filters, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid"),
        layers.Reshape((28, 28)),
    ])
    return encoder, decoder


def _lesson3_reference() -> tuple[keras.Model, keras.Model]:
    """Lesson 3's model, written out: a 20-d dense code, kernels 5/3 down and 4/6 up."""
    encoder = keras.Sequential([
        keras.Input((28, 28)),
        layers.Reshape((28, 28, 1)),
        layers.Conv2D(16, 5, strides=2, padding="same", activation="relu"),
        layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        layers.Flatten(),
        layers.Dense(20),
    ])
    decoder = keras.Sequential([
        keras.Input((20,)),
        layers.Dense(7 * 7 * 64, activation="relu"),
        layers.Reshape((7, 7, 64)),
        layers.Conv2DTranspose(16, 4, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(1, 6, strides=2, padding="same", activation="sigmoid"),
        layers.Reshape((28, 28)),
    ])
    return encoder, decoder


@pytest.mark.parametrize("decoder_filters", [(64,), None])  # None: the mirror, (32,)
def test_conv_autoencoder_builds_lesson_2s_denoiser(decoder_filters):
    ae, enc, dec = conv_autoencoder((28, 28), filters=(32, 64), bottleneck_convs=1,
                                    decoder_filters=decoder_filters)
    ref_enc, ref_dec = _lesson2_reference(64 if decoder_filters else 32)
    assert enc.output_shape == (None, 7, 7, 64)        # a feature-map code
    assert dec.input_shape == (None, 7, 7, 64) and dec.output_shape == (None, 28, 28)
    assert ae.input_shape == ae.output_shape == (None, 28, 28)
    assert _layer_signature(enc) == _layer_signature(ref_enc)
    assert _layer_signature(dec) == _layer_signature(ref_dec)
    assert enc.count_params() == ref_enc.count_params() == 320 + 18_496 + 36_928
    assert ae.count_params() == ref_enc.count_params() + ref_dec.count_params()


def test_conv_autoencoder_builds_lesson_3s_model():
    ae, enc, dec = conv_autoencoder((28, 28), filters=(16, 64), kernel_sizes=(5, 3),
                                    latent_dim=20, decoder_kernel_sizes=(4, 6))
    ref_enc, ref_dec = _lesson3_reference()
    assert enc.output_shape == (None, 20)               # a dense code
    assert dec.input_shape == (None, 20) and dec.output_shape == (None, 28, 28)
    assert _layer_signature(enc) == _layer_signature(ref_enc)
    assert _layer_signature(dec) == _layer_signature(ref_dec)
    assert ae.count_params() == ref_enc.count_params() + ref_dec.count_params()
    x = np.random.default_rng(0).random((3, 28, 28)).astype("float32")
    out = ae.predict(x, verbose=0)
    assert out.shape == (3, 28, 28) and out.min() >= 0 and out.max() <= 1
    np.testing.assert_allclose(out, dec.predict(enc.predict(x, verbose=0), verbose=0), atol=1e-5)


def test_conv_autoencoder_goes_28_to_7_and_back():
    ae, enc, dec = conv_autoencoder((28, 28), filters=(16, 8))
    assert enc.output_shape == (None, 7, 7, 8)
    assert dec.output_shape == (None, 28, 28)
    _, enc2, _ = conv_autoencoder((28, 28), filters=(16, 8), latent_dim=20)
    assert enc2.output_shape == (None, 20)
    _, enc3, _ = conv_autoencoder((32, 16), filters=(4, 4, 4))
    assert enc3.output_shape == (None, 4, 2, 4)
    _, enc_b, _ = conv_autoencoder((28, 28), filters=(16, 8), bottleneck_convs=2)
    assert len(enc_b.layers) == len(enc.layers) + 2


@pytest.mark.parametrize("kwargs, match", [
    ({"input_shape": (30, 30)}, "divisible by 4"),
    ({"input_shape": (28, 28), "filters": (4, 4, 4)}, "divisible by 8"),
    ({"filters": ()}, "filters must not be empty"),
    ({"kernel_sizes": (3, 3, 3)}, "kernel_sizes needs 2 entries"),
    ({"kernel_sizes": (5,)}, "kernel_sizes needs 2 entries"),
    ({"decoder_kernel_sizes": (4,)}, "decoder_kernel_sizes needs 2 entries"),
    ({"decoder_filters": (32, 16)}, "decoder_filters needs 1 entries"),
    ({"bottleneck_convs": -1}, "bottleneck_convs"),
])
def test_conv_autoencoder_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv_autoencoder(**kwargs)


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("builder", [dense_autoencoder, conv_autoencoder])
def test_builders_train(builder):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.random((64, 28, 28)) > 0.7).astype("float32")
    ae, _, _ = builder((28, 28))
    ae.compile(optimizer="adam", loss="mse")
    before = ae.evaluate(x, x, verbose=0)
    ae.fit(x, x, epochs=3, batch_size=16, verbose=0)
    after = ae.evaluate(x, x, verbose=0)
    assert np.isfinite(after) and after < before


# --------------------------------------------------------------------------- encode (lesson 3)


def test_encode_in_batches_matches_one_call():
    _, enc, _ = conv_autoencoder((28, 28), filters=(4, 8), latent_dim=6)
    x = np.random.default_rng(1).integers(0, 256, (23, 28, 28), dtype=np.uint8)
    whole = enc.predict(x.astype("float32") / 255.0, verbose=0)
    batched = models.encode(enc, x, batch_size=5)   # 5 batches, the last one short
    assert batched.shape == (23, 6) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, whole, rtol=1e-4, atol=1e-5)
    # uint8 images are scaled on the fly; float images in [0, 1] are used as they are
    np.testing.assert_allclose(models.encode(enc, x.astype("float32") / 255.0), batched,
                               rtol=1e-4, atol=1e-5)
    # the same codes as lesson 3's predict_on_batch, batch by batch
    np.testing.assert_array_equal(
        models.encode(enc, x, batch_size=5),
        np.concatenate([enc.predict_on_batch(x[i:i + 5].astype("float32") / 255)
                        for i in range(0, 23, 5)]))


def test_encode_accepts_a_plain_function():
    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4) / 32   # images in [0, 1]
    z = models.encode(lambda b: b.reshape(len(b), -1)[:, :3], x, batch_size=1)
    np.testing.assert_array_equal(z, x.reshape(2, -1)[:, :3])


def test_encode_rejects_bad_shapes_nan_and_empty():
    _, enc, _ = conv_autoencoder((28, 28), filters=(4, 8), latent_dim=6)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(n, 28, 28\).*\(28, 28\)"):
        models.encode(enc, np.zeros((28, 28), np.uint8))       # one image without batch axis
    with pytest.raises(ValueError, match="expects inputs"):
        models.encode(enc, np.zeros((2, 784), np.float32))     # flattened images
    with pytest.raises(ValueError, match="empty"):
        models.encode(enc, np.zeros((0, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="batch_size"):
        models.encode(enc, np.zeros((2, 28, 28), np.uint8), batch_size=0)


def test_encode_takes_series_of_any_range_and_rejects_nan():
    _, enc, _ = models.recurrent_autoencoder(6, latent_dim=2, units=2)
    x = 10 * np.random.default_rng(0).normal(size=(5, 6, 1)).astype("float32")  # beyond [0, 1]
    z = models.encode(enc, x, batch_size=2)
    np.testing.assert_allclose(z, np.asarray(enc(x, training=False)), rtol=1e-5, atol=1e-6)
    x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        models.encode(enc, x)
    x[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        models.encode(enc, x)


def test_encode_flattens_a_feature_map_code():
    _, enc, _ = models.conv1d_autoencoder(16, filters=(4, 8))        # code (n, 4, 8)
    x = np.random.default_rng(0).normal(size=(3, 16, 1)).astype("float32")
    z = models.encode(enc, x)
    assert z.shape == (3, 4 * 8)
    np.testing.assert_allclose(z, np.asarray(enc(x)).reshape(3, -1), rtol=1e-5, atol=1e-6)
