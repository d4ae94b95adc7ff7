"""Exercises of lesson 8 (autoencoders at work: search, few labels, inpainting).

Bind them in the notebook with::

    ex1, ex2, ex3 = exercises.lesson(8, encoder=encoder, inpainter=inpainter,
                                     mean_image=mean_image, hole_masks=hole_masks, hide=hide,
                                     gallery_u8=gallery_u8, gallery_y=gallery_y,
                                     x_train=x_train, y_train=y_train, x_val_u8=x_val_u8,
                                     y_val=y_val, K=K, seed=S.seed, x_test_u8=x_test_u8,
                                     y_test=y_test)

``encoder`` is the lesson's trained encoder (it takes float images), ``inpainter``
the inpainting autoencoder (hidden pixels set to -1, as ``hide`` does), ``hole_masks(n,
seed_pair, side)`` the lesson's mask generator, ``mean_image`` the ``(28, 28)`` mean
training image; ``x_test_u8`` and ``y_test`` are used only to recognise an answer computed on
the test set. Every check recomputes its answer from these objects with its own code.
"""

from __future__ import annotations

import numpy as np

from autoenc_helpers.exercises import (Incorrect, as_number, expect, expect_close, predict,
                                       register, unpack)


def _codes(encoder, images) -> np.ndarray:
    return predict(encoder, images, batch_size=1000).reshape(len(images), -1)


def _precision(encoder, gallery_u8, gallery_y, queries_u8, query_y, k, metric) -> float:
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k, metric=metric).fit(_codes(encoder, gallery_u8))
    _, neighbours = index.kneighbors(_codes(encoder, queries_u8))
    return float(np.mean(np.asarray(gallery_y)[neighbours] == np.asarray(query_y)[:, None]))


def _not_on_test(value: float, on_test: float | None) -> None:
    if on_test is not None and np.isclose(value, on_test, rtol=1e-3):
        raise Incorrect("your number is measured on the *test* set. Choices and exercises use "
                        "the validation images (x_val_u8, y_val); the test set is touched once.")


# --------------------------------------------------------------------------- exercise 1


def cosine_search(encoder, gallery_u8, gallery_y, x_val_u8, y_val, K):
    from sklearn.neighbors import NearestNeighbors

    from autoenc_helpers import latent, metrics

    gallery_codes = latent.encode(encoder, gallery_u8)
    index = NearestNeighbors(n_neighbors=K, metric="cosine").fit(gallery_codes)
    _, neighbours = index.kneighbors(latent.encode(encoder, x_val_u8))
    p_cosine = metrics.precision_at_k(y_val, gallery_y[neighbours]).mean()
    print(f"precision@{K} of the codes on validation queries, cosine distance: {p_cosine:.3f}")
    answer = p_cosine
    return answer


def check_cosine_search(answer, encoder, gallery_u8, gallery_y, x_val_u8, y_val, K,
                        x_test_u8=None, y_test=None):
    value = as_number(answer, "your precision@10")
    expect(0.0 <= value <= 1.0, f"a precision is a share, in [0, 1]; got {value:.4g}.")
    actual = _precision(encoder, gallery_u8, gallery_y, x_val_u8, y_val, K, "cosine")
    euclidean = _precision(encoder, gallery_u8, gallery_y, x_val_u8, y_val, K, "euclidean")
    if not np.isclose(value, actual, rtol=1e-3, atol=1e-4):
        if (np.isclose(value, euclidean, rtol=1e-3, atol=1e-4)
                and not np.isclose(euclidean, actual)):
            raise Incorrect("that is the precision with the Euclidean distance: pass "
                            "metric=\"cosine\" to NearestNeighbors.")
        on_test = (None if x_test_u8 is None else
                   _precision(encoder, gallery_u8, gallery_y, x_test_u8, y_test, K, "cosine"))
        _not_on_test(value, on_test)
        expect_close(value, actual, "your precision@10", rel=1e-3)
    return (f"precision@{K} {actual:.3f} with the cosine distance, recomputed "
            f"(Euclidean: {euclidean:.3f}).")


register(lesson=8, number=1, title="Search with the cosine distance",
         answer="mean precision@10 on the validation queries",
         hint="NearestNeighbors(n_neighbors=K, metric=\"cosine\").fit(codes of gallery_u8), then "
              "kneighbors(codes of x_val_u8); the share of neighbours whose gallery_y equals the "
              "query's y_val, averaged over queries (metrics.precision_at_k).",
         solution=cosine_search, check=check_cosine_search)


# --------------------------------------------------------------------------- exercise 2


def knn_on_codes(encoder, x_train, y_train, x_val_u8, y_val, seed):
    from sklearn.neighbors import KNeighborsClassifier

    from autoenc_helpers import applications, latent

    idx = applications.labelled_subset(y_train, 100, seed=seed)   # the first draw of 100 per class
    knn = KNeighborsClassifier(5).fit(latent.encode(encoder, x_train[idx]), y_train[idx])
    accuracy = float(np.mean(knn.predict(latent.encode(encoder, x_val_u8)) == y_val))
    print(f"5-nearest-neighbour classifier on the codes, 100 labels per class: validation "
          f"accuracy {accuracy:.3f}")
    answer = accuracy
    return answer


def _knn_accuracy(encoder, x_train, y_train, idx, x, y) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(5).fit(_codes(encoder, x_train[idx]), y_train[idx])
    return float(np.mean(knn.predict(_codes(encoder, x)) == np.asarray(y)))


