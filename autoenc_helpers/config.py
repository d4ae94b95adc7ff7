"""Course-wide settings: quick or full mode, data directory, seeds.

Full mode is the default and is what students see. Setting the environment variable
``AUTOENC_QUICK=1`` switches every notebook to quick mode, which shrinks data and epochs so that
CI can execute every cell in seconds. Notebooks read their sizes through :class:`Settings`, so the
rule for shrinking lives here, in one place.
"""

from __future__ import annotations

import os
import random
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")

QUICK_ENV = "AUTOENC_QUICK"
DATA_ENV = "AUTOENC_DATA_DIR"
#: When set, replaces the seed that a notebook passes to ``ah.setup`` (``make seeds``: the
#: lessons' claims checked on runs other than the committed one).
SEED_ENV = "AUTOENC_SEED"
#: In quick mode, data sets are cut to at most this many training examples.
QUICK_MAX_SAMPLES = 2000
#: In quick mode, every training run lasts this many epochs.
QUICK_EPOCHS = 1


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def default_data_dir() -> Path:
    """The data directory: ``$AUTOENC_DATA_DIR``, else the checkout's ``data/`` folder.

    When the helpers are installed from a wheel (on Colab, say) there is no checkout, and
    ``~/autoenc_data`` is used instead.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").is_file() and (repo / "data").is_dir():
        return repo / "data"
    return Path.home() / "autoenc_data"


@dataclass(frozen=True)
class Settings:
    """What a notebook needs to know about the run it is part of.

    Attributes:
        quick: ``True`` when ``AUTOENC_QUICK`` is set: small data, one epoch.
        data_dir: folder holding the data sets (Keras cache layout, ``ecg.csv`` at the top).
        seed: the notebook's seed (set by ``ah.setup``; ``None`` before it): every seeded
            helper call of a lesson uses ``S.seed`` (or a number derived from it).
    """

    quick: bool
    data_dir: Path
    seed: int | None = None

    @property
    def mode(self) -> str:
        """``"quick"`` or ``"full"``."""
        return "quick" if self.quick else "full"

    def epochs(self, full: int) -> int:
        """Number of epochs: ``full`` in full mode, :data:`QUICK_EPOCHS` in quick mode."""
        return min(full, QUICK_EPOCHS) if self.quick else full

    def n_samples(self, full: int) -> int:
        """Number of examples to use: ``full``, or at most :data:`QUICK_MAX_SAMPLES` when quick."""
        return min(full, QUICK_MAX_SAMPLES) if self.quick else full

    def pick(self, full: T, quick: T) -> T:
        """Any other knob: ``full`` in full mode, ``quick`` in quick mode."""
        return quick if self.quick else full

    def __str__(self) -> str:
        return f"mode={self.mode}, data_dir={display_path(self.data_dir)}"


def display_path(path: Path) -> str:
    """``path`` as printed in notebook output, never an absolute path of this machine.

    ``$AUTOENC_DATA_DIR`` when the path is the one that variable names, else relative to the
    checkout (``data``) or to the home folder (``~/autoenc_data``), else only its name.
    """
    path = Path(path).expanduser().resolve()
    env = os.environ.get(DATA_ENV)
    if env and Path(env).expanduser().resolve() == path:
        return f"${DATA_ENV}"
    for base, prefix in ((Path(__file__).resolve().parent.parent, ""), (Path.home(), "~/")):
        if path.is_relative_to(base) and path != base:
            return prefix + path.relative_to(base).as_posix()
    return path.name or "/"


def get_settings(seed: int | None = None) -> Settings:
    """Read the settings from the environment (``AUTOENC_QUICK``, ``AUTOENC_DATA_DIR``);
    ``seed`` is stored as given."""
    return Settings(quick=_truthy(os.environ.get(QUICK_ENV)), data_dir=default_data_dir(),
                    seed=seed)


def resolve_seed(seed: int) -> int:
    """The seed a notebook runs with: ``$AUTOENC_SEED`` when set (an integer), else ``seed``.

    Raises:
        ValueError: ``AUTOENC_SEED`` is set but not a non-negative integer.
    """
    override = os.environ.get(SEED_ENV, "").strip()
    if not override:
        return seed
    if not override.isdigit():
        raise ValueError(f"{SEED_ENV}={override!r}: expected a non-negative integer.")
    return int(override)


def _glibc(name: str):
    """The C library's function ``name`` on Linux (glibc), else ``None``."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def lean_malloc(mmap_threshold: int = 4 * 2**20, max_arenas: int = 2) -> bool:
    """Let the C library return large freed buffers to the system at once, and keep few heaps
    (Linux, glibc).

    TensorFlow allocates and frees large buffers (copies of a data set, big batches) from
    several threads. After the first large frees, glibc's malloc raises its *mmap threshold*
    (up to 32 MiB), so later large buffers come from per-thread heaps, which keep freed memory
    and fragment: lesson 1's peak memory rose from about 1.4 GB to over 1.5 GB this way (Binder's
    limit is 2 GB). A fixed threshold of 4 MiB makes every buffer of that size or more a
    mapping of its own, unmapped when freed, while the many smaller buffers of a training step
    stay in the heaps, where reusing them is fast (with glibc's starting value of 128 KiB,
    lesson 3 took 70 % longer). glibc also gives threads up to eight heaps ("arenas") per core,
    each holding on to its own freed memory; ``max_arenas`` heaps are plenty for a 2-core
    laptop (lesson 8's peak fell by about 70 MB, its time unchanged). Both take effect at once,
    for every thread created later; the package calls this when imported, before TensorFlow
    starts its threads. A setting in the environment (``MALLOC_MMAP_THRESHOLD_``,
    ``MALLOC_ARENA_MAX``) wins over this one; other systems are left alone.

    Args:
        mmap_threshold: size in bytes from which a buffer gets a mapping of its own.
        max_arenas: most heaps glibc creates for the process's threads.

    Returns:
        whether the mmap threshold was set.
    """
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    m_mmap_threshold, m_arena_max = -3, -8  # M_MMAP_THRESHOLD and M_ARENA_MAX in glibc's malloc.h
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(m_arena_max, int(max_arenas))
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    return bool(mallopt(m_mmap_threshold, int(mmap_threshold)))


