"""Keras 3 functional model builders: every architecture the lessons train, in one place.

As in d2l.ai, a builder lands here only after a lesson has written the same architecture out
layer by layer (its docstring says which lesson); later lessons reuse it and show its source
with :func:`autoenc_helpers.show_source`, so the model being trained is always on the page.

Every builder returns three models that share layers: ``(autoencoder, encoder, decoder)``,
with ``autoencoder(x) == decoder(encoder(x))`` (see :func:`compose`). They are returned
uncompiled: the notebooks choose the optimiser and loss, where students can see them.
:func:`encode` runs any encoder over a data set, batch by batch.

The file follows the lessons (1, 2, 3, 5, 6, 7), a section each; every public helper's
docstring says "Defined in lesson N". Custom losses override ``compute_loss`` with
``keras.ops`` (:class:`PenalisedAutoencoder`, :class:`VariationalAutoencoder`): Keras' own
training step calls it, on any backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers
from numpy.typing import NDArray

from autoenc_helpers.data import to_float

Models = tuple[keras.Model, keras.Model, keras.Model]


# --------------------------------------------------------------------------- lesson 1: dense
# An encoder and a decoder of dense layers, composed into one model.


def compose(encoder: keras.Model, decoder: keras.Model, name: str = "autoencoder") -> keras.Model:
    """The autoencoder ``x -> decoder(encoder(x))``, sharing the two models' layers.

    Defined in lesson 1. Args: ``encoder`` maps ``(n, *input_shape)`` to codes, ``decoder``
    maps codes back to ``(n, *output_shape)``. Returns a model ``(n, *input_shape) -> (n,
    *output_shape)``.
    """
    inputs = keras.Input(encoder.input_shape[1:], name="input")
    return keras.Model(inputs, decoder(encoder(inputs)), name=name)


def dense_autoencoder(input_shape: Sequence[int] = (28, 28), latent_dim: int = 64,
                      hidden: Sequence[int] = (512,), activation: str | None = "relu",
                      output_activation: str | None = "sigmoid",
                      name: str = "dense_ae") -> Models:
    """A fully connected autoencoder. Defined in lesson 1 (reused in lessons 5, 7 and 8).

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
    input_shape = tuple(int(s) for s in input_shape)
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
    return compose(encoder, decoder, name), encoder, decoder


# --------------------------------------------------------------------------- lesson 2: images
# Strided Conv2D down, Conv2DTranspose up (lesson 3 adds a dense code).


def _per_layer(value: int | Sequence[int], n: int, what: str) -> list[int]:
    values = [int(value)] * n if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    if len(values) != n:
        raise ValueError(f"{what} needs {n} entries (one per layer), got {tuple(values)}.")
    return values


