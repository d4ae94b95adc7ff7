"""Every reusable figure of the course. Each function titles and labels what it draws.

- images: :func:`show_image_rows` (a grid of grey images, one labelled row per kind);
- training: :func:`plot_history` (loss curves from a Keras ``History``);
- codes: :func:`plot_map` (2-d points coloured by label, lesson 3), :func:`plot_image_grid`
  (images tiled in a grid, e.g. decoded from a grid of codes, lesson 7);
- errors and thresholds: :func:`plot_error_histograms` (one histogram per class or per kind
  of input, thresholds as lines; lessons 3 and 4), :func:`plot_threshold_view` and the
  interactive :func:`threshold_explorer` (lesson 4), :func:`plot_roc_pr` (lesson 4);
- signals: :func:`plot_class_bands`, :func:`plot_reconstruction` (lesson 4),
  :func:`plot_signal_examples`, :func:`plot_sequence_reconstructions` (lesson 5; lesson 5's
  code maps are :func:`plot_map`s of principal components);
- applications: :func:`plot_neighbours` (search results), :func:`plot_label_curves`
  (accuracy against the number of labels; lesson 8).

Labels follow :mod:`autoenc_helpers.metrics`: 1 = anomaly (the positive class), 0 = normal,
and an input is flagged when its error is at or above the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import NDArray

from autoenc_helpers.metrics import (CLASS_NAMES, check_errors, check_labels,
                                     classification_metrics, flag)

#: Resolution of inline figures: sharp on a high-resolution screen, yet small enough that a
#: notebook with its figures stays under 1.5 MB.
FIGURE_DPI = 100


def set_style() -> None:
    """Seaborn's clean style, readable font sizes and :data:`FIGURE_DPI` for every figure
    that follows."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.dpi": FIGURE_DPI, "savefig.dpi": FIGURE_DPI,
                         "figure.figsize": (7.0, 4.0), "axes.titleweight": "bold",
                         "image.interpolation": "nearest"})


def show_image_rows(rows: Mapping[str, NDArray], col_titles: Sequence[str] | None = None,
                    title: str = "", cmap: str = "gray", size: float = 1.0) -> plt.Figure:
    """A grid of grey images: one row per entry of ``rows``, labelled with its key.

    Args:
        rows: ``{"row label": images}`` with images ``(n_cols, h, w)``; every row has the same
            number of images. Values are shown on a fixed [0, 1] scale.
        col_titles: optional ``n_cols`` titles for the first row (e.g. class names).
        title: the figure's title.
        size: inches per image.
    """
    labels = list(rows)
    n_cols = len(rows[labels[0]])
    fig, axes = plt.subplots(len(labels), n_cols, figsize=(size * n_cols + 1.0,
                                                           size * len(labels) + 0.6),
                             squeeze=False)
    for r, label in enumerate(labels):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.imshow(rows[label][c], cmap=cmap, vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
            if r == 0 and col_titles is not None:
                ax.set_title(col_titles[c], fontsize=9, fontweight="normal")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history, title: str = "Training and validation loss",
                 ylabel: str = "loss", ax: plt.Axes | None = None,
                 keys: Sequence[str] | None = None) -> plt.Axes:
    """Curves from a Keras ``History`` (or its ``.history`` dict), one line per metric.

    Args:
        keys: metrics to draw, e.g. ``["loss", "val_loss"]``; default every key ending in
            ``loss``. Validation curves (``val_*``) are dashed.
    """
    hist = getattr(history, "history", history)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    keys = [k for k in hist if k.endswith("loss")] if keys is None else list(keys)
    for key in keys:
        values = hist[key]
        epochs = np.arange(1, len(values) + 1)
        name = key.removeprefix("val_")
        label = ("validation" if key.startswith("val_") else "training") + (
            "" if name == "loss" else f" {name}")
        ax.plot(epochs, values, marker="o", ms=3, ls="--" if key.startswith("val_") else "-",
                label=label)
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # whole epochs only
    ax.legend()
    return ax


