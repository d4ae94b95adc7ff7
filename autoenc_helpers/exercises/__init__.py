"""Exercises that check themselves, as in Kaggle Learn: ``ex1, ex2 = exercises.lesson(1,
x_val=x_val, ...)`` binds a lesson's exercises to notebook objects by name; then ``exN.hint()``,
``.solution()`` (the real source), ``.solve()``, ``.evaluate(answer)`` (a :class:`CheckResult`)
and ``.check(answer)``, which prints a pass or a reason, never a traceback (quick mode: ``None``
checks the stored solution). An exercise is ``@exercise(N, number, title, parts, expected, hint,
mistakes=[...])`` above its solution in ``lessonN.py``: ``expected(*parts, **objects)`` checks
what was built and recomputes each part independently, never with the solution's code (``None``:
not compared); ``mistakes``: the catalogue below. ``exercises/`` imports shared layers only."""

import importlib.util
import inspect
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from types import SimpleNamespace
from typing import Any, NamedTuple

import keras
import numpy as np

from autoenc_helpers.data import to_float


class Incorrect(Exception):
    """Raised by a check: the answer is wrong; the message says why and what to try."""


class SolutionFailedError(RuntimeError):
    """A stored solution failed its own check (a bug in the course, raised in quick mode)."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: ``passed``, a ``message``, ``answered=False`` for ``None``."""

    passed: bool
    message: str
    answered: bool = True

    def __str__(self) -> str:
        verdict = "Correct" if self.passed else "Not yet" if self.answered else "Not answered yet"
        return f"{verdict}: {self.message}"


class Mistake(NamedTuple):
    """A common wrong answer: ``variant(case)`` gives the parts it produces ``{index: value}``."""

    message: str
    variant: Callable[[Any], Mapping[int, Any] | None]
    uses: tuple[str, ...] = ()


def swapped(i: int = 0, j: int = 1) -> Mistake:
    """Parts ``i`` and ``j`` given in each other's place."""
    return Mistake("your two numbers are swapped: give them in the order the task asks.",
                   lambda c: {i: c.want[j], j: c.want[i]})


