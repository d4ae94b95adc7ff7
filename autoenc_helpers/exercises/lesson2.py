"""Exercises of lesson 2 (denoising autoencoders on Fashion-MNIST).

Bind them in the notebook with::

    ex1, ex2, ex3 = exercises.lesson(2, denoiser=denoiser, x_train=x_train, x_val=x_val,
                                     x_val_noisy=x_val_noisy, EPOCHS=EPOCHS,
                                     BATCH_SIZE=BATCH_SIZE)

The tasks fix the noisy validation copies by seed (:data:`MIXTURE_EVAL_SEED`,
:data:`GAIN_SEED`), so that a check can rebuild exactly the images the student used.
"""

from __future__ import annotations

import numpy as np

from autoenc_helpers.exercises import (Incorrect, as_model, as_number, expect, expect_close,
                                       loss_name, predict, register, training_steps, unpack)

#: Exercise 1 scores the models on ``add_noise(x_val, Noise("gaussian", 0.4), seed=20)``.
MIXTURE_EVAL_SEED = 20
#: Exercise 2 scores the denoiser on ``add_noise(x_val, Noise("gaussian", 0.3), seed=21)``.
GAIN_SEED = 21


def _per_image_mse(outputs, clean) -> np.ndarray:
    clean = np.asarray(clean)
    clean = clean.astype(np.float32) / 255.0 if clean.dtype == np.uint8 else clean
    diff = np.asarray(outputs, np.float32) - clean.astype(np.float32)
    return np.square(diff).reshape(len(diff), -1).mean(axis=1)


def _psnr_of_mean(per_image_mse) -> float:
    """PSNR (dB, pixels in [0, 1]) of the mean MSE over the data set, as the lesson does."""
    return float(10 * np.log10(1.0 / np.mean(per_image_mse)))


def _noisy(x_val, level: float, seed: int):
    from autoenc_helpers import noise

    return noise.add_noise(x_val, noise.Noise("gaussian", level), seed=seed)


def _check_psnr(reported, errors, what, advice=""):
    """``reported`` against the PSNR of the mean MSE; names the per-image-average mistake."""
    actual = _psnr_of_mean(errors)
    value = expect_close(reported, actual, what, rel=1e-3, abs_tol=1e-3, advice=advice)
    return value


def _per_image_average(errors) -> float:
    return float(np.mean(10 * np.log10(1.0 / np.maximum(errors, 1e-12))))


def _check_fresh_like(model, denoiser) -> int:
    as_model(model)
    expect(model is not denoiser, "this is the lesson's denoiser: build and train a new model.")
    expect(tuple(model.input_shape[1:]) == tuple(denoiser.input_shape[1:])
           and tuple(model.output_shape[1:]) == tuple(denoiser.output_shape[1:]),
           f"the model maps {model.input_shape[1:]} to {model.output_shape[1:]}; the images are "
           f"{denoiser.input_shape[1:]}.")
    expect(model.count_params() == denoiser.count_params(),
           f"the model has {model.count_params():,} parameters, the lesson's denoiser "
           f"{denoiser.count_params():,}: use the same architecture "
           "(keras.models.clone_model(denoiser) copies it with fresh weights).")
    steps, ref = training_steps(model), training_steps(denoiser)
    expect(steps > 0, "the model has not been trained yet: compile and fit it.")
    expect(steps == ref, f"the model took {steps} training steps, the lesson's denoiser {ref}: "
           "train it for EPOCHS epochs with batches of BATCH_SIZE, so that the comparison is "
           "fair.")
    return steps


# --------------------------------------------------------------------------- exercise 1


def noise_mixture(x_train, x_val, x_val_noisy, denoiser, EPOCHS, BATCH_SIZE):
    import keras

    from autoenc_helpers import data, metrics, noise

    mixture = [noise.Noise("gaussian", 0.1), noise.Noise("gaussian", 0.2),
               noise.Noise("gaussian", 0.4), noise.Noise("speckle", 0.4)]
    mixed_ds = data.autoencoder_dataset(x_train, batch_size=BATCH_SIZE, seed=3,
                                        corrupt=noise.make_corrupt(mixture))
    generalist = keras.models.clone_model(denoiser)  # same architecture, fresh weights
    schedule = keras.optimizers.schedules.CosineDecay(1.5e-3, decay_steps=EPOCHS * len(mixed_ds))
    generalist.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse",
                       steps_per_execution=16)
    generalist.fit(mixed_ds, epochs=EPOCHS, verbose=0)

    def val_psnr(model, noisy):
        return float(metrics.psnr(noise.denoising_errors(model, noisy, x_val).mean()))

    x_val_04 = noise.add_noise(x_val, noise.Noise("gaussian", 0.4), seed=20)
    for name, model in [("lesson's denoiser (gaussian 0.2)", denoiser),
                        ("generalist (mixture)", generalist)]:
        print(f"{name:33s} validation PSNR: {val_psnr(model, x_val_noisy):.2f} dB at gaussian "
              f"0.2, {val_psnr(model, x_val_04):.2f} dB at gaussian 0.4")
    answer = (generalist, val_psnr(generalist, x_val_04))
    return answer


