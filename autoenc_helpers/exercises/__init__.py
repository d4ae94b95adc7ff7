"""Exercises that check themselves: ``hint()``, ``solution()`` and ``check(answer)``.

After the takeaways, every lesson ends with exercises in the style of Kaggle Learn. The
notebook binds its exercises, once, to the objects they need, passed by name::

    from autoenc_helpers import exercises
    ex1, ex2, ex3 = exercises.lesson(1, train_ds=train_ds, x_val=x_val, mse=mse, ...)

and then, per exercise, a markdown cell with the task, a cell for the student's code and a
check cell::

    answer = None  # your code here: (model, validation MSE)
    ...
    ex1.check(answer)

- ``ex1.check(answer)`` inspects what the student built or computed (a model's layer sizes, a
  number recomputed independently, an array's shape and range) and prints a clear pass, or a
  clear reason why not: never a traceback, never a pass for an empty or wrong answer.
  With ``answer is None`` it says that the exercise is not answered yet, except in quick mode
  (``AUTOENC_QUICK=1``, as in CI): there it runs the **stored solution** and checks it, and
  raises :class:`SolutionFailedError` if the solution fails its own check, so that running the
  notebooks under nbval proves that every solution passes its check.
- ``ex1.hint()`` prints a hint; ``ex1.solution()`` shows the solution's real source code;
  ``ex1.solve()`` runs it and returns its answer (``answer = ex1.solve()``).
- ``ex1.evaluate(answer)`` returns the :class:`CheckResult` without printing (for tests).

How to add an exercise
----------------------
Exercises live in one module per lesson, ``autoenc_helpers/exercises/lesson<N>.py``, which
:func:`lesson` imports on demand. An exercise is two plain functions and a call to
:func:`register`:

1. the **solution**, a function whose parameters are named like the notebook objects it uses
   (``x_val``, ``EPOCHS``, ...). Its body is what a student would write in the answer cell;
   it may print and draw (titled, labelled figures), and returns the answer. Keep it fast in
   quick mode: take epochs and sizes from the bound objects (``EPOCHS = S.epochs(...)``,
   quick-mode data), never from constants of full-mode size. Print only what it measures.
2. the **check**, ``check(answer, <notebook objects>...) -> str``. It recomputes what it can
   independently (from the bound objects, with NumPy/scikit-learn rather than the student's
   own functions), raises :class:`Incorrect` (or calls :func:`expect`) with a message that
   says what is wrong and what to try, and returns a short pass message stating what it
   verified. Helpers: :func:`expect`, :func:`unpack`, :func:`as_number`, :func:`as_array`,
   :func:`as_model`, :func:`expect_close`, :func:`dense_widths`, :func:`training_steps`,
   :func:`loss_name`, :func:`predict`.
   Any other exception raised by a check is reported as a failed check, not as a traceback.
3. ``register(lesson=6, number=1, title=..., answer=..., hint=..., solution=..., check=...)``
   at module level. ``answer`` describes the expected answer, e.g. ``"(model, validation
   MSE)"``. Parameters with defaults are optional bindings.

Then add a test in ``tests/test_exercises.py``: the solution passes its check, and at least
one wrong answer fails it (with small data the test builds itself). Heavy imports (Keras,
openTSNE, the lesson modules) go inside the functions, so that importing this package is cheap.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CheckResult", "Exercise", "BoundExercise", "LessonExercises", "Incorrect",
           "SolutionFailedError", "register", "registered", "lesson", "expect", "unpack",
           "as_number", "as_array", "as_model", "expect_close", "dense_widths",
           "training_steps", "loss_name", "predict"]


# --------------------------------------------------------------------------- results, errors


class Incorrect(Exception):
    """Raised by a check: the answer is wrong; the message says why and what to try."""


class SolutionFailedError(RuntimeError):
    """A stored solution failed its own check (a bug in the course, raised in quick mode)."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check.

    Attributes:
        passed: ``True`` only for an answer that passed every test of the check.
        message: what was verified (pass) or why the answer fails (fail).
        answered: ``False`` when the answer was ``None``.
    """

    passed: bool
    message: str
    answered: bool = True

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if not self.answered:
            return f"Not answered yet: {self.message}"
        return f"{'Correct' if self.passed else 'Not yet'}: {self.message}"


# --------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Exercise:
    """One exercise of a lesson: what it asks, its hint, solution and check (unbound)."""

    lesson: int
    number: int
    title: str
    answer: str
    hint: str
    solution: Callable[..., Any]
    check: Callable[..., str | None]

    @property
    def needs(self) -> dict[str, bool]:
        """Names of the notebook objects the solution and the check use, each mapped to
        ``True`` when it must be bound (``False``: it has a default)."""
        out: dict[str, bool] = {}
        for fn, skip in ((self.solution, 0), (self.check, 1)):
            params = list(inspect.signature(fn).parameters.values())[skip:]
            for p in params:
                required = p.default is inspect.Parameter.empty
                out[p.name] = out.get(p.name, False) or required
        return out


_REGISTRY: dict[tuple[int, int], Exercise] = {}


def register(lesson: int, number: int, title: str, answer: str, hint: str,
             solution: Callable[..., Any], check: Callable[..., str | None]) -> Exercise:
    """Add an exercise to the registry (replacing one with the same lesson and number).

    Args:
        lesson, number: where it appears, e.g. lesson 1, exercise 2.
        title: a few words, e.g. ``"Cross-entropy for the same budget"``.
        answer: what the student assigns to ``answer``, e.g. ``"(model, validation MSE)"``.
        hint: one or two sentences printed by ``hint()``.
        solution: function of notebook objects (by parameter name) returning the answer.
        check: ``check(answer, <notebook objects>...)``: raises :class:`Incorrect` with a reason,
            or returns a pass message saying what was verified.

    Returns:
        The registered :class:`Exercise`.
    """
    for fn, what in ((solution, "solution"), (check, "check")):
        if not callable(fn):
            raise ValueError(f"{what} must be a function, got {fn!r}.")
    if not list(inspect.signature(check).parameters):
        raise ValueError("check must take the answer as its first parameter.")
    ex = Exercise(int(lesson), int(number), title, answer, hint, solution, check)
    _REGISTRY[(ex.lesson, ex.number)] = ex
    return ex


def registered(lesson_number: int) -> list[Exercise]:
    """The exercises of one lesson, in order (importing its module if needed)."""
    _import_lesson(lesson_number)
    return [_REGISTRY[k] for k in sorted(_REGISTRY) if k[0] == lesson_number]


def _import_lesson(n: int) -> None:
    name = f"{__name__}.lesson{int(n)}"
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        if not any(k[0] == n for k in _REGISTRY):
            raise ValueError(f"no exercises for lesson {n}: add {name.replace('.', '/')}.py "
                             "(see the docstring of autoenc_helpers.exercises).") from None


# --------------------------------------------------------------------------- bound exercises


def _call(fn: Callable[..., Any], objects: dict[str, Any], *args: Any) -> Any:
    params = list(inspect.signature(fn).parameters.values())[len(args):]
    kwargs = {p.name: objects[p.name] for p in params if p.name in objects}
    return fn(*args, **kwargs)


@dataclass
class BoundExercise:
    """An :class:`Exercise` bound to the notebook objects it needs."""

    exercise: Exercise
    objects: dict[str, Any] = field(repr=False)
    last_result: CheckResult | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The variable name the lesson gives it: ``ex1``, ``ex2``, ..."""
        return f"ex{self.exercise.number}"

    @property
    def title(self) -> str:
        """The exercise's title."""
        return self.exercise.title

    def hint(self) -> None:
        """Print the hint."""
        print(f"Hint ({self.name}): {self.exercise.hint}")

    def solution(self) -> None:
        """Show the stored solution's source code (the code ``solve()`` runs)."""
        from autoenc_helpers.notebook import show_source

        print(f"Solution of {self.name} ({self.title}); run it with `answer = {self.name}"
              ".solve()`. It returns " + self.exercise.answer + ".")
        show_source(self.exercise.solution)

    def solve(self) -> Any:
        """Run the stored solution on the bound objects and return its answer."""
        # a solution trains fresh models, which makes TensorFlow warn about "retracing";
        # that is expected here, so the warning is muted while the solution runs
        tf_logger = logging.getLogger("tensorflow")
        level = tf_logger.level
        tf_logger.setLevel(max(level, logging.ERROR))
        try:
            return _call(self.exercise.solution, self.objects)
        finally:
            tf_logger.setLevel(level)

    def evaluate(self, answer: Any) -> CheckResult:
        """Check ``answer`` without printing; never raises for a wrong answer."""
        if answer is None:
            return CheckResult(False, f"`answer` is still None. Write your code, or try "
                               f"{self.name}.hint() or {self.name}.solution().", answered=False)
        try:
            message = _call(self.exercise.check, self.objects, answer)
        except Incorrect as exc:
            return CheckResult(False, str(exc))
        except Exception as exc:  # a wrong answer must never end in a traceback
            return CheckResult(False, f"the check could not use your answer "
                               f"({type(exc).__name__}: {exc}). Expected {self.exercise.answer}.")
        return CheckResult(True, message or "all checks passed.")

    def check(self, answer: Any) -> None:
        """Check ``answer`` and print the verdict.

        In quick mode (``AUTOENC_QUICK=1``) an unanswered exercise (``answer is None``) runs
        the stored solution and checks it instead; if that fails, :class:`SolutionFailedError`
        is raised, so that CI notices.
        """
        from autoenc_helpers.config import get_settings

        if answer is None and get_settings().quick:
            print(f"Quick mode: checking the stored solution ({self.name}.solve()).")
            result = self.evaluate(self.solve())
            self.last_result = result
            print(f"{self.name}: {result}")
            if not result.passed:
                raise SolutionFailedError(f"lesson {self.exercise.lesson}, {self.name}: the "
                                          f"stored solution fails its check: {result.message}")
            return
        self.last_result = self.evaluate(answer)
        print(f"{self.name}: {self.last_result}")

    def __repr__(self) -> str:
        return f"<{self.name}, lesson {self.exercise.lesson}: {self.title}>"