def recomputed(message: str, **overrides: Any) -> Mistake:
    """The answer recomputed with other settings (``q=99``, bound names: ``x_val="x_test"``)."""
    def variant(c: SimpleNamespace) -> dict[int, Any]:
        ov = {k: c.objects.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
        return dict(enumerate(c.recompute(**ov)))
    return Mistake(message, variant, tuple(v for v in overrides.values() if isinstance(v, str)))


def on_test(**overrides: Any) -> Mistake:
    """Measured on the test set: ``on_test(x_val="x_test_u8")``, ``on_test(part="test")``."""
    return recomputed("these numbers are measured on the TEST set: use the validation data; the "
                      "test set is kept for the final report.", **overrides)


def scaled(message: str, factor: Callable[[Mapping[str, Any]], float] | float) -> Mistake:
    """Every float or array part times ``factor`` (a number, or a function of the objects)."""
    return Mistake(message, lambda c: {
        i: w * (factor(c.objects) if callable(factor) else factor)
        for i, w in enumerate(c.want) if isinstance(w, (float, np.ndarray))})


ONE_MINUS_AUC = Mistake("your ROC AUC is 1 minus the right one: the unusual class (label 1) is "
                        "the positive class and a higher score means more unusual.", lambda c: {
                            i: 1.0 - w for i, w in enumerate(c.want) if isinstance(w, float)})
PERCENT = scaled("give rates as fractions in [0, 1], not in percent.", 100.0)
PER_IMAGE_PSNR = recomputed("you averaged the PSNR of each image; the lesson converts the mean "
                            "MSE over the data set: metrics.psnr(errors.mean()).", per_image=True)


def expect(condition: Any, message: str) -> None:
    """Raise :class:`Incorrect` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Incorrect(message)


def _describe(x: Any) -> str:
    text = f"shape {x.shape}" if isinstance(x, np.ndarray) else repr(x)
    return f"{type(x).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def _unpack(answer: Any, names: Sequence[str]) -> tuple:
    if len(names) == 1:
        return (answer,)
    n = len(answer) if isinstance(answer, (tuple, list)) else None
    expect(n == len(names), f"expected a tuple of {len(names)} items ({', '.join(names)}), got "
           + (f"{n} items." if n is not None else f"{_describe(answer)}."))
    return tuple(answer)


def as_number(x: Any, what: str, share: bool = False) -> float:
    """``x`` as a finite float (in [0, 1] if ``share``), else :class:`Incorrect`."""
    arr = np.asarray(None if isinstance(x, (bool, str, bytes, dict)) else x)
    expect(np.issubdtype(arr.dtype, np.number), f"{what} should be a number, got {_describe(x)}.")
    expect(arr.size == 1, f"{what} should be a single number, got {_describe(x)}; did you "
           "forget to take the mean?")
    value = float(arr.reshape(()))
    expect(math.isfinite(value), f"{what} is {value}, not a finite number.")
    expect(not share or 0 <= value <= 1, f"{what} is a share, in [0, 1]; got {value:.4g}.")
    return value


def as_array(x: Any, what: str, shape: Sequence[int | None] | None = None,
             allow_empty: bool = False) -> np.ndarray:
    """``x`` as a finite array of ``shape`` (``None``: any length), else :class:`Incorrect`."""
    arr = np.asarray(x)
    if shape is not None:
        want = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
        expect(arr.ndim == len(shape) and all(s in (None, d) for s, d in zip(shape, arr.shape)),
               f"{what} should have shape {want}, got shape {arr.shape}.")
    expect(arr.size > 0 or allow_empty, f"{what}: got an empty array.")
    expect(arr.size == 0 or (np.issubdtype(arr.dtype, np.number) and np.isfinite(arr).all()),
           f"{what} should hold finite numbers only.")
    return arr


def as_model(x: Any, what: str = "the model", kind: type = keras.Model,
             trained: bool = False) -> Any:
    """``x`` if it is a Keras model (a ``kind``, ``trained`` if asked), else :class:`Incorrect`."""
    expect(isinstance(x, keras.Model), f"{what} should be a Keras model, got {_describe(x)}.")
    expect(isinstance(x, kind), f"{what} should be a models.{kind.__name__}, got "
           f"{type(x).__name__}.")
    expect(not trained or training_steps(x) > 0, f"{what} has not been trained yet.")
    return x


def layers_of(model: Any) -> list[Any]:
    """Every layer of a Keras model, nested models' layers included, in order."""
    return [la for layer in model.layers
            for la in (layers_of(layer) if hasattr(layer, "layers") else [layer])]


def expect_widths(model: Any, want: Sequence[int] | keras.Model) -> None:
    """Check the units of the Keras ``model``'s ``Dense`` layers: ``want`` (or ``want``'s)."""
    def widths(m: Any) -> list[int]:
        return [int(la.units) for la in layers_of(as_model(m)) if type(la).__name__ == "Dense"]
    got = widths(model)
    want = widths(want) if isinstance(want, keras.Model) else [int(w) for w in want]
    expect(got == want, f"its Dense layers have {got} units; expected {want}.")


def expect_loss(model: Any, *names: str) -> None:
    """Check that the Keras ``model`` was compiled with the loss ``names[0]`` (or an alias)."""
    loss = getattr(as_model(model), "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", getattr(loss, "__name__", ""))
    expect(name.lower() in names, f"the model was compiled with loss {name or 'None'!r}; use "
           f"loss=\"{names[0]}\".")


def training_steps(model: Any) -> int:
    """Optimizer steps a compiled Keras model has taken (0 if it has none)."""
    optimizer = getattr(model, "optimizer", None)
    return 0 if optimizer is None else int(np.asarray(optimizer.iterations))


def predict(model: Any, x: Any, output: int = 0, flat: bool = False) -> np.ndarray:
    """``model``'s float32 outputs (number ``output`` of several) for ``x`` ``(n, ...)``, as
    ``(n, ...)`` or, if ``flat``, ``(n, features)``."""
    x = np.asarray(x)
    x = to_float(x) if x.dtype == np.uint8 else x.astype(np.float32)  # series: any range
    out = np.concatenate([np.asarray(y[output] if isinstance(y, (list, tuple)) else y, np.float32)
                          for y in (model(x[i:i + 500]) for i in range(0, len(x), 500))])
    return out.reshape(len(out), -1) if flat else out


def per_image_mse(outputs: Any, clean: Any) -> np.ndarray:
    """``(n,)`` mean squared error of each image against ``clean`` (uint8: ``to_float``)."""
    diff = np.asarray(outputs, np.float32) - to_float(clean)
    return np.square(diff).reshape(len(diff), -1).mean(axis=1)


def dataset_psnr(errors: Any, per_image: bool = False) -> float:
    """PSNR in dB of the mean of per-image MSEs ``(n,)`` (or, ``per_image``, the mean PSNR)."""
    errors = np.asarray(errors, np.float64)
    return float(np.mean(-10 * np.log10(np.maximum(errors, 1e-12))) if per_image
                 else -10 * np.log10(np.mean(errors)))


def fresh_like(model: Any, ref: Any, what: str, same_size: bool = True) -> None:
    """Check ``model`` is a new trained Keras model with ``ref``'s size and training budget."""
    expect(as_model(model) is not ref, f"that is {what}: build and train a new model.")
    size, ref_size = model.count_params(), ref.count_params()
    expect(not same_size or size == ref_size, f"the model has {size:,} parameters, {what} "
           f"{ref_size:,}: use the same architecture.")
    n, n_ref = training_steps(model), training_steps(ref)
    expect(n > 0, "the model has not been trained yet: compile and fit it.")
    expect(n == n_ref, f"the model took {n} training steps, {what} {n_ref}: train it for the "
           "same epochs and batches, so that the comparison is fair (one budget).")


def _call(fn: Callable[..., Any], objects: Mapping[str, Any], *args: Any) -> Any:
    params = list(inspect.signature(fn).parameters)[len(args):]
    return fn(*args, **{name: objects[name] for name in params if name in objects})


def _close(got: Any, want: Any, what: str = "", *, rel: float, atol: float) -> bool:
    """Whether ``got`` matches ``want`` (a number, array, dict, set or string)."""
    if isinstance(want, str):
        return got == want
    if isinstance(want, set):
        return want == (got if isinstance(got, set) else set(np.asarray(got).ravel().tolist()))
    if isinstance(want, dict):
        expect(isinstance(got, dict), f"{what} should be a dict, got {_describe(got)}.")
        expect(not (missing := sorted(set(want) - set(got))), f"{what} lack the keys {missing}.")
        return all(_close(got[k], want[k], f"{what}[{k!r}]", rel=rel, atol=atol) for k in want)
    if isinstance(want, np.ndarray):
        return bool(np.allclose(as_array(got, what, shape=want.shape), want, rel, atol))
    return math.isclose(as_number(got, what), float(want), rel_tol=rel, abs_tol=atol)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)


