"""Exercises of lesson 8 (search, few labels, inpainting; ``hide`` sets hidden pixels to -1)."""

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from autoenc_helpers import data, metrics
from autoenc_helpers.exercises import (as_number, dataset_psnr, exercise, on_test, predict,
                                       recomputed, swapped)

_ON_TEST = on_test(x_val_u8="x_test_u8", y_val="y_test")


def _cosine(value, encoder, gallery_u8, gallery_y, x_val_u8, y_val, K, metric="cosine"):
    as_number(value, "your precision@10", share=True)
    gallery = predict(encoder, gallery_u8, flat=True)
    index = NearestNeighbors(n_neighbors=K, metric=metric).fit(gallery)
    _, neighbours = index.kneighbors(predict(encoder, x_val_u8, flat=True))
    return float(np.mean(np.asarray(gallery_y)[neighbours] == np.asarray(y_val)[:, None]))


@exercise(8, 1, "Search with the cosine distance", ("precision@10",), _cosine, atol=1e-4,
          mistakes=[recomputed("that is the precision with the Euclidean distance: pass "
                               "metric=\"cosine\".", metric="euclidean"), _ON_TEST],
          hint="NearestNeighbors(n_neighbors=K, metric=\"cosine\") on the codes; precision_at_k.")
def cosine_search(encoder, gallery_u8, gallery_y, x_val_u8, y_val, K):
    gallery_codes = encoder.predict(data.to_float(gallery_u8), verbose=0)
    index = NearestNeighbors(n_neighbors=K, metric="cosine").fit(gallery_codes)
    _, neighbours = index.kneighbors(encoder.predict(data.to_float(x_val_u8), verbose=0))
    return metrics.precision_at_k(y_val, gallery_y[neighbours]).mean()


def _knn(value, encoder, x_train, y_train, x_val_u8, y_val, seed, applications):
    as_number(value, "your accuracy", share=True)
    idx, y_train = applications.labelled_subset(y_train, 100, seed), np.asarray(y_train)  # draw 1
    knn = KNeighborsClassifier(5).fit(predict(encoder, x_train[idx], flat=True), y_train[idx])
    return float(np.mean(knn.predict(predict(encoder, x_val_u8, flat=True)) == np.asarray(y_val)))


@exercise(8, 2, "k nearest neighbours instead of a logistic regression", ("accuracy",), _knn,
          mistakes=[_ON_TEST], atol=1e-4, advice="Use the lesson's first draw, applications."
          "labelled_subset(y_train, 100, seed=S.seed), and KNeighborsClassifier(5) on the codes.",
          hint="KNeighborsClassifier(5) on the codes of x_train[idx], idx from labelled_subset.")
def knn_on_codes(encoder, x_train, y_train, x_val_u8, y_val, seed, applications):
    idx = applications.labelled_subset(y_train, 100, seed=seed)  # the first draw of 100 per class
    train_codes = encoder.predict(data.to_float(x_train[idx]), verbose=0)
    knn = KNeighborsClassifier(5).fit(train_codes, y_train[idx])
    val_codes = encoder.predict(data.to_float(x_val_u8), verbose=0)
    return float(np.mean(knn.predict(val_codes) == y_val))


def _hole(_ae, _mean, inpainter, mean_image, x_val_u8, seed, hole_masks, side=16):
    x = data.to_float(x_val_u8)
    masks = np.asarray(hole_masks(len(x), [seed, 3], side=side), np.float32)  # the lesson's draw
    inpainted = predict(inpainter, x * (1 - masks) - masks).reshape(x.shape)
    return tuple(dataset_psnr(((fill - x) ** 2 * masks).sum(axis=(1, 2)) / masks.sum(axis=(1, 2)))
                 for fill in (inpainted, np.broadcast_to(mean_image, x.shape)))


@exercise(8, 3, "A bigger hole than in training", ("PSNR of the autoencoder",
                                                   "PSNR of the mean image"), _hole,
          mistakes=[swapped(), recomputed("that is the PSNR with 12x12 holes.", side=12)],
          advice="Use 16x16 squares drawn with the seed pair [S.seed, 3] on x_val_u8.",
          hint="hole_masks(len(x_val), [S.seed, 3], side=16); fill with inpainter and mean_image.")
def bigger_hole(inpainter, mean_image, x_val_u8, seed, hole_masks, hide):
    x = data.to_float(x_val_u8)
    masks = hole_masks(len(x), [seed, 3], side=16).numpy()  # 16x16 squares this time
    filled = inpainter.predict(hide(x, masks), batch_size=1000, verbose=0)
    return tuple(float(metrics.psnr(metrics.masked_mse(x, fill, masks).mean()))
                 for fill in (filled, np.broadcast_to(mean_image, x.shape)))  # ours, the mean
