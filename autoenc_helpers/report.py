"""Headline metrics that a notebook hands to the course report.

The course runner (:mod:`autoenc_helpers.course`) sets ``AUTOENC_METRICS_FILE`` for each notebook
it executes; :func:`record_metrics` merges the metrics into that JSON file. Outside the runner
the metrics are just printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

METRICS_ENV = "AUTOENC_METRICS_FILE"


def record_metrics(**metrics: float) -> dict[str, float]:
    """Record headline metrics (``name=value``) for the course report and print them.

    Values are converted to plain floats rounded to 6 significant digits. Returns them.
    """
    clean = {k: float(f"{float(v):.6g}") for k, v in metrics.items()}
    for name, value in clean.items():
        print(f"{name:>24s} = {value:.4g}")
    target = os.environ.get(METRICS_ENV)
    if target:
        path = Path(target)
        current = json.loads(path.read_text()) if path.exists() else {}
        current.update(clean)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current, indent=2))
    return clean
