"""``show_source``: a lesson that reuses a helper shows the helper's code."""

from __future__ import annotations

import inspect

import IPython.display
import pytest

import autoenc_helpers
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


def test_the_package_exports_show_source():
    assert autoenc_helpers.show_source is show_source


@pytest.mark.parametrize("obj", [len, 3, "def f(): pass"])
def test_show_source_refuses_objects_without_source(obj, displayed):
    with pytest.raises(ValueError, match="no Python source"):
        show_source(obj)
    assert not displayed
