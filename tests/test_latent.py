"""Latent-space helpers: class means, t-SNE, kNN scores, OOD inputs, reconstruction snapshots.
(Batched encoding and the lesson's model builder are tested in test_models, thresholds and flags
in test_metrics, figures in test_plots.)"""

from __future__ import annotations

import numpy as np
import pytest

from autoenc_helpers import latent
from autoenc_helpers.models import conv_autoencoder


@pytest.fixture(scope="module")
def small_model():
    """Lesson 3's kind of model (dense code), narrow enough to be quick."""
    return conv_autoencoder((28, 28), filters=(4, 8), latent_dim=6)


def test_class_means():
    z = np.array([[0.0, 0], [2, 2], [10, 10], [12, 14]])
    y = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(latent.class_means(z, y), [[1, 1], [11, 12]])


def test_tsne_returns_one_2d_point_per_input_reproducibly():
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.normal(0, 1, (60, 5)), rng.normal(8, 1, (60, 5))]).astype(np.float32)
    m1 = latent.tsne_2d(z, random_state=0, n_jobs=1, perplexity=10, n_iter=100)
    m2 = latent.tsne_2d(z, random_state=0, n_jobs=1, perplexity=10, n_iter=100)
    assert m1.shape == (120, 2) and np.isfinite(m1).all()
    np.testing.assert_allclose(m1, m2)
    # the two well-separated clusters stay separated on the map
    y = np.repeat([0, 1], 60)
    assert latent.knn_cv_accuracy(m1, y, k=5) == 1.0


def test_tsne_rejects_bad_input():
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        latent.tsne_2d(np.zeros((10, 28, 28)))
    with pytest.raises(ValueError, match="perplexity"):
        latent.tsne_2d(np.random.default_rng(0).normal(size=(50, 3)), perplexity=30)
    with pytest.raises(ValueError, match="NaN"):
        latent.tsne_2d(np.full((200, 3), np.nan))


def test_knn_accuracies():
    rng = np.random.default_rng(4)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    y = np.repeat(np.arange(3), 30)
    z = centres[y] + rng.normal(0, 0.5, (90, 2))
    assert latent.knn_accuracy(z[::2], y[::2], z[1::2], y[1::2]) == 1.0
    assert latent.knn_cv_accuracy(z, y, k=5) == 1.0
    y_shuffled = rng.permutation(y)
    assert latent.knn_cv_accuracy(z, y_shuffled, k=5) < 0.6
    with pytest.raises(ValueError, match="labels"):
        latent.knn_accuracy(z, y[:-1], z, y)
    with pytest.raises(ValueError, match="dimensions"):
        latent.knn_accuracy(z, y, z[:, :1], y)


def test_ood_makers():
    x = np.zeros((2, 4, 4), np.uint8)
    x[:, 0, 0] = 200                                   # a bright top-left corner
    r90 = latent.rotate(x, 90)
    assert r90.shape == x.shape and r90.dtype == np.uint8 and r90[0, 3, 0] == 200
    assert latent.rotate(x, 180)[0, 3, 3] == 200
    np.testing.assert_array_equal(latent.rotate(x, 360), x)
    with pytest.raises(ValueError, match="multiple of 90"):
        latent.rotate(x, 45)
    inv = latent.invert(x)
    assert inv.dtype == np.uint8 and inv[0, 0, 0] == 55 and inv[0, 1, 1] == 255
    np.testing.assert_allclose(latent.invert(np.full((1, 2, 2), 0.25)), 0.75)
    noise = latent.noise_images(50, seed=1)
    assert noise.shape == (50, 28, 28) and noise.dtype == np.uint8
    assert noise.min() < 10 and noise.max() > 245
    np.testing.assert_array_equal(noise, latent.noise_images(50, seed=1))
    with pytest.raises(ValueError, match=r"\(n, h, w\)"):
        latent.invert(np.zeros((4, 4)))


def test_reconstruction_snapshots(small_model):
    ae, _, _ = small_model
    ae.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(5).random((32, 28, 28)).astype("float32")
    cb = latent.ReconstructionSnapshots(x[:3], epochs=[1, 3])
    ae.fit(x, x, epochs=3, batch_size=16, verbose=0, callbacks=[cb])
    assert sorted(cb.snapshots) == [1, 3]
    assert cb.snapshots[3].shape == (3, 28, 28)
    np.testing.assert_allclose(cb.snapshots[3], ae.predict(x[:3], verbose=0), atol=1e-5)