class LessonExercises:
    """The bound exercises of one lesson: iterate (``ex1, ex2 = ...``), index by exercise
    number (``ex[1]``) or use attributes (``ex.ex1``)."""

    def __init__(self, lesson_number: int, bound: Sequence[BoundExercise]):
        self.lesson = lesson_number
        self._bound = {b.exercise.number: b for b in bound}

    def __iter__(self) -> Iterator[BoundExercise]:
        return iter(self._bound[k] for k in sorted(self._bound))

    def __len__(self) -> int:
        return len(self._bound)

    def __getitem__(self, number: int) -> BoundExercise:
        if number not in self._bound:
            raise KeyError(f"lesson {self.lesson} has exercises {sorted(self._bound)}, "
                           f"not {number!r}.")
        return self._bound[number]

    def __getattr__(self, name: str) -> BoundExercise:
        if name.startswith("ex") and name[2:].isdigit() and int(name[2:]) in self.__dict__.get(
                "_bound", {}):
            return self._bound[int(name[2:])]
        raise AttributeError(name)

    def __repr__(self) -> str:
        items = ", ".join(f"{b.name}: {b.title}" for b in self)
        return f"<lesson {self.lesson} exercises: {items}>"


def lesson(number: int, **objects: Any) -> LessonExercises:
    """The exercises of lesson ``number``, bound to the notebook objects they use.

    Args:
        number: the lesson, e.g. ``1``.
        **objects: the notebook objects, by the names the exercises use
            (``train_ds=train_ds, x_val=x_val, ...``).

    Returns:
        A :class:`LessonExercises`; unpack it as ``ex1, ex2, ... = exercises.lesson(...)``.

    Raises:
        ValueError: a required object is missing (the message lists them).
    """
    exercises = registered(number)
    if not exercises:
        raise ValueError(f"no exercises registered for lesson {number}.")
    needs: dict[str, bool] = {}
    for ex in exercises:
        for name, required in ex.needs.items():
            needs[name] = needs.get(name, False) or required
    missing = sorted(n for n, required in needs.items() if required and n not in objects)
    if missing:
        raise ValueError(f"exercises.lesson({number}, ...) needs these notebook objects too: "
                         + ", ".join(f"{n}={n}" for n in missing))
    unused = sorted(set(objects) - set(needs))
    if unused:
        warnings.warn(f"exercises.lesson({number}): no exercise uses {unused}.", stacklevel=2)
    return LessonExercises(number, [BoundExercise(ex, dict(objects)) for ex in exercises])