def plot_map(points: NDArray, labels: NDArray, title: str, ax: plt.Axes | None = None,
             xlabel: str = "dimension 1", ylabel: str = "dimension 2",
             legend_title: str = "digit", s: float = 3.0, ticks: bool = False,
             palette: str = "colorblind", names: Sequence[str] | None = None) -> plt.Axes:
    """Scatter ``(n, 2)`` points coloured by integer label with seaborn's colour-blind-safe
    palette (or another named ``palette``: ``"tab10"`` tells ten classes apart), with a legend
    (one entry per label, ``names[label]`` when ``names`` is given, else the label) outside
    the axes. ``ticks=True`` keeps the axes' values (meaningful for a VAE's 2-d codes; t-SNE's
    are not). Defined in lesson 3 (lessons 5 and 7 reuse it)."""
    import seaborn as sns

    points, labels = np.asarray(points), np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2 or labels.shape != (len(points),):
        raise ValueError(f"plot_map: expected (n, 2) points and (n,) labels, got "
                         f"{points.shape} and {labels.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    classes = np.unique(labels)
    colours = sns.color_palette(palette, len(classes))
    for colour, c in zip(colours, classes):
        sel = labels == c
        ax.scatter(points[sel, 0], points[sel, 1], s=s, color=colour,
                   label=str(c) if names is None else names[int(c)],
                   rasterized=True, linewidths=0)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if not ticks:
        ax.set(xticks=[], yticks=[])
    ax.legend(title=legend_title, markerscale=12 / max(s, 1.0), loc="center left",
              bbox_to_anchor=(1.0, 0.5), frameon=False)
    return ax


def plot_image_grid(images: NDArray, title: str, xvalues: Sequence[float] | None = None,
                    yvalues: Sequence[float] | None = None, xlabel: str = "",
                    ylabel: str = "", size: float = 0.45) -> plt.Axes:
    """Tile a ``(rows, cols, h, w)`` array of images in [0, 1] into one picture.

    Lesson 7 draws a 2-d VAE's latent manifold with it: the image decoded at each point of a
    grid of codes. ``xvalues`` (``cols``) and ``yvalues`` (``rows``, top to bottom) label the
    columns and rows, e.g. with the code values they were decoded from.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"plot_image_grid: expected (rows, cols, h, w) images, got "
                         f"{images.shape}.")
    rows, cols, h, w = images.shape
    mosaic = images.transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
    _, ax = plt.subplots(figsize=(size * cols + 1.2, size * rows + 0.9))
    ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0)
    ax.grid(False)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    for values, n, step, set_ticks in ((xvalues, cols, w, ax.set_xticks),
                                       (yvalues, rows, h, ax.set_yticks)):
        if values is None:
            set_ticks([])
        else:
            if len(values) != n:
                raise ValueError(f"plot_image_grid: {len(values)} tick values for {n} tiles.")
            labels = [f"{round(float(v), 1) + 0.0:.1f}" for v in values]
            set_ticks(np.arange(n) * step + (step - 1) / 2, labels)
    return ax


def plot_neighbours(queries: NDArray, neighbours: Mapping[str, NDArray],
                    correct: Mapping[str, NDArray] | None = None, title: str = "",
                    size: float = 0.8) -> plt.Figure:
    """Each query image beside its nearest neighbours in several spaces (lesson 8's search).

    One row per query and space: the query first, then its neighbours, nearest first, the row
    labelled with the space's name. Neighbours of another class than the query get a red frame
    when ``correct`` is given.

    Args:
        queries: ``(q, h, w)`` images in [0, 1].
        neighbours: ``{space: (q, k, h, w) images}``, the same ``q`` and ``k`` for every space.
        correct: optional ``{space: (q, k) bool}``, whether each neighbour has the query's class.
    """
    queries = np.asarray(queries)
    spaces = list(neighbours)
    shapes = {np.asarray(neighbours[s]).shape[:2] for s in spaces}
    if queries.ndim != 3 or len(shapes) != 1 or next(iter(shapes))[0] != len(queries):
        raise ValueError(f"plot_neighbours: expected (q, h, w) queries and (q, k, h, w) "
                         f"neighbours per space, got {queries.shape} and "
                         f"{[np.asarray(neighbours[s]).shape for s in spaces]}.")
    n_q, k = next(iter(shapes))
    fig, axes = plt.subplots(n_q * len(spaces), k + 1, squeeze=False,
                             figsize=(size * (k + 1) + 1.4, size * n_q * len(spaces) + 0.8))
    for q in range(n_q):
        for s_i, space in enumerate(spaces):
            row = axes[q * len(spaces) + s_i]
            for c, ax in enumerate(row):
                image = queries[q] if c == 0 else np.asarray(neighbours[space])[q, c - 1]
                ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.grid(False)
                if c > 0 and correct is not None and not np.asarray(correct[space])[q, c - 1]:
                    for spine in ax.spines.values():
                        spine.set(edgecolor="tab:red", linewidth=2.5, visible=True)
            row[0].set_ylabel(space, rotation=0, ha="right", va="center", fontsize=10)
            if q == 0 and s_i == 0:
                row[0].set_title("query", fontsize=9, fontweight="normal")
                for c in range(1, k + 1):
                    row[c].set_title(f"#{c}", fontsize=9, fontweight="normal")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_label_curves(results, title: str, x: str = "labels per class",
                      y: str = "accuracy", hue: str = "method",
                      ax: plt.Axes | None = None) -> plt.Axes:
    """Accuracy against the number of labels, one line per method, its spread as a band.

    Lesson 8's learning curves: the line joins the mean over the label draws, the band spans
    the lowest to the highest draw; the x axis is logarithmic.

    Args:
        results: a pandas DataFrame with one row per (method, labels, draw) and the columns
            named by ``x``, ``y`` and ``hue``.
    """
    import seaborn as sns

    missing = [c for c in (x, y, hue) if c not in results.columns]
    if missing:
        raise ValueError(f"plot_label_curves: results lack the column(s) {missing}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    sns.lineplot(data=results, x=x, y=y, hue=hue, style=hue, markers=True, dashes=False,
                 errorbar=("pi", 100), ax=ax)
    ax.set_xscale("log")
    levels = np.sort(results[x].unique())
    ax.set_xticks(levels, [f"{v:g}" for v in levels])
    ax.set(title=title, xlabel=x, ylabel=y)
    ax.legend(title=hue, loc="lower right")
    return ax


_LINE_STYLES = ("--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)))


def errors_by_class(errors: NDArray, y: NDArray) -> dict[str, NDArray]:
    """``{"normal (n=...)": errors[y == 0], "anomaly (n=...)": errors[y == 1]}`` for
    :func:`plot_error_histograms`. errors, y: ``(n,)``; y is 1 for an anomaly."""
    errors = check_errors(errors)
    y = check_labels(y, len(errors))
    return {f"{CLASS_NAMES[c]} (n={int((y == c).sum())})": errors[y == c] for c in (0, 1)}


def plot_error_histograms(errors: Mapping[str, NDArray],
                          thresholds: Mapping[str, float] | None = None,
                          reference: Sequence[str] = (), log_scale: bool = False,
                          peak_scaled: bool = False, bins: int = 50,
                          title: str = "Reconstruction errors",
                          xlabel: str = "reconstruction error (anomaly score)",
                          ax: plt.Axes | None = None) -> plt.Axes:
    """Histograms of reconstruction errors on shared bins, one per class or kind of input,
    with thresholds as vertical lines (an input is flagged at or above a threshold).

    Args:
        errors: ``{"name": (n_name,) errors}``, e.g. :func:`errors_by_class` or one entry
            per kind of input.
        thresholds: ``{"label": value}`` drawn as vertical lines.
        reference: names drawn as filled areas (the normal data); with an empty
            ``reference`` every histogram is filled, translucent.
        log_scale: log-spaced bins on a log axis, for errors spread over decades.
        peak_scaled: scale each histogram to a peak of 1, so that sets of very different
            sizes or widths are equally visible (compare positions, not heights).
    """
    import seaborn as sns

    if not errors:
        raise ValueError("plot_error_histograms: no errors given.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    arrays = {name: np.asarray(e, np.float64).ravel() for name, e in errors.items()}
    everything = np.concatenate(list(arrays.values()))
    if log_scale:
        lo = max(float(everything.min()), 1e-6)
        edges = np.geomspace(lo, float(everything.max()) * 1.0001, bins)
    else:
        lo, edges = None, np.histogram_bin_edges(everything, bins=bins)
    palette = sns.color_palette("colorblind", len(arrays))
    for colour, (name, err) in zip(palette, arrays.items()):
        counts, _ = np.histogram(err if lo is None else np.clip(err, lo, None), bins=edges)
        height = counts / max(counts.max(), 1) if peak_scaled else counts
        if not reference or name in reference:
            ax.stairs(height, edges, fill=True, alpha=0.45 if not reference else 0.35,
                      color=colour, label=name)
        else:
            ax.stairs(height, edges, lw=1.8, color=colour, label=name)
    for i, (label, value) in enumerate((thresholds or {}).items()):
        ax.axvline(value, color="black", ls=_LINE_STYLES[i % len(_LINE_STYLES)], lw=1.5,
                   label=f"{label}: {value:.4g}")
    if log_scale:
        ax.set_xscale("log")
        xlabel += " (log scale)"
    ax.set(title=title, xlabel=xlabel,
           ylabel="frequency (peak scaled to 1)" if peak_scaled else "examples")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=9)
    return ax


def plot_class_bands(x: NDArray, y: NDArray, title: str = "Mean beat of each class, ± 1 std",
                     ax: plt.Axes | None = None) -> plt.Axes:
    """Mean of each class as a line and its mean ± one standard deviation as a band.

    Args:
        x: ``(n, d)`` signals. y: ``(n,)`` labels, 1 = anomaly, 0 = normal.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    t = np.arange(x.shape[1])
    for c, colour in ((0, "tab:blue"), (1, "tab:red")):
        xc = x[np.asarray(y) == c]
        mean, std = xc.mean(axis=0), xc.std(axis=0)
        ax.plot(t, mean, color=colour, label=f"{CLASS_NAMES[c]} (n={len(xc)})")
        ax.fill_between(t, mean - std, mean + std, color=colour, alpha=0.2)
    ax.set(title=title, xlabel="sample (time step)", ylabel="amplitude")
    ax.legend()
    return ax


def plot_reconstruction(signal: NDArray, reconstruction: NDArray, title: str,
                        ax: plt.Axes | None = None) -> plt.Axes:
    """One signal and its reconstruction, the gap between them shaded; the mean absolute error
    is in the legend. ``signal`` and ``reconstruction``: ``(d,)``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    t = np.arange(len(signal))
    ax.plot(t, signal, color="black", lw=1.5, label="input")
    ax.plot(t, reconstruction, color="tab:orange", lw=1.5, label="reconstruction")
    mae = float(np.mean(np.abs(np.asarray(signal) - np.asarray(reconstruction))))
    ax.fill_between(t, signal, reconstruction, color="tab:red", alpha=0.3,
                    label=f"error (MAE {mae:.3f})")
    ax.set(title=title, xlabel="sample (time step)", ylabel="amplitude (scaled)")
    ax.legend(fontsize=9)
    return ax


# --------------------------------------------------------------------------- lesson 5: sequences


def _family_panels(x: NDArray, y: NDArray, names: Sequence[str], who: str
                   ) -> tuple[NDArray, NDArray, plt.Figure, NDArray]:
    """``(n, T)`` series and ``(n,)`` labels checked, and a row of one panel per family
    (titled with its name, axes labelled, the value axis shared)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or y.shape != (len(x),):
        raise ValueError(f"{who}: expected (n, T) series and (n,) labels, got {x.shape} and "
                         f"{y.shape}.")
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.9), sharey=True,
                             squeeze=False)
    for name, ax in zip(names, axes[0]):
        ax.set(title=name, xlabel="time step")
    axes[0, 0].set_ylabel("value")
    return x, y, fig, axes[0]


