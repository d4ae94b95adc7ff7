"""Self-checking exercises: the engine (binding, the one checker, the catalogue of mistakes,
quick mode), and for every lesson that each stored solution passes its own check and that each
named wrong answer fails it with its reason and no exception. Small data built here, tiny
models, one epoch. (The layering rule of ``exercises/`` is checked in ``test_layout.py``.)"""

from __future__ import annotations

from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from keras import layers

from autoenc_helpers import data, exercises, metrics, models, noise
from autoenc_helpers.anomaly import (MaxF1Threshold, PercentileThreshold,
                                     ReconstructionAnomalyDetector)
from autoenc_helpers.data import train_val_test_split
from autoenc_helpers.exercises import CheckResult, Incorrect, SolutionFailedError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_fails(ex, answer, *fragments: str) -> CheckResult:
    """The check rejects ``answer`` without raising, and its message says why."""
    result = ex.evaluate(answer)
    assert not result.passed and result.answered, result
    assert result.message and "Traceback" not in result.message
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result


def by_number(bound) -> dict:
    """A lesson's bound exercises by their number: ``ex[1]`` is exercise 1."""
    return {ex.number: ex for ex in bound}


def assert_solutions_pass(bound) -> None:
    """Every stored solution passes its own check; ``None`` counts as unanswered."""
    for ex in (bound.values() if isinstance(bound, dict) else bound):
        result = ex.evaluate(ex.solve())
        assert result.passed, (ex.name, result.message)
        assert not ex.evaluate(None).answered


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


# --------------------------------------------------------------------------- the engine


def _toy_solution(numbers):
    return float(np.mean(numbers))


def _toy_expected(answer, numbers, scale=1.0, doubled=False):
    return float(np.mean(numbers)) * scale * (2 if doubled else 1)


@pytest.fixture
def toy_lesson():
    """Lesson 990 with one exercise whose solution passes, and one whose solution fails."""
    doubled = exercises.recomputed("you doubled it.", doubled=True)
    exercises.exercise(990, 1, "A mean", ("mean",), _toy_expected, "np.mean(numbers)",
                       passed="the mean is {0:g}.", mistakes=[doubled])(_toy_solution)
    exercises.exercise(990, 2, "A broken solution", ("mean",), _toy_expected,
                       "none")(lambda numbers: -1.0)
    yield 990
    for key in [(990, 1), (990, 2)]:
        exercises._REGISTRY.pop(key, None)


def test_lesson_binds_exercises_in_order(toy_lesson):
    ex1, ex2 = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    assert (ex1.name, ex2.name) == ("ex1", "ex2")
    assert ex1.title == "A mean" and ex1.number == 1 and ex1.objects == {"numbers": [1, 2, 3]}
    assert ex1.solve() == 2.0 and ex1.evaluate(2.0).passed
    assert ex1.evaluate(2.0).message == "the mean is 2. Recomputed independently: mean 2."
    assert exercises.lesson(toy_lesson, numbers=[1, 2, 3], scale=2.0)[0].evaluate(4.0).passed


def test_lesson_names_missing_objects_and_warns_about_unused_ones(toy_lesson):
    with pytest.raises(ValueError, match="numbers=numbers"):
        exercises.lesson(toy_lesson)
    with pytest.warns(UserWarning, match="nubmers"):
        exercises.lesson(toy_lesson, numbers=[1], nubmers=[1])
    for n, number in ((1, 1), (7, 3), (8, 1)):  # objects only a named mistake uses count too
        assert exercises.registered(n)[number - 1].needs["x_test_u8"] is False
    with pytest.raises(ValueError, match="no exercises"):
        exercises.lesson(987654)


def test_evaluate_never_raises_for_a_wrong_answer(toy_lesson):
    ex1, _ = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    for wrong, fragment in [(3.0, "recomputing it gives 2"), ("2", "should be a number"),
                            (True, "should be a number"), ([1, 2], "single number"),
                            (float("nan"), "not a finite"), (object(), "should be a number"),
                            ({"mean": 2.0}, "should be a number"), ((), "single number")]:
        assert_fails(ex1, wrong, fragment)
    unanswered = ex1.evaluate(None)
    assert not unanswered.passed and not unanswered.answered and "ex1.hint()" in str(unanswered)


def test_a_named_mistake_is_recognised_only_when_it_explains_the_answer(toy_lesson):
    ex1, _ = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    assert_fails(ex1, 4.0, "you doubled it")
    assert "doubled" not in assert_fails(ex1, 5.0, "recomputing").message