@dataclass(frozen=True)
class Exercise:
    """An exercise (see above), bound to ``objects`` by :func:`lesson`; ``reference`` solves it."""

    lesson: int
    number: int
    title: str
    answer: str
    parts: tuple[str, ...]
    expected: Callable[..., Any]
    hint_text: str
    reference: Callable[..., Any]
    passed: str = ""
    mistakes: tuple[Mistake, ...] = ()
    advice: str = "Compute it with code (do not type it in)."
    rel: float = 1e-3
    atol: float = 1e-6
    objects: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"ex{self.number}"

    @property
    def needs(self) -> dict[str, bool]:
        """Notebook objects used, each ``True`` when it must be bound (no default)."""
        out = {name: False for m in self.mistakes for name in m.uses}
        for fn, skip in ((self.reference, 0), (self.expected, len(self.parts))):
            for p in list(inspect.signature(fn).parameters.values())[skip:]:
                out[p.name] = out.get(p.name, False) or p.default is p.empty
        return out

    def _want(self, objects: Mapping[str, Any], got: tuple) -> tuple:
        want = _call(self.expected, objects, *got)
        return want if isinstance(want, tuple) else (want,)

    def verdict(self, answer: Any) -> str:
        """A pass message, or :class:`Incorrect` naming the mistake or the first wrong part."""
        got, objects = _unpack(answer, self.parts), self.objects
        want = self._want(objects, got)
        close = partial(_close, rel=self.rel, atol=self.atol)
        wrong = [i for i, w in enumerate(want)
                 if w is not None and not close(got[i], w, f"your {self.parts[i]}")]
        if not wrong:
            shown = [f"{self.parts[i]} {_shown(w)}" for i, w in enumerate(want)
                     if w is not None and not isinstance(w, (set, np.ndarray))]
            return (self.passed.format(*want, **objects) + " " if self.passed else "") + (
                "Recomputed independently: " + ", ".join(shown) + "." if shown
                else "Every test of the task passed.")
        case = SimpleNamespace(want=want, got=got, objects=objects,
                               recompute=lambda **ov: self._want({**objects, **ov}, got))
        for mistake in self.mistakes:  # named when it explains every wrong part that it changes
            try:
                alt = mistake.variant(case) or {}
                hit = [not close(alt[i], want[i]) and close(got[i], alt[i]) for i in wrong
                       if i in alt]
            except Exception:  # noqa: BLE001 (a mistake that does not apply)
                hit = []
            if hit and all(hit):
                raise Incorrect(mistake.message)
        i, w = wrong[0], want[wrong[0]]
        number = isinstance(w, (float, int, np.number)) and not isinstance(w, bool)
        shown = (f"{float(got[i]):.6g}, but recomputing it gives {float(w):.6g}" if number
                 else "not what recomputing it gives")
        raise Incorrect(f"your {self.parts[i]} is {shown}. {self.advice}")

    def hint(self) -> None:
        """Print the hint."""
        print(f"Hint ({self.name}): {self.hint_text}")

    def solution(self) -> None:
        """Show the stored solution's source code (what ``solve()`` runs)."""
        from IPython.display import Code, display

        print(f"Solution of {self.name} ({self.title}); run it with `answer = {self.name}"
              f".solve()`. It returns {self.answer}.")
        source = inspect.getsource(self.reference)
        display(Code(source[source.find("\ndef ") + 1:], language="python"))  # no @exercise

    def solve(self) -> Any:
        """Run the stored solution on the bound objects and return its answer."""
        return _call(self.reference, self.objects)

    def evaluate(self, answer: Any) -> CheckResult:
        """Check ``answer`` without printing; never raises for a wrong answer."""
        if answer is None:
            return CheckResult(False, f"`answer` is still None. Write your code, or try "
                               f"{self.name}.hint() or {self.name}.solution().", answered=False)
        try:
            return CheckResult(True, self.verdict(answer))
        except Incorrect as exc:
            return CheckResult(False, str(exc))
        except Exception as exc:  # noqa: BLE001 (a wrong answer never ends in a traceback)
            return CheckResult(False, f"the check could not use your answer "
                               f"({type(exc).__name__}: {exc}). Expected {self.answer}.")

    def check(self, answer: Any) -> None:
        """Check ``answer`` and print the verdict (quick mode: ``None`` checks the solution)."""
        from autoenc_helpers.config import get_settings

        quick = answer is None and get_settings().quick
        if quick:
            print(f"Quick mode: checking the stored solution ({self.name}.solve()).")
        result = self.evaluate(self.solve() if quick else answer)
        print(f"{self.name}: {result}")
        if quick and not result.passed:
            raise SolutionFailedError(f"lesson {self.lesson}, {self.name}: the stored solution "
                                      f"fails its check: {result.message}")


