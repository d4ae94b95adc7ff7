"""Notebook conveniences: show a helper's source code where a lesson reuses it.

In the spirit of d2l.ai, the helper package holds only code the reader has already seen: a
lesson that reuses a builder from :mod:`autoenc_helpers.models` shows its source with
:func:`show_source`, so that the architecture being trained is always on the page.
"""

from __future__ import annotations

import inspect


def show_source(obj: object) -> None:
    """Display the source code of a function or class, syntax-highlighted in a notebook and
    as plain text elsewhere (a terminal, a static viewer of the saved notebook)."""
    from IPython.display import Code, display

    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise ValueError(f"show_source: no Python source for {obj!r} ({exc}).") from exc
    display(Code(inspect.cleandoc("\n" + source) if source.startswith(" ") else source,
                 language="python"))