def test_the_catalogue_of_mistakes():
    def expected(a, b, x, which="val"):
        return (x[which] * 2, 1 - x[which])

    ex = exercises.Exercise(
        992, 1, "t", "a pair", ("a", "b"), expected, "h", lambda: None, "ok",
        (exercises.swapped(), exercises.ONE_MINUS_AUC, exercises.on_test(which="test"),
         exercises.PERCENT), objects={"x": {"val": 0.2, "test": 0.3}})
    assert ex.evaluate((0.4, 0.8)).passed
    assert_fails(ex, (0.8, 0.4), "swapped")
    assert_fails(ex, (0.6, 0.8), "1 minus")
    assert_fails(ex, (0.6, 0.7), "TEST set")
    assert_fails(ex, (40.0, 0.8), "percent")
    assert_fails(ex, (0.4, 0.1), "recomputing it gives 0.8")
    assert_fails(ex, (0.4, 0.8, 1.0), "tuple of 2 items (a, b)")
    assert_fails(ex, {"a": 0.4, "b": 0.8}, "expected a tuple")


def test_a_check_that_crashes_is_a_failed_check_not_a_traceback():
    ex = exercises.Exercise(991, 1, "t", "a number", ("n",), lambda n: 1 / 0, "h", lambda: 1)
    result = ex.evaluate(1)
    assert not result.passed and "ZeroDivisionError" in result.message


def test_check_prints_and_quick_mode_runs_the_stored_solution(toy_lesson, monkeypatch, capsys):
    ex1, ex2 = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    monkeypatch.delenv("AUTOENC_QUICK", raising=False)
    assert ex1.check(None) is None
    assert "Not answered yet" in capsys.readouterr().out
    ex1.check(5)
    assert "ex1: Not yet" in capsys.readouterr().out
    monkeypatch.setenv("AUTOENC_QUICK", "1")
    ex1.check(None)
    out = capsys.readouterr().out
    assert "stored solution" in out and "ex1: Correct" in out
    with pytest.raises(SolutionFailedError, match="fails its check"):
        ex2.check(None)  # in CI a broken solution must stop the notebook
    ex2.check(2.0)  # a student's answer is checked as usual, also in quick mode
    assert "ex2: Correct" in capsys.readouterr().out


def test_hint_and_solution_show_text_and_real_source(toy_lesson, capsys):
    ex1, _ = exercises.lesson(toy_lesson, numbers=[1, 2, 3])
    ex1.hint()
    assert "np.mean(numbers)" in capsys.readouterr().out
    ex1.solution()
    out = capsys.readouterr().out
    assert "ex1.solve()" in out and "def _toy_solution(numbers):" in out


def test_check_helpers():
    assert exercises._unpack((1, 2), ("a", "b")) == (1, 2)
    with pytest.raises(Incorrect, match=r"tuple of 2 items \(a, b\)"):
        exercises._unpack((1, 2, 3), ("a", "b"))
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
    exercises.expect_widths(ae, [7, 3, 7, 784])
    with pytest.raises(Incorrect, match=r"\[7, 3, 7, 784\] units; expected \[7\]"):
        exercises.expect_widths(ae, [7])
    assert exercises.training_steps(ae) == 0
    ae.compile(optimizer="adam", loss="binary_crossentropy")
    exercises.expect_loss(ae, "binary_crossentropy")
    with pytest.raises(Incorrect, match="loss 'binary_crossentropy'; use loss=\"mse\""):
        exercises.expect_loss(ae, "mse", "mean_squared_error")
    x = _images(3, seed=0)
    np.testing.assert_allclose(exercises.per_image_mse(x.astype(np.float32) / 255, x), 0,
                               atol=1e-7)
    assert exercises.dataset_psnr([0.01, 0.01]) == pytest.approx(20.0)
    assert exercises.dataset_psnr([0.01, 0.0001], per_image=True) == pytest.approx(30.0)


