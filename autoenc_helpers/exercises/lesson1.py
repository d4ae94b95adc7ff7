"""Exercises of lesson 1 (a dense autoencoder on Fashion-MNIST).

Bind them in the notebook with::

    ex1, ex2, ex3 = exercises.lesson(1, train_ds=train_ds, x_val=x_val, y_val=y_val, mse=mse,
                                     autoencoder=autoencoder, LATENT=LATENT, EPOCHS=EPOCHS)

``x_test_u8=x_test_u8`` may be added: a check then tells a student who measured on the test
set instead of the validation set.
"""

from __future__ import annotations

import numpy as np

from autoenc_helpers.exercises import (Incorrect, as_array, as_model, as_number, dense_widths,
                                       expect, expect_close, loss_name, predict, register,
                                       training_steps, unpack)


def _val_mse(model, x) -> float:
    """Independent recomputation: mean over images of the per-image mean squared error."""
    x = np.asarray(x)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return float(np.mean(np.square(predict(model, x) - x).reshape(len(x), -1).mean(axis=1)))


def _check_reported_mse(reported, model, x_val, x_test_u8) -> float:
    actual = _val_mse(model, x_val)
    try:
        return expect_close(reported, actual, "your validation MSE", rel=1e-3)
    except Incorrect:
        value = as_number(reported, "your validation MSE")
        if x_test_u8 is not None and np.isclose(value, _val_mse(model, x_test_u8), rtol=1e-3):
            raise Incorrect("your number is the model's MSE on the *test* set. Choices are made "
                            "on validation data: use mse(model, x_val).") from None
        raise


def _check_trained_like(model, autoencoder) -> int:
    steps, ref = training_steps(model), training_steps(autoencoder)
    expect(steps > 0, "the model has not been trained: compile it and fit it on train_ds.")
    expect(steps == ref, f"the model took {steps} training steps, the main model {ref}: "
           "train it for EPOCHS epochs on train_ds, like the main model, so that the "
           "comparison is fair.")
    return steps


# --------------------------------------------------------------------------- exercise 1


def narrow_hidden_layer(train_ds, x_val, mse, autoencoder, LATENT, EPOCHS):
    import time

    import keras

    from autoenc_helpers import models

    narrow, _, _ = models.dense_autoencoder((28, 28), latent_dim=LATENT, hidden=(256,),
                                            name="narrow_ae")
    narrow.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse", steps_per_execution=16)
    start = time.perf_counter()
    narrow.fit(train_ds, epochs=EPOCHS, verbose=0)
    seconds = time.perf_counter() - start
    val_mse = mse(narrow, x_val)
    print(f"hidden (256,): {narrow.count_params():,} parameters, trained in {seconds:.1f} s "
          f"(EPOCHS = {EPOCHS}), validation MSE {val_mse:.4f}")
    print(f"hidden (512,): {autoencoder.count_params():,} parameters, "
          f"validation MSE {mse(autoencoder, x_val):.4f}")
    answer = (narrow, val_mse)
    return answer


def check_narrow_hidden_layer(answer, x_val, autoencoder, LATENT, x_test_u8=None):
    model, reported = unpack(answer, ("model", "validation MSE"))
    as_model(model)
    expect(model is not autoencoder, "that is the main (512-wide) model: build a new one with "
           "hidden=(256,).")
    expect(tuple(model.input_shape[1:]) == tuple(np.shape(x_val)[1:]),
           f"the model takes inputs of shape {model.input_shape[1:]}, the images are "
           f"{np.shape(x_val)[1:]}.")
    pixels = int(np.prod(np.shape(x_val)[1:]))
    widths = dense_widths(model)
    want = [256, LATENT, 256, pixels]
    expect(widths == want, f"its Dense layers have {widths} units; expected {want}: one hidden "
           f"layer of 256 units on each side of a code of LATENT = {LATENT}.")
    n_params = (pixels + 1) * 256 + (256 + 1) * LATENT + (LATENT + 1) * 256 + (256 + 1) * pixels
    expect(model.count_params() == n_params, f"it has {model.count_params():,} parameters, "
           f"expected {n_params:,}.")
    steps = _check_trained_like(model, autoencoder)
    value = _check_reported_mse(reported, model, x_val, x_test_u8)
    ref = _val_mse(autoencoder, x_val)
    return (f"256 → {LATENT} → 256 layers, {n_params:,} parameters "
            f"({autoencoder.count_params():,} for the 512-wide model), trained {steps} steps "
            f"like it; validation MSE {value:.4f} recomputed (512-wide model: {ref:.4f}).")


register(lesson=1, number=1, title="A narrower hidden layer", answer="(model, validation MSE)",
         hint="Call models.dense_autoencoder with hidden=(256,), compile and fit it exactly "
              "like the main model (same optimiser, loss, train_ds and EPOCHS), then measure "
              "mse(model, x_val).",
         solution=narrow_hidden_layer, check=check_narrow_hidden_layer)


# --------------------------------------------------------------------------- exercise 2


