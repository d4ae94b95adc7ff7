"""Exercises of lesson 7 (variational autoencoders).

Bind them in the notebook with::

    ex1, ex2, ex3 = exercises.lesson(7, train_ds=train_ds, x_val=x_val, vae=vae,
                                     LATENT=LATENT, HIDDEN=HIDDEN, FAMILY_EPOCHS=FAMILY_EPOCHS,
                                     LEARNING_RATE=LEARNING_RATE, x_test_u8=x_test_u8,
                                     x_fashion_u8=x_fashion_u8)

``vae`` is the lesson's trained :class:`~autoenc_helpers.models.VariationalAutoencoder`;
``x_val`` its validation digits as floats in {0, 1}; ``x_test_u8`` and ``x_fashion_u8`` the
binarised MNIST test digits and Fashion-MNIST items (uint8, 0 or 255).
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


def beta_vae(train_ds, x_val, vae, LATENT, HIDDEN, FAMILY_EPOCHS, LEARNING_RATE):
    import keras

    from autoenc_helpers import models

    beta_model, _, _ = models.dense_vae((28, 28), LATENT, hidden=(HIDDEN,), beta=4.0)
    beta_model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), steps_per_execution=16)
    beta_model.fit(train_ds, epochs=FAMILY_EPOCHS, verbose=0)
    kl = beta_model.negative_elbo(x_val)["kl"].mean()
    main = vae.negative_elbo(x_val)
    print(f"KL per validation image: beta = 4 {kl:.2f} nats after {FAMILY_EPOCHS} epoch(s), "
          f"the lesson's VAE (beta = 1) {main['kl'].mean():.2f} nats")
    answer = (beta_model, kl)
    return answer


def check_beta_vae(answer, x_val):
    model, kl = unpack(answer, ("model", "KL per validation image"))
    model = _vae(model)
    beta = float(np.asarray(model.beta.numpy()))
    expect(np.isclose(beta, 4.0), f"the model's beta is {beta:g}; build it with beta=4.0 "
           "(models.dense_vae(..., beta=4.0)), or assign model.beta.assign(4.0).")
    expect(model.reduction == "sum", "keep the reconstruction summed over pixels "
           "(reduction='sum'): only beta should change.")
    expect(training_steps(model) > 0, "the model has not been trained yet: fit it on train_ds.")
    actual = float(model.negative_elbo(x_val)["kl"].mean())
    expect_close(kl, actual, "your KL per validation image", rel=1e-3,
                 advice="Use model.negative_elbo(x_val)['kl'].mean().")
    return f"a trained beta-VAE (beta = 4) whose KL per validation image is {actual:.2f} nats."


register(lesson=7, number=1, title="A beta-VAE", answer="(model, KL per validation image)",
         hint="models.dense_vae((28, 28), LATENT, hidden=(HIDDEN,), beta=4.0) builds it; compile "
              "it with Adam(LEARNING_RATE), fit it on train_ds for FAMILY_EPOCHS and read "
              "model.negative_elbo(x_val)['kl'].mean().",
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


def _ood_labels(x_test_u8, x_fashion_u8) -> np.ndarray:
    return np.r_[np.zeros(len(x_test_u8)), np.ones(len(x_fashion_u8))]


def elbo_or_error(vae, x_test_u8, x_fashion_u8):
    from autoenc_helpers import metrics

    is_fashion = np.r_[np.zeros(len(x_test_u8)), np.ones(len(x_fashion_u8))]  # positive class
    by_nelbo = np.r_[vae.negative_elbo(x_test_u8)["nelbo"],
                     vae.negative_elbo(x_fashion_u8)["nelbo"]]
    by_mse = np.r_[metrics.reconstruction_errors(vae, x_test_u8),
                   metrics.reconstruction_errors(vae, x_fashion_u8)]
    auc_nelbo = metrics.ranking_metrics(is_fashion, by_nelbo)["roc_auc"]
    auc_mse = metrics.ranking_metrics(is_fashion, by_mse)["roc_auc"]
    print(f"ROC AUC, Fashion-MNIST positive: negative ELBO {auc_nelbo:.4f}, "
          f"reconstruction MSE {auc_mse:.4f}")
    answer = (auc_nelbo, auc_mse)
    return answer


def check_elbo_or_error(answer, vae, x_test_u8, x_fashion_u8):
    from autoenc_helpers import metrics

    auc_nelbo, auc_mse = unpack(answer, ("ROC AUC by negative ELBO", "ROC AUC by MSE"))
    y = _ood_labels(x_test_u8, x_fashion_u8)
    by_mse = np.r_[metrics.reconstruction_errors(vae, x_test_u8),
                   metrics.reconstruction_errors(vae, x_fashion_u8)]
    actual_mse = metrics.ranking_metrics(y, by_mse)["roc_auc"]
    value = as_number(auc_mse, "your ROC AUC by MSE")
    if np.isclose(value, 1 - actual_mse, atol=1e-3) and not np.isclose(actual_mse, 0.5):
        raise Incorrect("your AUC is 1 minus the right one: make Fashion-MNIST the positive "
                        "class (label 1) and score by the error itself (higher = more unusual).")
    expect_close(value, actual_mse, "your ROC AUC by MSE", rel=1e-3,
                 advice="Score MNIST test digits and Fashion-MNIST items by "
                        "metrics.reconstruction_errors(vae, ...), Fashion-MNIST as label 1.")
    by_nelbo = np.r_[vae.negative_elbo(x_test_u8)["nelbo"], vae.negative_elbo(x_fashion_u8)["nelbo"]]
    actual_nelbo = metrics.ranking_metrics(y, by_nelbo)["roc_auc"]
    # the negative ELBO draws one z per image, so a recomputation differs a little
    expect_close(auc_nelbo, actual_nelbo, "your ROC AUC by negative ELBO", rel=0.01,
                 advice="Score by vae.negative_elbo(images)['nelbo'], Fashion-MNIST as label 1.")
    return (f"ROC AUC {actual_nelbo:.3f} by negative ELBO and {actual_mse:.3f} by reconstruction "
            "MSE (Fashion-MNIST positive), recomputed.")


register(lesson=7, number=3, title="Out-of-distribution: ELBO or reconstruction error?",
         answer="(ROC AUC by negative ELBO, ROC AUC by MSE)",
         hint="Label MNIST test digits 0 and Fashion-MNIST items 1 (the positive class); score "
              "each image by vae.negative_elbo(images)['nelbo'], then by "
              "metrics.reconstruction_errors(vae, images); metrics.ranking_metrics(labels, "
              "scores)['roc_auc'] gives each AUC.",
         solution=elbo_or_error, check=check_elbo_or_error)