def plot_signal_examples(x: NDArray, y: NDArray, names: Sequence[str], per_family: int = 3,
                         title: str = "Example series of each family") -> plt.Figure:
    """One panel per family, titled with its name, drawing its first ``per_family`` series.

    Defined in lesson 5.

    Args:
        x: ``(n, T)`` series. y: ``(n,)`` integer labels indexing ``names``.
        names: ``(n_families,)`` family names, one panel each.

    Returns:
        The figure: ``len(names)`` panels sharing the value axis, ``per_family`` lines each.
    """
    x, y, fig, axes = _family_panels(x, y, names, "plot_signal_examples")
    for label, ax in enumerate(axes):
        for row in x[y == label][:per_family]:
            ax.plot(row, lw=1.2)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_sequence_reconstructions(x: NDArray, reconstructions: Mapping[str, NDArray],
                                  y: NDArray, names: Sequence[str],
                                  title: str = "Test series and their reconstructions"
                                  ) -> plt.Figure:
    """One panel per family: its first series in ``x`` (black, "input") and each model's
    reconstruction of it (one line per model, labelled with its key). Defined in lesson 5.

    Args:
        x: ``(n, T)`` series. reconstructions: ``{"model": (n, T) or (n, T, 1) array}``.
        y: ``(n,)`` integer labels indexing ``names``. names: ``(n_families,)`` family names.

    Returns:
        The figure: ``len(names)`` panels of ``1 + len(reconstructions)`` lines each.
    """
    x, y, fig, axes = _family_panels(x, y, names, "plot_sequence_reconstructions")
    for label, ax in enumerate(axes):
        i = int(np.flatnonzero(y == label)[0])
        ax.plot(x[i], color="black", lw=1.5, label="input")
        for model, rec in reconstructions.items():
            ax.plot(np.asarray(rec)[i].reshape(-1), lw=1.3, label=model)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_threshold_view(errors: NDArray, y: NDArray, threshold: float,
                        title: str = "") -> plt.Figure:
    """What one threshold does: error histograms with the threshold, the confusion matrix and
    the metrics (anomaly positive). The figure behind :func:`threshold_explorer`.

    Args:
        errors: ``(n,)`` anomaly scores. y: ``(n,)`` labels, 1 = anomaly.
    """
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    fig, (ax_h, ax_c) = plt.subplots(1, 2, figsize=(11, 3.8),
                                     gridspec_kw={"width_ratios": [1.9, 1]})
    plot_error_histograms(errors_by_class(errors, y), {"threshold": threshold}, ax=ax_h,
                          title="Errors by class and the threshold")
    y = np.asarray(y)
    ConfusionMatrixDisplay(confusion_matrix(y, flag(errors, threshold), labels=[0, 1]),
                           display_labels=list(CLASS_NAMES)).plot(ax=ax_c, colorbar=False)
    ax_c.grid(False)
    m = classification_metrics(y, errors, threshold)
    ax_c.set_title("Confusion matrix")
    ax_c.set_xlabel(f"predicted\nacc {m['accuracy']:.3f}  prec {m['precision']:.3f}  "
                    f"rec {m['recall']:.3f}  F1 {m['f1']:.3f}", fontsize=9)
    fig.suptitle(title or f"Threshold {threshold:.4f} (positive class: anomaly)")
    fig.tight_layout()
    return fig


