"""Model builders: shapes, parameter counts, and that they train."""

from __future__ import annotations

import numpy as np
import pytest

from autoenc_helpers.models import conv_autoencoder, dense_autoencoder


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


def test_conv_autoencoder_goes_28_to_7_and_back():
    ae, enc, dec = conv_autoencoder((28, 28), filters=(16, 8))
    assert enc.output_shape == (None, 7, 7, 8)
    assert dec.output_shape == (None, 28, 28)
    _, enc2, _ = conv_autoencoder((28, 28), filters=(16, 8), latent_dim=20)
    assert enc2.output_shape == (None, 20)
    with pytest.raises(ValueError, match="divisible"):
        conv_autoencoder((30, 30), filters=(16, 8))


@pytest.mark.parametrize("builder", [dense_autoencoder, conv_autoencoder])
def test_builders_train(builder):
    rng = np.random.default_rng(0)
    x = (rng.random((64, 28, 28)) > 0.7).astype("float32")
    ae, _, _ = builder((28, 28))
    ae.compile(optimizer="adam", loss="mse")
    before = ae.evaluate(x, x, verbose=0)
    ae.fit(x, x, epochs=3, batch_size=16, verbose=0)
    after = ae.evaluate(x, x, verbose=0)
    assert np.isfinite(after) and after < before
