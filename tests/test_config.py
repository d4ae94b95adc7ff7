"""Quick/full settings and seeding."""

from __future__ import annotations

import numpy as np

from autoenc_helpers.config import QUICK_EPOCHS, QUICK_MAX_SAMPLES, get_settings, set_seed


def test_full_mode_is_the_default(monkeypatch):
    monkeypatch.delenv("AUTOENC_QUICK", raising=False)
    s = get_settings()
    assert not s.quick and s.mode == "full"
    assert s.epochs(20) == 20 and s.n_samples(60000) == 60000 and s.pick(1, 2) == 1


def test_quick_mode_shrinks_data_and_epochs(monkeypatch):
    monkeypatch.setenv("AUTOENC_QUICK", "1")
    s = get_settings()
    assert s.quick
    assert s.epochs(20) == QUICK_EPOCHS
    assert s.n_samples(60000) == QUICK_MAX_SAMPLES and s.n_samples(10) == 10
    assert s.pick(1, 2) == 2


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOENC_DATA_DIR", str(tmp_path))
    assert get_settings().data_dir == tmp_path.resolve()


def test_set_seed_makes_numpy_and_keras_repeatable():
    import keras

    def draw():
        set_seed(7)
        return np.random.rand(3), keras.random.normal((3,)).numpy()

    (a1, k1), (a2, k2) = draw(), draw()
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(k1, k2)


def test_same_seed_trains_the_same_model():
    """Two training runs after set_seed give identical weights (deterministic ops)."""
    from autoenc_helpers.models import dense_autoencoder

    def train():
        set_seed(3)
        x = np.random.rand(128, 28, 28).astype("float32")
        ae, _, _ = dense_autoencoder((28, 28), latent_dim=4, hidden=(16,))
        ae.compile(optimizer="adam", loss="mse")
        ae.fit(x, x, epochs=2, batch_size=32, verbose=0)
        return ae.get_weights()

    for w1, w2 in zip(train(), train()):
        np.testing.assert_array_equal(w1, w2)
