"""Batched reconstruction errors and PSNR."""

from __future__ import annotations

import numpy as np
import pytest

from autoenc_helpers.metrics import psnr, reconstruction_errors


def test_errors_per_example_in_batches():
    rng = np.random.default_rng(0)
    x = rng.random((7, 4, 4)).astype(np.float32)
    half = lambda b: b / 2  # noqa: E731
    expected = np.mean((x / 2 - x) ** 2, axis=(1, 2))
    np.testing.assert_allclose(reconstruction_errors(half, x, batch_size=3), expected, rtol=1e-6)
    np.testing.assert_allclose(reconstruction_errors(half, x, kind="mae"),
                               np.mean(np.abs(x / 2 - x), axis=(1, 2)), rtol=1e-6)
    assert reconstruction_errors(lambda b: b, x).max() == 0.0


def test_uint8_inputs_and_separate_targets():
    x = np.full((2, 3, 3), 255, np.uint8)
    zeros = np.zeros((2, 3, 3), np.uint8)
    np.testing.assert_allclose(reconstruction_errors(lambda b: b, x, targets=zeros), [1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        reconstruction_errors(lambda b: b, x, targets=zeros[:1])
    with pytest.raises(ValueError, match="kind"):
        reconstruction_errors(lambda b: b, x, kind="rmse")


def test_psnr():
    assert psnr(0.01) == pytest.approx(20.0)
    np.testing.assert_allclose(psnr(np.array([1.0, 0.001])), [0.0, 30.0])
