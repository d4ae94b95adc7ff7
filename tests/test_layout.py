"""The helper package's layout: one home per concern (issue 8).

- lesson modules import lower layers only, never each other;
- every module is listed, with what it holds, in the package docstring and in the README's
  "Repository layout" section;
- one function builds the convolutional image autoencoders: ``models.conv_autoencoder``.

These tests read the source files (``ast``), importing nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "autoenc_helpers"
PACKAGE_NAME = PACKAGE.name

#: The lower layers (and course plumbing) that any module may import; every other module of
#: the package is a lesson module.
SHARED_MODULES = {"config", "data", "metrics", "models", "plots", "report", "course", "notebook",
                  "exercises", "__init__"}


def _modules() -> dict[str, Path]:
    """``{name: path}`` of the package's modules: ``*.py`` files and sub-packages."""
    found = {p.stem: p for p in PACKAGE.glob("*.py")}
    found.update({p.parent.name: p for p in PACKAGE.glob("*/__init__.py")})
    return found


def _lesson_modules() -> dict[str, Path]:
    return {name: path for name, path in _modules().items() if name not in SHARED_MODULES}


def _imported_package_modules(path: Path) -> set[str]:
    """Names of the package's top-level modules that ``path`` imports, however it imports them
    (``import autoenc_helpers.x``, ``from autoenc_helpers import x``, ``from autoenc_helpers.x
    import y``, ``from . import x``, ``from .x import y``), at module level or inside functions."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE_NAME and len(parts) > 1:
                    names.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .x import y
                parts = (node.module or "").split(".") if node.module else []
            elif node.module and node.module.split(".")[0] == PACKAGE_NAME:
                parts = node.module.split(".")[1:]
            else:
                continue
            if parts:
                names.add(parts[0])
            else:
                names.update(alias.name for alias in node.names)
    return names


def test_the_lesson_modules_are_found():
    lessons = _lesson_modules()
    assert {"noise", "latent", "anomaly"} <= set(lessons), sorted(lessons)


def test_lesson_modules_never_import_each_other():
    lessons = _lesson_modules()
    offences = [f"{name} imports {other}"
                for name, path in sorted(lessons.items())
                for other in sorted(_imported_package_modules(path))
                if other in lessons and other != name]
    assert not offences, ("lesson modules may import only the lower layers "
                          f"{sorted(SHARED_MODULES - {'__init__'})}, not each other: {offences}")


def test_the_import_parser_sees_every_form(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import autoenc_helpers.noise\n"
                      "from autoenc_helpers import latent, plots\n"
                      "from autoenc_helpers.anomaly import flag\n"
                      "from .models import conv_autoencoder\n"
                      "def f():\n    from . import metrics\n"
                      "import numpy\nfrom os import path\n", encoding="utf-8")
    assert _imported_package_modules(sample) == {"noise", "latent", "plots", "anomaly",
                                                 "models", "metrics"}


def _missing(text: str, prefix: str = "") -> list[str]:
    """The package's modules that ``text`` does not name (as ``prefix + name``, a word)."""
    return [name for name in sorted(_modules()) if name != "__init__"
            and not re.search(rf"(?<![\w.]){re.escape(prefix + name)}\b", text)]


def test_every_module_is_described_in_the_package_docstring():
    docstring = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text("utf-8"))) or ""
    missing = _missing(docstring, prefix=f"{PACKAGE_NAME}.")
    assert not missing, (f"autoenc_helpers/__init__.py's docstring does not name these "
                         f"modules (as autoenc_helpers.<name>): {missing}")


def test_every_module_is_listed_in_the_readme_layout():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^##+ Repository layout\s*$(.*?)(?=^##? |\Z)", readme, re.M | re.S)
    assert match, "README.md has no '## Repository layout' section"
    missing = _missing(match.group(1))
    assert not missing, f"README.md's 'Repository layout' section does not name: {missing}"


def test_one_convolutional_image_autoencoder_builder():
    """Conv2DTranspose (the image decoder's upsampling) appears in one function only:
    models.conv_autoencoder."""
    outside = [str(p.relative_to(ROOT)) for p in sorted(PACKAGE.rglob("*.py"))
               if p.name != "models.py" and "Conv2DTranspose" in p.read_text("utf-8")]
    assert not outside, f"Conv2DTranspose used outside autoenc_helpers/models.py: {outside}"
    tree = ast.parse((PACKAGE / "models.py").read_text("utf-8"))
    builders = sorted(node.name for node in ast.walk(tree)
                      if isinstance(node, (ast.FunctionDef, ast.ClassDef))
                      and any(isinstance(n, ast.Attribute) and n.attr == "Conv2DTranspose"
                              or isinstance(n, ast.Name) and n.id == "Conv2DTranspose"
                              for n in ast.walk(node)))
    assert builders == ["conv_autoencoder"], builders
