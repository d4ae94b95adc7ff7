"""Helpers for the *Autoencoders, hands-on* course.

Importing this package quietens TensorFlow's start-up logging and selects the TensorFlow
backend for Keras 3; TensorFlow itself is imported lazily by the modules that need it.

Modules:

- :mod:`autoenc_helpers.config`: quick/full mode settings and :func:`set_seed`.
- :mod:`autoenc_helpers.data`: offline-first, checksum-verified data loaders and splits.
- :mod:`autoenc_helpers.models`: Keras functional model builders.
- :mod:`autoenc_helpers.plots`: figures used by the lessons.
- :mod:`autoenc_helpers.report`: :func:`record_metrics` for the course report.
- :mod:`autoenc_helpers.course`: executes every notebook and writes the report.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from autoenc_helpers.config import Settings, get_settings, set_seed  # noqa: E402
from autoenc_helpers.report import record_metrics  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Settings", "get_settings", "set_seed", "setup", "record_metrics", "__version__"]


def setup(seed: int = 42) -> Settings:
    """One call at the top of each notebook: seed everything, set the figure style, print
    the mode and data directory, and return the :class:`Settings`."""
    from autoenc_helpers.plots import set_style

    set_seed(seed)
    set_style()
    settings = get_settings()
    print(f"autoenc_helpers {__version__}: {settings}, seed={seed}")
    return settings
