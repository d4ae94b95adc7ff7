"""What a notebook hands to the course report: headline metrics and claim checks.

The course runner (:mod:`autoenc_helpers.course`) sets ``AUTOENC_METRICS_FILE`` and
``AUTOENC_CLAIMS_FILE`` for each notebook it executes; :func:`record_metrics` merges the
metrics into the first JSON file and :func:`claim` adds each claim check to the second. Outside
the runner both just print.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

METRICS_ENV = "AUTOENC_METRICS_FILE"
CLAIMS_ENV = "AUTOENC_CLAIMS_FILE"


def record_metrics(**metrics: float) -> dict[str, float]:
    """Record headline metrics (``name=value``) for the course report and print them.

    Values are converted to plain floats rounded to 6 significant digits. Returns them.
    """
    clean = {k: float(f"{float(v):.6g}") for k, v in metrics.items()}
    for name, value in clean.items():
        print(f"{name:>24s} = {value:.4g}")
    _update_json(METRICS_ENV, {}, lambda current: {**current, **clean})
    return clean


def _update_json(env: str, empty, update) -> None:
    """Apply ``update`` to the JSON file that ``$env`` names (``empty`` when it does not exist
    yet) and write the result back; nothing happens when ``env`` is not set."""
    target = os.environ.get(env)
    if not target:
        return
    path = Path(target)
    current = json.loads(path.read_text()) if path.exists() else empty
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(update(current), indent=2))


def claim(statement: str, holds: bool | np.bool_, evidence: str = "") -> bool:
    """Check a sentence of the lesson against this run, print the verdict, record it.

    Called in the code cell that produces the evidence, right before the Markdown cell that
    states the claim, so that the prose says only what the run shows. In full mode the course
    runner (``make course``) lists every claim in its report and fails (exit status 2) when one
    is false; quick mode records claims without enforcing them (its results mean little). In a
    student's own run a false claim prints a clear line and stops nothing.

    Args:
        statement: the sentence as the lesson states it, e.g. ``"the KL term rises during the
            first epochs"``.
        holds: whether the run bears it out, e.g. ``kl[2] > kl[0]``: a ``bool`` or a NumPy
            boolean scalar (an array is refused: say ``.all()`` or ``.any()``).
        evidence: the numbers behind the verdict, printed beside it
            (``f"{kl[0]:.2f} -> {kl[2]:.2f}"``).

    Returns:
        ``holds`` as a plain ``bool``.

    Raises:
        ValueError: ``statement`` is empty, or ``holds`` is not a single boolean.

    >>> claim("two is more than one", 2 > 1, "2 > 1")
    claim holds: two is more than one (2 > 1)
    True
    """
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("claim: the statement must be a non-empty sentence.")
    if not isinstance(holds, (bool, np.bool_)):
        raise ValueError(f"claim {statement!r}: `holds` must be one boolean (a comparison), "
                         f"not {type(holds).__name__}; for an array say .all() or .any().")
    verdict = bool(holds)
    shown = f" ({evidence})" if evidence else ""
    print(f"claim holds: {statement}{shown}" if verdict
          else f"CLAIM DOES NOT HOLD in this run: {statement}{shown}")
    entry = {"claim": statement, "holds": verdict, "evidence": evidence}
    _update_json(CLAIMS_ENV, [], lambda current: [  # a re-run cell replaces its entry
        *(c for c in current if c["claim"] != statement), entry])
    return verdict