def test_every_lesson_has_at_least_two_exercises_with_hints():
    lessons = sorted(int(nb.name[:2]) for nb in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert lessons, "no lesson notebooks found"
    for n in lessons:
        registered = exercises.registered(n)
        assert len(registered) >= 2
        assert [ex.number for ex in registered] == list(range(1, len(registered) + 1))
        assert all(ex.hint_text and ex.answer and ex.title and ex.parts for ex in registered)


def test_the_exercises_subpackage_is_installed_with_the_helpers():
    """A wheel (Colab's install) holds only the packages pyproject.toml lists."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = config["tool"]["setuptools"].get("packages", [])
    assert isinstance(packages, list) and "autoenc_helpers.exercises" in packages, (
        "add \"autoenc_helpers.exercises\" to [tool.setuptools] packages in pyproject.toml")


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

    x_test_u8 = _images(40, seed=2)
    ex = exercises.lesson(1, train_ds=train_ds, x_val=x_val, y_val=y_val, mse=mse,
                          autoencoder=autoencoder, LATENT=4, EPOCHS=1, x_test_u8=x_test_u8)
    ex = by_number(ex)
    return ex, {n: ex[n].solve() for n in (1, 2, 3)}, autoencoder, mse, x_test_u8


def test_lesson1_solution_shows_the_real_source(lesson1, capsys):
    lesson1[0][1].solution()  # the real source, without the @exercise(...) spec above it
    out = capsys.readouterr().out
    assert "def narrow_hidden_layer(" in out and "@exercise" not in out and "hint=" not in out


def test_lesson1_wrong_answers_fail(lesson1):
    ex, answers, autoencoder, mse, x_test_u8 = lesson1
    narrow, val_mse = answers[1]
    assert_fails(ex[1], narrow, "expected a tuple")
    assert_fails(ex[1], (autoencoder, val_mse), "main (512-wide) model")
    assert_fails(ex[1], (narrow, val_mse * 1.1), "recomputing it gives")
    assert_fails(ex[1], (narrow, None), "should be a number")
    assert_fails(ex[1], (narrow, mse(narrow, x_test_u8)), "TEST set")
    untrained, _, _ = models.dense_autoencoder((28, 28), latent_dim=4, hidden=(256,))
    assert_fails(ex[1], (untrained, val_mse), "not been trained")
    wrong_width, _, _ = models.dense_autoencoder((28, 28), latent_dim=4, hidden=(128,))
    assert_fails(ex[1], (wrong_width, val_mse), "[128, 4, 128, 784]")

    bce, bce_mse = answers[2]
    # the bug of the old solution: recompiling the trained MSE model with cross-entropy
    assert_fails(ex[2], (autoencoder, bce_mse), "Build a fresh model")
    assert_fails(ex[2], (narrow, val_mse), "loss 'mse'")
    assert_fails(ex[2], (bce, bce_mse + 0.01), "recomputing it gives")
    bce_on_test = mse(bce, x_test_u8)
    assert not np.isclose(bce_on_test, bce_mse)
    assert_fails(ex[2], (bce, bce_on_test), "TEST set")

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
    # trained enough that its output depends on its input (clean and noisy inputs differ)
    denoiser.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", steps_per_execution=16)
    denoiser.fit(train_ds, epochs=3, verbose=0)
    ex = exercises.lesson(2, denoiser=denoiser, x_train=x_train, x_val=x_val,
                          x_val_noisy=x_val_noisy, EPOCHS=3, BATCH_SIZE=32, noise=noise)
    ex = by_number(ex)
    return ex, {n: ex[n].solve() for n in (1, 2, 3)}, denoiser, x_val


def test_lesson2_wrong_answers_fail(lesson2):
    ex, answers, denoiser, x_val = lesson2
    generalist, psnr = answers[1]
    assert_fails(ex[1], (denoiser, psnr), "lesson's denoiser")
    assert_fails(ex[1], (generalist, psnr + 0.5), "recomputing it gives")
    x_04 = noise.add_noise(x_val, noise.Noise("gaussian", 0.4), seed=20)
    per_image_04 = noise.denoising_errors(generalist, x_04, x_val)
    assert_fails(ex[1], (generalist, float(np.mean(metrics.psnr(per_image_04)))), "averaged")
    denoiser_psnr = float(metrics.psnr(noise.denoising_errors(denoiser, x_04, x_val).mean()))
    assert not np.isclose(denoiser_psnr, psnr, rtol=1e-3)  # else the mistake could not show
    assert_fails(ex[1], (generalist, denoiser_psnr), "PSNR of the lesson's denoiser")
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
    assert not np.isclose(on_clean, p_denoised, rtol=1e-3)  # the denoiser uses its input
    assert_fails(ex[2], (p_noisy, on_clean), "CLEAN")

    plain, plain_psnr = answers[3]
    assert_fails(ex[3], (denoiser, plain_psnr), "lesson's denoiser")
    assert_fails(ex[3], (plain, plain_psnr - 1.0), "recomputing it gives")
    plain_on_clean = float(metrics.psnr(noise.denoising_errors(plain, x_val, x_val).mean()))
    assert not np.isclose(plain_on_clean, plain_psnr, rtol=1e-3)
    assert_fails(ex[3], (plain, plain_on_clean), "CLEAN")


# --------------------------------------------------------------------------- lesson 3


@pytest.fixture(scope="module")
def lesson3():
    from autoenc_helpers import latent

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
                   y_test=np.arange(500) % 10, z_sub=z_sub, y_sub=y_sub, K=5, latent=latent)
    ex = by_number(exercises.lesson(3, **objects))
    return ex, {n: ex[n].solve() for n in (1, 2, 3)}, objects


def test_lesson3_wrong_answers_fail(lesson3):
    from sklearn.manifold import trustworthiness

    ex, answers, o = lesson3
    t, far, rates = answers[1]
    assert_fails(ex[1], (float(np.percentile(o["test_errors"], 99.9)), far, rates), "TEST")
    assert_fails(ex[1], (o["threshold"], far, rates), "99th percentile")
    assert_fails(ex[1], (t, far * 100, rates), "percent")
    assert_fails(ex[1], (t, float(np.mean(o["val_errors"] >= t)), rates), "validation errors")
    assert_fails(ex[1], (t, far, {"rot180": rates["rot180"]}), "lack the keys")
    assert_fails(ex[1], (t, far, {k: v + 0.1 for k, v in rates.items()}), "flag rates by kind")

    missed = answers[2]
    errors = o["ood_errors"]["rot180"]
    assert len(missed) and len(missed) < len(errors)  # the fixture tests both directions
    assert_fails(ex[2], np.setdiff1d(np.arange(len(errors)), missed), "WERE flagged")
    assert_fails(ex[2], missed[:-1], "missing")
    assert_fails(ex[2], errors < o["threshold"], "boolean mask")
    assert_fails(ex[2], [len(errors) + 3], "must lie in")
    assert_fails(ex[2], np.r_[missed, missed[:1]], "appear once")

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
    ex = exercises.lesson(4, detector=detector, split=split, x_train_normal=x_train_normal,
                          PercentileThreshold=PercentileThreshold,
                          ReconstructionAnomalyDetector=ReconstructionAnomalyDetector)
    ex = by_number(ex)
    return ex, {k: ex[k].solve() for k in (1, 2, 3)}, detector, x_train_normal, split


def test_lesson4_wrong_answers_fail(lesson4):
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    ex, answers, detector, x_train_normal, split = lesson4
    auc_mae, auc_mse = answers[1]
    assert auc_mae != auc_mse
    assert_fails(ex[1], (auc_mse, auc_mae), "swapped")
    assert_fails(ex[1], (1 - auc_mae, auc_mse), "1 minus")
    assert_fails(ex[1], (auc_mae, auc_mse - 0.05), "recomputing")
    test_mae = roc_auc_score(split.y_test, detector.score_samples(split.x_test))
    if not np.isclose(test_mae, auc_mae, rtol=1e-3):
        assert_fails(ex[1], (test_mae, auc_mse), "TEST set")

    t, precision, recall = answers[2]
    assert precision != recall
    assert_fails(ex[2], (float(np.percentile(detector.val_errors_, 99)), precision, recall),
                 "ALL validation errors")
    assert_fails(ex[2], (t, recall, precision), "swapped")
    assert_fails(ex[2], (t, precision, recall - 0.1), "error >= threshold")
    errors, y = np.asarray(detector.val_errors_), np.asarray(split.y_val)
    t_train = float(np.percentile(detector.train_errors_, 99))
    assert not np.isclose(t_train, t)
    assert_fails(ex[2], (t_train, precision_score(y, errors >= t_train, zero_division=0.0),
                         recall_score(y, errors >= t_train)), "training")
    assert_fails(ex[2], (t, precision_score(y == 0, errors < t, zero_division=0.0),
                         recall_score(y == 0, errors < t)), "NORMAL class")

    tutorial, roc_auc, f1 = answers[3]
    assert_fails(ex[3], (detector, roc_auc, f1), "lesson's detector")
    assert_fails(ex[3], (tutorial, roc_auc + 0.01, f1), "ROC AUC")
    assert not np.isclose(roc_auc, 0.5)
    assert_fails(ex[3], (tutorial, 1 - roc_auc, f1), "1 minus")
    other = ReconstructionAnomalyDetector(_tiny_builder, threshold="mean_std", epochs=1)
    assert_fails(ex[3], (other.fit(x_train_normal), roc_auc, f1), "[32, 16, 8, 16, 32, 140]")


# --------------------------------------------------------------------------- lesson 5


@pytest.fixture(scope="module")
def lesson5_objects():
    from autoenc_helpers import sequences

    split = sequences.make_signal_splits(12, 6, 6, length=16, seed=0)
    x_train, x_val, x_test = (sequences.as_sequences(x)
                              for x in (split.x_train, split.x_val, split.x_test))

    def train(model):
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        model.fit(x_train, x_train, epochs=1, batch_size=16, verbose=0)

    # small labelled "beats" of our own for the ECG exercise: smooth normals, noisy anomalies
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 20, dtype=np.float32)
    x_all = np.sin(t)[None, :] + rng.normal(0, 0.05, (120, 20)).astype(np.float32)
    y_all = (np.arange(120) % 3 == 0).astype(np.int64)
    x_all[y_all == 1] += rng.normal(0, 1.0, (int(y_all.sum()), 20)).astype(np.float32)

    def build_conv(n_features):
        beats = keras.Input((n_features,))
        x = keras.layers.Reshape((n_features, 1))(beats)
        x = keras.layers.Conv1D(2, 3, strides=2, padding="same", activation="relu")(x)
        code = keras.layers.Dense(2)(keras.layers.Flatten()(x))
        return keras.Model(beats, keras.layers.Dense(n_features, activation="sigmoid")(code))

    def make_detector(build, seed, epochs=1):
        return ReconstructionAnomalyDetector(build, epochs=epochs, random_state=seed)

    return dict(train=train, split=split, x_train=x_train, x_val=x_val, x_test=x_test,
                LENGTH=16, LATENT=3, UNITS=4, x_all=x_all, y_all=y_all, build_conv=build_conv,
                make_detector=make_detector, ECG_MAX_EPOCHS=1, sequences=sequences,
                train_val_test_split=train_val_test_split)


def test_lesson5_solutions_pass_and_wrong_answers_fail(lesson5_objects):
    ex1, ex2, ex3, ex4 = exercises.lesson(5, **lesson5_objects)
    assert_solutions_pass((ex1, ex2, ex3, ex4))
    encoder, acc = ex1.solve()
    assert_fails(ex1, (encoder, acc + 0.3), "recomputing")  # a typed-in number
    assert_fails(ex2, (encoder, acc), "asks for 4")  # a 3-number code, not 4
    _, lstm, _ = models.recurrent_autoencoder(16, latent_dim=3, units=4)
    assert_fails(ex1, (lstm, acc), "use GRU layers")
    assert_fails(ex3, (5.0, 0.5), "closer than")  # a wrong gap with separate series
    rms_windows, rms_series = ex3.solve()
    assert_fails(ex3, (rms_windows, rms_series * 1.1), "recomputing")


def test_lesson5_probe_on_the_test_series_is_named(lesson5_objects):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ex1, *_ = exercises.lesson(5, **lesson5_objects)
    o = lesson5_objects
    encoder, acc = ex1.solve()
    codes = [encoder.predict(o[k], verbose=0) for k in ("x_train", "x_test")]
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    on_test = probe.fit(codes[0], o["split"].y_train).score(codes[1], o["split"].y_test)
    if not np.isclose(on_test, acc):
        assert_fails(ex1, (encoder, on_test), "TEST set")


def test_lesson5_budget_exercise_rejects_wrong_detectors(lesson5_objects):
    *_, ex4 = exercises.lesson(5, **lesson5_objects)
    short, long = ex4.solve()
    assert ex4.evaluate((short, long)).passed
    assert_fails(ex4, (long, short), "budget of 2 epochs")  # swapped
    assert_fails(ex4, (short, 0.99), "ReconstructionAnomalyDetector")  # a number, not a detector
    unfitted = ReconstructionAnomalyDetector(lesson5_objects["build_conv"], epochs=2)
    assert_fails(ex4, (short, unfitted), "not fitted")
    x, y = lesson5_objects["x_all"], lesson5_objects["y_all"]
    dense = ReconstructionAnomalyDetector(
        lambda n: models.dense_autoencoder((n,), latent_dim=2, hidden=())[0], epochs=2)
    dense.fit(x[:60][y[:60] == 0], x[60:], y[60:])
    assert_fails(ex4, (short, dense), "no Conv1D")
    other_split = ReconstructionAnomalyDetector(lesson5_objects["build_conv"], epochs=2)
    other_split.fit(x[:60][y[:60] == 0], x[60:], y[60:])
    assert_fails(ex4, (short, other_split), "different data")


# --------------------------------------------------------------------------- lesson 6


@pytest.fixture(scope="module")
def lesson6():
    from autoenc_helpers.models import ContractiveAutoencoder, single_layer_autoencoder

    keras.utils.set_random_seed(0)
    x_val = np.random.default_rng(0).random((64, 28, 28)).astype("float32") ** 3

    def train_penalised(model_class, weight, **options):
        _, encoder, decoder = single_layer_autoencoder((28, 28), code_size=16)
        model = model_class(encoder, decoder, weight=weight, **options)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=2)
        return model, encoder, model.fit(x_val, epochs=1, batch_size=32, verbose=0)

    plain_ae, _, _ = single_layer_autoencoder((28, 28), code_size=16)
    plain_ae.compile(optimizer="adam", loss="mse")
    plain_ae.fit(x_val, x_val, epochs=1, batch_size=32, verbose=0)
    cae_ae, _, _ = train_penalised(ContractiveAutoencoder, 1e-4)
    # OFF = 0.5: the tiny models' codes hover around 0.5, so the share of units on varies
    objects = dict(train_penalised=train_penalised, x_val=x_val, OFF=0.5, L1_WEIGHT=1e-4,
                   KL_WEIGHT=1e-2, plain_ae=plain_ae, cae_ae=cae_ae)
    return by_number(exercises.lesson(6, **objects)), objects


def test_lesson6_checks_reject_wrong_answers(lesson6):
    from autoenc_helpers.models import KLSparseAutoencoder, L1SparseAutoencoder

    exs, objects = lesson6
    train, x_val = objects["train_penalised"], objects["x_val"]
    model, encoder, _ = train(L1SparseAutoencoder, 3e-4)
    on = np.mean(encoder.predict(x_val, verbose=0) >= objects["OFF"], axis=1)
    median_on = float(np.median(on))
    assert not np.isclose(median_on, 0.5)  # else "on" and "off" could not be told apart
    assert_fails(exs[1], (model, 1 - median_on), "units OFF")
    assert not np.isclose(on.mean(), median_on, atol=1e-3)  # else the mistake could not show
    assert_fails(exs[1], (model, float(on.mean())), "MEAN share")
    weak, _, _ = train(L1SparseAutoencoder, 1e-5)
    assert_fails(exs[1], (weak, median_on), "STRONGER")
    assert_fails(exs[1], (model, median_on + 0.2), "recomputing")
    kl, _, _ = train(KLSparseAutoencoder, 1e-2, target=0.05)
    assert_fails(exs[2], (kl, 0.05), "target=0.1")
    assert_fails(exs[2], ("not a model", 0.05), "Keras model")
    noisy = np.clip(x_val + np.random.default_rng(1).normal(0, 0.2, x_val.shape), 0, 1)
    on_noisy = {name: float(np.mean((objects[key].predict(noisy, verbose=0) - noisy) ** 2))
                for name, key in (("plain", "plain_ae"), ("contractive", "cae_ae"))}
    assert_fails(exs[3], (noisy, on_noisy), "NOISY")
    assert_fails(exs[3], (x_val + np.random.default_rng(1).normal(0, 0.2, x_val.shape), on_noisy),
                 "clip")
    assert_fails(exs[3], (x_val, on_noisy), "only")
    assert_fails(exs[3], (noisy, {"plain": 0.1}), "lack the keys")


# --------------------------------------------------------------------------- lesson 7


@pytest.fixture(scope="module")
def lesson7():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    grey = (rng.random((200, 28, 28)) ** 4 * 255).astype(np.uint8)
    binary = data.binarise(grey, seed=0)
    train_ds = data.autoencoder_dataset(binary[:128], batch_size=32, seed=0)
    vae, _, _ = models.dense_vae((28, 28), latent_dim=4, hidden=(16,), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    vae.fit(train_ds, epochs=3, verbose=0)
    family_vae, _, _ = models.dense_vae((28, 28), latent_dim=4, hidden=(8,), seed=1)
    family_vae.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=16)
    family_vae.fit(train_ds, epochs=1, verbose=0)
    other = data.binarise((rng.random((200, 28, 28)) ** 3 * 255).astype(np.uint8), seed=1)
    objects = dict(train_ds=train_ds, x_val=data.to_float(binary[128:160]), vae=vae,
                   family_vae=family_vae, LATENT=4, FAMILY_HIDDEN=8, FAMILY_EPOCHS=1,
                   LEARNING_RATE=1e-2, x_fashion_val_u8=other[:100], x_test_u8=binary[160:],
                   x_fashion_u8=other[100:])  # a slightly brighter "other distribution"
    return by_number(exercises.lesson(7, **objects)), objects


def test_lesson7_checks_reject_wrong_answers(lesson7):
    exs, objects = lesson7
    vae, x_val = objects["vae"], objects["x_val"]
    kl = vae.negative_elbo(x_val)["kl"].mean()
    assert_fails(exs[1], (vae, kl), "beta")
    assert_fails(exs[1], ("not a model", kl), "Keras model")
    longer, _, _ = models.dense_vae((28, 28), latent_dim=4, hidden=(8,), beta=4.0, seed=2)
    longer.compile(optimizer=keras.optimizers.Adam(1e-2))
    longer.fit(objects["train_ds"], epochs=2, verbose=0)          # twice the family's budget
    assert_fails(exs[1], (longer, longer.negative_elbo(x_val)["kl"].mean()), "one budget")
    kl_per_dim, n_active = exs[2].solve()
    # the check's own recomputation agrees with the model's KL term
    np.testing.assert_allclose(kl_per_dim.sum(), vae.negative_elbo(x_val)["kl"].mean(), rtol=1e-4)
    assert_fails(exs[2], (kl_per_dim * len(x_val), n_active), "sum over images")
    assert_fails(exs[2], (kl_per_dim[::-1] if not np.allclose(kl_per_dim, kl_per_dim[::-1])
                          else kl_per_dim + 1, n_active), "split")
    assert_fails(exs[2], (kl_per_dim, n_active + 1), "active dimensions")
    auc_nelbo, auc_mse, better = exs[3].solve()
    other = "MSE" if better == "negative ELBO" else "negative ELBO"
    assert_fails(exs[3], (auc_nelbo, 1 - auc_mse, better), "1 minus")
    shifted = auc_nelbo - 0.4 if auc_nelbo > 0.5 else auc_nelbo + 0.4
    assert_fails(exs[3], (shifted, auc_mse, better), "negative ELBO")
    assert_fails(exs[3], (auc_nelbo, auc_mse, other), "better score")
    assert_fails(exs[3], (auc_nelbo, auc_mse, "PCA"), "one of")
    x_test, x_fashion = objects["x_test_u8"], objects["x_fashion_u8"]
    y_test = np.r_[np.zeros(len(x_test)), np.ones(len(x_fashion))]
    on_test = np.r_[metrics.reconstruction_errors(vae.reconstruct, x_test),
                    metrics.reconstruction_errors(vae.reconstruct, x_fashion)]
    test_auc = metrics.ranking_metrics(y_test, on_test)["roc_auc"]
    assert not np.isclose(test_auc, auc_mse)
    assert_fails(exs[3], (auc_nelbo, test_auc, better), "test set")


# --------------------------------------------------------------------------- lesson 8


@pytest.fixture(scope="module")
def lesson8():
    import tensorflow as tf

    from autoenc_helpers import applications

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = np.tile(np.arange(3), 150)                 # interleaved: 100 of each class in x[:300]
    brightness = y[:, None, None] / 3.0 + rng.normal(0, 0.1, (450, 1, 1))  # classes overlap
    x = np.clip(rng.random((450, 28, 28)) * 0.3 + brightness, 0, 1)
    x = (x * 255).astype(np.uint8)                 # three classes of different brightness
    ae, encoder, _ = models.dense_autoencoder((28, 28), latent_dim=4, hidden=(16,))
    ae.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    ae.fit(data.to_float(x[:300]), data.to_float(x[:300]), epochs=2, verbose=0)

    def hole_masks(n, seed_pair, side=12):
        corners = tf.random.stateless_uniform((n, 2), seed=seed_pair, minval=0,
                                              maxval=28 - side + 1, dtype=tf.int32)
        rows, cols = tf.range(28)[None, :, None], tf.range(28)[None, None, :]
        top, left = corners[:, 0, None, None], corners[:, 1, None, None]
        inside = (rows >= top) & (rows < top + side) & (cols >= left) & (cols < left + side)
        return tf.cast(inside, tf.float32)

    objects = dict(encoder=encoder, inpainter=ae,
                   mean_image=data.to_float(x[:300]).mean(axis=0), hole_masks=hole_masks,
                   hide=lambda images, masks: images * (1 - masks) - masks,
                   gallery_u8=x[:200], gallery_y=y[:200], x_train=x[:300], y_train=y[:300],
                   x_val_u8=x[300:375], y_val=y[300:375], K=10, seed=3,
                   x_test_u8=x[375:], y_test=y[375:], applications=applications)
    return by_number(exercises.lesson(8, **objects)), objects


def test_lesson8_checks_reject_wrong_answers(lesson8):
    from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

    from autoenc_helpers.applications import labelled_subset

    exs, o = lesson8
    enc, g, gy = o["encoder"], o["gallery_u8"], o["gallery_y"]

    def codes(images):
        # direct calls, as the check makes them: on these few overlapping codes one float's
        # difference (model.predict against a direct call) can flip a near-tie of the 10-NN
        return exercises.predict(enc, images)

    def precision(queries, labels, metric):
        index = NearestNeighbors(n_neighbors=10, metric=metric).fit(codes(g))
        _, nb = index.kneighbors(codes(queries))
        return float(np.mean(gy[nb] == labels[:, None]))

    cosine = precision(o["x_val_u8"], o["y_val"], "cosine")
    euclidean = precision(o["x_val_u8"], o["y_val"], "euclidean")
    assert exs[1].evaluate(cosine).passed
    assert not np.isclose(cosine, euclidean)  # else the mistake could not show
    assert_fails(exs[1], euclidean, "Euclidean")
    test_cosine = precision(o["x_test_u8"], o["y_test"], "cosine")
    assert not np.isclose(test_cosine, cosine)
    assert_fails(exs[1], test_cosine, "test")
    assert_fails(exs[1], 1.5, "[0, 1]")
    assert_fails(exs[1], [cosine, cosine], "single number")

    accuracy = exs[2].solve()
    idx = labelled_subset(o["y_train"], 100, seed=o["seed"])
    knn = KNeighborsClassifier(5).fit(codes(o["x_train"][idx]), o["y_train"][idx])
    assert accuracy == pytest.approx(np.mean(knn.predict(codes(o["x_val_u8"])) == o["y_val"]))
    on_test = float(np.mean(knn.predict(codes(o["x_test_u8"])) == o["y_test"]))
    assert not np.isclose(on_test, accuracy)
    assert_fails(exs[2], on_test, "test")
    wrong = accuracy + 0.2 if accuracy < 0.8 else accuracy - 0.2
    assert_fails(exs[2], wrong, "labelled_subset")

    psnr_ae, psnr_mean = exs[3].solve()
    assert_fails(exs[3], (psnr_mean, psnr_ae), "swapped")
    assert_fails(exs[3], (psnr_ae + 1.0, psnr_mean), "16x16")
    x = data.to_float(o["x_val_u8"])
    masks = np.asarray(o["hole_masks"](len(x), [o["seed"], 3], side=12), np.float32)
    filled = o["inpainter"].predict(o["hide"](x, masks), verbose=0)
    small_holes = tuple(float(metrics.psnr(metrics.masked_mse(x, fill, masks).mean()))
                        for fill in (filled, np.broadcast_to(o["mean_image"], x.shape)))
    assert not np.isclose(small_holes[0], psnr_ae)
    assert_fails(exs[3], small_holes, "12x12")
    assert_fails(exs[3], psnr_ae, "tuple")


# --------------------------------------------------------------------------- every lesson


@pytest.mark.parametrize("fixture", ["lesson1", "lesson2", "lesson3", "lesson4", "lesson6",
                                     "lesson7", "lesson8"])  # lesson 5: in its own test above
def test_stored_solutions_pass_their_checks(fixture, request):
    exs = request.getfixturevalue(fixture)[0]  # {number: exercise}
    assert sorted(exs) == [1, 2, 3]
    assert_solutions_pass(exs)