def conv_autoencoder(input_shape: Sequence[int] = (28, 28), filters: Sequence[int] = (32, 64),
                     kernel_sizes: int | Sequence[int] = 3, bottleneck_convs: int = 0,
                     latent_dim: int | None = None,
                     decoder_filters: Sequence[int] | None = None,
                     decoder_kernel_sizes: int | Sequence[int] = 3,
                     name: str = "conv_ae") -> Models:
    """A convolutional autoencoder for grey images: strided ``Conv2D`` down,
    ``Conv2DTranspose`` up. Defined in lesson 2 (feature-map code, for denoising); lesson 3
    adds a dense code with ``latent_dim``.

    Encoder: a channel axis is added; each entry of ``filters`` is a stride-2 ``Conv2D``
    (ReLU) that halves the side (28 -> 14 -> 7 for two entries); ``bottleneck_convs``
    stride-1 ``Conv2D`` layers follow at the smallest size; with ``latent_dim``, ``Flatten``
    and a linear ``Dense(latent_dim)`` give the code.

    Decoder: with ``latent_dim``, a ``Dense`` layer (ReLU) back to the feature map; one
    stride-2 ``Conv2DTranspose`` (ReLU) per entry of ``decoder_filters``, then a stride-2
    ``Conv2DTranspose`` straight to one sigmoid channel, so the side doubles
    ``len(filters)`` times and no wide layer works at full resolution (fast on a CPU).

    Args:
        input_shape: ``(height, width)``, both divisible by ``2 ** len(filters)``.
        filters: channels of the encoder's strided convolutions.
        kernel_sizes: kernel of each encoder convolution (one value for all, or one per
            entry of ``filters``; the bottleneck convolutions use the last).
        bottleneck_convs: extra stride-1 convolutions at the smallest size.
        latent_dim: ``None`` keeps the code as a feature map ``(h', w', filters[-1])``; an
            integer adds a dense code of that size.
        decoder_filters: channels of the decoder's hidden transposed convolutions, deepest
            first, ``len(filters) - 1`` entries; default ``filters[:-1]`` reversed (a mirror).
        decoder_kernel_sizes: kernel of each transposed convolution, ``len(filters)``
            values (the last is the output layer's) or one for all. Kernels that are a
            multiple of the stride (2) avoid checkerboard artefacts.

    Returns:
        ``(autoencoder, encoder, decoder)``: ``(n, h, w) -> (n, h, w)`` in [0, 1]; the
        encoder maps ``(n, h, w)`` to ``(n, latent_dim)`` or ``(n, h', w', filters[-1])``
        with ``h' = h / 2 ** len(filters)``; the decoder maps codes back.
    """
    h, w = (int(s) for s in input_shape)
    filters = [int(f) for f in filters]
    factor = 2 ** len(filters)
    if not filters or h % factor or w % factor:
        raise ValueError(f"input_shape {tuple(input_shape)} must be divisible by {factor} "
                         f"for {len(filters)} stride-2 layers (and filters must not be empty).")
    if bottleneck_convs < 0:
        raise ValueError(f"bottleneck_convs must be >= 0, got {bottleneck_convs}.")
    enc_kernels = _per_layer(kernel_sizes, len(filters), "kernel_sizes")
    dec_filters = (list(reversed(filters[:-1])) if decoder_filters is None
                   else [int(f) for f in decoder_filters])
    if len(dec_filters) != len(filters) - 1:
        raise ValueError(f"decoder_filters needs {len(filters) - 1} entries, got "
                         f"{tuple(dec_filters)}.")
    dec_kernels = _per_layer(decoder_kernel_sizes, len(filters), "decoder_kernel_sizes")

    inputs = keras.Input((h, w), name="input")
    x = layers.Reshape((h, w, 1), name="add_channel")(inputs)
    for i, (f, k) in enumerate(zip(filters, enc_kernels)):
        x = layers.Conv2D(f, k, strides=2, padding="same", activation="relu",
                          name=f"enc_conv_{i}")(x)
    for i in range(bottleneck_convs):
        x = layers.Conv2D(filters[-1], enc_kernels[-1], padding="same", activation="relu",
                          name=f"bottleneck_conv_{i}")(x)
    fmap = (h // factor, w // factor, filters[-1])
    if latent_dim is not None:
        x = layers.Dense(latent_dim, name="code")(layers.Flatten()(x))
    encoder = keras.Model(inputs, x, name="encoder")

    code = keras.Input((latent_dim,) if latent_dim is not None else fmap, name="code")
    y = code
    if latent_dim is not None:
        y = layers.Dense(int(np.prod(fmap)), activation="relu", name="dec_dense")(y)
        y = layers.Reshape(fmap)(y)
    for i, (f, k) in enumerate(zip(dec_filters, dec_kernels)):
        y = layers.Conv2DTranspose(f, k, strides=2, padding="same", activation="relu",
                                   name=f"dec_deconv_{i}")(y)
    y = layers.Conv2DTranspose(1, dec_kernels[-1], strides=2, padding="same",
                               activation="sigmoid", name="pixels")(y)
    y = layers.Reshape((h, w), name="drop_channel")(y)
    decoder = keras.Model(code, y, name="decoder")
    return compose(encoder, decoder, name), encoder, decoder


# --------------------------------------------------------------------------- lesson 3: codes
# The encoder alone: codes of a data set, batch by batch.


def encode(encoder, x, batch_size: int = 1000) -> NDArray[np.float32]:
    """The codes of ``x``, one batch at a time, as an ``(n, d)`` float32 array.

    Defined in lesson 3 (codes of images); lesson 5 encodes series with it, lessons 7 and 8
    reuse it. A Keras model is called directly on each batch with ``training=False`` (no
    ``predict`` function is traced, so encoding with many encoders stays cheap); any other
    function from a batch to codes works too, e.g. ``lambda b: vae_encoder(b)[0]``.

    Args:
        encoder: a Keras model, or a function from a float32 batch ``(b, ...)`` to codes.
        x: ``(n, ...)`` inputs of the encoder's input shape: images ``(n, h, w)``, uint8
            (each batch is scaled to [0, 1] on the fly by
            :func:`autoenc_helpers.data.to_float`) or float already in [0, 1]; or series
            ``(n, timesteps[, n_features])`` (float, any range). Float inputs are used as
            they are.
        batch_size: examples per call.

    Returns:
        ``(n, d)`` float32 codes; a code with more axes (a feature map ``(n, h', w', c)``
        or ``(n, t', c)``) is flattened to ``(n, h' * w' * c)``.

    Raises:
        ValueError: ``x`` is empty, holds NaN or infinite values, or does not have the
            encoder's input shape; or ``batch_size < 1``.

    Example (a plain function as the encoder; uint8 pixels arrive scaled to [0, 1]):

    >>> encode(lambda b: b.reshape(len(b), -1)[:, :2], np.full((3, 2, 2), 255, np.uint8),
    ...        batch_size=2)
    array([[1., 1.],
           [1., 1.],
           [1., 1.]], dtype=float32)
    """
    x = np.asarray(x)
    expected = getattr(encoder, "input_shape", None)
    if expected is not None and not isinstance(expected, tuple):
        expected = None  # several inputs: the encoder checks them itself
    if expected is not None and (x.ndim != len(expected)
                                 or tuple(x.shape[1:]) != tuple(expected[1:])):
        raise ValueError(f"encode: the encoder expects inputs of shape (n, "
                         f"{', '.join(map(str, expected[1:]))}), got an array of shape {x.shape}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if len(x) == 0:
        raise ValueError("encode: got no inputs (an empty array).")
    if x.dtype != np.uint8:
        x = np.asarray(x, np.float32)
        if not np.isfinite(x).all():
            raise ValueError("encode: the inputs contain NaN or infinite values; clean or "
                             "impute them first.")
    if isinstance(encoder, keras.Model):
        def call(batch):
            return encoder(batch, training=False)
    else:
        call = encoder
    chunks = [np.asarray(call(to_float(batch) if batch.dtype == np.uint8 else batch), np.float32)
              for batch in (x[i:i + batch_size] for i in range(0, len(x), batch_size))]
    codes = np.concatenate(chunks)
    return codes.reshape(len(codes), -1)


# --------------------------------------------------------------------------- lesson 5: sequences
# Recurrent and 1-D convolutional sequence autoencoders, and the conditional variant.


_RECURRENT_CELLS = {"lstm": layers.LSTM, "gru": layers.GRU}


def _sequence_input(timesteps: int, n_features: int) -> keras.KerasTensor:
    """The ``(batch, timesteps, n_features)`` input of a sequence model; validates the sizes."""
    if int(timesteps) < 2 or int(n_features) < 1:
        raise ValueError(f"need timesteps >= 2 and n_features >= 1, got {timesteps} and "
                         f"{n_features}.")
    return keras.Input((timesteps, n_features), name="input")


def _cell(cell: str) -> type[layers.Layer]:
    if cell not in _RECURRENT_CELLS:
        raise ValueError(f"cell must be one of {sorted(_RECURRENT_CELLS)}, got {cell!r}.")
    return _RECURRENT_CELLS[cell]


def _code_to_states(code, units: int, cell: str) -> list:
    """The decoder's starting state(s), computed from the code: ``[h, c]`` for an LSTM,
    ``[h]`` for a GRU, each ``(n, units)`` through a tanh ``Dense`` layer."""
    names = ("h", "c") if cell == "lstm" else ("h",)
    return [layers.Dense(units, activation="tanh", name=f"state_{n}")(code) for n in names]


def recurrent_autoencoder(timesteps: int, n_features: int = 1, latent_dim: int = 10,
                          units: int = 32, cell: str = "lstm",
                          name: str = "recurrent_ae") -> Models:
    """A recurrent sequence autoencoder. Defined in lesson 5.

    Encoder: an LSTM (or GRU) reads the whole sequence and returns only its last output
    (``return_sequences=False``), a ``Dense`` layer turns it into the code. Decoder: the code
    sets the decoder's starting state (a tanh ``Dense`` layer per state) and is repeated once
    per time step as its input (``RepeatVector``); an LSTM (or GRU) returns one output per
    step (``return_sequences=True``) and a per-step ``Dense`` (``TimeDistributed``) maps each
    to ``n_features`` values. The layers keep Keras' defaults (tanh, sigmoid gates, no
    recurrent dropout, no unrolling, biases), so on a GPU they run on the fast cuDNN kernels.

    Args:
        timesteps: length of the sequences. n_features: values per time step.
        latent_dim: size of the code. units: width of both recurrent layers.
        cell: ``"lstm"`` or ``"gru"``, for both encoder and decoder.

    Returns:
        ``(autoencoder, encoder, decoder)``: ``(n, timesteps, n_features)`` to the same shape,
        to ``(n, latent_dim)``, and back.
    """
    rnn = _cell(cell)
    inputs = _sequence_input(timesteps, n_features)
    x = rnn(units, name=f"enc_{cell}")(inputs)  # return_sequences=False: one vector per sequence
    code = layers.Dense(latent_dim, name="code")(x)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input((latent_dim,), name="code")
    states = _code_to_states(latent, units, cell)              # where the decoder starts
    y = layers.RepeatVector(timesteps, name="repeat")(latent)  # (n, timesteps, latent_dim)
    y = rnn(units, return_sequences=True, name=f"dec_{cell}")(y, initial_state=states)
    y = layers.TimeDistributed(layers.Dense(n_features), name="per_step")(y)
    decoder = keras.Model(latent, y, name="decoder")
    return compose(encoder, decoder, name), encoder, decoder


def conv1d_autoencoder(timesteps: int, n_features: int = 1, filters: Sequence[int] = (16, 32),
                       kernel_size: int = 7, latent_dim: int | None = None,
                       name: str = "conv1d_ae") -> Models:
    """A 1-D convolutional sequence autoencoder: strided ``Conv1D`` down, ``Conv1DTranspose``
    up. Defined in lesson 5.

    Each entry of ``filters`` halves the length (140 -> 70 -> 35 for two entries); the decoder
    doubles it as often, and a last linear ``Conv1D`` maps each step to ``n_features`` values
    (signals of any range).

    Args:
        timesteps: length of the sequences, divisible by ``2 ** len(filters)``.
        n_features: values per time step. filters: channels of the encoder's strided
            convolutions; the decoder mirrors them. kernel_size: width of every filter.
        latent_dim: ``None`` keeps the code as a feature map ``(timesteps / 2**k,
            filters[-1])``; an integer adds a dense bottleneck of that size (``Flatten``,
            then a linear ``Dense``; the decoder's ``Dense`` layer, ReLU, goes back).

    Returns:
        ``(autoencoder, encoder, decoder)``; the autoencoder maps ``(n, timesteps,
        n_features)`` to the same shape, the encoder to ``(n, latent_dim)`` or the feature
        map.
    """
    factor = 2 ** len(filters)
    if int(timesteps) % factor:
        raise ValueError(f"timesteps={timesteps} must be divisible by {factor} for "
                         f"{len(filters)} stride-2 layers.")
    inputs = x = _sequence_input(timesteps, n_features)
    for i, f in enumerate(filters):
        x = layers.Conv1D(f, kernel_size, strides=2, padding="same", activation="relu",
                          name=f"enc_conv_{i}")(x)
    fmap = (timesteps // factor, int(filters[-1]))
    if latent_dim is not None:
        x = layers.Dense(latent_dim, name="code")(layers.Flatten()(x))
    encoder = keras.Model(inputs, x, name="encoder")

    latent = keras.Input((latent_dim,) if latent_dim is not None else fmap, name="code")
    y = latent
    if latent_dim is not None:
        y = layers.Dense(int(np.prod(fmap)), activation="relu", name="dec_fmap")(y)
        y = layers.Reshape(fmap)(y)
    for i, f in enumerate(reversed(filters)):
        y = layers.Conv1DTranspose(f, kernel_size, strides=2, padding="same",
                                   activation="relu", name=f"dec_deconv_{i}")(y)
    y = layers.Conv1D(n_features, kernel_size, padding="same", name="per_step")(y)
    decoder = keras.Model(latent, y, name="decoder")
    return compose(encoder, decoder, name), encoder, decoder


def reverse_and_delay(x):
    """``(n, T, F)`` sequences reversed in time and delayed one step, zeros first: step ``s``
    holds ``x[:, T - s]``, the sample *after* the one a reversed decoder outputs at step ``s``.

    Defined in lesson 5: the condition of :func:`conditional_recurrent_autoencoder`."""
    reversed_x = keras.ops.flip(x, axis=1)
    return keras.ops.pad(reversed_x[:, :-1], [[0, 0], [1, 0], [0, 0]])


def conditional_recurrent_autoencoder(timesteps: int, n_features: int = 1, latent_dim: int = 10,
                                      units: int = 32, cell: str = "lstm",
                                      name: str = "conditional_ae") -> Models:
    """The *conditional* variant of :func:`recurrent_autoencoder`. Defined in lesson 5.

    The same encoder and decoder (the code sets the decoder's starting state and is repeated
    as its input), except that, as in the tutorial the lesson starts from (after Srivastava et
    al., 2015), the decoder rebuilds the sequence in reverse order and, besides the code,
    receives the true input itself: at the step where it outputs ``x[t]`` it is given ``x[t + 1]``
    (:func:`reverse_and_delay`). Its output is flipped back to the forward order, so the
    autoencoder is trained on ``fit(x, x)`` like the others. The decoder can lean on its
    neighbour sample and need not use the code much: the lesson measures that.

    Returns:
        ``(autoencoder, encoder, decoder)``: ``(n, timesteps, n_features)`` to the same shape,
        the encoder to ``(n, latent_dim)``, and a decoder taking ``[code, condition]`` with
        ``code`` ``(n, latent_dim)`` and ``condition`` ``(n, timesteps, n_features)``
        (``reverse_and_delay(x)``), returning ``(n, timesteps, n_features)`` in forward order.
    """
    rnn = _cell(cell)
    inputs = _sequence_input(timesteps, n_features)
    h = rnn(units, name=f"enc_{cell}")(inputs)
    code = layers.Dense(latent_dim, name="code")(h)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input((latent_dim,), name="code")
    condition = keras.Input((timesteps, n_features), name="condition")
    states = _code_to_states(latent, units, cell)
    y = layers.RepeatVector(timesteps, name="repeat")(latent)
    y = layers.Concatenate(name="code_and_condition")([y, condition])
    y = rnn(units, return_sequences=True, name=f"dec_{cell}")(y, initial_state=states)
    y = layers.TimeDistributed(layers.Dense(n_features), name="per_step")(y)
    y = layers.Lambda(lambda t: keras.ops.flip(t, axis=1), name="forward_order")(y)
    decoder = keras.Model([latent, condition], y, name="decoder")

    shifted = layers.Lambda(reverse_and_delay, name="reverse_and_delay")(inputs)
    autoencoder = keras.Model(inputs, decoder([encoder(inputs), shifted]), name=name)
    return autoencoder, encoder, decoder


# --------------------------------------------------------------------------- lesson 6: penalties
# Regularised autoencoders: a wide sigmoid code kept from copying the input by a penalty
# (sparse: L1 or KL; contractive: the encoder's Jacobian) instead of a narrow bottleneck.


def single_layer_autoencoder(input_shape: Sequence[int] = (28, 28), code_size: int = 256,
                             code_activation: str | None = "sigmoid",
                             output_activation: str | None = "sigmoid",
                             name: str = "single_layer_ae") -> Models:
    """One dense layer in, one out: ``h = s(W x + b)``, ``x_hat = s(W' h + c)``.

    Defined in lesson 6: the classic autoencoder of the sparse and contractive papers, whose
    code may be wider than the data's intrinsic dimension because a penalty, not the code
    size, keeps it from copying the input.

    Args:
        input_shape: shape of one example, e.g. ``(28, 28)`` or ``(140,)``; the encoder
            flattens it and the decoder restores it.
        code_size: number of code units ``d``.
        code_activation: ``"sigmoid"`` keeps every unit in (0, 1), which the KL penalty and the
            closed-form contractive penalty need.
        output_activation: ``"sigmoid"`` for data scaled to [0, 1].

    Returns:
        ``(autoencoder, encoder, decoder)``: ``(n, *input_shape) -> (n, *input_shape)``,
        ``(n, *input_shape) -> (n, code_size)`` (last layer named ``"code"``) and
        ``(n, code_size) -> (n, *input_shape)``; uncompiled.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if not input_shape or min(input_shape) < 1:
        raise ValueError(f"input_shape must be a non-empty shape of positive sizes, "
                         f"got {input_shape}.")
    if int(code_size) < 1:
        raise ValueError(f"code_size must be a positive integer, got {code_size}.")
    inputs = keras.Input(input_shape, name="input")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    code = layers.Dense(int(code_size), activation=code_activation, name="code")(x)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input((int(code_size),), name="code")
    y = layers.Dense(int(np.prod(input_shape)), activation=output_activation,
                     name="pixels")(latent)
    if len(input_shape) > 1:
        y = layers.Reshape(input_shape, name="unflatten")(y)
    decoder = keras.Model(latent, y, name="decoder")
    return compose(encoder, decoder, name), encoder, decoder


def l1_penalty(code):
    """Mean over the batch of each code's L1 norm, ``mean_i sum_j |h_ij|``.

    Defined in lesson 6. ``code``: ``(n, d)`` activations. Returns a scalar tensor.
    """
    return keras.ops.mean(keras.ops.sum(keras.ops.abs(code), axis=-1))


def kl_sparsity_penalty(code, target: float):
    """``sum_j KL(rho || rho_hat_j)``: pulls each unit's mean activation towards ``target``.

    Defined in lesson 6. ``rho_hat_j`` is unit ``j``'s mean activation over the batch, and
    ``KL(rho || q) = rho log(rho / q) + (1 - rho) log((1 - rho) / (1 - q))`` is the divergence
    between two coins that come up 1 with probabilities ``rho`` and ``q``: zero when
    ``q == rho``, growing steeply as ``q`` moves away.

    Args:
        code: ``(n, d)`` activations in (0, 1) (sigmoid units).
        target: ``rho``, the wanted mean activation, in (0, 1).

    Returns:
        A scalar tensor.
    """
    eps = 1e-6
    rho_hat = keras.ops.clip(keras.ops.mean(code, axis=0), eps, 1.0 - eps)
    rho = target
    return keras.ops.sum(rho * keras.ops.log(rho / rho_hat)
                   + (1.0 - rho) * keras.ops.log((1.0 - rho) / (1.0 - rho_hat)))


def contractive_penalty(code, kernel):
    """Mean over the batch of ``||J_f(x)||_F^2`` for a dense sigmoid encoder, in closed form.

    Defined in lesson 6. For ``h = sigmoid(W x + b)`` the Jacobian is
    ``J[j, k] = dh_j / dx_k = h_j (1 - h_j) W[k, j]``, so its squared Frobenius norm is
    ``sum_j (h_j (1 - h_j))^2 sum_k W[k, j]^2``: no derivative has to be computed.

    Args:
        code: ``(n, d)`` sigmoid activations ``h``.
        kernel: ``(input_dim, d)`` weights ``W`` of the code layer (Keras' layout).

    Returns:
        A scalar tensor.
    """
    slope = keras.ops.square(code * (1.0 - code))            # (n, d): (h_j (1 - h_j))^2
    column_norms = keras.ops.sum(keras.ops.square(kernel), axis=0)  # (d,): sum_k W[k, j]^2
    return keras.ops.mean(keras.ops.sum(slope * column_norms, axis=-1))


class PenalisedAutoencoder(keras.Model):
    """An autoencoder trained on ``reconstruction + weight * penalty``, both logged.

    Defined in lesson 6. The reconstruction term is the mean squared error over pixels and
    images, like ``loss="mse"``; subclasses say what the penalty is (:meth:`penalty`).
    ``compute_loss`` is overridden with ``keras.ops`` (no ``GradientTape``, as for lesson 7's
    VAE): Keras' own training step calls it, so that ``fit``, ``evaluate`` and
    ``steps_per_execution`` work as usual, and the history holds ``loss``, ``reconstruction``
    and ``penalty`` (and their ``val_`` versions) separately. Calling the model returns the
    reconstruction, so it can be used like any autoencoder (``predict``,
    :func:`autoenc_helpers.metrics.reconstruction_errors`). Lesson 7 reuses two of its
    subclasses.

    Args:
        encoder: ``(n, *input_shape) -> (n, d)`` Keras model.
        decoder: ``(n, d) -> (n, *input_shape)`` Keras model.
        weight: the penalty's weight, ``>= 0`` (0 gives a plain autoencoder).

    Compile it with an optimiser only: ``model.compile(optimizer="adam")``. The data may be
    ``x`` or ``(x, target)`` batches.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, weight: float, **kwargs):
        super().__init__(**kwargs)
        if not float(weight) >= 0:
            raise ValueError(f"weight must be >= 0, got {weight}.")
        if tuple(encoder.output_shape[1:]) != tuple(decoder.input_shape[1:]):
            raise ValueError(f"the encoder's output {encoder.output_shape} does not fit the "
                             f"decoder's input {decoder.input_shape}.")
        self.encoder, self.decoder, self.weight = encoder, decoder, float(weight)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.penalty_tracker = keras.metrics.Mean(name="penalty")

    def penalty(self, x, code):
        """The penalty for a batch: inputs ``x`` ``(n, ...)`` and their codes ``(n, d)``."""
        raise NotImplementedError("a subclass says what the penalty is")

    def call(self, x, training: bool = False):
        return self.decoder(self.encoder(x, training=training), training=training)

    def loss_terms(self, x, target=None, training: bool = False):
        """``(reconstruction, penalty)`` of a batch ``x`` ``(n, ...)``, two scalar tensors;
        ``target`` (the image the output should be) defaults to ``x``."""
        code = self.encoder(x, training=training)
        output = self.decoder(code, training=training)
        target = x if target is None else target
        return keras.ops.mean(keras.ops.square(target - output)), self.penalty(x, code)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction, penalty = self.loss_terms(x, y, training=training)
        self.reconstruction_tracker.update_state(reconstruction)
        self.penalty_tracker.update_state(penalty)
        return reconstruction + self.weight * penalty

    @property
    def metrics(self):
        return [*super().metrics, self.reconstruction_tracker, self.penalty_tracker]


class L1SparseAutoencoder(PenalisedAutoencoder):
    """Sparse autoencoder: penalty :func:`l1_penalty` of the code. Defined in lesson 6."""

    def penalty(self, x, code):
        return l1_penalty(code)


class KLSparseAutoencoder(PenalisedAutoencoder):
    """Sparse autoencoder: penalty :func:`kl_sparsity_penalty`, which pulls every unit's mean
    activation towards ``target`` (``rho``, in (0, 1)). Defined in lesson 6.

    The KL divergence between two coins needs activations in (0, 1): the encoder's last layer
    must have a sigmoid activation (as :func:`single_layer_autoencoder`'s ``"code"`` layer
    has), else a ``ValueError`` says so.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, weight: float,
                 target: float = 0.05, **kwargs):
        super().__init__(encoder, decoder, weight, **kwargs)
        if not 0.0 < float(target) < 1.0:
            raise ValueError(f"target (rho) must lie in (0, 1), got {target}.")
        code_layer = encoder.layers[-1]
        activation = getattr(code_layer, "activation", None)
        if activation is not keras.activations.sigmoid:
            shown = getattr(activation, "__name__", "none")
            raise ValueError("the KL sparsity penalty needs code activations in (0, 1): the "
                             f"encoder's last layer {code_layer.name!r} must have a sigmoid "
                             f"activation (single_layer_autoencoder's 'code' layer has one), "
                             f"got activation {shown!r}.")
        self.target = float(target)

    def penalty(self, x, code):
        return kl_sparsity_penalty(code, self.target)


class ContractiveAutoencoder(PenalisedAutoencoder):
    """Contractive autoencoder: penalty ``||J_f(x)||_F^2``, the encoder's squared Jacobian norm,
    in closed form. Defined in lesson 6 (lesson 7 adds the two-layer encoder).

    Two encoders have a closed form: one dense sigmoid layer named ``"code"`` (after an optional
    ``Flatten``), as :func:`single_layer_autoencoder` builds (:func:`contractive_penalty`), and
    one hidden ReLU layer followed by a linear layer named ``"code"``, as
    :func:`dense_autoencoder` builds with ``hidden=(m,)`` (:func:`relu_contractive_penalty`).
    Any other encoder is refused with a ``ValueError``.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, weight: float, **kwargs):
        super().__init__(encoder, decoder, weight, **kwargs)
        dense = [layer for layer in encoder.layers if layer.weights]
        kinds = [isinstance(layer, layers.Dense) for layer in dense]
        if (len(dense) == 1 and all(kinds) and dense[0].name == "code"
                and dense[0].activation is keras.activations.sigmoid):
            self.hidden_layer, self.code_layer = None, dense[0]
        elif (len(dense) == 2 and all(kinds) and dense[1].name == "code"
              and dense[0].activation is keras.activations.relu
              and dense[1].activation is keras.activations.linear):
            self.hidden_layer, self.code_layer = dense
        else:
            raise ValueError("the closed-form contractive penalty needs an encoder made of one "
                             "Dense layer named 'code' with a sigmoid activation (see "
                             "single_layer_autoencoder), or of one ReLU Dense layer and a "
                             "linear Dense layer named 'code' (dense_autoencoder with "
                             "hidden=(m,)); got layers "
                             f"{[layer.name for layer in encoder.layers]}.")

    def penalty(self, x, code):
        if self.hidden_layer is None:
            return contractive_penalty(code, self.code_layer.kernel)
        flat = keras.ops.reshape(x, (keras.ops.shape(x)[0], -1))
        return relu_contractive_penalty(self.hidden_layer(flat), self.hidden_layer.kernel,
                                        self.code_layer.kernel)


# --------------------------------------------------------------------------- lesson 7: VAEs
# The closed-form contractive penalty of lesson 1's two-layer encoder (ContractiveAutoencoder
# uses it), then a variational autoencoder: the encoder outputs a distribution
# q(z | x) = N(mean, exp(log_var)), a sampling layer draws from it (the reparameterisation
# trick), and the loss is the negative evidence lower bound (ELBO) in nats per image:
# Bernoulli reconstruction + KL to the prior.


def relu_contractive_penalty(hidden, hidden_kernel, code_kernel):
    """Mean over the batch of ``||J_f(x)||_F^2`` for lesson 1's dense encoder, in closed form.

    Defined in lesson 7, for ``h = relu(W1 x + b1)`` and a linear code ``c = W2 h + b2``
    (``models.dense_autoencoder`` with one hidden layer). The Jacobian is
    ``J = W2^T diag(m) W1^T`` with ``m = 1[h > 0]``, so its squared norm is
    ``m^T ((W1^T W1) * (W2 W2^T)) m`` (``*`` elementwise): one ``(m, m)`` matrix per batch,
    no derivative to compute.

    Args:
        hidden: ``(n, m)`` hidden activations ``h`` (only their sign pattern matters).
        hidden_kernel: ``(input_dim, m)`` weights ``W1``; code_kernel: ``(m, d)`` weights ``W2``
            (Keras' layouts).

    Returns:
        A scalar tensor.
    """
    ops = keras.ops
    active = ops.cast(hidden > 0, hidden.dtype)                                   # (n, m)
    gram = (ops.matmul(ops.transpose(hidden_kernel), hidden_kernel)
            * ops.matmul(code_kernel, ops.transpose(code_kernel)))                   # (m, m)
    return ops.mean(ops.sum(ops.matmul(active, gram) * active, axis=-1))


class Sampling(layers.Layer):
    """Draws ``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``. Defined in lesson 7.

    The *reparameterisation trick*: the randomness sits in ``eps``, so gradients flow through
    ``mean`` and ``log_var``. The noise comes from ``keras.random.normal`` with a
    ``keras.random.SeedGenerator``, whose state advances on every call: each call draws new
    noise, and two layers built with the same ``seed`` draw the same sequence. (An integer
    ``seed=`` passed to ``keras.random.normal`` inside a compiled function would be frozen
    into the graph and draw the *same* noise at every step.)

    Args:
        seed: integer seed of the layer's generator, or ``None`` for one drawn from Keras'
            global seed (set by :func:`autoenc_helpers.set_seed`).

    Call it on ``[mean, log_var]``, two ``(n, d)`` tensors; returns ``(n, d)`` samples.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        eps = keras.random.normal(keras.ops.shape(mean), seed=self.seed_generator)
        return mean + keras.ops.exp(0.5 * log_var) * eps

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def gaussian_kl(mean, log_var):
    """``KL(N(mean, diag(exp(log_var))) || N(0, I))`` per example, in nats. Defined in lesson 7.

    In closed form, ``-1/2 sum_j (1 + log_var_j - mean_j^2 - exp(log_var_j))``: zero exactly
    when ``mean = 0`` and ``log_var = 0`` (the code carries no information about ``x``).

    Args:
        mean, log_var: ``(n, d)`` tensors or arrays.

    Returns:
        ``(n,)`` tensor of non-negative KL divergences.
    """
    return -0.5 * keras.ops.sum(1.0 + log_var - keras.ops.square(mean) - keras.ops.exp(log_var),
                                axis=-1)


def bernoulli_nll(x, logits, reduction: str = "sum"):
    """``-log p(x | z)`` of binary pixels under independent Bernoullis, per example.

    Defined in lesson 7. Each pixel is 1 with probability ``sigmoid(logit)``; its negative
    log-likelihood is the binary cross-entropy, computed from the logits (numerically safe).

    Args:
        x: ``(n, ...)`` targets in [0, 1] (binary for a true likelihood).
        logits: ``(n, ...)`` decoder outputs before the sigmoid, the shape of ``x``.
        reduction: ``"sum"`` over pixels gives nats per image, the likelihood term of the
            ELBO; ``"mean"`` averages over pixels instead, the pitfall of lesson 7 (it weights
            the KL term 784 times too much on MNIST).

    Returns:
        ``(n,)`` tensor.
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}.")
    per_pixel = keras.ops.binary_crossentropy(x, logits, from_logits=True)
    per_pixel = keras.ops.reshape(per_pixel, (keras.ops.shape(per_pixel)[0], -1))
    if reduction == "sum":
        return keras.ops.sum(per_pixel, axis=-1)
    return keras.ops.mean(per_pixel, axis=-1)


class VariationalAutoencoder(keras.Model):
    """A VAE trained on the negative ELBO, ``reconstruction + beta * kl`` per image.

    Defined in lesson 7. Calling the model is its one forward pass: it encodes a batch to
    ``(mean, log_var)``, draws ``z`` with :class:`Sampling` and decodes it to pixel logits, and
    returns ``{"logits": (n, *input_shape), "mean": (n, d), "log_var": (n, d)}``.
    ``compute_loss`` (no ``GradientTape``, so any Keras backend) receives that output from
    Keras' own ``train_step`` and returns the batch mean of :func:`bernoulli_nll` plus ``beta``
    times the batch mean of :func:`gaussian_kl`; both terms are logged as ``reconstruction``
    and ``kl`` (and ``val_...``) next to ``loss``. :meth:`reconstruct` decodes the posterior
    *mean* (the most likely reconstruction, for :func:`autoenc_helpers.metrics.
    reconstruction_errors`), :meth:`decode` turns codes into pixel probabilities, and
    :meth:`negative_elbo` evaluates the bound in batches.

    Args:
        encoder: ``(n, *input_shape) -> [(n, d), (n, d)]``, the mean and log-variance.
        decoder: ``(n, d) -> (n, *input_shape)`` pixel logits (no sigmoid).
        beta: weight of the KL term, held in a non-trainable ``keras.Variable`` (``model.beta``)
            so that a callback can change it during training (``model.beta.assign(0.5)``).
        reduction: ``"sum"`` (the ELBO) or ``"mean"`` (the pitfall), see :func:`bernoulli_nll`.
        seed: seed of the :class:`Sampling` layer.

    Compile it with an optimiser only: ``model.compile(optimizer="adam")``. The data may be
    ``x`` or ``(x, target)`` batches (a noisy input and its clean target).
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, beta: float = 1.0,
                 reduction: str = "sum", seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if len(encoder.outputs) != 2:
            raise ValueError(f"the encoder must output [mean, log_var], got "
                             f"{len(encoder.outputs)} output(s).")
        if tuple(encoder.output_shape[0][1:]) != tuple(decoder.input_shape[1:]):
            raise ValueError(f"the encoder's codes {encoder.output_shape[0]} do not fit the "
                             f"decoder's input {decoder.input_shape}.")
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}.")
        if not float(beta) >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}.")
        self.encoder, self.decoder, self.reduction = encoder, decoder, reduction
        self.sampling = Sampling(seed, name="sampling")
        self.sampling.build(encoder.output_shape[0])  # no weights: built, so Keras won't warn
        self.beta = keras.Variable(float(beta), trainable=False, dtype="float32", name="beta")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def call(self, x, training: bool = False):
        mean, log_var = self.encoder(x, training=training)
        z = self.sampling([mean, log_var])
        return {"logits": self.decoder(z, training=training), "mean": mean, "log_var": log_var}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        target = x if y is None else y
        reconstruction = keras.ops.mean(bernoulli_nll(target, y_pred["logits"], self.reduction))
        kl = keras.ops.mean(gaussian_kl(y_pred["mean"], y_pred["log_var"]))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return reconstruction + self.beta * kl

    def decode(self, z, training: bool = False):
        """Pixel probabilities ``(n, *input_shape)`` for codes ``z`` ``(n, d)``: the sigmoid of
        the decoder's logits (generate by decoding draws from the prior)."""
        return keras.ops.sigmoid(self.decoder(z, training=training))

    def reconstruct(self, x):
        """Pixel probabilities ``(n, *input_shape)`` decoded from the posterior mean of ``x``
        ``(n, *input_shape)``: the most likely reconstruction, nothing sampled."""
        return self.decode(self.encoder(x)[0])

    def negative_elbo(self, x, batch_size: int = 1000) -> dict[str, np.ndarray]:
        """The negative ELBO of every example, in nats, estimated with one ``z`` each.

        Args:
            x: ``(n, *input_shape)`` float inputs in [0, 1], or uint8 images; each batch goes
                through :func:`autoenc_helpers.data.to_float`, which checks the range.

        Returns:
            ``{"nelbo", "reconstruction", "kl"}``, each ``(n,)`` float64, with ``nelbo =
            reconstruction + kl``: the bound itself, whatever the model was trained on (the
            reconstruction is summed over pixels, and ``beta`` plays no part).
        """
        x = np.asarray(x)
        parts: dict[str, list[np.ndarray]] = {"reconstruction": [], "kl": []}
        for start in range(0, len(x), batch_size):
            batch = to_float(x[start:start + batch_size])
            out = self(batch)
            parts["reconstruction"].append(keras.ops.convert_to_numpy(
                bernoulli_nll(batch, out["logits"], "sum")))
            parts["kl"].append(keras.ops.convert_to_numpy(gaussian_kl(out["mean"],
                                                                      out["log_var"])))
        out = {k: np.concatenate(v).astype(np.float64) if v else np.zeros(0)
               for k, v in parts.items()}
        out["nelbo"] = out["reconstruction"] + out["kl"]
        return out


def log_importance_weights(vae: VariationalAutoencoder, x, k: int = 100,
                           batch_size: int = 50, seed: int = 0) -> np.ndarray:
    """``log p(x, z_j) - log q(z_j | x)`` for ``k`` draws ``z_j ~ q(z | x)`` per example.

    Defined in lesson 7. With these log-weights ``w``, ``-(logsumexp(w) - log k)`` is the
    importance-weighted (IWAE) estimate of ``-log p(x)`` with ``k`` samples
    (:func:`iwae_nll`), an upper bound that tightens as ``k`` grows; with ``k = 1`` it is the
    one-sample negative ELBO. ``p(x | z)`` is Bernoulli on the decoder's logits, ``p(z)``
    the standard normal, ``q(z | x)`` the encoder's normal.

    Args:
        vae: a :class:`VariationalAutoencoder` (its ``encoder`` and ``decoder`` are used).
        x: ``(n, *input_shape)`` binary images, uint8 (0 or 255) or floats in {0, 1}.
        k: draws per example. batch_size: examples per batch (``k * batch_size`` images are
            decoded at once). seed: seed of the draws (a ``keras.random.SeedGenerator``).

    Returns:
        ``(n, k)`` float64 log-weights, in nats.
    """
    ops = keras.ops
    x = np.asarray(x)
    generator = keras.random.SeedGenerator(seed)
    out = []
    for start in range(0, len(x), batch_size):
        batch = to_float(x[start:start + batch_size])
        mean, log_var = vae.encoder(batch)
        eps = keras.random.normal((k, *ops.shape(mean)), seed=generator)      # (k, b, d)
        z = mean + ops.exp(0.5 * log_var) * eps                                 # (k, b, d)
        logits = vae.decoder(ops.reshape(z, (-1, ops.shape(mean)[1])))          # (k b, ...)
        logits = ops.reshape(logits, (k, len(batch), -1))                       # (k, b, pixels)
        pixels = ops.reshape(batch, (1, len(batch), -1))
        log_px_z = ops.sum(pixels * logits - ops.softplus(logits), axis=-1)     # (k, b)
        log_pz_over_qz = 0.5 * ops.sum(ops.square(eps) - ops.square(z) + log_var, axis=-1)
        out.append(ops.convert_to_numpy(ops.transpose(log_px_z + log_pz_over_qz)))
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, k))