def plot_roc_pr(y: NDArray, scores: NDArray, thresholds: Mapping[str, float] | None = None,
                title: str = "Test set: ROC and precision-recall curves (positive: anomaly)",
                zoom: bool = True) -> plt.Figure:
    """ROC and precision-recall curves of the scores with their AUCs, and a marker where each
    threshold sits on them; with ``zoom``, an inset magnifies the corner where the markers are.

    Args:
        y: ``(n,)`` labels, 1 = anomaly. scores: ``(n,)`` anomaly scores.
        thresholds: ``{"label": value}`` marked on both curves.
    """
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    y, scores = np.asarray(y), np.asarray(scores)
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.6))
    roc = RocCurveDisplay.from_predictions(y, scores, pos_label=1, ax=ax_roc,
                                           name="autoencoder", plot_chance_level=True)
    pr = PrecisionRecallDisplay.from_predictions(y, scores, pos_label=1, ax=ax_pr,
                                                 name="autoencoder", plot_chance_level=True)
    points = []  # (label, fpr, recall, precision) of each threshold
    for label, t in (thresholds or {}).items():
        pred = flag(scores, t).astype(bool)
        precision = float(y[pred].mean()) if pred.any() else 1.0
        points.append((label, float(pred[y == 0].mean()), float(pred[y == 1].mean()), precision))
    axes = [(ax_roc, None), (ax_pr, None)]
    if zoom:
        fprs, recalls, precisions = (np.array([p[i] for p in points] or [0.0]) for i in (1, 2, 3))
        roc_in = ax_roc.inset_axes([0.38, 0.47, 0.57, 0.37])
        roc_in.plot(roc.fpr, roc.tpr, color=roc.line_.get_color())
        roc_in.set(xlim=(-0.005, max(0.1, 1.5 * fprs.max())),
                   ylim=(min(0.9, recalls.min() - 0.03), 1.005))
        pr_in = ax_pr.inset_axes([0.32, 0.53, 0.57, 0.31])
        pr_in.plot(pr.recall, pr.precision, color=pr.line_.get_color())
        pr_in.set(xlim=(min(0.9, recalls.min() - 0.03), 1.005),
                  ylim=(min(0.9, precisions.min() - 0.03), 1.005))
        for parent, inset in ((ax_roc, roc_in), (ax_pr, pr_in)):
            inset.tick_params(labelsize=8)
            inset.set_title("zoom", fontsize=8)
            parent.indicate_inset_zoom(inset, edgecolor="grey")
        axes = [(ax_roc, roc_in), (ax_pr, pr_in)]
    markers = "osD^v"
    for i, (label, fpr, recall, precision) in enumerate(points):
        kw = dict(marker=markers[i % len(markers)], ms=9, ls="none", mec="black", label=label)
        for (ax, inset), xy in zip(axes, ((fpr, recall), (recall, precision))):
            for target in (ax, inset):
                if target is not None:
                    line = target.plot(*xy, **kw)[0]
                    kw["color"] = line.get_color()
                    kw["label"] = None
            kw["label"] = label
    ax_roc.set(title="ROC curve", xlabel="false positive rate (normals flagged)",
               ylabel="true positive rate (recall)")
    ax_pr.set(title="Precision-recall curve", xlabel="recall (anomalies caught)",
              ylabel="precision")
    for ax in (ax_roc, ax_pr):
        ax.legend(fontsize=8, loc="lower left" if ax is ax_pr else "lower right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def threshold_explorer(errors: NDArray, y: NDArray, initial: float, title: str = "",
                       draw_initial: bool = False) -> object:
    """An ``ipywidgets.interactive`` slider over the threshold that redraws
    :func:`plot_threshold_view` each time it moves.

    Widgets only render in a live notebook front end, so draw the static figure for
    ``initial`` first (it is what headless runs, nbval and static viewers show); by default the
    widget then skips its own first drawing, which would repeat that figure.

    Args:
        errors: ``(n,)`` anomaly scores. y: ``(n,)`` labels, 1 = anomaly.
        initial: the slider's starting threshold.
        draw_initial: draw the figure for ``initial`` under the slider at once.

    Returns:
        The ``interactive`` widget (display it, or let it be the last expression of a cell).
    """
    import ipywidgets as widgets

    errors = np.asarray(errors)
    lo, hi = float(np.min(errors)), float(np.percentile(errors, 99.5))
    slider = widgets.FloatSlider(value=float(np.clip(initial, lo, hi)), min=lo, max=hi,
                                 step=(hi - lo) / 200, description="threshold",
                                 readout_format=".4f", continuous_update=False,
                                 layout=widgets.Layout(width="70%"))

    first = [not draw_initial]  # skip the call that interactive() makes on creation

    def draw(threshold: float) -> None:
        if first[0]:
            first[0] = False
            print("Move the slider: the figure for the new threshold appears here.")
            return
        plot_threshold_view(errors, y, threshold, title=title)
        plt.show()

    return widgets.interactive(draw, threshold=slider)
