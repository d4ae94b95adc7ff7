"""Every reusable figure: it draws what it is given, titled, with labelled axes and legend.

The figures are drawn from small synthetic arrays (no model needed); labels follow
:mod:`autoenc_helpers.metrics`: 1 = anomaly, flagged when error >= threshold.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autoenc_helpers import plots  # noqa: E402
from autoenc_helpers.metrics import flag  # noqa: E402
from autoenc_helpers.plots import (FIGURE_DPI, errors_by_class, plot_class_bands,  # noqa: E402
                                   plot_error_histograms, plot_history, plot_map,
                                   plot_reconstruction, plot_roc_pr, plot_threshold_view,
                                   show_image_rows, threshold_explorer)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def scored():
    """``(errors, y)``: 80 normal errors around 1, 20 anomalies around 3 (1 = anomaly)."""
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(80, int), np.ones(20, int)]
    errors = np.r_[rng.normal(1.0, 0.2, 80), rng.normal(3.0, 0.5, 20)].clip(0.01)
    return errors, y


# ------------------------------------------------------------------------ style, images, history


def test_set_style_uses_the_figure_dpi():
    with plt.rc_context({"figure.dpi": 37, "savefig.dpi": 211}):  # whatever was set before
        plots.set_style()
        assert plt.rcParams["figure.dpi"] == FIGURE_DPI == plt.rcParams["savefig.dpi"]


def test_show_image_rows_draws_one_labelled_row_per_entry():
    rng = np.random.default_rng(1)
    rows = {"input": rng.random((4, 8, 8)), "output": rng.random((4, 8, 8))}
    fig = show_image_rows(rows, col_titles=list("abcd"), title="inputs and outputs")
    assert len(fig.axes) == 8 and fig._suptitle.get_text() == "inputs and outputs"
    assert [fig.axes[i].get_ylabel() for i in (0, 4)] == ["input", "output"]
    assert [ax.get_title() for ax in fig.axes[:4]] == list("abcd")
    image = fig.axes[0].images[0]
    assert image.get_clim() == (0.0, 1.0)            # a fixed [0, 1] scale for every image


def test_plot_history_draws_validation_dashed():
    history = {"loss": [0.5, 0.3, 0.2], "val_loss": [0.6, 0.4, 0.35], "mae": [0.4, 0.3, 0.2]}
    ax = plot_history(history, title="losses")
    assert ax.get_title() == "losses" and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert _legend(ax) == ["training", "validation"]          # default: the *loss keys only
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--"]
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), history["val_loss"])

    class FakeHistory:                                        # a keras History has .history
        pass

    fake = FakeHistory()
    fake.history = history
    ax = plot_history(fake, keys=["mae"], ylabel="MAE")
    assert _legend(ax) == ["training mae"] and ax.get_ylabel() == "MAE"


def test_plot_map_colours_by_label():
    rng = np.random.default_rng(6)
    ax = plot_map(rng.normal(size=(30, 2)), np.arange(30) % 3, title="map")
    assert ax.get_title() == "map" and ax.get_xlabel() and ax.get_ylabel()
    assert _legend(ax) == ["0", "1", "2"] and len(ax.collections) == 3
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot_map(rng.normal(size=(30, 3)), np.arange(30) % 3, title="bad")
    with pytest.raises(ValueError, match=r"\(n,\) labels"):
        plot_map(rng.normal(size=(30, 2)), np.arange(29), title="bad")


def test_plot_map_names_the_labels():
    rng = np.random.default_rng(6)
    ax = plot_map(rng.normal(size=(30, 2)), np.arange(30) % 3, title="map", legend_title="family",
                  names=["sine", "square", "saw"])
    assert _legend(ax) == ["sine", "square", "saw"]
    assert ax.get_legend().get_title().get_text() == "family"


# --------------------------------------------------------------------------- sequences (lesson 5)


def test_plot_signal_examples_one_panel_per_family():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 16)), np.arange(20) % 4
    fig = plots.plot_signal_examples(x, y, ["a", "b", "c", "d"], per_family=2, title="Series")
    axes = fig.axes
    assert fig._suptitle.get_text() == "Series"
    assert [ax.get_title() for ax in axes] == ["a", "b", "c", "d"]
    assert [len(ax.lines) for ax in axes] == [2, 2, 2, 2]
    assert axes[0].get_xlabel() == "time step" and axes[0].get_ylabel() == "value"
    np.testing.assert_array_equal(axes[1].lines[0].get_ydata(), x[y == 1][0])
    with pytest.raises(ValueError, match=r"\(n, T\)"):
        plots.plot_signal_examples(x[..., None], y, ["a", "b", "c", "d"])


def test_plot_sequence_reconstructions_input_and_one_line_per_model():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 12)), np.array([1, 0, 1, 0, 1, 0, 1, 0])
    recs = {"LSTM": x[..., None] + 0.1, "Conv1D": x - 0.1}   # (n, T, 1) and (n, T) both work
    fig = plots.plot_sequence_reconstructions(x, recs, y, ["zero", "one"], title="Recs")
    axes = fig.axes
    assert fig._suptitle.get_text() == "Recs"
    assert [ax.get_title() for ax in axes] == ["zero", "one"]
    assert [len(ax.lines) for ax in axes] == [3, 3]
    assert _legend(axes[0]) == ["input", "LSTM", "Conv1D"]
    np.testing.assert_array_equal(axes[0].lines[0].get_ydata(), x[1])     # family 0's first
    np.testing.assert_allclose(axes[1].lines[1].get_ydata(), x[0] + 0.1)  # family 1's, LSTM
    with pytest.raises(ValueError, match="labels"):
        plots.plot_sequence_reconstructions(x, recs, y[:3], ["zero", "one"])


# --------------------------------------------------------------------------- error histograms


def test_errors_by_class_names_and_splits_the_classes(scored):
    errors, y = scored
    by_class = errors_by_class(errors, y)
    assert list(by_class) == ["normal (n=80)", "anomaly (n=20)"]
    np.testing.assert_array_equal(by_class["normal (n=80)"], errors[:80])
    np.testing.assert_array_equal(by_class["anomaly (n=20)"], errors[80:])


def test_error_histograms_per_class_with_thresholds(scored):
    errors, y = scored
    ax = plot_error_histograms(errors_by_class(errors, y), {"a": 1.5, "b": 2.0},
                               title="by class", bins=30)
    assert ax.get_title() == "by class"
    assert ax.get_xlabel() == "reconstruction error (anomaly score)"
    assert ax.get_ylabel() == "examples" and ax.get_xscale() == "linear"
    assert _legend(ax) == ["normal (n=80)", "anomaly (n=20)", "a: 1.5", "b: 2"]
    assert [line.get_xdata()[0] for line in ax.lines] == [1.5, 2.0]   # thresholds as lines
    assert ax.lines[0].get_linestyle() != ax.lines[1].get_linestyle()
    # one histogram per class, on shared bins, counting every example once
    assert len(ax.patches) == 2
    counts = [p.get_data().values for p in ax.patches]
    assert [c.sum() for c in counts] == [80, 20]
    np.testing.assert_array_equal(ax.patches[0].get_data().edges, ax.patches[1].get_data().edges)
    assert all(p.get_fill() for p in ax.patches)          # no reference: all filled


def test_error_histograms_per_kind_on_log_scale_peak_scaled():
    rng = np.random.default_rng(6)
    ax = plot_error_histograms({"a": rng.random(50) + 0.01, "b": rng.random(500) + 1},
                               {"threshold": 0.9}, reference=["a"], log_scale=True,
                               peak_scaled=True)
    assert ax.get_xlabel().endswith("(log scale)") and ax.get_title()
    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == "frequency (peak scaled to 1)"
    assert _legend(ax) == ["a", "b", "threshold: 0.9"]
    heights = [p.get_data().values.max() for p in ax.patches]      # one StepPatch per kind
    np.testing.assert_allclose(heights, [1.0, 1.0])                # each scaled to peak 1
    assert ax.patches[0].get_fill() and not ax.patches[1].get_fill()  # the reference is filled
    edges = ax.patches[0].get_data().edges
    np.testing.assert_allclose(np.diff(np.log(edges)), np.log(edges[1] / edges[0]))  # log bins
    with pytest.raises(ValueError, match="no errors"):
        plot_error_histograms({})


def test_error_histograms_draw_on_a_given_axes(scored):
    errors, y = scored
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_error_histograms(errors_by_class(errors, y), ax=right) is right
    assert not left.patches and len(right.patches) == 2


# --------------------------------------------------------------------------- signals


def test_plot_class_bands_and_reconstruction():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 16))
    y = np.r_[np.zeros(20, int), np.ones(10, int)]
    ax = plot_class_bands(x, y)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.collections) == 2 and _legend(ax) == ["normal (n=20)", "anomaly (n=10)"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), x[20:].mean(axis=0))
    signal = np.sin(np.linspace(0, 6, 16))
    ax = plot_reconstruction(signal, signal + 0.5, title="beat 0")
    assert ax.get_title() == "beat 0" and ax.get_xlabel() and ax.get_ylabel()
    assert _legend(ax)[:2] == ["input", "reconstruction"] and "MAE 0.500" in _legend(ax)[2]


# --------------------------------------------------------------------------- thresholds, curves


def test_plot_threshold_view(scored):
    errors, y = scored
    fig = plot_threshold_view(errors, y, 2.0)
    hist, matrix = fig.axes[:2]
    assert "anomaly" in fig._suptitle.get_text() and "2.0000" in fig._suptitle.get_text()
    assert hist.get_xlabel() and _legend(hist)[-1] == "threshold: 2"
    assert matrix.get_title() == "Confusion matrix" and "F1" in matrix.get_xlabel()
    texts = [t.get_text() for t in matrix.texts]            # the four cells: TN FP / FN TP
    pred = flag(errors, 2.0)
    expected = [((y == t) & (pred == p)).sum() for t in (0, 1) for p in (0, 1)]
    assert [int(t) for t in texts] == expected


def test_plot_roc_pr(scored):
    errors, y = scored
    fig = plot_roc_pr(y, errors, {"best F1": 2.0, "p95": 1.3})
    main = fig.axes[:2]
    assert [a.get_title() for a in main] == ["ROC curve", "Precision-recall curve"]
    assert "recall" in main[0].get_ylabel() and "recall" in main[1].get_xlabel()
    for ax in main:
        labels = _legend(ax)
        assert "best F1" in labels and "p95" in labels
    assert [len(ax.child_axes) for ax in main] == [1, 1]      # a zoomed inset on each
    assert [len(ax.child_axes) for ax in plot_roc_pr(y, errors, zoom=False).axes] == [0, 0]


def test_threshold_explorer_builds_a_slider(scored):
    errors, y = scored
    widget = threshold_explorer(errors, y, initial=2.0)
    slider = widget.children[0]
    assert slider.description == "threshold"
    assert slider.min <= 2.0 <= slider.max
    assert slider.value == pytest.approx(2.0, abs=slider.step)


def test_plot_neighbours_one_row_per_query_and_space_wrong_class_framed():
    rng = np.random.default_rng(0)
    queries = rng.random((2, 5, 5))
    neighbours = {"pixels": rng.random((2, 3, 5, 5)), "code": rng.random((2, 3, 5, 5))}
    correct = {"pixels": np.array([[True, False, True], [True, True, True]]),
               "code": np.ones((2, 3), bool)}
    fig = plots.plot_neighbours(queries, neighbours, correct=correct, title="Search")
    axes = np.array(fig.axes).reshape(4, 4)
    assert fig._suptitle.get_text() == "Search"
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["pixels", "code", "pixels", "code"]
    red = matplotlib.colors.to_rgb("tab:red")
    assert axes[0, 2].spines["left"].get_edgecolor()[:3] == pytest.approx(red, abs=0.01)
    assert axes[0, 1].spines["left"].get_edgecolor() != axes[0, 2].spines["left"].get_edgecolor()
    with pytest.raises(ValueError, match="neighbours"):
        plots.plot_neighbours(queries, {"pixels": rng.random((3, 3, 5, 5))})


def test_plot_label_curves_log_axis_one_line_per_method():
    import pandas as pd

    rows = [{"method": m, "labels per class": n, "draw": d, "accuracy": 0.5 + 0.01 * d + 0.1 * i}
            for i, m in enumerate(["a", "b"]) for n in (10, 100, 1000) for d in range(3)]
    ax = plots.plot_label_curves(pd.DataFrame(rows), title="Curves")
    assert ax.get_xscale() == "log" and ax.get_title() == "Curves"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert ax.get_xlabel() == "labels per class" and ax.get_ylabel() == "accuracy"
    with pytest.raises(ValueError, match="column"):
        plots.plot_label_curves(pd.DataFrame(rows).rename(columns={"accuracy": "acc"}), title="x")
