"""The course runner: executes notebooks, measures them and reports; stops at a failure."""

from __future__ import annotations

import json

import nbformat
import pytest

from autoenc_helpers.course import run_course


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebooks(tmp_path):
    good = _notebook(tmp_path / "01_good.ipynb",
                     "import os\nmode = os.environ['AUTOENC_QUICK']",
                     "from autoenc_helpers import record_metrics\n"
                     "record_metrics(answer=42, mode_is_quick=float(mode == '1'))")
    bad = _notebook(tmp_path / "02_bad.ipynb", "x = 1", "raise RuntimeError('boom')")
    never = _notebook(tmp_path / "03_never.ipynb", "print('should not run')")
    return good, bad, never


def test_report_has_documented_shape(notebooks, tmp_path):
    good = notebooks[0]
    out = tmp_path / "build"
    assert run_course([good], out, quick=True) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["mode"] == "quick"
    (entry,) = report["notebooks"]
    assert entry["name"] == "01_good.ipynb"
    assert entry["metrics"] == {"answer": 42.0, "mode_is_quick": 1.0}
    assert entry["wall_s"] > 0 and 20 < entry["peak_rss_mb"] < 4000
    assert (out / "executed" / "01_good.ipynb").exists()
    assert "01_good.ipynb" in (out / "report.md").read_text()


def test_failing_notebook_stops_the_run(notebooks, tmp_path, capsys):
    out = tmp_path / "build"
    assert run_course(list(notebooks), out, quick=True) == 1
    err = capsys.readouterr().err
    assert "02_bad.ipynb" in err and "index 1" in err and "boom" in err
    names = [n["name"] for n in json.loads((out / "report.json").read_text())["notebooks"]]
    assert names == ["01_good.ipynb"]  # 03 never ran
