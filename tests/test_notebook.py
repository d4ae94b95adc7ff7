"""``show_source``: a lesson that reuses a helper shows the helper's code; and every helper
a notebook calls exists."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
from pathlib import Path

import IPython.display
import pytest

from autoenc_helpers.anomaly import ReconstructionAnomalyDetector
from autoenc_helpers.models import conv_autoencoder
from autoenc_helpers.notebook import show_source


@pytest.fixture
def displayed(monkeypatch) -> list:
    """What ``IPython.display.display`` was asked to show, instead of showing it."""
    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    return shown


def test_show_source_displays_a_functions_code(displayed):
    show_source(conv_autoencoder)
    assert len(displayed) == 1
    code = displayed[0]
    assert isinstance(code, IPython.display.Code)
    assert code.data == inspect.getsource(conv_autoencoder)
    assert code.data.startswith("def conv_autoencoder(") and "Conv2DTranspose" in code.data
    assert 'class="' in code._repr_html_()             # syntax-highlighted in a notebook


def test_show_source_dedents_a_method(displayed):
    show_source(ReconstructionAnomalyDetector._train)
    assert displayed[0].data.startswith("def _train(self")


def test_show_source_prints_plain_text_outside_a_notebook(capsys):
    show_source(conv_autoencoder)
    out = capsys.readouterr().out
    assert out.startswith("def conv_autoencoder(") and "layers.Conv2D(" in out


def _helpers_used(source: str) -> set[tuple[str, str]]:
    """``{(module, name)}`` for every helper a notebook's code reaches: ``ah.name``,
    ``module.name`` for ``from autoenc_helpers import module``, and the names of ``from
    autoenc_helpers.module import (a, b)``; ``module`` is ``""`` for the package itself."""
    used = {("", name) for name in re.findall(r"\bah\.(\w+)", source)}
    for names in re.findall(r"^from autoenc_helpers import ([\w, ]+)$", source, re.M):
        for module in (n.strip() for n in names.split(",")):
            used.add(("", module))
            used |= {(module, name) for name in re.findall(rf"(?<![\w.]){module}\.(\w+)",
                                                           source)}
    for module, names in re.findall(r"^from autoenc_helpers\.(\w+) import (\([^)]*\)|.*)$",
                                    source, re.M):
        used |= {(module, n.strip()) for n in names.strip("()").split(",") if n.strip()}
    return used


def test_the_parser_finds_every_form_of_use():
    source = ("import autoenc_helpers as ah\nah.setup(1)\n"
              "from autoenc_helpers import data, plots\nx = data.load(); plots.show(x)\n"
              "from autoenc_helpers.anomaly import (A, b,\n    c)\n")
    assert _helpers_used(source) == {("", "setup"), ("", "data"), ("", "plots"),
                                     ("data", "load"), ("plots", "show"), ("anomaly", "A"),
                                     ("anomaly", "b"), ("anomaly", "c")}


def _exists(module: str, name: str) -> bool:
    """Whether ``autoenc_helpers[.module].name`` exists (an attribute or a sub-module)."""
    package = f"autoenc_helpers.{module}" if module else "autoenc_helpers"
    if hasattr(importlib.import_module(package), name):
        return True
    return importlib.util.find_spec(f"{package}.{name}") is not None if not module else False


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "notebooks").glob(
    "[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_every_helper_a_notebook_calls_exists(path):
    """A helper renamed or removed in the package fails here, with the notebook and the name,
    not minutes into a notebook run."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    missing = sorted(f"{module or 'autoenc_helpers'}.{name}"
                     for module, name in _helpers_used(source) if not _exists(module, name))
    assert not missing, f"{path.name} calls helpers the package does not have: {missing}"


@pytest.mark.parametrize("obj", [len, 3, "def f(): pass"])
def test_show_source_refuses_objects_without_source(obj, displayed):
    with pytest.raises(ValueError, match="no Python source"):
        show_source(obj)
    assert not displayed