# --------------------------------------------------------------------------- helpers for checks


def expect(condition: Any, message: str) -> None:
    """Raise :class:`Incorrect` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Incorrect(message)


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    text = repr(x)
    return f"{type(x).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def unpack(answer: Any, names: Sequence[str]) -> tuple:
    """``answer`` as a tuple of ``len(names)`` items, else :class:`Incorrect` naming them."""
    expected = "(" + ", ".join(names) + ")"
    if len(names) == 1:
        return (answer,)
    if isinstance(answer, dict) or not isinstance(answer, (tuple, list)):
        raise Incorrect(f"expected a tuple {expected}, got {_describe(answer)}.")
    if len(answer) != len(names):
        raise Incorrect(f"expected a tuple of {len(names)} items {expected}, "
                        f"got {len(answer)} items.")
    return tuple(answer)


def as_number(x: Any, what: str) -> float:
    """``x`` as a finite float (a Python or NumPy scalar, or a size-1 array), else
    :class:`Incorrect`."""
    if isinstance(x, (bool, np.bool_, str, bytes, dict)) or x is None:
        raise Incorrect(f"{what} should be a number, got {_describe(x)}.")
    try:
        arr = np.asarray(x)
        if not (np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.bool_)):
            raise TypeError
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise Incorrect(f"{what} should be a number, got {_describe(x)}.") from None
    if arr.size != 1:
        raise Incorrect(f"{what} should be a single number, got {_describe(x)}; "
                        "did you forget to take the mean?")
    value = float(arr.reshape(()))
    expect(math.isfinite(value), f"{what} is {value}, not a finite number.")
    return value


def as_array(x: Any, what: str, shape: Sequence[int | None] | None = None,
             finite: bool = True, allow_empty: bool = False) -> np.ndarray:
    """``x`` as a NumPy array of the given ``shape`` (``None`` entries: any size) holding
    finite numbers (unless ``finite=False``), else :class:`Incorrect`. Empty arrays fail
    unless ``allow_empty``."""
    if x is None or isinstance(x, (str, bytes, dict)):
        raise Incorrect(f"{what} should be an array, got {_describe(x)}.")
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001 (anything unconvertible is a wrong answer)
        raise Incorrect(f"{what} should be an array, got {_describe(x)}.") from None
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, arr.shape))
        want = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
        expect(ok, f"{what} should have shape {want}, got shape {arr.shape}.")
    expect(arr.size > 0 or allow_empty, f"{what}: got an empty array.")
    if finite and arr.size:
        expect(np.issubdtype(arr.dtype, np.number) and np.isfinite(arr).all(),
               f"{what} should hold finite numbers only.")
    return arr


def as_model(x: Any, what: str = "the model") -> Any:
    """``x`` if it is a Keras model, else :class:`Incorrect`."""
    import keras

    expect(isinstance(x, keras.Model), f"{what} should be a Keras model, got {_describe(x)}.")
    return x


def expect_close(reported: Any, actual: float, what: str, rel: float = 1e-3,
                 abs_tol: float = 1e-6, advice: str = "") -> float:
    """Check that ``reported`` is a number within ``rel`` (relative) or ``abs_tol`` of the
    independently recomputed ``actual``; returns it as a float."""
    value = as_number(reported, what)
    if not math.isclose(value, actual, rel_tol=rel, abs_tol=abs_tol):
        raise Incorrect(f"{what} is {value:.6g}, but recomputing it gives {actual:.6g}. "
                        + (advice or "Compute it with code (do not type it in)."))
    return value


def dense_widths(model: Any) -> list[int]:
    """Units of every ``Dense`` layer of a Keras model, nested models included, in order."""
    import keras

    widths: list[int] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            widths += dense_widths(layer)
        elif isinstance(layer, keras.layers.Dense):
            widths.append(int(layer.units))
    return widths


def training_steps(model: Any) -> int:
    """Optimizer steps a compiled Keras model has taken (0 if it has none)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return 0
    return int(np.asarray(optimizer.iterations))


def predict(model: Any, x: Any, batch_size: int = 500) -> np.ndarray:
    """``model``'s float32 outputs for ``x`` (uint8 scaled to [0, 1]), computed by direct calls
    in batches: no ``tf.function`` is traced, so checks stay quiet and independent of
    ``predict``'s settings."""
    x = np.asarray(x)
    x = x.astype(np.float32) / np.float32(255) if x.dtype == np.uint8 else x.astype(np.float32)
    out = [np.asarray(model(x[i:i + batch_size], training=False), np.float32)
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def loss_name(model: Any) -> str:
    """The name of a compiled model's loss: ``"binary_crossentropy"``, ``"mse"``, ..."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    fn = getattr(loss, "fn", None)
    return str(getattr(fn, "__name__", None) or name or type(loss).__name__)