def free_memory() -> bool:
    """Collect Python's garbage and give the C library's free heap pages back to the system.

    Freed memory that lies between blocks still in use stays in the process (glibc returns
    only the top of a heap on its own); ``malloc_trim(0)`` releases those pages too. Call it
    between the phases of a long lesson, before a memory-hungry step, to lower the peak that
    Binder's 2 GB limit sees (lessons 1, 7 and 8 call it between phases). It takes
    milliseconds and changes no result.

    Returns:
        whether pages were handed back (always ``False`` off Linux / glibc).
    """
    import gc

    gc.collect()
    trim = _glibc("malloc_trim")
    return bool(trim(0)) if trim is not None else False


def quiet_tensorflow() -> None:
    """Import TensorFlow with its C++ start-up messages silenced, and mute Keras' one needless
    warning (below), so that lesson output stays clean. Later imports of TensorFlow or Keras
    are free.

    TensorFlow prints some start-up lines (oneDNN, CUDA stubs) straight to file descriptor 2,
    whatever ``TF_CPP_MIN_LOG_LEVEL`` says; they are discarded while it is imported.
    """
    # One Keras warning is muted, and only where Keras raises it: ``fit`` defaults to
    # ``shuffle=True`` and then warns on every ``tf.data`` input that the flag is ignored (the
    # course's pipelines shuffle themselves). Every other warning, "Your input ran out of data"
    # included, reaches the student.
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored",
                            module=r"keras\.src\.trainers")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def set_seed(seed: int = 42, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and Keras (and so TensorFlow), and make TF ops deterministic on CPU.

    Call it once at the top of a notebook: two runs in the same mode on a CPU then print the
    same metrics. ``deterministic_ops=False`` skips ``enable_op_determinism`` (slightly faster).

    On a GPU (Colab's, say) op determinism is left off, because several GPU kernels have no
    deterministic version and would stop the lesson with an error; one line says so, and
    results can then vary slightly between runs. (Python's ``PYTHONHASHSEED`` is not set:
    it only takes effect when an interpreter starts, and nothing here depends on it.)
    """
    if isinstance(seed, bool) or not hasattr(seed, "__index__") or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    quiet_tensorflow()
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if not deterministic_ops:
        return
    if tf.config.list_physical_devices("GPU"):
        print("GPU found: TensorFlow ops are not made deterministic there, so results can "
              "vary slightly between runs.")
        return
    tf.config.experimental.enable_op_determinism()