def iwae_nll(log_weights: np.ndarray, k: int | None = None) -> np.ndarray:
    """Per-example IWAE estimate of ``-log p(x)``, in nats, from :func:`log_importance_weights`.

    Defined in lesson 7: ``-(logsumexp(w over k draws) - log k)``. With ``k`` smaller than
    the number of columns (it must divide it), the columns are cut into groups of ``k`` and the
    groups' estimates averaged: the bound with ``k`` samples, from the same draws.

    Args:
        log_weights: ``(n, m)`` log-weights. k: samples per estimate (default ``m``).

    Returns:
        ``(n,)`` float64.
    """
    from scipy.special import logsumexp

    log_weights = np.asarray(log_weights, np.float64)
    n, m = log_weights.shape
    k = m if k is None else int(k)
    if k < 1 or m % k:
        raise ValueError(f"k must divide the number of draws {m}, got k={k}.")
    groups = log_weights.reshape(n, m // k, k)
    return -(logsumexp(groups, axis=-1) - np.log(k)).mean(axis=1)


def dense_vae(input_shape: Sequence[int] = (28, 28), latent_dim: int = 20,
              hidden: Sequence[int] = (512,), activation: str = "relu", beta: float = 1.0,
              reduction: str = "sum", seed: int | None = None,
              name: str = "dense_vae") -> Models:
    """A fully connected VAE for binary images. Defined in lesson 7.

    Encoder: flatten, the ``hidden`` dense layers, then two dense heads ``mean`` and
    ``log_var`` of ``latent_dim`` each. Decoder: the mirrored hidden layers and one dense
    layer of pixel *logits* (no sigmoid: the loss takes logits, the model's call applies it).

    Args:
        input_shape: shape of one image, e.g. ``(28, 28)``. latent_dim: size of ``z``.
        hidden: widths of the encoder's hidden layers; the decoder mirrors them.
        beta, reduction, seed: passed to :class:`VariationalAutoencoder`.

    Returns:
        ``(vae, encoder, decoder)``: the :class:`VariationalAutoencoder` (uncompiled),
        ``(n, *input_shape) -> [(n, latent_dim), (n, latent_dim)]`` and
        ``(n, latent_dim) -> (n, *input_shape)`` logits.
    """
    input_shape = tuple(int(s) for s in input_shape)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    for i, width in enumerate(hidden):
        x = layers.Dense(width, activation=activation, name=f"enc_dense_{i}")(x)
    mean = layers.Dense(latent_dim, name="mean")(x)
    log_var = layers.Dense(latent_dim, name="log_var")(x)
    encoder = keras.Model(inputs, [mean, log_var], name="encoder")

    z = keras.Input((latent_dim,), name="z")
    y = z
    for i, width in enumerate(reversed(hidden)):
        y = layers.Dense(width, activation=activation, name=f"dec_dense_{i}")(y)
    y = layers.Dense(int(np.prod(input_shape)), name="logits")(y)
    if len(input_shape) > 1:
        y = layers.Reshape(input_shape)(y)
    decoder = keras.Model(z, y, name="decoder")
    vae = VariationalAutoencoder(encoder, decoder, beta=beta, reduction=reduction, seed=seed,
                                 name=name)
    return vae, encoder, decoder
