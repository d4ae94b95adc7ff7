"""Exercises of lesson 7 (variational autoencoders).

Bind them in the notebook with::

    ex1, ex2, ex3 = exercises.lesson(7, train_ds=train_ds, x_val=x_val, vae=vae,
                                     family_vae=family_vae, LATENT=LATENT,
                                     FAMILY_HIDDEN=FAMILY_HIDDEN, FAMILY_EPOCHS=FAMILY_EPOCHS,
                                     LEARNING_RATE=LEARNING_RATE,
                                     x_fashion_val_u8=x_fashion_val_u8, x_test_u8=x_test_u8,
                                     x_fashion_u8=x_fashion_u8)

``vae`` is the lesson's trained :class:`~autoenc_helpers.models.VariationalAutoencoder`;
``family_vae`` the family table's VAE (``models.dense_vae`` with ``hidden=(FAMILY_HIDDEN,)``,
trained for ``FAMILY_EPOCHS`` on ``train_ds``); ``x_val`` the validation digits as floats in
{0, 1}; ``x_fashion_val_u8`` binarised Fashion-MNIST items from its *training* split (the
out-of-distribution validation set); ``x_test_u8`` and ``x_fashion_u8`` the binarised MNIST
test digits and Fashion-MNIST test items (uint8, 0 or 255), used only to recognise an answer
computed on the test set.
"""

from __future__ import annotations

import numpy as np

from autoenc_helpers.exercises import (Incorrect, as_array, as_model, as_number, expect,
                                       expect_close, register, training_steps, unpack)


def _vae(model, what: str = "the model"):
    from autoenc_helpers import models

    as_model(model, what)
    expect(isinstance(model, models.VariationalAutoencoder),
           f"{what} should be a models.VariationalAutoencoder (models.dense_vae builds one), "
           f"got {type(model).__name__}.")
    return model


def _kl_per_dimension(vae, x) -> np.ndarray:
    """Mean over ``x`` of each code dimension's KL term, ``(d,)`` nats."""
    from autoenc_helpers import latent

    mean = latent.encode(lambda b: vae.encoder(b)[0], x)
    log_var = latent.encode(lambda b: vae.encoder(b)[1], x)
    return np.mean(0.5 * (mean ** 2 + np.exp(log_var) - 1.0 - log_var), axis=0)


# --------------------------------------------------------------------------- exercise 1


def beta_vae(train_ds, x_val, family_vae, LATENT, FAMILY_HIDDEN, FAMILY_EPOCHS, LEARNING_RATE):
    import keras

    from autoenc_helpers import models

    beta_model, _, _ = models.dense_vae((28, 28), LATENT, hidden=(FAMILY_HIDDEN,), beta=4.0)
    beta_model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), steps_per_execution=16)
    beta_model.fit(train_ds, epochs=FAMILY_EPOCHS, verbose=0)
    kl = beta_model.negative_elbo(x_val)["kl"].mean()
    same_budget = family_vae.negative_elbo(x_val)
    print(f"KL per validation image after {FAMILY_EPOCHS} epoch(s) each: beta = 4 {kl:.2f} "
          f"nats, the family's VAE (beta = 1) {same_budget['kl'].mean():.2f} nats")
    answer = (beta_model, kl)
    return answer


def check_beta_vae(answer, x_val, family_vae):
    model, kl = unpack(answer, ("model", "KL per validation image"))
    model = _vae(model)
    beta = float(np.asarray(model.beta.numpy()))
    expect(np.isclose(beta, 4.0), f"the model's beta is {beta:g}; build it with beta=4.0 "
           "(models.dense_vae(..., beta=4.0)), or assign model.beta.assign(4.0).")
    expect(model.reduction == "sum", "keep the reconstruction summed over pixels "
           "(reduction='sum'): only beta should change.")
    steps, wanted = training_steps(model), training_steps(family_vae)
    expect(steps > 0, "the model has not been trained yet: fit it on train_ds.")
    expect(steps == wanted, f"the model took {steps} training steps, the family's VAE "
           f"{wanted}: train it for FAMILY_EPOCHS epochs on train_ds, so that the two VAEs are "
           "compared at one budget.")
    actual = float(model.negative_elbo(x_val)["kl"].mean())
    expect_close(kl, actual, "your KL per validation image", rel=1e-3,
                 advice="Use model.negative_elbo(x_val)['kl'].mean().")
    return (f"a beta-VAE (beta = 4) trained for the family's budget ({steps} steps), whose KL "
            f"per validation image is {actual:.2f} nats.")