_REGISTRY: dict[tuple[int, int], Exercise] = {}


def exercise(lesson: int, number: int, title: str, parts: Sequence[str], expected: Callable,
             hint: str, mistakes: Sequence[Mistake] = (), **options: Any):
    """Register the solution below; ``options``: ``passed``, ``advice``, ``rel``, ``atol``."""
    def register(solution: Callable[..., Any]) -> Callable[..., Any]:
        text = "(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]
        _REGISTRY[lesson, number] = Exercise(lesson, number, title, text, tuple(parts), expected,
                                             hint, solution, mistakes=tuple(mistakes), **options)
        return solution
    return register


def registered(lesson_number: int) -> list[Exercise]:
    """The exercises of one lesson, in order (importing its module if needed)."""
    if importlib.util.find_spec(name := f"{__name__}.lesson{int(lesson_number)}"):
        importlib.import_module(name)
    return [_REGISTRY[k] for k in sorted(_REGISTRY) if k[0] == lesson_number]


def lesson(number: int, **objects: Any) -> tuple[Exercise, ...]:
    """Lesson ``number``'s exercises bound to the notebook ``objects`` they use, by name."""
    exercises = registered(number)
    if not exercises:
        raise ValueError(f"no exercises registered for lesson {number}.")
    needs = [ex.needs for ex in exercises]
    missing = sorted({n for need in needs for n, req in need.items() if req}.difference(objects))
    if missing:
        raise ValueError(f"exercises.lesson({number}, ...) needs these notebook objects too: "
                         + ", ".join(f"{n}={n}" for n in missing))
    if unused := sorted(set(objects).difference(*needs)):
        warnings.warn(f"exercises.lesson({number}): no exercise uses {unused}.", stacklevel=2)
    return tuple(replace(ex, objects=dict(objects)) for ex in exercises)
