"""A lesson runs with only what the package declares (issue 22).

A student who opens a lesson in VS Code or any Jupyter front-end has a kernel and whatever the
setup cell installs: the helpers and the requirements that ``pyproject.toml`` declares, nothing
that happens to sit in the course's own development environment. Lesson 4 once stopped at its
first table there (pandas' ``DataFrame.style`` needs jinja2, which was not declared).

The test builds such an environment without the network: a fresh virtual environment whose only
packages are links to the installed distributions that the declared requirements need
(recursively, markers evaluated), plus a kernel (``ipykernel``) and the runner (``nbclient``),
and runs lesson 4, whose tables use ``DataFrame.style``, in quick mode inside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
#: What any front-end brings: a kernel, and here the runner that stands in for the front-end.
FRONT_END = ["ipykernel", "nbclient", "nbformat"]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_requirements() -> list[str]:
    """The package's own requirements, read from ``pyproject.toml`` (not the installed copy's
    metadata, which may be older than the working tree)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return list(project["dependencies"])


def closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """``{normalised name: distribution}`` of the installed distributions that
    ``requirements`` need, recursively; optional extras are not followed.

    Raises:
        LookupError: a requirement is not installed here.
    """
    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = _normal(req.name)
        if name in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError as exc:
            raise LookupError(f"{req.name} (needed) is not installed") from exc
        found[name] = dist
        todo.extend(Requirement(r) for r in dist.requires or [])
    return found


def _top_level_entries(dist: metadata.Distribution) -> set[str]:
    """The names directly under site-packages that ``dist`` installed (packages, modules,
    its ``.dist-info``, shared libraries)."""
    return {Path(str(f)).parts[0] for f in dist.files or []
            if not str(f).startswith("..") and not str(f).endswith(".pth")}


def build_environment(where: Path, requirements: list[str]) -> Path:
    """A virtual environment at ``where`` that sees only ``requirements``' closure (linked,
    not copied) and this checkout's ``autoenc_helpers``; returns its Python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                                "get_paths()['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    here = Path(sysconfig.get_paths()["purelib"])
    linked = where / "linked"
    linked.mkdir()
    for dist in closure(requirements).values():
        for entry in _top_level_entries(dist):
            source = Path(dist.locate_file(entry))
            if source.exists() and source.parent == here and not (linked / entry).exists():
                (linked / entry).symlink_to(source)
    (linked / "autoenc_helpers").symlink_to(ROOT / "autoenc_helpers")
    (site / "linked.pth").write_text(f"{linked}\n", encoding="utf-8")
    return python


def test_the_closure_follows_requirements_and_skips_extras():
    names = set(closure(["nbformat"]))
    assert {"nbformat", "traitlets", "jsonschema"} <= names
    assert "pytest" not in names  # nbformat's test extra is not followed
    with pytest.raises(LookupError, match="not installed"):
        closure(["a-distribution-that-does-not-exist"])


def test_the_environment_sees_only_what_was_linked(tmp_path):
    python = build_environment(tmp_path / "env", ["numpy"])
    probe = ("import importlib.util as u; print(u.find_spec('numpy') is not None, "
             "u.find_spec('pandas') is None, u.find_spec('autoenc_helpers') is not None)")
    out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"], out


@pytest.mark.slow
def test_lesson_4_runs_with_only_the_declared_requirements(tmp_path, real_data_dir):
    python = build_environment(tmp_path / "env", declared_requirements() + FRONT_END)
    notebook = ROOT / "notebooks" / "04_ecg_anomaly_detection.ipynb"
    run = ("import sys, nbformat, nbclient\n"
           "nb = nbformat.read(sys.argv[1], as_version=4)\n"
           "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3',\n"
           "                        resources={'metadata': {'path': sys.argv[2]}}).execute()\n")
    env = {**os.environ, "AUTOENC_QUICK": "1", "PYTHONNOUSERSITE": "1",
           "AUTOENC_DATA_DIR": str(real_data_dir),
           "JUPYTER_PATH": str(tmp_path / "env" / "share" / "jupyter")}
    env.pop("PYTHONPATH", None)
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(tmp_path / "env"),
                    "--name", "python3"], check=True, capture_output=True, env=env)
    result = subprocess.run([str(python), "-c", run, str(notebook), str(notebook.parent)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
