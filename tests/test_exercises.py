"""Self-checking exercises: the framework (binding, check, quick mode, helpers) and, for every
exercise of lessons 1-4, that its stored solution passes its own check and that wrong answers
fail it with a clear message and no exception. Small data built here, tiny models, one epoch."""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from keras import layers

from autoenc_helpers import data, exercises, metrics, models, noise
from autoenc_helpers.anomaly import (MaxF1Threshold, ReconstructionAnomalyDetector,
                                     train_val_test_split)
from autoenc_helpers.exercises import Incorrect, SolutionFailedError
from exercise_asserts import assert_fails


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _images(n: int, seed: int) -> np.ndarray:
    """``(n, 28, 28)`` uint8 images: a blob of random place, size and brightness on a dark
    background (so that per-image errors differ from image to image)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(8, 20, (n, 2))
    widths = rng.uniform(5, 60, (n, 1, 1))
    brightness = rng.uniform(0.1, 1.0, (n, 1, 1))
    blobs = brightness * np.exp(-((yy - centres[:, :1, None]) ** 2
                                  + (xx - centres[:, 1:, None]) ** 2) / widths)
    return (255 * np.clip(blobs + 0.05 * rng.random((n, 28, 28)), 0, 1)).astype(np.uint8)


# --------------------------------------------------------------------------- the framework


def _toy_solution(numbers):
    return float(np.mean(numbers))


def _toy_check(answer, numbers, scale=1.0):
    exercises.expect_close(answer, float(np.mean(numbers)) * scale, "your mean")
    return "the mean is right."


@pytest.fixture
def toy_lesson():
    """Lesson 990 with one exercise whose solution passes, and one whose solution fails."""
    exercises.register(990, 1, "A mean", "the mean of numbers", "np.mean(numbers)",
                       _toy_solution, _toy_check)
    exercises.register(990, 2, "A broken solution", "a number", "none",
                       lambda numbers: -1.0, _toy_check)
    yield 990
    for key in [(990, 1), (990, 2)]:
        exercises._REGISTRY.pop(key, None)


def test_lesson_binds_exercises_in_order(toy_lesson):
    ex1, ex2 = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    assert (ex1.name, ex2.name) == ("ex1", "ex2")
    bound = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    assert bound[1].title == bound.ex1.title == "A mean" and len(bound) == 2
    assert ex1.solve() == 2.0 and ex1.evaluate(2.0).passed
    assert exercises.lesson(toy_lesson, numbers=[1, 2, 3], scale=2.0)[1].evaluate(4.0).passed


def test_lesson_names_missing_objects_and_warns_about_unused_ones(toy_lesson):
    with pytest.raises(ValueError, match="numbers=numbers"):
        exercises.lesson(toy_lesson)
    with pytest.warns(UserWarning, match="nubmers"):
        exercises.lesson(toy_lesson, numbers=[1], nubmers=[1])
    with pytest.raises(ValueError, match="no exercises"):
        exercises.lesson(987654)


def test_evaluate_never_raises_for_a_wrong_answer(toy_lesson):
    ex1, _ = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    for wrong, fragment in [(3.0, "recomputing it gives 2"), ("2", "should be a number"),
                            (True, "should be a number"), ([1, 2], "single number"),
                            (float("nan"), "not a finite"), (object(), "should be a number")]:
        assert_fails(ex1, wrong, fragment)
    unanswered = ex1.evaluate(None)
    assert not unanswered.passed and not unanswered.answered and "ex1.hint()" in str(unanswered)


def test_a_check_that_crashes_is_a_failed_check_not_a_traceback():
    def crashing_check(answer):
        return 1 / 0

    ex = exercises.BoundExercise(exercises.Exercise(991, 1, "t", "a number", "h", lambda: 1,
                                                    crashing_check), {})
    result = ex.evaluate(1)
    assert not result.passed and "ZeroDivisionError" in result.message


def test_check_prints_and_quick_mode_runs_the_stored_solution(toy_lesson, monkeypatch, capsys):
    ex1, ex2 = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    monkeypatch.delenv("AUTOENC_QUICK", raising=False)
    assert ex1.check(None) is None
    assert "Not answered yet" in capsys.readouterr().out
    ex1.check(5)
    assert "Not yet" in capsys.readouterr().out and not ex1.last_result.passed
    monkeypatch.setenv("AUTOENC_QUICK", "1")
    ex1.check(None)
    out = capsys.readouterr().out
    assert "stored solution" in out and "Correct" in out and ex1.last_result.passed
    with pytest.raises(SolutionFailedError, match="fails its check"):
        ex2.check(None)  # in CI a broken solution must stop the notebook
    ex2.check(2.0)  # a student's answer is checked as usual, also in quick mode
    assert ex2.last_result.passed


def test_hint_and_solution_show_text_and_real_source(toy_lesson, capsys):
    ex1, _ = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    ex1.hint()
    assert "np.mean(numbers)" in capsys.readouterr().out
    ex1.solution()
    out = capsys.readouterr().out
    assert "ex1.solve()" in out and "def _toy_solution(numbers):" in out


def test_check_helpers():
    assert exercises.unpack((1, 2), ("a", "b")) == (1, 2)
    with pytest.raises(Incorrect, match=r"tuple of 2 items \(a, b\)"):
        exercises.unpack((1, 2, 3), ("a", "b"))
    with pytest.raises(Incorrect, match="expected a tuple"):
        exercises.unpack({"a": 1, "b": 2}, ("a", "b"))
    assert exercises.as_number(np.float32(0.5), "x") == 0.5
    assert exercises.as_number(np.array([2.0]), "x") == 2.0
    with pytest.raises(Incorrect, match=r"shape \(n, 2\)"):
        exercises.as_array(np.zeros((3, 3)), "codes", shape=(None, 2))
    with pytest.raises(Incorrect, match="empty"):
        exercises.as_array([], "codes")
    with pytest.raises(Incorrect, match="finite"):
        exercises.as_array([1.0, np.inf], "codes")
    with pytest.raises(Incorrect, match="Keras model"):
        exercises.as_model("model")
    ae, _, _ = models.dense_autoencoder((28, 28), latent_dim=3, hidden=(7,))
    assert exercises.dense_widths(ae) == [7, 3, 7, 784]
    assert exercises.training_steps(ae) == 0
    ae.compile(optimizer="adam", loss="binary_crossentropy")
    assert exercises.loss_name(ae) == "binary_crossentropy"


def test_every_lesson_has_at_least_two_exercises_with_hints():
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "notebooks"
    lessons = sorted(int(nb.name[:2]) for nb in folder.glob("[0-9][0-9]_*.ipynb"))
    assert lessons, "no lesson notebooks found"
    for n in lessons:
        registered = exercises.registered(n)
        assert len(registered) >= 2
        assert [ex.number for ex in registered] == list(range(1, len(registered) + 1))
        assert all(ex.hint and ex.answer and ex.title for ex in registered)


# --------------------------------------------------------------------------- lesson 1


@pytest.fixture(scope="module")
def lesson1():
    keras.utils.set_random_seed(1)
    x = _images(160, seed=1)
    x_train, x_val = x[60:], data.to_float(x[:60])
    y_val = np.arange(60) % 10
    train_ds = data.autoencoder_dataset(x_train, batch_size=32, seed=1)
    autoencoder, _, _ = models.dense_autoencoder((28, 28), latent_dim=4, hidden=(512,))
    autoencoder.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse",
                        steps_per_execution=16)
    autoencoder.fit(train_ds, epochs=1, verbose=0)

    def mse(reconstruct, images):
        return float(metrics.reconstruction_errors(reconstruct, images).mean())

    ex = exercises.lesson(1, train_ds=train_ds, x_val=x_val, y_val=y_val, mse=mse,
                          autoencoder=autoencoder, LATENT=4, EPOCHS=1,
                          x_test_u8=_images(40, seed=2))
    return ex, {n: ex[n].solve() for n in (1, 2, 3)}, autoencoder


def test_lesson1_solutions_pass_their_checks(lesson1):
    ex, answers, _ = lesson1
    for n, answer in answers.items():
        assert ex[n].evaluate(answer).passed, ex[n].evaluate(answer)


def test_lesson1_wrong_answers_fail(lesson1):
    ex, answers, autoencoder = lesson1
    narrow, val_mse = answers[1]
    assert_fails(ex[1], narrow, "expected a tuple")
    assert_fails(ex[1], (autoencoder, val_mse), "main (512-wide) model")
    assert_fails(ex[1], (narrow, val_mse * 1.1), "recomputing it gives")
    assert_fails(ex[1], (narrow, None), "should be a number")
    untrained, _, _ = models.dense_autoencoder((28, 28), latent_dim=4, hidden=(256,))
    assert_fails(ex[1], (untrained, val_mse), "not been trained")
    wrong_width, _, _ = models.dense_autoencoder((28, 28), latent_dim=4, hidden=(128,))
    assert_fails(ex[1], (wrong_width, val_mse), "[128, 4, 128, 784]")

    bce, bce_mse = answers[2]
    # the bug of the old solution: recompiling the trained MSE model with cross-entropy
    assert_fails(ex[2], (autoencoder, bce_mse), "Build a fresh model")
    assert_fails(ex[2], (narrow, val_mse), "loss 'mse'")
    assert_fails(ex[2], (bce, bce_mse + 0.01), "recomputing it gives")

    encoder, codes = answers[3]
    assert_fails(ex[3], (encoder, codes[:10]), "shape (60, 2)")
    assert_fails(ex[3], (encoder, codes[::-1]), "not the encoder's codes")
    assert_fails(ex[3], (encoder, np.zeros_like(codes)), "all codes are equal")
    assert_fails(ex[3], (encoder, np.full_like(codes, np.nan)), "finite")


# --------------------------------------------------------------------------- lesson 2


@pytest.fixture(scope="module")
def lesson2():
    keras.utils.set_random_seed(2)
    x = _images(160, seed=3)
    x_train, x_val = x[60:], data.to_float(x[:60])
    train_noise = noise.Noise("gaussian", 0.2)
    train_ds = data.autoencoder_dataset(x_train, batch_size=32, seed=2,
                                        corrupt=noise.make_corrupt(train_noise))
    x_val_noisy = noise.add_noise(x_val, train_noise, seed=10)
    denoiser, _, _ = models.conv_autoencoder((28, 28), filters=(4, 8), bottleneck_convs=1)
    denoiser.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", steps_per_execution=16)
    denoiser.fit(train_ds, epochs=1, verbose=0)
    ex = exercises.lesson(2, denoiser=denoiser, x_train=x_train, x_val=x_val,
                          x_val_noisy=x_val_noisy, EPOCHS=1, BATCH_SIZE=32)
    return ex, {n: ex[n].solve() for n in (1, 2, 3)}, denoiser, x_val


def test_lesson2_solutions_pass_their_checks(lesson2):
    ex, answers, _, _ = lesson2
    for n, answer in answers.items():
        assert ex[n].evaluate(answer).passed, ex[n].evaluate(answer)


def test_lesson2_wrong_answers_fail(lesson2):
    ex, answers, denoiser, x_val = lesson2
    generalist, psnr = answers[1]
    assert_fails(ex[1], (denoiser, psnr), "lesson's denoiser")
    assert_fails(ex[1], (generalist, psnr + 0.5), "recomputing it gives")
    small, _, _ = models.conv_autoencoder((28, 28), filters=(2, 4))
    assert_fails(ex[1], (small, psnr), "same architecture")
    fresh = keras.models.clone_model(denoiser)
    assert_fails(ex[1], (fresh, psnr), "not been trained")

    p_noisy, p_denoised = answers[2]
    assert_fails(ex[2], (p_denoised, p_noisy), "swapped")
    assert_fails(ex[2], (p_noisy, p_denoised + 1.0), "seed=21")
    x_noisy = noise.add_noise(x_val, noise.Noise("gaussian", 0.3), seed=21)
    per_image = noise.denoising_errors(denoiser, x_noisy, x_val)
    assert_fails(ex[2], (p_noisy, float(np.mean(metrics.psnr(per_image)))), "averaged")
    on_clean = float(metrics.psnr(noise.denoising_errors(denoiser, x_val, x_val).mean()))
    if not np.isclose(on_clean, p_denoised, rtol=1e-3):  # a tiny model may ignore its input
        assert_fails(ex[2], (p_noisy, on_clean), "CLEAN")

    plain, plain_psnr = answers[3]
    assert_fails(ex[3], (denoiser, plain_psnr), "lesson's denoiser")
    assert_fails(ex[3], (plain, plain_psnr - 1.0), "recomputing it gives")
    plain_on_clean = float(metrics.psnr(noise.denoising_errors(plain, x_val, x_val).mean()))
    if not np.isclose(plain_on_clean, plain_psnr, rtol=1e-3):
        assert_fails(ex[3], (plain, plain_on_clean), "CLEAN")


# --------------------------------------------------------------------------- lesson 3


@pytest.fixture(scope="module")
def lesson3():
    rng = np.random.default_rng(3)
    val_errors = rng.gamma(2.0, 0.01, 600).astype(np.float32)
    test_errors = rng.gamma(2.0, 0.013, 500).astype(np.float32)  # some false alarms
    threshold = metrics.percentile_threshold(val_errors, 99)
    ood_errors = {"rot180": rng.gamma(2.0, 0.02, 150).astype(np.float32),
                  "noise": rng.gamma(2.0, 0.5, 150).astype(np.float32)}
    y_sub = np.arange(120) % 10
    z_sub = (rng.normal(0, 5, (10, 20))[y_sub] + rng.normal(0, 1, (120, 20))).astype(np.float32)
    objects = dict(val_errors=val_errors, test_errors=test_errors, ood_errors=ood_errors,
                   threshold=threshold, x_test_u8=_images(500, seed=4),
                   y_test=np.arange(500) % 10, z_sub=z_sub, y_sub=y_sub, K=5)
    ex = exercises.lesson(3, **objects)
    return ex, {n: ex[n].solve() for n in (1, 2, 3)}, objects


def test_lesson3_solutions_pass_their_checks(lesson3):
    ex, answers, _ = lesson3
    for n, answer in answers.items():
        assert ex[n].evaluate(answer).passed, ex[n].evaluate(answer)


def test_lesson3_wrong_answers_fail(lesson3):
    from sklearn.manifold import trustworthiness

    ex, answers, o = lesson3
    t, far, rates = answers[1]
    assert_fails(ex[1], (float(np.percentile(o["test_errors"], 99.9)), far, rates), "TEST")
    assert_fails(ex[1], (o["threshold"], far, rates), "99th percentile")
    assert_fails(ex[1], (t, far * 100, rates), "percent")
    assert_fails(ex[1], (t, float(np.mean(o["val_errors"] >= t)), rates), "validation errors")
    assert_fails(ex[1], (t, far, {"rot180": rates["rot180"]}), "miss these kinds")
    assert_fails(ex[1], (t, far, {k: v + 0.1 for k, v in rates.items()}), "flag rate for")

    missed = answers[2]
    errors = o["ood_errors"]["rot180"]
    assert len(missed) and len(missed) < len(errors)  # the fixture tests both directions
    assert_fails(ex[2], np.setdiff1d(np.arange(len(errors)), missed), "WERE flagged")
    assert_fails(ex[2], missed[:-1], "missing")
    assert_fails(ex[2], errors < o["threshold"], "boolean mask")
    assert_fails(ex[2], [len(errors) + 3], "must lie in")

    tsne_map, trust = answers[3]
    assert_fails(ex[3], (tsne_map, trust + 0.01), "recomputing it gives")
    assert_fails(ex[3], (o["z_sub"][:, :2], trust), "first two coordinates")
    assert_fails(ex[3], (tsne_map[:10], trust), "shape (120, 2)")
    assert_fails(ex[3], (tsne_map, trustworthiness(o["z_sub"], tsne_map, n_neighbors=10)),
                 "n_neighbors=K")


# --------------------------------------------------------------------------- lesson 4


def _tiny_builder(n_features: int) -> keras.Model:
    beat = keras.Input((n_features,))
    code = layers.Dense(4, activation="relu")(beat)
    return keras.Model(beat, layers.Dense(n_features, activation="sigmoid")(code))


@pytest.fixture(scope="module")
def lesson4():
    rng = np.random.default_rng(4)
    n, d = 400, 140
    t = np.linspace(0, 2 * np.pi, d)
    y = (rng.random(n) < 0.4).astype(int)  # 1 = anomaly
    x = (np.sin(t)[None] * (1 + 0.1 * rng.normal(size=(n, 1))) + 0.3 * rng.normal(size=(n, d))
         + 0.5 * y[:, None] * np.cos(3 * t)[None]).astype(np.float32)
    split = train_val_test_split(x, y, 0.25, 0.25, seed=0)
    x_train_normal = split.x_train[split.y_train == 0]
    detector = ReconstructionAnomalyDetector(_tiny_builder, threshold=MaxF1Threshold(), epochs=3,
                                             random_state=0)
    detector.fit(x_train_normal, split.x_val, split.y_val)
    ex = exercises.lesson(4, detector=detector, split=split, x_train_normal=x_train_normal)
    return ex, {k: ex[k].solve() for k in (1, 2, 3)}, detector, x_train_normal


def test_lesson4_solutions_pass_their_checks(lesson4):
    ex, answers, _, _ = lesson4
    for n, answer in answers.items():
        assert ex[n].evaluate(answer).passed, ex[n].evaluate(answer)


def test_lesson4_wrong_answers_fail(lesson4):
    ex, answers, detector, x_train_normal = lesson4
    auc_mae, auc_mse = answers[1]
    assert auc_mae != auc_mse
    assert_fails(ex[1], (auc_mse, auc_mae), "swapped")
    assert_fails(ex[1], (1 - auc_mae, auc_mse), "1 minus")
    assert_fails(ex[1], (auc_mae, auc_mse - 0.05), "recomputing")

    t, precision, recall = answers[2]
    assert precision != recall
    assert_fails(ex[2], (float(np.percentile(detector.val_errors_, 99)), precision, recall),
                 "ALL validation errors")
    assert_fails(ex[2], (t, recall, precision), "swapped")
    assert_fails(ex[2], (t, precision, recall - 0.1), "flag when error >= threshold")

    tutorial, roc_auc, f1 = answers[3]
    assert_fails(ex[3], (detector, roc_auc, f1), "lesson's detector")
    assert_fails(ex[3], (tutorial, roc_auc + 0.01, f1), "ROC AUC")
    other = ReconstructionAnomalyDetector(_tiny_builder, threshold="mean_std", epochs=1)
    assert_fails(ex[3], (other.fit(x_train_normal), roc_auc, f1), "[32, 16, 8, 16, 32, 140]")


def test_the_exercises_subpackage_is_installed_with_the_helpers():
    """A wheel (Colab's install) holds only the packages pyproject.toml lists."""
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    setuptools = config["tool"]["setuptools"]
    packages = setuptools.get("packages", [])
    assert "autoenc_helpers.exercises" in packages or isinstance(packages, dict), (
        "add \"autoenc_helpers.exercises\" to [tool.setuptools] packages in pyproject.toml")
