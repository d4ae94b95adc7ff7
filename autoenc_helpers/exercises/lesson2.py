"""Exercises of lesson 2 (denoising; each task fixes its noise level and seed, for the check)."""

import keras

from autoenc_helpers import data, metrics
from autoenc_helpers.exercises import (PER_IMAGE_PSNR, dataset_psnr, exercise, expect_loss,
                                       fresh_like, per_image_mse, predict, recomputed, swapped)

_CLEAN = "that is the PSNR on the CLEAN validation images: feed the model the noisy ones."


def _mixture(model, _, x_val, denoiser, noise, per_image=False, scored=None):
    fresh_like(model, denoiser, "the lesson's denoiser")
    x_noisy = noise.add_noise(x_val, noise.Noise("gaussian", 0.4), seed=20)
    return None, dataset_psnr(per_image_mse(predict(scored or model, x_noisy), x_val), per_image)


@exercise(2, 1, "Train on a mixture of noises", ("model", "validation PSNR at gaussian 0.4"),
          _mixture, mistakes=[PER_IMAGE_PSNR, recomputed("that is the PSNR of the lesson's "
                                                         "denoiser.", scored="denoiser")],
          passed="A fresh model like the denoiser, trained for the same budget.",
          advice="Score it on noise.add_noise(x_val, noise.Noise(\"gaussian\", 0.4), seed=20).",
          hint="Train a clone_model(denoiser) on corrupt=noise.make_corrupt([several Noise]).")
def noise_mixture(x_train, x_val, denoiser, noise, EPOCHS, BATCH_SIZE):
    mixture = [noise.Noise("gaussian", s) for s in (0.1, 0.2, 0.4)] + [noise.Noise("speckle", 0.4)]
    mixed_ds = data.autoencoder_dataset(x_train, batch_size=BATCH_SIZE, seed=3,
                                        corrupt=noise.make_corrupt(mixture))
    generalist = keras.models.clone_model(denoiser)  # same architecture, fresh weights
    schedule = keras.optimizers.schedules.CosineDecay(1.5e-3, decay_steps=EPOCHS * len(mixed_ds))
    generalist.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    generalist.fit(mixed_ds, epochs=EPOCHS, verbose=0)
    x_val_04 = noise.add_noise(x_val, noise.Noise("gaussian", 0.4), seed=20)
    for name, model in (("lesson's denoiser", denoiser), ("generalist", generalist)):
        val_psnr = float(metrics.psnr(noise.denoising_errors(model, x_val_04, x_val).mean()))
        print(f"{name}: validation PSNR {val_psnr:.2f} dB at gaussian 0.4")
    return generalist, val_psnr


def _gain(_a, _b, x_val, denoiser, noise, per_image=False, denoise_clean=False):
    x_noisy = noise.add_noise(x_val, noise.Noise("gaussian", 0.3), seed=21)
    out = predict(denoiser, x_val if denoise_clean else x_noisy)
    return tuple(dataset_psnr(per_image_mse(x, x_val), per_image) for x in (x_noisy, out))


@exercise(2, 2, "What does denoising gain at another noise level?",
          ("PSNR of the noisy input", "PSNR of the denoised images"), _gain, atol=1e-3,
          mistakes=[swapped(), recomputed(_CLEAN, denoise_clean=True), PER_IMAGE_PSNR],
          advice="Use noise.add_noise(x_val, noise.Noise(\"gaussian\", 0.3), seed=21).",
          hint="metrics.psnr of the mean noise.denoising_errors(None or denoiser, noisy, x_val).")
def psnr_gain(x_val, denoiser, noise):
    x_val_03 = noise.add_noise(x_val, noise.Noise("gaussian", 0.3), seed=21)
    return tuple(float(metrics.psnr(noise.denoising_errors(model, x_val_03, x_val).mean()))
                 for model in (None, denoiser))  # None: the noisy input itself


def _plain(model, _, x_val, x_val_noisy, denoiser, inputs=None):
    fresh_like(model, denoiser, "the lesson's denoiser")
    expect_loss(model, "mse", "mean_squared_error")
    outputs = predict(model, x_val_noisy if inputs is None else inputs)
    return None, dataset_psnr(per_image_mse(outputs, x_val))


@exercise(2, 3, "Without noise in training", ("model", "PSNR on the noisy validation images"),
          _plain, mistakes=[recomputed(_CLEAN, inputs="x_val")],
          advice="Feed the model x_val_noisy and compare its output with the clean x_val.",
          hint="Train a clone_model(denoiser) on data.autoencoder_dataset(x_train, ..., seed=2).")
def plain_autoencoder(x_train, x_val, x_val_noisy, denoiser, noise, EPOCHS, BATCH_SIZE):
    clean_ds = data.autoencoder_dataset(x_train, batch_size=BATCH_SIZE, seed=2)  # no noise
    plain = keras.models.clone_model(denoiser)  # same architecture, fresh weights
    schedule = keras.optimizers.schedules.CosineDecay(1.5e-3, decay_steps=EPOCHS * len(clean_ds))
    plain.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    plain.fit(clean_ds, epochs=EPOCHS, verbose=0)
    for name, inputs in (("clean", x_val), ("noisy", x_val_noisy)):
        val_psnr = float(metrics.psnr(noise.denoising_errors(plain, inputs, x_val).mean()))
        print(f"plain autoencoder on the {name} validation images: {val_psnr:.2f} dB")
    return plain, val_psnr
