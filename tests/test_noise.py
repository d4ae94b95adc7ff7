"""Noise helpers, the baseline filter, and lesson 2's denoiser trained on corrupted batches."""

from __future__ import annotations

import numpy as np
import pytest

from autoenc_helpers import data
from autoenc_helpers.models import conv_autoencoder
from autoenc_helpers.noise import (Noise, add_noise, choose_filter, denoising_errors,
                                   filter_images, make_corrupt)


@pytest.fixture
def images_u8() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)


# ----------------------------------------------------------------- NumPy front end


@pytest.mark.parametrize("kind", ["gaussian", "speckle"])
def test_add_noise_shape_dtype_range_and_input_untouched(images_u8, kind):
    before = images_u8.copy()
    noisy = add_noise(images_u8, kind, 0.5, seed=1)
    assert noisy.shape == images_u8.shape and noisy.dtype == np.float32
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert noisy.min() == 0.0 and noisy.max() == 1.0  # strong noise does get clipped
    np.testing.assert_array_equal(images_u8, before)
    assert np.abs(noisy - images_u8 / 255.0).mean() > 0.05  # it did add noise


def test_add_noise_is_reproducible_with_a_seed(images_u8):
    a = add_noise(images_u8, "gaussian", 0.2, seed=7)
    np.testing.assert_array_equal(a, add_noise(images_u8, "gaussian", 0.2, seed=7))
    assert not np.array_equal(a, add_noise(images_u8, "gaussian", 0.2, seed=8))
    np.testing.assert_array_equal(a, add_noise(images_u8, Noise("gaussian", 0.2), seed=7))


def test_level_zero_is_the_clean_image(images_u8):
    np.testing.assert_allclose(add_noise(images_u8, "speckle", 0.0), images_u8 / 255.0, atol=1e-7)


def test_gaussian_is_additive_and_speckle_multiplicative():
    grey = np.full((50, 28, 28), 0.5, np.float32)
    black = np.zeros((4, 28, 28), np.float32)
    # mid-grey, small level: no clipping, so the noise has exactly the requested spread
    assert np.std(add_noise(grey, "gaussian", 0.1, seed=0) - grey) == pytest.approx(0.1, rel=0.02)
    assert np.std(add_noise(grey, "speckle", 0.2, seed=0) - grey) == pytest.approx(0.1, rel=0.02)
    assert add_noise(black, "gaussian", 0.2).max() > 0.3   # additive: black gets noisy
    assert add_noise(black, "speckle", 0.9).max() == 0.0   # multiplicative: black stays black


@pytest.mark.parametrize("kind, level, match", [
    ("gaussian", -0.1, "level"), ("speckle", float("nan"), "level"),
    ("gaussian", float("inf"), "level"), ("gaussian", "0.2", "number"),
    ("salt", 0.2, "unknown noise kind"),
])
def test_bad_noise_arguments_raise_clear_errors(images_u8, kind, level, match):
    with pytest.raises(ValueError, match=match):
        add_noise(images_u8, kind, level)
    with pytest.raises(ValueError, match=match):
        make_corrupt(kind, level)


def test_bad_images_raise(images_u8):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        add_noise(images_u8.astype(np.float32), "gaussian", 0.2)  # forgot to scale by 1/255
    with pytest.raises(ValueError, match="dtype"):
        add_noise(images_u8.astype(np.int64), "gaussian", 0.2)
    with pytest.raises(ValueError, match="not both"):
        add_noise(images_u8, Noise("gaussian", 0.2), level=0.3)


def test_noise_label():
    assert Noise("speckle", 0.4).label == "speckle 0.4" == str(Noise("speckle", 0.4))


# ----------------------------------------------------------------- TensorFlow front end


def test_make_corrupt_is_stateless_and_in_range():
    import tensorflow as tf

    clean = tf.constant(np.full((8, 28, 28), 0.5, np.float32))
    corrupt = make_corrupt("gaussian", 0.1)
    a = corrupt(clean, tf.constant([1, 2], tf.int64)).numpy()
    assert a.shape == (8, 28, 28) and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, corrupt(clean, tf.constant([1, 2], tf.int64)).numpy())
    assert not np.array_equal(a, corrupt(clean, tf.constant([1, 3], tf.int64)).numpy())
    assert np.std(a - 0.5) == pytest.approx(0.1, rel=0.03)  # same maths as add_noise


def test_make_corrupt_mixture_draws_one_noise_per_image():
    import tensorflow as tf

    clean = tf.constant(np.full((200, 28, 28), 0.5, np.float32))
    corrupt = make_corrupt([Noise("gaussian", 0.0), Noise("speckle", 0.2)])
    out = corrupt(clean, tf.constant([0, 5], tf.int64)).numpy()
    untouched = np.all(out == 0.5, axis=(1, 2))
    assert 50 < untouched.sum() < 150  # about half of the images got no noise
    assert np.std(out[~untouched] - 0.5) == pytest.approx(0.1, rel=0.05)
    with pytest.raises(ValueError, match="at least one"):
        make_corrupt([])


