"""Exercises of lesson 7 (variational autoencoders; ``x_val`` holds floats in {0, 1})."""

import keras
import numpy as np
from sklearn.metrics import roc_auc_score

from autoenc_helpers import metrics, models
from autoenc_helpers.exercises import (ONE_MINUS_AUC, Mistake, as_model, as_number, exercise,
                                       expect, fresh_like, on_test, per_image_mse, predict, scaled)


def _kl(model, x) -> np.ndarray:  # (n, d): each image's KL term in each code dimension
    mean, log_var = (predict(model.encoder, x, output=k).astype(np.float64) for k in (0, 1))
    return 0.5 * (mean ** 2 + np.exp(log_var) - 1.0 - log_var)


def _beta(model, _, x_val, family_vae):
    beta = float(np.asarray(as_model(model, kind=models.VariationalAutoencoder).beta.numpy()))
    expect(np.isclose(beta, 4.0), f"the model's beta is {beta:g}; build it with beta=4.0.")
    expect(model.reduction == "sum", "keep reduction='sum': only beta should change.")
    fresh_like(model, family_vae, "the family's VAE", same_size=False)
    return None, float(_kl(model, x_val).sum(axis=1).mean())


@exercise(7, 1, "A beta-VAE", ("model", "KL per validation image"), _beta,
          advice="Use model.negative_elbo(x_val)['kl'].mean().",
          passed="A beta-VAE (beta = 4, summed reconstruction) trained for the family's budget.",
          hint="dense_vae(..., beta=4.0) fitted like family_vae; then negative_elbo(x_val)['kl'].")
def beta_vae(train_ds, x_val, family_vae, LATENT, FAMILY_HIDDEN, FAMILY_EPOCHS, LEARNING_RATE):
    beta_model, _, _ = models.dense_vae((28, 28), LATENT, hidden=(FAMILY_HIDDEN,), beta=4.0)
    beta_model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    beta_model.fit(train_ds, epochs=FAMILY_EPOCHS, verbose=0)
    kl = beta_model.negative_elbo(x_val)["kl"].mean()
    kl_family = family_vae.negative_elbo(x_val)["kl"].mean()
    print(f"KL per validation image: beta = 4 {kl:.2f} nats, beta = 1 {kl_family:.2f} nats")
    return beta_model, kl


def _active(_per_dim, _n, x_val, vae):
    per_dim = _kl(vae, x_val).mean(axis=0)
    return per_dim, int(np.sum(per_dim > 0.1))


@exercise(7, 2, "Active units", ("KL per dimension", "number of active dimensions"), _active,
          atol=1e-4, mistakes=[
              scaled("that is the sum over images, not the average.", lambda o: len(o["x_val"])),
              Mistake("the total is right but not the split: keep one entry per code dimension, "
                      "in the encoder's order.", lambda c: {0: c.got[0]}
                      if np.isclose(np.sum(c.got[0]), np.sum(c.want[0]), 1e-3) else None)],
          advice="Average the KL term per dimension over x_val; count those above 0.1 nats.",
          hint="Average 0.5 * (mean**2 + exp(log_var) - 1 - log_var) over images (axis=0) only.")
def active_units(x_val, vae):
    mean, log_var = vae.encoder.predict(x_val, verbose=0)
    kl_per_dim = np.mean(0.5 * (mean ** 2 + np.exp(log_var) - 1.0 - log_var), axis=0)
    print(f"KL per code dimension (nats): {np.round(np.sort(kl_per_dim)[::-1], 2)}")
    return kl_per_dim, int(np.sum(kl_per_dim > 0.1))  # active: above 0.1 nats


def _elbo(a_nelbo, a_mse, better, vae, x_val, x_fashion_val_u8):
    both = (x_val, x_fashion_val_u8)
    y = np.r_[np.zeros(len(x_val)), np.ones(len(x_fashion_val_u8))]
    mse = np.concatenate([per_image_mse(predict(vae.reconstruct, x), x) for x in both])
    # the negative ELBO draws one z per image: two recomputations give the tolerance
    twice = [roc_auc_score(y, np.concatenate([vae.negative_elbo(x)["nelbo"] for x in both]))
             for _ in range(2)]
    nelbo, a_nelbo = float(np.mean(twice)), as_number(a_nelbo, "your ROC AUC by negative ELBO")
    if abs(a_nelbo - nelbo) <= max(0.01, 3 * abs(twice[0] - twice[1])):
        nelbo = a_nelbo
    scores = ("negative ELBO", "MSE")
    expect(better in scores, f"name the better score as one of {scores}, got {better!r}.")
    better_by_yours = scores[a_nelbo <= as_number(a_mse, "your ROC AUC by MSE")]
    return nelbo, float(roc_auc_score(y, mse)), better_by_yours


@exercise(7, 3, "Out-of-distribution: ELBO or reconstruction error?",
          ("ROC AUC by negative ELBO", "ROC AUC by MSE", "better score"), _elbo,
          mistakes=[ONE_MINUS_AUC, on_test(x_val="x_test_u8", x_fashion_val_u8="x_fashion_u8")],
          advice="Label x_val 0 and x_fashion_val_u8 1; the higher AUC separates them better.",
          hint="Score by vae.negative_elbo(x)['nelbo'] and by reconstruction_errors: two AUCs.")
def elbo_or_error(vae, x_val, x_fashion_val_u8):
    is_fashion = np.r_[np.zeros(len(x_val)), np.ones(len(x_fashion_val_u8))]  # positive: 1
    both = (x_val, x_fashion_val_u8)
    by_nelbo = np.concatenate([vae.negative_elbo(x)["nelbo"] for x in both])
    by_mse = np.concatenate([metrics.reconstruction_errors(vae.reconstruct, x) for x in both])
    auc_nelbo = metrics.ranking_metrics(is_fashion, by_nelbo)["roc_auc"]
    auc_mse = metrics.ranking_metrics(is_fashion, by_mse)["roc_auc"]
    return auc_nelbo, auc_mse, "negative ELBO" if auc_nelbo > auc_mse else "MSE"
