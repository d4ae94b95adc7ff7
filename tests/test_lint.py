"""The linter passes over the package, the tests, the website's sources and the notebooks
(ruff, with the rules and exceptions of ``[tool.ruff]`` in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "--no-cache", "autoenc_helpers", "tests", "book",
                             "notebooks"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_catches_an_unused_import(tmp_path):
    """The check above can fail: a file with an unused import is refused."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    result = subprocess.run([ruff, "check", "--no-cache", "--config",
                             str(ROOT / "pyproject.toml"), str(bad)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "F401" in result.stdout
