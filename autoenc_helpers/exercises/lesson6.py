"""Exercises of lesson 6 (regularised autoencoders: sparse L1 and KL, contractive).

Bind them in the notebook with::

    ex1, ex2, ex3 = exercises.lesson(6, train_penalised=train_penalised, x_val=x_val, OFF=OFF,
                                     L1_WEIGHT=L1_WEIGHT, KL_WEIGHT=KL_WEIGHT,
                                     plain_ae=plain_ae, cae_ae=cae_ae)

``train_penalised(model_class, weight, **options)`` is the lesson's function that builds a
single-layer autoencoder, wraps it in ``model_class`` and trains it: it returns
``(model, encoder, history)``.
"""

from __future__ import annotations

import numpy as np

from autoenc_helpers.exercises import (Incorrect, as_array, as_model, as_number, expect,
                                       expect_close, predict, register, training_steps, unpack)


def _penalised(model, cls_name: str, what: str = "the model"):
    """``model`` as a trained instance of ``models.<cls_name>``, else :class:`Incorrect`."""
    from autoenc_helpers import models

    as_model(model, what)
    cls = getattr(models, cls_name)
    expect(isinstance(model, cls), f"{what} should be a models.{cls_name} (as "
           f"train_penalised(models.{cls_name}, weight) builds), got {type(model).__name__}.")
    expect(training_steps(model) > 0, f"{what} has not been trained yet: fit it (train_penalised "
           "does).")
    return model


def _codes(model, x_val) -> np.ndarray:
    return predict(model.encoder, x_val)


# --------------------------------------------------------------------------- exercise 1


def sparser_l1_code(train_penalised, x_val, OFF, L1_WEIGHT):
    from autoenc_helpers import models, regularised

    weight = 3 * L1_WEIGHT
    model, encoder, _ = train_penalised(models.L1SparseAutoencoder, weight)
    codes = encoder.predict(x_val, verbose=0)
    share_on = np.median(regularised.units_on(codes, OFF))
    summary = regularised.activation_summary(codes, OFF)
    print(f"L1 weight {weight:.2g}: share of units on for the median validation digit "
          f"{share_on:.1%}, units never on {summary['units never on']:.1%}")
    answer = (model, share_on)
    return answer


def check_sparser_l1_code(answer, x_val, OFF, L1_WEIGHT):
    model, share = unpack(answer, ("model", "median share of units on"))
    model = _penalised(model, "L1SparseAutoencoder")
    expect(model.weight > L1_WEIGHT, f"the model's penalty weight is {model.weight:g}; a "
           f"sparser code needs a STRONGER penalty than L1_WEIGHT = {L1_WEIGHT:g}.")
    on = np.mean(_codes(model, x_val) >= OFF, axis=1)      # (n,): share on per image
    actual = float(np.median(on))
    value = as_number(share, "your median share of units on")
    if not np.isclose(actual, 0.5, atol=1e-3) and np.isclose(value, 1 - actual, atol=1e-3):
        raise Incorrect("that is the share of units OFF; the exercise asks for the units on "
                        "(activation at least OFF).")
    if (not np.isclose(float(on.mean()), actual, atol=1e-3)
            and np.isclose(value, float(on.mean()), atol=1e-3)):
        raise Incorrect("that is the MEAN share over the digits; the exercise asks for the "
                        "median digit's (np.median).")
    expect_close(value, actual, "your median share of units on", rel=1e-3,
                 advice="Compute it on the validation digits: "
                        "np.median(regularised.units_on(codes, OFF)).")
    return (f"a trained L1 model with weight {model.weight:g}; {actual:.1%} of its units are on "
            f"for the median validation digit (recomputed).")


register(lesson=6, number=1, title="A sparser L1 code",
         answer="(model, median share of units on)",
         hint="train_penalised(models.L1SparseAutoencoder, 3 * L1_WEIGHT) trains it; its encoder "
              "gives the codes of x_val, and np.median(regularised.units_on(codes, OFF)) the "
              "share of units on for the median digit.",
         solution=sparser_l1_code, check=check_sparser_l1_code)


# --------------------------------------------------------------------------- exercise 2