def cross_entropy_same_budget(train_ds, x_val, y_val, mse, autoencoder, LATENT, EPOCHS):
    import keras

    from autoenc_helpers import data, models, plots

    # a FRESH model (new weights), same architecture, same epochs: only the loss differs
    bce_ae, _, _ = models.dense_autoencoder((28, 28), latent_dim=LATENT, hidden=(512,),
                                            name="bce_ae")
    bce_ae.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy",
                   steps_per_execution=16)
    bce_ae.fit(train_ds, epochs=EPOCHS, verbose=0)
    val_mse = mse(bce_ae, x_val)  # compare the models by MSE, not by their losses
    print(f"validation MSE after EPOCHS = {EPOCHS}: MSE loss {mse(autoencoder, x_val):.4f}, "
          f"binary cross-entropy loss {val_mse:.4f}")
    examples = x_val[[int(np.flatnonzero(y_val == c)[0]) for c in range(10)]]
    plots.show_image_rows({"original": examples,
                           "MSE loss": autoencoder.predict(examples, verbose=0),
                           "cross-entropy": bce_ae.predict(examples, verbose=0)},
                          col_titles=data.FASHION_CLASSES,
                          title="Validation images: two losses, same budget")
    answer = (bce_ae, val_mse)
    return answer


def check_cross_entropy_same_budget(answer, x_val, autoencoder, x_test_u8=None):
    model, reported = unpack(answer, ("model", "validation MSE"))
    as_model(model)
    expect(model is not autoencoder, "this is the model already trained with MSE: recompiling "
           "it would give cross-entropy extra epochs on top of MSE's. Build a fresh model.")
    loss = loss_name(model).lower()
    expect("binary_crossentropy" in loss or loss in ("bce", "binarycrossentropy"),
           f"the model was compiled with loss {loss or 'None'!r}; use "
           "loss=\"binary_crossentropy\".")
    expect(dense_widths(model) == dense_widths(autoencoder)
           and model.count_params() == autoencoder.count_params(),
           f"its Dense layers have {dense_widths(model)} units, the main model's "
           f"{dense_widths(autoencoder)}: use the same architecture, so that only the loss "
           "differs.")
    steps = _check_trained_like(model, autoencoder)
    value = _check_reported_mse(reported, model, x_val, x_test_u8)
    ref = _val_mse(autoencoder, x_val)
    return (f"a fresh model with the main model's architecture, trained with binary "
            f"cross-entropy for the same {steps} steps; its validation MSE {value:.4f} is "
            f"recomputed (MSE-trained model: {ref:.4f}).")


register(lesson=1, number=2, title="Cross-entropy for the same budget",
         answer="(model, validation MSE)",
         hint="Build a NEW model with models.dense_autoencoder (same arguments as the main "
              "one), compile it with loss=\"binary_crossentropy\", fit it for EPOCHS epochs, "
              "and compare mse(model, x_val) with the main model's: the two losses are on "
              "different scales, the MSE is not.",
         solution=cross_entropy_same_budget, check=check_cross_entropy_same_budget)


# --------------------------------------------------------------------------- exercise 3


def two_d_codes(train_ds, x_val, y_val, EPOCHS):
    import keras
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns
    from sklearn.model_selection import cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    from autoenc_helpers import data, models

    ae2, enc2, _ = models.dense_autoencoder((28, 28), latent_dim=2, hidden=(512,), name="ae_2")
    ae2.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse", steps_per_execution=16)
    ae2.fit(train_ds, epochs=EPOCHS, verbose=0)
    z_val2 = enc2.predict(x_val, verbose=0)

    fig, ax = plt.subplots(figsize=(7, 5.5))
    sns.scatterplot(x=z_val2[:, 0], y=z_val2[:, 1], hue=np.array(data.FASHION_CLASSES)[y_val],
                    s=4, linewidth=0, ax=ax)
    ax.set(title="2-d codes of the validation images", xlabel="z1", ylabel="z2")
    ax.legend(markerscale=3, loc="center left", bbox_to_anchor=(1, 0.5), frameon=False)
    # how much each class overlaps with others: 5-NN accuracy per class (5-fold CV)
    pred = cross_val_predict(KNeighborsClassifier(5), z_val2, y_val, cv=5)
    per_class = pd.Series((pred == y_val), index=np.array(data.FASHION_CLASSES)[y_val])
    print("share of each class whose 5 nearest codes vote for it (low = overlaps others):")
    print(per_class.groupby(level=0).mean().sort_values().round(2).to_string())
    answer = (enc2, z_val2)
    return answer


def check_two_d_codes(answer, x_val):
    encoder, codes = unpack(answer, ("encoder", "codes of x_val"))
    as_model(encoder, "the encoder")
    n = len(x_val)
    z = as_array(codes, "the codes", shape=(n, 2))
    expect(tuple(encoder.output_shape[1:]) == (2,), f"the encoder outputs codes of shape "
           f"{encoder.output_shape[1:]}, expected (2,): use latent_dim=2.")
    expect(float(z.std()) > 0, "all codes are equal: has the model been trained?")
    ref = predict(encoder, x_val).astype(np.float64)
    scale = float(np.abs(ref).max()) or 1.0
    expect(np.allclose(z, ref, rtol=1e-3, atol=1e-4 * scale),
           "the codes are not the encoder's codes of x_val (in the order of x_val): use "
           "encoder.predict(x_val).")
    return (f"{n} validation codes of shape (n, 2) from the 2-d encoder, finite, spread over "
            f"z1 in [{z[:, 0].min():.2f}, {z[:, 0].max():.2f}], "
            f"z2 in [{z[:, 1].min():.2f}, {z[:, 1].max():.2f}].")


register(lesson=1, number=3, title="A 2-d code you can draw", answer="(encoder, codes of x_val)",
         hint="models.dense_autoencoder(..., latent_dim=2) returns (autoencoder, encoder, "
              "decoder): train the autoencoder, then encoder.predict(x_val) gives one (z1, z2) "
              "per image; colour a scatter plot by y_val.",
         solution=two_d_codes, check=check_two_d_codes)
