"""Exercises of lesson 6 (regularised autoencoders; ``train_penalised`` gives a model, ...)."""

import numpy as np

from autoenc_helpers import metrics, models
from autoenc_helpers.exercises import as_array, as_model, exercise, expect, predict, recomputed


def _sparser(model, _, x_val, OFF, L1_WEIGHT, average=np.median, off=False):
    model = as_model(model, kind=models.L1SparseAutoencoder, trained=True)
    expect(model.weight > L1_WEIGHT, f"the penalty weight is {model.weight:g}; a sparser code "
           "needs a STRONGER penalty than L1_WEIGHT.")
    on = np.mean((predict(model.encoder, x_val) >= OFF) != off, axis=1)  # (n,) share per digit
    return None, float(average(on))


@exercise(6, 1, "A sparser L1 code", ("model", "median share of units on"), _sparser,
          mistakes=[recomputed("that is the share of units OFF, not on.", off=True),
                    recomputed("that is the MEAN share over the digits.", average=np.mean)],
          advice="Compute it on the validation digits: np.median(np.mean(codes >= OFF, axis=1)).",
          hint="train_penalised(models.L1SparseAutoencoder, 3 * L1_WEIGHT); then its codes.")
def sparser_l1_code(train_penalised, x_val, OFF, L1_WEIGHT):
    model, encoder, _ = train_penalised(models.L1SparseAutoencoder, 3 * L1_WEIGHT)
    codes = encoder.predict(x_val, verbose=0)
    share_on = float(np.median(np.mean(codes >= OFF, axis=1)))  # per digit, then the median
    return model, share_on


def _target(model, _, x_val):
    target = as_model(model, kind=models.KLSparseAutoencoder, trained=True).target
    expect(np.isclose(target, 0.1), f"the model's target is {target:g}; use target=0.1.")
    return None, float(predict(model.encoder, x_val).mean())


@exercise(6, 2, "A different target", ("model", "mean activation"), _target,
          advice="Average the codes of the validation digits over images and units.",
          hint="train_penalised(models.KLSparseAutoencoder, KL_WEIGHT, target=0.1).")
def another_target(train_penalised, x_val, KL_WEIGHT):
    model, encoder, _ = train_penalised(models.KLSparseAutoencoder, KL_WEIGHT, target=0.1)
    return model, float(encoder.predict(x_val, verbose=0).mean())


def _contraction(noisy, _, plain_ae, cae_ae, x_val, against_noisy=False):
    x_val = np.asarray(x_val, np.float32)
    noisy = as_array(noisy, "your noisy digits", shape=x_val.shape).astype(np.float32)
    expect(noisy.min() >= 0 and noisy.max() <= 1, "clip the noisy digits to [0, 1] (np.clip).")
    expect(np.sqrt(np.mean(np.square(noisy - x_val))) > 0.05, "your digits differ only a little.")
    target = noisy if against_noisy else x_val
    return None, {name: float(np.mean(np.square(predict(model, noisy) - target)))
                  for name, model in (("plain", plain_ae), ("contractive", cae_ae))}


@exercise(6, 3, "Contraction and denoising", ("noisy digits", "errors by model"), _contraction,
          mistakes=[recomputed("your MSE compares with the NOISY input.", against_noisy=True)],
          hint="np.clip(x_val + rng.normal(0, 0.2, x_val.shape), 0, 1); targets=x_val.")
def contraction_and_denoising(plain_ae, cae_ae, x_val):
    rng = np.random.default_rng(6)
    noisy = np.clip(x_val + rng.normal(0.0, 0.2, x_val.shape), 0.0, 1.0).astype("float32")
    return noisy, {name: float(metrics.reconstruction_errors(model, noisy, targets=x_val).mean())
                   for name, model in (("plain", plain_ae), ("contractive", cae_ae))}
