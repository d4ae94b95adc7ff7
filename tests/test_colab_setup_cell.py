"""The notebooks' setup cell: on Colab (or wherever the helpers are missing) it installs them.

Every notebook's first code cell begins with :data:`SETUP_CELL` (only the seed differs), with
the repository address of ``pyproject.toml``'s ``[project.urls]``. The slow test runs that cell
in a real Jupyter kernel of a fresh virtual environment in which ``autoenc_helpers`` cannot be
imported, with ``AUTOENC_PIP_SOURCE`` pointing at a local copy of the package, and shows that the
cell installs the helpers there and that the import and ``ah.setup`` then work.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]

#: The first lines of every notebook's first code cell; ``{seed}`` is the lesson's seed.
SETUP_CELL = f'''\
# On Colab (or wherever the course helpers are missing) install them; nothing else changes.
import importlib.util, os
if importlib.util.find_spec("autoenc_helpers") is None:
    %pip install -q {{os.environ.get("AUTOENC_PIP_SOURCE", "git+{REPOSITORY}")}}
import autoenc_helpers as ah

S = ah.setup(seed={{seed}})'''


def _first_code_cell(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: p.name)
def test_first_code_cell_installs_the_helpers_from_the_repository(notebook):
    template = re.escape(SETUP_CELL).replace(re.escape("{seed}"), r"\d+")
    assert re.match(template + r"($|\s)", _first_code_cell(notebook)), (
        f"{notebook.name}: the first code cell must begin with\n{SETUP_CELL}")


def _site_packages_without_the_helpers(target: Path) -> Path:
    """A folder of links to every package of this environment except the course helpers (and
    the ``.pth`` files that would put them back): on ``PYTHONPATH`` it lends the fresh
    environment TensorFlow, Jupyter, pip and setuptools, but not ``autoenc_helpers``."""
    target.mkdir()
    for folder in dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib")):
        for entry in Path(folder).iterdir():
            hidden = (entry.name.startswith(("autoenc_helpers", "__editable__", "autoenc-helpers"))
                      or entry.suffix == ".pth")
            if not hidden and not (target / entry.name).exists():
                (target / entry.name).symlink_to(entry)
    return target


@pytest.mark.slow
def test_setup_cell_installs_the_helpers_where_they_are_missing(tmp_path, monkeypatch):
    # a local copy of the package: what `pip install git+<repository>` would fetch
    source = tmp_path / "course"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "autoenc_helpers", source / "autoenc_helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))

    # a fresh environment (no pip, no helpers) with a Jupyter kernel of its own
    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    lent = _site_packages_without_the_helpers(tmp_path / "lent")
    kernels = tmp_path / "jupyter" / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh", "language": "python",
        "env": {"PYTHONPATH": str(lent), "PIP_NO_INDEX": "1",
                "AUTOENC_PIP_SOURCE": f"--no-deps --no-build-isolation {source}"},
    }))

    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('import importlib.util\n'
                                  'print("before:", importlib.util.find_spec("autoenc_helpers"))'),
        nbformat.v4.new_code_cell(SETUP_CELL.replace("{seed}", "3")),
        nbformat.v4.new_code_cell('import sys\nprint("from:", ah.__file__)\n'
                                  'print("prefix:", sys.prefix)\nprint("mode:", S.mode)'),
    ]
    client = NotebookClient(nb, timeout=600, kernel_name="fresh",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    def text(i):
        return "".join(o.get("text", "") for o in nb.cells[i].outputs
                       if o.get("output_type") == "stream")

    assert text(0).strip() == "before: None", text(0)
    assert "autoenc_helpers 0.1.0: mode=" in text(1) and "seed=3" in text(1), text(1)
    installed = Path(re.search(r"from: (\S+)", text(2)).group(1)).resolve()
    assert installed.is_relative_to(fresh.resolve()), f"imported from {installed}"
    assert not installed.is_relative_to(ROOT), "the checkout's helpers were used"
    assert sys.prefix not in text(2)
