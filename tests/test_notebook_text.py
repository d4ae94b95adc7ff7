"""Text hygiene of the committed notebooks (issue 18): what a student reads is clean.

- no warning, traceback or error text in any output (a full-mode run's outputs are committed);
- no control character in Markdown (a ``\\t`` written in a Python string turns ``\\top`` into
  a TAB and ``op``);
- ``$`` signs balanced in every Markdown cell (inline and display maths both close).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Output text that means something went wrong or was left noisy.
NOISE = re.compile(r"Traceback \(most recent call last\)|\w+Warning\b|WARNING|\bwarn(ing)?s?:",
                   re.IGNORECASE)


def _cells(path: Path, kind: str):
    nb = nbformat.read(path, as_version=4)
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == kind]


def _output_texts(cell) -> list[str]:
    texts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            texts.append(("[stderr] " if out.name == "stderr" else "") + out.text)
        elif out.output_type == "error":
            texts.append(f"[error] {out.ename}: {out.evalue}")
        elif "text/plain" in out.get("data", {}):
            texts.append(out.data["text/plain"])
    return texts


def noisy_outputs(path: Path) -> list[str]:
    """``"cell i: ..."`` for each output with warning, traceback, error or stderr text."""
    found = []
    for i, cell in _cells(path, "code"):
        for text in _output_texts(cell):
            if text.startswith(("[stderr]", "[error]")) or NOISE.search(text):
                found.append(f"cell {i}: {text.strip()[:200]}")
    return found


def unbalanced_dollars(source: str) -> bool:
    """Whether a Markdown cell's ``$`` signs (outside code, not escaped) do not pair up."""
    text = re.sub(r"```.*?```", "", source, flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = text.replace(r"\$", "")
    text = text.replace("$$", "")  # display maths: $$ ... $$ pairs on its own
    return text.count("$") % 2 == 1 or source.replace(r"\$", "").count("$$") % 2 == 1


def control_characters(source: str) -> list[str]:
    return sorted({repr(ch) for ch in source if ord(ch) < 32 and ch != "\n"})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_warning_or_traceback_in_outputs(path):
    assert noisy_outputs(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_has_no_control_characters_and_balanced_maths(path):
    bad = [(i, control_characters(c.source)) for i, c in _cells(path, "markdown")
           if control_characters(c.source)]
    assert bad == [], f"control characters in Markdown cells: {bad}"
    unbalanced = [i for i, c in _cells(path, "markdown") if unbalanced_dollars(c.source)]
    assert unbalanced == [], f"unbalanced $ in Markdown cells {unbalanced}"


def test_the_checks_catch_what_they_are_for(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("$J = W_2^\top$ and $x"),
                nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
                    "stream", name="stderr", text="WARNING:tensorflow:5 out of the last 5 "
                    "calls triggered tf.function retracing")]),
                nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
                    "stream", name="stdout", text="UserWarning: something")])]
    path = tmp_path / "01_bad.ipynb"
    nbformat.write(nb, path)
    assert len(noisy_outputs(path)) == 2
    assert control_characters(nb.cells[0].source) == ["'\\t'"]
    assert unbalanced_dollars("$a$ and $b") and not unbalanced_dollars("$a$, `$x`, \\$5, $$y$$")
    assert unbalanced_dollars("$$a$$ $$b")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_checks_at_least_five_claims(path):
    """The statements that carry a lesson's story are claim checks (issue 18)."""
    calls = sum(len(re.findall(r"\bah\.claim\(", c.source)) for _, c in _cells(path, "code"))
    assert calls >= 5, f"{path.name}: {calls} ah.claim(...) calls; at least five expected"
