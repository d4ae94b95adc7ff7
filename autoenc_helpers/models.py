"""Keras 3 functional model builders used by the lessons.

Every builder returns three models that share layers: ``(autoencoder, encoder, decoder)``,
with ``autoencoder(x) == decoder(encoder(x))``. They are returned uncompiled: the notebooks
choose the optimiser and loss, where students can see them.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

Models = tuple[keras.Model, keras.Model, keras.Model]


def _compose(encoder: keras.Model, decoder: keras.Model, name: str) -> keras.Model:
    inputs = keras.Input(encoder.input_shape[1:], name="input")
    return keras.Model(inputs, decoder(encoder(inputs)), name=name)


def dense_autoencoder(input_shape: Sequence[int] = (28, 28), latent_dim: int = 64,
                      hidden: Sequence[int] = (512,), activation: str | None = "relu",
                      output_activation: str | None = "sigmoid",
                      name: str = "dense_ae") -> Models:
    """A fully connected autoencoder.

    Args:
        input_shape: shape of one example, e.g. ``(28, 28)`` images or ``(140,)`` signals;
            the encoder flattens it and the decoder restores it.
        latent_dim: size of the bottleneck; the code is linear (no activation).
        hidden: widths of the encoder's hidden layers; the decoder mirrors them.
            ``hidden=()`` with ``activation=None`` and ``output_activation=None`` gives a
            *linear* autoencoder, which learns the same subspace as PCA.
        activation: activation of the hidden layers.
        output_activation: ``"sigmoid"`` for data scaled to [0, 1].

    Returns:
        ``(autoencoder, encoder, decoder)``: ``(n, *input_shape) -> (n, *input_shape)``,
        ``(n, *input_shape) -> (n, latent_dim)`` and ``(n, latent_dim) -> (n, *input_shape)``.
    """
    input_shape = tuple(input_shape)
    inputs = keras.Input(input_shape, name="input")
    x = layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    for i, width in enumerate(hidden):
        x = layers.Dense(width, activation=activation, name=f"enc_dense_{i}")(x)
    code = layers.Dense(latent_dim, name="code")(x)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input((latent_dim,), name="code")
    y = latent
    for i, width in enumerate(reversed(hidden)):
        y = layers.Dense(width, activation=activation, name=f"dec_dense_{i}")(y)
    y = layers.Dense(int(np.prod(input_shape)), activation=output_activation, name="pixels")(y)
    if len(input_shape) > 1:
        y = layers.Reshape(input_shape)(y)
    decoder = keras.Model(latent, y, name="decoder")
    return _compose(encoder, decoder, name), encoder, decoder


def conv_autoencoder(input_shape: Sequence[int] = (28, 28), filters: Sequence[int] = (32, 64),
                     latent_dim: int | None = None, kernel_size: int = 3,
                     name: str = "conv_ae") -> Models:
    """A convolutional autoencoder: strided Conv2D down, Conv2DTranspose up.

    Each entry of ``filters`` halves the image side (28 -> 14 -> 7 for two entries).

    Args:
        input_shape: ``(height, width)`` of grey images (a channel axis is added inside),
            both divisible by ``2 ** len(filters)``.
        filters: channels of the encoder's strided convolutions; the decoder mirrors them.
        latent_dim: ``None`` keeps the code as a feature map ``(h', w', filters[-1])``;
            an integer adds a dense bottleneck of that size (``(n, latent_dim)`` codes).

    Returns:
        ``(autoencoder, encoder, decoder)``; the autoencoder maps ``(n, h, w)`` in [0, 1] to
        ``(n, h, w)`` in [0, 1].
    """
    h, w = (int(s) for s in input_shape)
    factor = 2 ** len(filters)
    if h % factor or w % factor:
        raise ValueError(f"input_shape {tuple(input_shape)} must be divisible by {factor} "
                         f"for {len(filters)} stride-2 layers.")
    inputs = keras.Input((h, w), name="input")
    x = layers.Reshape((h, w, 1))(inputs)
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, kernel_size, strides=2, padding="same", activation="relu",
                          name=f"enc_conv_{i}")(x)
    fmap = (h // factor, w // factor, int(filters[-1]))
    if latent_dim is not None:
        x = layers.Flatten()(x)
        x = layers.Dense(latent_dim, name="code")(x)
    encoder = keras.Model(inputs, x, name="encoder")

    latent = keras.Input((latent_dim,) if latent_dim is not None else fmap, name="code")
    y = latent
    if latent_dim is not None:
        y = layers.Dense(int(np.prod(fmap)), activation="relu", name="dec_dense")(y)
        y = layers.Reshape(fmap)(y)
    for i, f in enumerate(reversed(filters)):
        y = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", activation="relu",
                                   name=f"dec_deconv_{i}")(y)
    y = layers.Conv2D(1, kernel_size, padding="same", activation="sigmoid", name="pixels")(y)
    y = layers.Reshape((h, w))(y)
    decoder = keras.Model(latent, y, name="decoder")
    return _compose(encoder, decoder, name), encoder, decoder
