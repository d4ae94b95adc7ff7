"""Helpers for the *Autoencoders, hands-on* course.

Importing this package quietens TensorFlow's start-up logging, selects the TensorFlow
backend for Keras 3 and, on Linux, makes the C library return large freed buffers to the
system (:func:`~autoenc_helpers.config.lean_malloc`: a lower peak memory with TensorFlow);
TensorFlow itself is imported lazily by the modules that need it.

Modules, lowest layer first (a module imports only modules above it in this list; the lesson
modules never import each other; ``tests/test_layout.py`` checks these rules):

- :mod:`autoenc_helpers.config`: quick/full mode settings, :func:`set_seed`, ``lean_malloc``.
- :mod:`autoenc_helpers.data`: offline-first, checksum-verified data loaders, the splits (one
  :class:`~autoenc_helpers.data.Splits` type, :func:`~autoenc_helpers.data.train_val_test_split`),
  the one pixel conversion :func:`~autoenc_helpers.data.to_float`, ``tf.data`` pipelines.
- :mod:`autoenc_helpers.metrics`: reconstruction errors, PSNR, thresholds and the one flag
  rule (error >= threshold, anomaly = positive class), classification and ranking scores, the
  input checks (``check_errors``, ``check_labels``, ``check_codes``).
- :mod:`autoenc_helpers.models`: every Keras model builder, after the lesson that writes it out,
  and the one :func:`~autoenc_helpers.models.encode`; in lesson order, each "Defined in lesson N".
- :mod:`autoenc_helpers.plots`: every figure (no other module draws or imports matplotlib).
- :mod:`autoenc_helpers.report`: :func:`record_metrics` and :func:`claim` for the course report.
- :mod:`autoenc_helpers.notebook`: :func:`show_source`, to show a reused helper in a lesson.
- :mod:`autoenc_helpers.exercises`: the exercises' checks, hints and solutions; it imports only
  ``config``, ``data``, ``metrics``, ``models`` and ``plots``.
- lesson modules: :mod:`autoenc_helpers.noise` (lesson 2: corruption, baseline filters),
  :mod:`autoenc_helpers.latent` (lesson 3: codes, t-SNE, out-of-distribution inputs),
  :mod:`autoenc_helpers.anomaly` (lesson 4: threshold strategies, the detector),
  :mod:`autoenc_helpers.sequences` (lesson 5: the synthetic series, probes of sequence codes),
  :mod:`autoenc_helpers.regularised` (lesson 6: sparsity and contraction measured),
  :mod:`autoenc_helpers.applications` (lesson 8: few-label draws, the PCA fill).
- :mod:`autoenc_helpers.course`: executes every notebook and writes the report.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from autoenc_helpers.config import (  # noqa: E402
    Settings,
    free_memory,
    get_settings,
    lean_malloc,
    resolve_seed,
    set_seed,
)
from autoenc_helpers.notebook import show_source  # noqa: E402
from autoenc_helpers.report import claim, record_metrics  # noqa: E402

__version__ = "0.1.0"

lean_malloc()  # on Linux: large freed buffers go back to the system (lower peak memory)

__all__ = ["Settings", "get_settings", "set_seed", "setup", "record_metrics", "claim",
           "show_source", "free_memory",
           "__version__"]


def setup(seed: int = 42) -> Settings:
    """One call at the top of each notebook: seed everything, set the figure style, print
    the mode and data directory, and return the :class:`Settings` (``S.seed`` is the seed).

    ``$AUTOENC_SEED``, when set, replaces ``seed`` (the course runner's ``--seed``: the
    lesson's claims checked on another run); the printed line then says so.
    """
    from autoenc_helpers.plots import set_style

    used = resolve_seed(seed)
    set_seed(used)
    set_style()
    settings = get_settings(seed=used)
    print(f"autoenc_helpers {__version__}: {settings}, seed={used}"
          + (f" (from $AUTOENC_SEED; the notebook says {seed})" if used != seed else ""))
    return settings
