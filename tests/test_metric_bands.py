"""The bands file (notebooks/expected_metrics.toml) covers the lessons and their metrics."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from autoenc_helpers.course import BANDS_FILE, find_notebooks, load_bands

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = find_notebooks(ROOT / "notebooks")


def _named_metrics(notebook: Path) -> set[str]:
    """Metric names passed by keyword to ``record_metrics`` in the notebook's code cells
    (names built at run time, ``**{...}``, are checked by ``make course`` instead)."""
    names = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code" or "record_metrics" not in cell.source:
            continue
        code = "\n".join(line for line in cell.source.splitlines()
                         if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            func = getattr(node, "func", None)
            if isinstance(node, ast.Call) and "record_metrics" in (
                    getattr(func, "attr", None), getattr(func, "id", None)):
                names |= {k.arg for k in node.keywords if k.arg is not None}
    return names


def test_bands_file_has_one_table_per_lesson():
    bands = load_bands(BANDS_FILE)
    assert sorted(bands) == sorted(nb.stem for nb in NOTEBOOKS), (
        f"{BANDS_FILE.name}: one [table] per notebook, named by its file name without .ipynb")
    for stem, metrics in bands.items():
        assert metrics, f"[{stem}] has no band"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_metric_a_lesson_records_has_a_band(notebook):
    bands = load_bands(BANDS_FILE).get(notebook.stem, {})
    missing = _named_metrics(notebook) - set(bands)
    assert not missing, f"{notebook.name} records {sorted(missing)} without a band"