def check_noise_mixture(answer, x_val, denoiser):
    model, reported = unpack(answer, ("model", "validation PSNR at gaussian 0.4"))
    steps = _check_fresh_like(model, denoiser)
    x_noisy = _noisy(x_val, 0.4, MIXTURE_EVAL_SEED)
    errors = _per_image_mse(predict(model, x_noisy), x_val)
    try:
        value = _check_psnr(reported, errors, "your PSNR",
                            advice="Score the new model on noise.add_noise(x_val, "
                                   "noise.Noise(\"gaussian\", 0.4), seed=20) against x_val, and "
                                   "convert the mean MSE to PSNR.")
    except Incorrect:
        r = as_number(reported, "your PSNR")
        if np.isclose(r, _per_image_average(errors), rtol=1e-3):
            raise Incorrect("you averaged the PSNR of each image; the lesson converts the mean "
                            "MSE over the data set: metrics.psnr(errors.mean()).") from None
        if np.isclose(r, _psnr_of_mean(_per_image_mse(predict(denoiser, x_noisy), x_val)),
                      rtol=1e-3):
            raise Incorrect("that is the PSNR of the lesson's denoiser, not of your new "
                            "model.") from None
        raise
    ref = _psnr_of_mean(_per_image_mse(predict(denoiser, x_noisy), x_val))
    return (f"a fresh model with the denoiser's architecture, trained for the same {steps} "
            f"steps; its validation PSNR at gaussian 0.4 is {value:.2f} dB, recomputed "
            f"(lesson's denoiser: {ref:.2f} dB).")


register(lesson=2, number=1, title="Train on a mixture of noises",
         answer="(model, validation PSNR in dB at gaussian 0.4)",
         hint="noise.make_corrupt accepts a list of noise.Noise; give it to "
              "data.autoencoder_dataset(x_train, ..., corrupt=...). keras.models.clone_model("
              "denoiser) gives the same architecture with fresh weights; train it like the "
              "denoiser, then score it with noise.denoising_errors and metrics.psnr.",
         solution=noise_mixture, check=check_noise_mixture)


# --------------------------------------------------------------------------- exercise 2


def psnr_gain(x_val, denoiser):
    from autoenc_helpers import metrics, noise

    x_val_03 = noise.add_noise(x_val, noise.Noise("gaussian", 0.3), seed=21)
    psnr_noisy = float(metrics.psnr(noise.denoising_errors(None, x_val_03, x_val).mean()))
    psnr_denoised = float(metrics.psnr(noise.denoising_errors(denoiser, x_val_03, x_val).mean()))
    print(f"validation, gaussian 0.3: noisy input {psnr_noisy:.2f} dB, denoised "
          f"{psnr_denoised:.2f} dB, a gain of {psnr_denoised - psnr_noisy:+.2f} dB")
    answer = (psnr_noisy, psnr_denoised)
    return answer


def check_psnr_gain(answer, x_val, denoiser):
    reported_noisy, reported_denoised = unpack(answer, ("PSNR of the noisy input",
                                                        "PSNR of the denoised images"))
    a = as_number(reported_noisy, "your PSNR of the noisy input")
    b = as_number(reported_denoised, "your PSNR of the denoised images")
    x_noisy = _noisy(x_val, 0.3, GAIN_SEED)
    err_noisy = _per_image_mse(x_noisy, x_val)
    err_denoised = _per_image_mse(predict(denoiser, x_noisy), x_val)
    p_noisy, p_denoised = _psnr_of_mean(err_noisy), _psnr_of_mean(err_denoised)
    close = lambda u, v: bool(np.isclose(u, v, rtol=1e-3, atol=1e-3))  # noqa: E731
    if not (close(a, p_noisy) and close(b, p_denoised)):
        if close(a, p_denoised) and close(b, p_noisy):
            raise Incorrect("your two numbers are swapped: the answer is (noisy input, "
                            "denoised).")
        if not close(b, p_denoised) and close(
                b, _psnr_of_mean(_per_image_mse(predict(denoiser, x_val), x_val))):
            raise Incorrect("your denoised PSNR is the denoiser's score on the CLEAN images: "
                            "feed it the noisy ones.")
        if ((not close(a, p_noisy) and close(a, _per_image_average(err_noisy)))
                or (not close(b, p_denoised) and close(b, _per_image_average(err_denoised)))):
            raise Incorrect("you averaged the PSNR of each image; the lesson converts the mean "
                            "MSE over the data set: metrics.psnr(errors.mean()).")
        raise Incorrect(f"recomputing on noise.add_noise(x_val, noise.Noise(\"gaussian\", 0.3), "
                        f"seed=21) gives {p_noisy:.2f} dB (noisy input) and {p_denoised:.2f} dB "
                        f"(denoised); you have {a:.4g} and {b:.4g}. Use that level and seed, "
                        "and compute the numbers with code.")
    return (f"noisy input {p_noisy:.2f} dB, denoised {p_denoised:.2f} dB on the validation "
            f"images at gaussian 0.3 (seed 21), both recomputed: a gain of "
            f"{p_denoised - p_noisy:+.2f} dB.")


