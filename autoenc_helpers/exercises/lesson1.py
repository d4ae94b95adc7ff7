"""Exercises of lesson 1 (a dense autoencoder on Fashion-MNIST)."""

import keras
import numpy as np

from autoenc_helpers import data, models, plots
from autoenc_helpers.exercises import (as_array, as_model, exercise, expect, expect_loss,
                                       expect_widths, fresh_like, on_test, per_image_mse, predict)


def _narrow(model, _, x_val, autoencoder, LATENT):
    expect(model is not autoencoder, "that is the main (512-wide) model: build a new one.")
    expect_widths(model, [256, LATENT, 256, x_val[0].size])
    fresh_like(model, autoencoder, "the main model", same_size=False)
    return None, float(per_image_mse(predict(model, x_val), x_val).mean())


@exercise(1, 1, "A narrower hidden layer", ("model", "validation MSE"), _narrow,
          mistakes=[on_test(x_val="x_test_u8")], passed="256 → {LATENT} → 256, trained alike.",
          hint="models.dense_autoencoder(..., hidden=(256,)), fitted like the main model.")
def narrow_hidden_layer(train_ds, x_val, mse, LATENT, EPOCHS):
    narrow, _, _ = models.dense_autoencoder((28, 28), latent_dim=LATENT, hidden=(256,))
    narrow.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse", steps_per_execution=16)
    narrow.fit(train_ds, epochs=EPOCHS, verbose=0)
    return narrow, mse(narrow, x_val)


def _bce(model, _, x_val, autoencoder):
    expect(model is not autoencoder, "that model was trained with MSE. Build a fresh model.")
    expect_loss(model, "binary_crossentropy", "bce")
    expect_widths(model, autoencoder)  # only the loss differs
    fresh_like(model, autoencoder, "the main model")
    return None, float(per_image_mse(predict(model, x_val), x_val).mean())


@exercise(1, 2, "Cross-entropy for the same budget", ("model", "validation MSE"), _bce,
          mistakes=[on_test(x_val="x_test_u8")], passed="A fresh model, the same budget.",
          hint="A NEW model like the main one, compiled with loss=\"binary_crossentropy\".")
def cross_entropy_same_budget(train_ds, x_val, y_val, mse, autoencoder, LATENT, EPOCHS):
    bce_ae, _, _ = models.dense_autoencoder((28, 28), latent_dim=LATENT, hidden=(512,))
    bce_ae.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy",
                   steps_per_execution=16)
    bce_ae.fit(train_ds, epochs=EPOCHS, verbose=0)
    val_mse = mse(bce_ae, x_val)  # compare the models by MSE, not by their losses
    print(f"validation MSE: MSE loss {mse(autoencoder, x_val):.4f}, cross-entropy {val_mse:.4f}")
    examples = x_val[[np.flatnonzero(y_val == c)[0] for c in range(10)]]
    plots.show_image_rows({"original": examples,
                           "MSE loss": autoencoder.predict(examples, verbose=0),
                           "cross-entropy": bce_ae.predict(examples, verbose=0)},
                          col_titles=data.FASHION_CLASSES, title="Two losses, same budget")
    return bce_ae, val_mse


def _codes(encoder, codes, x_val):
    expect(as_model(encoder, "the encoder").output_shape[1:] == (2,), "the encoder outputs "
           f"codes of shape {encoder.output_shape[1:]}, expected (2,): use latent_dim=2.")
    expect(as_array(codes, "the codes", shape=(len(x_val), 2)).std() > 0, "all codes are equal.")
    return None, predict(encoder, x_val).astype(np.float64)


@exercise(1, 3, "A 2-d code you can draw", ("encoder", "codes of x_val"), _codes, atol=1e-4,
          advice="They are not the encoder's codes of x_val (in its order): encoder.predict.",
          hint="Train models.dense_autoencoder(..., latent_dim=2); encoder.predict(x_val).")
def two_d_codes(train_ds, x_val, y_val, EPOCHS):
    ae2, enc2, _ = models.dense_autoencoder((28, 28), latent_dim=2, hidden=(512,))
    ae2.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse", steps_per_execution=16)
    ae2.fit(train_ds, epochs=EPOCHS, verbose=0)
    z_val2 = enc2.predict(x_val, verbose=0)
    plots.plot_map(z_val2, y_val, title="2-d codes of the validation images", xlabel="z1",
                   ylabel="z2", legend_title="class", ticks=True)
    return enc2, z_val2