def test_make_corrupt_in_the_training_pipeline(images_u8):
    ds = data.autoencoder_dataset(images_u8, batch_size=4, seed=3,
                                  corrupt=make_corrupt("speckle", 0.4))
    first = [(x.numpy(), y.numpy()) for x, y in ds]
    second = [(x.numpy(), y.numpy()) for x, y in ds]
    again = [(x.numpy(), y.numpy()) for x, y in data.autoencoder_dataset(
        images_u8, batch_size=4, seed=3, corrupt=make_corrupt("speckle", 0.4))]
    noisy, clean = first[0]
    assert noisy.shape == clean.shape == (4, 28, 28)
    assert not np.allclose(noisy, clean) and 0 <= noisy.min() and noisy.max() <= 1
    assert not np.array_equal(first[0][0], second[0][0])   # new noise each epoch
    np.testing.assert_array_equal(first[0][0], again[0][0])  # reproducible from the seed


# ----------------------------------------------------------------- errors and the baseline


def test_denoising_errors(images_u8):
    noisy = add_noise(images_u8, "gaussian", 0.2, seed=0)
    err = denoising_errors(None, noisy, images_u8, batch_size=5)
    expected = ((noisy - images_u8 / 255.0) ** 2).mean(axis=(1, 2))
    np.testing.assert_allclose(err, expected, rtol=1e-5)
    np.testing.assert_allclose(denoising_errors(lambda b: b, noisy, images_u8), expected,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        denoising_errors(None, noisy[:3], images_u8)


def test_filters_keep_shape_and_remove_noise():
    smooth = np.tile(np.linspace(0.2, 0.8, 28, dtype=np.float32), (30, 28, 1))
    noisy = add_noise(smooth, "gaussian", 0.1, seed=0)
    for method, param in (("gaussian", 1.0), ("median", 3)):
        out = filter_images(noisy, method, param)
        assert out.shape == smooth.shape and out.dtype == np.float32
        assert np.mean((out - smooth) ** 2) < 0.5 * np.mean((noisy - smooth) ** 2)
    salt = np.zeros((1, 28, 28), np.float32)
    salt[0, 10, 10] = 1.0
    assert filter_images(salt, "median", 3).max() == 0.0  # a lone white pixel disappears
    assert filter_images(salt, "gaussian", 1.0)[0, 10, 10] < 0.3


@pytest.mark.parametrize("method, param, match", [
    ("gaussian", 0.0, "sigma"), ("median", 2.5, "window"), ("median", 0, "window"),
    ("bilateral", 1, "unknown filter"),
])
def test_filter_bad_arguments(images_u8, method, param, match):
    with pytest.raises(ValueError, match=match):
        filter_images(images_u8, method, param)


def test_choose_filter_picks_the_lowest_validation_error():
    rng = np.random.default_rng(0)
    clean = np.full((20, 28, 28), 0.5, np.float32)
    salty = clean.copy()
    salty[rng.random(clean.shape) < 0.05] = 1.0  # impulse noise: the median's speciality
    method, param, scores = choose_filter(salty, clean, {"gaussian": [0.5, 1.0], "median": [3]})
    assert (method, param) == ("median", 3)
    assert set(scores) == {("gaussian", 0.5), ("gaussian", 1.0), ("median", 3)}
    assert scores[("median", 3)] == min(scores.values())


# ----------------------------------------------------------------- the denoiser


def test_denoiser_trains_on_noisy_inputs():
    """Lesson 2's architecture (``models.conv_autoencoder`` with a bottleneck convolution,
    here narrower) learns from the corrupted batches of ``make_corrupt``."""
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    clean = (rng.random((64, 28, 28)) > 0.7).astype(np.uint8) * 255
    ds = data.autoencoder_dataset(clean, batch_size=16, seed=0,
                                  corrupt=make_corrupt("gaussian", 0.2))
    ae, _, _ = conv_autoencoder((28, 28), filters=(8, 16), bottleneck_convs=1)
    ae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    noisy = add_noise(clean, "gaussian", 0.2, seed=1)
    before = denoising_errors(ae, noisy, clean).mean()
    ae.fit(ds, epochs=4, verbose=0)
    after = denoising_errors(ae, noisy, clean).mean()
    assert np.isfinite(after) and after < before


def test_add_noise_does_not_depend_on_the_chunk_size(images_u8):
    np.testing.assert_array_equal(add_noise(images_u8, "speckle", 0.3, seed=4, chunk=5),
                                  add_noise(images_u8, "speckle", 0.3, seed=4, chunk=1000))