register(lesson=2, number=2, title="What does denoising gain at another noise level?",
         answer="(PSNR of the noisy input, PSNR of the denoised images), in dB",
         hint="noise.denoising_errors(None, noisy, clean) scores the noisy images themselves, "
              "noise.denoising_errors(denoiser, noisy, clean) the denoiser's output; "
              "metrics.psnr turns a mean MSE into decibels.",
         solution=psnr_gain, check=check_psnr_gain)


# --------------------------------------------------------------------------- exercise 3


def plain_autoencoder(x_train, x_val, x_val_noisy, denoiser, EPOCHS, BATCH_SIZE):
    import keras

    from autoenc_helpers import data, metrics, noise

    clean_ds = data.autoencoder_dataset(x_train, batch_size=BATCH_SIZE, seed=2)  # no corrupt
    plain = keras.models.clone_model(denoiser)  # same architecture, fresh weights
    schedule = keras.optimizers.schedules.CosineDecay(1.5e-3, decay_steps=EPOCHS * len(clean_ds))
    plain.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse", steps_per_execution=16)
    plain.fit(clean_ds, epochs=EPOCHS, verbose=0)

    def val_psnr(model, inputs):
        return float(metrics.psnr(noise.denoising_errors(model, inputs, x_val).mean()))

    print(f"plain autoencoder on clean validation images: {val_psnr(plain, x_val):.2f} dB")
    for name, model in [("noisy input itself", None), ("plain autoencoder", plain),
                        ("lesson's denoiser", denoiser)]:
        print(f"{name:20s} on the noisy validation images: {val_psnr(model, x_val_noisy):.2f} dB")
    answer = (plain, val_psnr(plain, x_val_noisy))
    return answer


def check_plain_autoencoder(answer, x_val, x_val_noisy, denoiser):
    model, reported = unpack(answer, ("model", "PSNR on the noisy validation images"))
    steps = _check_fresh_like(model, denoiser)
    loss = loss_name(model).lower()
    expect(loss in ("mse", "mean_squared_error"),
           f"the model was compiled with loss {loss or 'None'!r}; use loss=\"mse\" as the "
           "lesson does.")
    errors = _per_image_mse(predict(model, x_val_noisy), x_val)
    try:
        value = _check_psnr(reported, errors, "your PSNR",
                            advice="Feed the plain model x_val_noisy and compare its output with "
                                   "the clean x_val.")
    except Incorrect:
        on_clean = _psnr_of_mean(_per_image_mse(predict(model, x_val), x_val))
        if np.isclose(as_number(reported, "your PSNR"), on_clean, rtol=1e-3):
            raise Incorrect("that is its PSNR on the CLEAN validation images; the question is "
                            "what it does with the noisy ones (x_val_noisy).") from None
        raise
    return (f"a fresh model with the denoiser's architecture, loss MSE, trained for the same "
            f"{steps} steps; its PSNR on the noisy validation images, {value:.2f} dB, is "
            f"recomputed (noisy input itself: "
            f"{_psnr_of_mean(_per_image_mse(x_val_noisy, x_val)):.2f} dB).")


register(lesson=2, number=3, title="Without noise in training",
         answer="(model, PSNR in dB of its output for x_val_noisy)",
         hint="data.autoencoder_dataset(x_train, batch_size=BATCH_SIZE, seed=2) without "
              "corrupt= gives (clean, clean) pairs; train keras.models.clone_model(denoiser) on "
              "them like the denoiser, then score it on x_val_noisy against x_val.",
         solution=plain_autoencoder, check=check_plain_autoencoder)