def check_knn_on_codes(answer, encoder, x_train, y_train, x_val_u8, y_val, seed,
                       x_test_u8=None, y_test=None):
    value = as_number(answer, "your accuracy")
    expect(0.0 <= value <= 1.0, f"an accuracy is a share, in [0, 1]; got {value:.4g}.")
    rng = np.random.default_rng(seed)                     # the draw, recomputed independently
    y_train = np.asarray(y_train)
    idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(y_train == c), 100, replace=False)
                                  for c in np.unique(y_train)]))
    actual = _knn_accuracy(encoder, x_train, y_train, idx, x_val_u8, y_val)
    if not np.isclose(value, actual, rtol=1e-3, atol=1e-4):
        on_test = (None if x_test_u8 is None else
                   _knn_accuracy(encoder, x_train, y_train, idx, x_test_u8, y_test))
        _not_on_test(value, on_test)
        expect_close(value, actual, "your accuracy", rel=1e-3,
                     advice="Use the lesson's first draw, applications.labelled_subset(y_train, "
                            "100, seed=S.seed), and KNeighborsClassifier(5) on the codes.")
    return f"validation accuracy {actual:.3f} of 5-NN on the codes of the first draw, recomputed."


register(lesson=8, number=2, title="k nearest neighbours instead of a logistic regression",
         answer="validation accuracy of 5-NN on the codes, 100 labels per class (first draw)",
         hint="idx = applications.labelled_subset(y_train, 100, seed=S.seed); fit "
              "KNeighborsClassifier(5) on latent.encode(encoder, x_train[idx]) and y_train[idx]; "
              "score it on the codes of x_val_u8.",
         solution=knn_on_codes, check=check_knn_on_codes)


# --------------------------------------------------------------------------- exercise 3


def _square_masks(n: int, side: int, seed_pair) -> np.ndarray:
    import tensorflow as tf

    corners = tf.random.stateless_uniform((n, 2), seed=seed_pair, minval=0, maxval=28 - side + 1,
                                          dtype=tf.int32).numpy()
    rows, cols = np.arange(28)[None, :, None], np.arange(28)[None, None, :]
    top, left = corners[:, 0, None, None], corners[:, 1, None, None]
    inside = (rows >= top) & (rows < top + side) & (cols >= left) & (cols < left + side)
    return inside.astype(np.float32)


def _hole_psnrs(inpainter, mean_image, x_u8, masks) -> tuple[float, float]:
    x = np.asarray(x_u8, np.float32) / 255.0
    out = predict(inpainter, x * (1 - masks) - masks, batch_size=1000).reshape(x.shape)
    psnr = lambda fill: float(10 * np.log10(1.0 / np.mean(                       # noqa: E731
        ((fill - x) ** 2 * masks).sum(axis=(1, 2)) / masks.sum(axis=(1, 2)))))
    return psnr(out), psnr(np.broadcast_to(mean_image, x.shape))


def bigger_hole(inpainter, mean_image, x_val_u8, seed, hole_masks, hide):
    from autoenc_helpers import data, metrics

    x = data.to_float(x_val_u8)
    masks = hole_masks(len(x), [seed, 3], side=16).numpy()         # 16x16 squares this time
    filled = inpainter.predict(hide(x, masks), batch_size=1000, verbose=0)
    psnr_ae = float(metrics.psnr(metrics.masked_mse(x, filled, masks).mean()))
    psnr_mean = float(metrics.psnr(metrics.masked_mse(x, np.broadcast_to(mean_image, x.shape),
                                                      masks).mean()))
    print(f"16x16 holes on validation images: inpainting autoencoder {psnr_ae:.2f} dB, "
          f"mean image {psnr_mean:.2f} dB")
    answer = (psnr_ae, psnr_mean)
    return answer


def check_bigger_hole(answer, inpainter, mean_image, x_val_u8, seed):
    reported_ae, reported_mean = unpack(answer, ("PSNR of the autoencoder", "PSNR of the mean"))
    ae, mean = _hole_psnrs(inpainter, mean_image, x_val_u8, _square_masks(len(x_val_u8), 16,
                                                                           [seed, 3]))
    value_ae = as_number(reported_ae, "the autoencoder's PSNR")
    value_mean = as_number(reported_mean, "the mean image's PSNR")
    if np.isclose(value_ae, mean, rtol=1e-3) and np.isclose(value_mean, ae, rtol=1e-3):
        raise Incorrect("the two numbers are swapped: the autoencoder's PSNR first.")
    twelve_ae, _ = _hole_psnrs(inpainter, mean_image, x_val_u8,
                               _square_masks(len(x_val_u8), 12, [seed, 3]))
    if np.isclose(value_ae, twelve_ae, rtol=1e-3) and not np.isclose(twelve_ae, ae, rtol=1e-3):
        raise Incorrect("that is the PSNR with 12x12 holes: make the squares 16 pixels wide.")
    expect_close(value_ae, ae, "the autoencoder's PSNR", rel=1e-3,
                 advice="Use 16x16 squares drawn with the seed pair [S.seed, 3] on x_val_u8.")
    expect_close(value_mean, mean, "the mean image's PSNR", rel=1e-3)
    verdict = "still beats" if ae > mean else "no longer beats"
    return (f"16x16 holes: autoencoder {ae:.2f} dB, mean image {mean:.2f} dB, recomputed; the "
            f"network trained on 12x12 holes {verdict} the mean image.")


register(lesson=8, number=3, title="A bigger hole than in training",
         answer="(PSNR of the inpainting autoencoder, PSNR of the mean image), in dB",
         hint="masks = hole_masks(len(x_val), [S.seed, 3], side=16).numpy(); fill with "
              "inpainter.predict(hide(x_val, masks)) and with mean_image; "
              "metrics.psnr(metrics.masked_mse(x_val, filled, masks).mean()) for each.",
         solution=bigger_hole, check=check_bigger_hole)