register(lesson=7, number=1, title="A beta-VAE", answer="(model, KL per validation image)",
         hint="models.dense_vae((28, 28), LATENT, hidden=(FAMILY_HIDDEN,), beta=4.0) builds it; "
              "compile it with Adam(LEARNING_RATE), fit it on train_ds for FAMILY_EPOCHS (the "
              "family VAE's budget) and read model.negative_elbo(x_val)['kl'].mean(); compare "
              "with family_vae's.",
         solution=beta_vae, check=check_beta_vae)


# --------------------------------------------------------------------------- exercise 2


def active_units(x_val, vae):
    from autoenc_helpers import latent

    mean = latent.encode(lambda b: vae.encoder(b)[0], x_val)
    log_var = latent.encode(lambda b: vae.encoder(b)[1], x_val)
    kl_per_dim = np.mean(0.5 * (mean ** 2 + np.exp(log_var) - 1.0 - log_var), axis=0)
    n_active = int(np.sum(kl_per_dim > 0.1))
    print(f"KL per code dimension (nats): {np.round(np.sort(kl_per_dim)[::-1], 2)}")
    print(f"{n_active} of {len(kl_per_dim)} dimensions carry more than 0.1 nats")
    answer = (kl_per_dim, n_active)
    return answer


def check_active_units(answer, x_val, vae):
    kl_per_dim, n_active = unpack(answer, ("KL per dimension", "number of active dimensions"))
    actual = _kl_per_dimension(vae, x_val)
    got = as_array(kl_per_dim, "your KL per dimension", shape=(len(actual),))
    if np.isclose(got.sum(), actual.sum(), rtol=1e-3) and not np.allclose(got, actual, rtol=1e-3,
                                                                          atol=1e-4):
        raise Incorrect("the total is right but not the split: keep one entry per code "
                        "dimension, in the encoder's order (average over images, axis=0).")
    if np.allclose(got, actual * len(x_val), rtol=1e-3):
        raise Incorrect("that is the sum over images: average over the validation digits.")
    expect(np.allclose(got, actual, rtol=1e-3, atol=1e-4),
           "your KL per dimension differs from the recomputed one: per dimension j, average "
           "0.5 * (mean_j**2 + exp(log_var_j) - 1 - log_var_j) over the validation digits.")
    want = int(np.sum(actual > 0.1))
    count = as_number(n_active, "your number of active dimensions")
    expect(count == want, f"your count is {count:g}, but {want} dimensions carry more than "
           "0.1 nats.")
    return (f"{want} of {len(actual)} code dimensions are active (more than 0.1 nats of KL "
            "per validation digit); the others are ignored by the decoder.")


register(lesson=7, number=2, title="Active units",
         answer="(KL per dimension (LATENT,), number of dimensions above 0.1 nats)",
         hint="vae.encoder(x) returns [mean, log_var]; latent.encode(lambda b: vae.encoder(b)[0], "
              "x_val) gives the means of all validation digits (likewise [1]). Apply the KL "
              "formula per dimension without summing over dimensions, then average over images.",
         solution=active_units, check=check_active_units)


# --------------------------------------------------------------------------- exercise 3

SCORES = ("negative ELBO", "MSE")


def elbo_or_error(vae, x_val, x_fashion_val_u8):
    from autoenc_helpers import metrics

    # validation data only: MNIST validation digits (0) and Fashion-MNIST training items (1)
    is_fashion = np.r_[np.zeros(len(x_val)), np.ones(len(x_fashion_val_u8))]  # positive class
    by_nelbo = np.r_[vae.negative_elbo(x_val)["nelbo"],
                     vae.negative_elbo(x_fashion_val_u8)["nelbo"]]
    by_mse = np.r_[metrics.reconstruction_errors(vae.reconstruct, x_val),
                   metrics.reconstruction_errors(vae.reconstruct, x_fashion_val_u8)]
    auc_nelbo = metrics.ranking_metrics(is_fashion, by_nelbo)["roc_auc"]
    auc_mse = metrics.ranking_metrics(is_fashion, by_mse)["roc_auc"]
    better = "negative ELBO" if auc_nelbo > auc_mse else "MSE"
    print(f"validation ROC AUC, Fashion-MNIST positive: negative ELBO {auc_nelbo:.4f}, "
          f"reconstruction MSE {auc_mse:.4f}; better: {better}")
    answer = (auc_nelbo, auc_mse, better)
    return answer