def another_target(train_penalised, x_val, KL_WEIGHT):
    from autoenc_helpers import models, regularised

    model, encoder, _ = train_penalised(models.KLSparseAutoencoder, KL_WEIGHT, target=0.1)
    unit_means = regularised.unit_mean_activation(encoder.predict(x_val, verbose=0))
    mean_activation = unit_means.mean()
    print(f"target 0.1: mean activation {mean_activation:.4f} on the validation digits "
          f"({mean_activation / 0.1 - 1:+.0%})")
    answer = (model, mean_activation)
    return answer


def check_another_target(answer, x_val):
    model, mean_activation = unpack(answer, ("model", "mean activation"))
    model = _penalised(model, "KLSparseAutoencoder")
    expect(np.isclose(model.target, 0.1), f"the model's target is {model.target:g}; the exercise "
           "asks for rho = 0.1 (target=0.1).")
    codes = _codes(model, x_val)
    actual = float(codes.mean())
    expect_close(mean_activation, actual, "your mean activation", rel=1e-3,
                 advice="Average the codes of the validation digits over images and units.")
    return (f"a trained KL model with target 0.1; its mean activation on the validation digits "
            f"is {actual:.4f} (recomputed).")


register(lesson=6, number=2, title="A different target", answer="(model, mean activation)",
         hint="train_penalised(models.KLSparseAutoencoder, KL_WEIGHT, target=0.1), then the "
              "mean of encoder.predict(x_val) over images and units.",
         solution=another_target, check=check_another_target)


# --------------------------------------------------------------------------- exercise 3


def contraction_and_denoising(plain_ae, cae_ae, x_val):
    from autoenc_helpers import metrics

    rng = np.random.default_rng(6)
    noisy = np.clip(x_val + rng.normal(0.0, 0.2, x_val.shape), 0.0, 1.0).astype("float32")
    errors = {name: metrics.reconstruction_errors(model, noisy, targets=x_val).mean()
              for name, model in (("plain", plain_ae), ("contractive", cae_ae))}
    print("MSE against the clean digits, from noisy inputs: "
          + ", ".join(f"{k} {v:.4f}" for k, v in errors.items()))
    answer = (noisy, errors)
    return answer


def check_contraction_and_denoising(answer, plain_ae, cae_ae, x_val):
    noisy, errors = unpack(answer, ("noisy digits", "{'plain': MSE, 'contractive': MSE}"))
    x_val = np.asarray(x_val, np.float32)
    noisy = as_array(noisy, "your noisy digits", shape=x_val.shape).astype(np.float32)
    expect(noisy.min() >= 0 and noisy.max() <= 1, "clip the noisy digits to [0, 1] "
           "(np.clip), as real images are.")
    rms = float(np.sqrt(np.mean(np.square(noisy - x_val))))
    expect(rms > 0.05, f"your digits differ from x_val by only {rms:.3f} (root mean square): add "
           "Gaussian noise of standard deviation 0.2 to x_val.")
    expect(isinstance(errors, dict) and {"plain", "contractive"} <= set(errors),
           "give the errors as a dict {'plain': MSE, 'contractive': MSE}.")
    for name, model in (("plain", plain_ae), ("contractive", cae_ae)):
        actual = float(np.mean(np.square(predict(model, noisy) - x_val)))
        if np.isclose(as_number(errors[name], f"your {name} MSE"),
                      float(np.mean(np.square(predict(model, noisy) - noisy))), rtol=1e-3):
            raise Incorrect(f"your {name} MSE compares the reconstruction with the NOISY input; "
                            "compare it with the clean digits (targets=x_val).")
        expect_close(errors[name], actual, f"your {name} MSE", rel=1e-3,
                     advice="metrics.reconstruction_errors(model, noisy, targets=x_val).mean().")
    return ("both errors recomputed against the clean digits: plain "
            f"{float(errors['plain']):.4f}, contractive {float(errors['contractive']):.4f}.")


register(lesson=6, number=3, title="Contraction and denoising",
         answer="(noisy digits, {'plain': MSE, 'contractive': MSE})",
         hint="noisy = np.clip(x_val + rng.normal(0, 0.2, x_val.shape), 0, 1); then "
              "metrics.reconstruction_errors(model, noisy, targets=x_val).mean() for plain_ae "
              "and cae_ae.",
         solution=contraction_and_denoising, check=check_contraction_and_denoising)
