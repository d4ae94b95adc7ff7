"""Figures shared by the lessons. Every function titles and labels what it draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import NDArray

#: Resolution of inline figures: modest, so that committed notebooks stay small.
FIGURE_DPI = 72


def set_style() -> None:
    """Seaborn's clean style and a modest figure resolution for every figure that follows."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.dpi": FIGURE_DPI, "savefig.dpi": FIGURE_DPI,
                         "figure.figsize": (7.0, 4.0), "axes.titleweight": "bold"})


def show_image_rows(rows: Mapping[str, NDArray], col_titles: Sequence[str] | None = None,
                    title: str = "", cmap: str = "gray", size: float = 1.2) -> plt.Figure:
    """A grid of grey images: one row per entry of ``rows``, labelled with its key.

    Args:
        rows: ``{"row label": images}`` with images ``(n_cols, h, w)``; every row has the same
            number of images. Values are shown on a fixed [0, 1] scale.
        col_titles: optional ``n_cols`` titles for the first row (e.g. class names).
        title: the figure's title.
    """
    labels = list(rows)
    n_cols = len(rows[labels[0]])
    fig, axes = plt.subplots(len(labels), n_cols, figsize=(size * n_cols, size * len(labels) + 0.5),
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
                ax.set_title(col_titles[c], fontsize=8, fontweight="normal")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history, title: str = "Training and validation loss",
                 ylabel: str = "loss", ax: plt.Axes | None = None) -> plt.Axes:
    """Loss curves from a Keras ``History`` (or its ``.history`` dict), one line per metric."""
    hist = getattr(history, "history", history)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for key, values in hist.items():
        if key.endswith("loss"):
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, marker="o", ms=3,
                    label="validation" if key.startswith("val_") else "training")
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    ax.legend()
    return ax