def check_elbo_or_error(answer, vae, x_val, x_fashion_val_u8, x_test_u8, x_fashion_u8):
    from autoenc_helpers import metrics

    auc_nelbo, auc_mse, better = unpack(answer, ("ROC AUC by negative ELBO", "ROC AUC by MSE",
                                                 "the better score"))
    y = np.r_[np.zeros(len(x_val)), np.ones(len(x_fashion_val_u8))]
    by_mse = np.r_[metrics.reconstruction_errors(vae.reconstruct, x_val),
                   metrics.reconstruction_errors(vae.reconstruct, x_fashion_val_u8)]
    actual_mse = metrics.ranking_metrics(y, by_mse)["roc_auc"]
    value = as_number(auc_mse, "your ROC AUC by MSE")
    if not np.isclose(value, actual_mse, rtol=1e-3):
        y_test = np.r_[np.zeros(len(x_test_u8)), np.ones(len(x_fashion_u8))]
        on_test = np.r_[metrics.reconstruction_errors(vae.reconstruct, x_test_u8),
                        metrics.reconstruction_errors(vae.reconstruct, x_fashion_u8)]
        if np.isclose(value, metrics.ranking_metrics(y_test, on_test)["roc_auc"], rtol=1e-4):
            raise Incorrect("that is the test set's AUC: decide on validation data (x_val and "
                            "x_fashion_val_u8); the test set is kept for the final report.")
    if np.isclose(value, 1 - actual_mse, atol=1e-3) and not np.isclose(actual_mse, 0.5):
        raise Incorrect("your AUC is 1 minus the right one: make Fashion-MNIST the positive "
                        "class (label 1) and score by the error itself (higher = more unusual).")
    expect_close(value, actual_mse, "your ROC AUC by MSE", rel=1e-3,
                 advice="Score the validation digits x_val and the Fashion-MNIST items "
                        "x_fashion_val_u8 by metrics.reconstruction_errors(vae.reconstruct, "
                        "...), Fashion-MNIST as label 1.")
    # the negative ELBO draws one z per image, so recomputations differ a little: two of them
    # give the tolerance
    twice = [metrics.ranking_metrics(y, np.r_[vae.negative_elbo(x_val)["nelbo"],
                                              vae.negative_elbo(x_fashion_val_u8)["nelbo"]])["roc_auc"]
             for _ in range(2)]
    actual_nelbo = float(np.mean(twice))
    expect_close(auc_nelbo, actual_nelbo, "your ROC AUC by negative ELBO", rel=0.0,
                 abs_tol=max(0.01, 3 * abs(twice[0] - twice[1])),
                 advice="Score by vae.negative_elbo(images)['nelbo'], Fashion-MNIST as label 1.")
    expect(better in SCORES, f"name the better score as one of {SCORES}, got {better!r}.")
    wanted = SCORES[0] if float(auc_nelbo) > value else SCORES[1]
    expect(better == wanted, f"by your own AUCs the better score is the {wanted}: the higher "
           "ROC AUC separates the two sets better.")
    return (f"on validation data, ROC AUC {actual_nelbo:.3f} by negative ELBO and "
            f"{actual_mse:.3f} by reconstruction MSE (Fashion-MNIST positive), recomputed; the "
            f"{wanted} separates them better.")


register(lesson=7, number=3, title="Out-of-distribution: ELBO or reconstruction error?",
         answer="(ROC AUC by negative ELBO, ROC AUC by MSE, 'negative ELBO' or 'MSE')",
         hint="Decide on validation data: label the validation digits x_val 0 and the "
              "Fashion-MNIST items x_fashion_val_u8 1 (the positive class); score each image by "
              "vae.negative_elbo(images)['nelbo'], then by "
              "metrics.reconstruction_errors(vae.reconstruct, images); "
              "metrics.ranking_metrics(labels, scores)['roc_auc'] gives each AUC.",
         solution=elbo_or_error, check=check_elbo_or_error)
