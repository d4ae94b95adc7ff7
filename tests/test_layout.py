"""The helper package's layout: one home per concern (issues 8 and 22).

- lesson modules import lower layers only, never each other (nor ``exercises``);
- ``exercises/`` imports only the shared layers ``config``, ``data``, ``metrics``, ``models``
  and ``plots`` (and itself);
- no figure outside ``plots``: no other module imports matplotlib or seaborn or calls
  ``plt.`` / ``sns.``;
- no helper defined twice: a public top-level function or class name lives in one module;
- every module is listed, with what it holds, in the package docstring and in the README's
  "Repository layout" section;
- one function builds the convolutional image autoencoders: ``models.conv_autoencoder``;
- ``models.py`` reads in lesson order, and every "Defined in lesson N" line is true: lesson N's
  notebook names the helper;
- ``models.py`` adds custom losses one way: ``compute_loss`` with ``keras.ops`` (no
  ``GradientTape``, no ``train_step``).

Each rule's detector is checked on a small sample that breaks it, so a rule can fail. These
tests read the source files (``ast``) and the notebooks (JSON), importing nothing.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "autoenc_helpers"
PACKAGE_NAME = PACKAGE.name

#: The lower layers (and course plumbing) that any module may import; every other module of
#: the package but ``exercises`` is a lesson module.
SHARED_MODULES = {"config", "data", "metrics", "models", "plots", "report", "course", "notebook",
                  "__init__"}

#: The sub-package of the exercises' checks, and the only modules it may import besides itself:
#: an exercise checks with the same shared helpers the lessons use, never a lesson module's.
EXERCISES = "exercises"
EXERCISES_MAY_IMPORT = {"config", "data", "metrics", "models", "plots"}

#: The one module that draws figures, and the modules allowed to import a plotting library
#: anyway, each with its reason. None is needed: ``course.py`` and ``report.py`` run and record
#: notebooks without drawing, and the notebooks' kernels choose matplotlib's backend.
FIGURE_MODULE = "plots.py"
MAY_IMPORT_PLOTTING: dict[str, str] = {}
PLOTTING_LIBRARIES = ("matplotlib", "seaborn")
PLOTTING_ALIASES = ("plt", "sns")

#: Public top-level names that may be defined in more than one module, each with its reason.
SAME_NAME_ALLOWED = {
    "main": "the command-line entry point of each `python -m autoenc_helpers.<module>` "
            "(course.py and data.py); a convention, not a helper",
}


def _modules() -> dict[str, Path]:
    """``{name: path}`` of the package's modules: ``*.py`` files and sub-packages."""
    found = {p.stem: p for p in PACKAGE.glob("*.py")}
    found.update({p.parent.name: p for p in PACKAGE.glob("*/__init__.py")})
    return found


def _lesson_modules() -> dict[str, Path]:
    return {name: path for name, path in _modules().items()
            if name not in SHARED_MODULES | {EXERCISES}}


def _source_files(root: Path = PACKAGE) -> list[Path]:
    """Every ``*.py`` file of the package, sub-packages included."""
    return sorted(root.rglob("*.py"))


def _imported_package_modules(path: Path, package_dir: Path = PACKAGE) -> set[str]:
    """Names of the package's top-level modules that ``path`` imports, however it imports them
    (``import autoenc_helpers.x``, ``from autoenc_helpers import x``, ``from autoenc_helpers.x
    import y``, ``from . import x``, ``from .x import y``), at module level or inside functions.
    A relative import in a sub-package (``exercises/lesson1.py``: ``from . import y``) names
    the sub-package, ``exercises``; ``from .. import x`` names ``x``."""
    names: set[str] = set()
    here = list(path.resolve().parent.relative_to(package_dir.resolve()).parts)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE_NAME and len(parts) > 1:
                    names.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .x import y / from .. import x
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
                parts = base + ((node.module or "").split(".") if node.module else [])
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
    """Every module is shared, the exercises, or a lesson module: a new module takes a side."""
    assert set(_lesson_modules()) == {"noise", "latent", "anomaly", "sequences", "regularised",
                                      "applications"}, sorted(_lesson_modules())


def _lesson_import_offences(lessons: dict[str, Path], package_dir: Path = PACKAGE) -> list[str]:
    """``"a imports b"`` for every lesson module that imports another lesson module or the
    exercises."""
    return [f"{name} imports {other}"
            for name, path in sorted(lessons.items())
            for other in sorted(_imported_package_modules(path, package_dir))
            if other in set(lessons) | {EXERCISES} and other != name]


def test_lesson_modules_never_import_each_other():
    offences = _lesson_import_offences(_lesson_modules())
    assert not offences, ("lesson modules may import only the lower layers "
                          f"{sorted(SHARED_MODULES - {'__init__'})}, not each other nor the "
                          f"exercises: {offences}")


def test_the_lesson_import_rule_can_fail(tmp_path):
    (tmp_path / "noise.py").write_text("from autoenc_helpers import data\n", encoding="utf-8")
    (tmp_path / "latent.py").write_text("def f():\n    from .noise import add_noise\n",
                                        encoding="utf-8")
    (tmp_path / "anomaly.py").write_text("from autoenc_helpers.exercises import lesson\n",
                                         encoding="utf-8")
    lessons = {p.stem: p for p in tmp_path.glob("*.py")}
    assert _lesson_import_offences(lessons, tmp_path) == ["anomaly imports exercises",
                                                          "latent imports noise"]


def _exercise_import_offences(root: Path, package_dir: Path = PACKAGE) -> list[str]:
    """``"file imports x"`` for every module the files under ``root`` import that is neither
    one of :data:`EXERCISES_MAY_IMPORT` nor the exercises themselves."""
    return [f"{path.relative_to(package_dir)} imports {other}"
            for path in _source_files(root)
            for other in sorted(_imported_package_modules(path, package_dir))
            if other not in EXERCISES_MAY_IMPORT | {EXERCISES}]


def test_the_exercises_import_only_the_shared_layers():
    assert (PACKAGE / EXERCISES / "__init__.py").exists()
    offences = _exercise_import_offences(PACKAGE / EXERCISES)
    assert not offences, (f"exercises/ may import only {sorted(EXERCISES_MAY_IMPORT)} (and "
                          f"itself), as the lessons' shared helpers: {offences}")


def test_the_exercise_import_rule_can_fail(tmp_path):
    ex = tmp_path / EXERCISES
    ex.mkdir()
    (ex / "__init__.py").write_text("from autoenc_helpers import config\nfrom . import lesson1\n",
                                    encoding="utf-8")
    (ex / "lesson1.py").write_text("from autoenc_helpers.exercises import expect\n"
                                   "def check():\n    from autoenc_helpers import latent, models\n"
                                   "    from ..notebook import show_source\n", encoding="utf-8")
    assert _exercise_import_offences(ex, tmp_path) == ["exercises/lesson1.py imports latent",
                                                       "exercises/lesson1.py imports notebook"]


def _plotting_offences(path: Path) -> list[str]:
    """What in ``path`` draws or imports a plotting library: ``import matplotlib...``, ``from
    seaborn import ...``, or any ``plt.x`` / ``sns.x``, with its line number."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in PLOTTING_LIBRARIES]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module \
                and node.module.split(".")[0] in PLOTTING_LIBRARIES:
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id in PLOTTING_ALIASES):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_figure_outside_plots():
    offences = {str(p.relative_to(PACKAGE)): found for p in _source_files()
                if p.relative_to(PACKAGE).as_posix() != FIGURE_MODULE
                and p.relative_to(PACKAGE).as_posix() not in MAY_IMPORT_PLOTTING
                and (found := _plotting_offences(p))}
    assert not offences, (f"figures belong in autoenc_helpers/{FIGURE_MODULE}; these modules "
                          f"import a plotting library or draw: {offences}")


def test_the_figure_rule_can_fail(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import numpy as np\nimport matplotlib.pyplot as plt\n"
                      "def f():\n    from seaborn import heatmap\n    import seaborn as sns\n"
                      "    sns.set_theme()\n    return plt.subplots()\n", encoding="utf-8")
    assert _plotting_offences(sample) == [
        "line 2: import matplotlib.pyplot", "line 4: from seaborn import ...",
        "line 5: import seaborn", "line 6: sns.set_theme", "line 7: plt.subplots"]
    clean = tmp_path / "clean.py"
    clean.write_text("import numpy as np\nx = np.plt\n", encoding="utf-8")
    assert _plotting_offences(clean) == []


def _definitions(root: Path = PACKAGE) -> dict[str, list[str]]:
    """``{name: [files]}`` of every public top-level function and class under ``root``."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in _source_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                    and not node.name.startswith("_")):
                found[node.name].append(path.relative_to(root).as_posix())
    return found


def _defined_twice(root: Path = PACKAGE) -> dict[str, list[str]]:
    return {name: files for name, files in sorted(_definitions(root).items())
            if len(files) > 1 and name not in SAME_NAME_ALLOWED}


def test_no_helper_is_defined_twice():
    twice = _defined_twice()
    assert not twice, ("one home per helper: these public names are defined in several modules "
                       f"(keep one, or give them clearly different names): {twice}")
    unused = [name for name in SAME_NAME_ALLOWED if len(_definitions().get(name, [])) < 2]
    assert not unused, f"SAME_NAME_ALLOWED lists names defined only once: {unused}"


def test_the_defined_twice_rule_can_fail(tmp_path):
    (tmp_path / "latent.py").write_text("def encode(x):\n    pass\ndef _check(z):\n    pass\n"
                                        "def main():\n    pass\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "seq.py").write_text("class encode:\n    pass\ndef _check(z):\n"
                                             "    pass\ndef main():\n    pass\n"
                                             "def f():\n    def inner():\n        pass\n",
                                             encoding="utf-8")
    (tmp_path / "other.py").write_text("def inner():\n    pass\n", encoding="utf-8")
    assert _defined_twice(tmp_path) == {"encode": ["latent.py", "sub/seq.py"]}


def test_the_import_parser_sees_every_form(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import autoenc_helpers.noise\n"
                      "from autoenc_helpers import latent, plots\n"
                      "from autoenc_helpers.anomaly import flag\n"
                      "from .models import conv_autoencoder\n"
                      "def f():\n    from . import metrics\n"
                      "import numpy\nfrom os import path\n", encoding="utf-8")
    assert _imported_package_modules(sample, tmp_path) == {"noise", "latent", "plots",
                                                           "anomaly", "models", "metrics"}
    (tmp_path / "sub").mkdir()
    nested = tmp_path / "sub" / "lesson1.py"
    nested.write_text("from . import helpers\nfrom .helpers import x\nfrom .. import data\n"
                      "from ..regularised import units_on\n", encoding="utf-8")
    assert _imported_package_modules(nested, tmp_path) == {"sub", "data", "regularised"}


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


# --------------------------------------------------------------------------- "Defined in lesson N"

NOTEBOOKS = ROOT / "notebooks"
DEFINED_IN = re.compile(r"Defined in lesson (\d+)")


def _notebook_text(lesson: int, notebooks: Path = NOTEBOOKS) -> str | None:
    """Every cell's source of ``notebooks/0N_*.ipynb`` (code and text), or None if there is no
    such notebook."""
    found = sorted(notebooks.glob(f"{lesson:02d}_*.ipynb"))
    if len(found) != 1:
        return None
    cells = json.loads(found[0].read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in cells)


def _public_definitions(path: Path) -> list[tuple[str, str]]:
    """``(name, docstring)`` of every public top-level function and class, in file order."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [(node.name, ast.get_docstring(node) or "") for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")]


def _defined_in_problems(path: Path, every: bool, notebooks: Path = NOTEBOOKS) -> list[str]:
    """What is wrong with the "Defined in lesson N" lines of ``path``: a helper without one
    (when ``every``), with several, naming a lesson that has no notebook or whose notebook never
    names the helper; with ``every``, also a helper that comes before one of an earlier lesson."""
    problems, last = [], (0, "")
    for name, doc in _public_definitions(path):
        lessons = DEFINED_IN.findall(doc)
        if not lessons:
            if every:
                problems.append(f"{name}: no 'Defined in lesson N' line")
            continue
        if len(set(lessons)) > 1:
            problems.append(f"{name}: 'Defined in' names several lessons {lessons}")
            continue
        n = int(lessons[0])
        text = _notebook_text(n, notebooks)
        if text is None:
            problems.append(f"{name}: defined in lesson {n}, but there is no notebook "
                            f"notebooks/{n:02d}_*.ipynb")
        elif not re.search(rf"(?<![\w.]){re.escape(name)}\b|\.{re.escape(name)}\b", text):
            problems.append(f"{name}: defined in lesson {n}, whose notebook never names it")
        if every and n < last[0]:
            problems.append(f"{name} (lesson {n}) comes after {last[1]} (lesson {last[0]}): "
                            "out of lesson order")
        last = max(last, (n, name))
    return problems


def test_models_read_in_lesson_order_and_say_truly_where_they_are_defined():
    """Every public helper of models.py has a "Defined in lesson N" line, lesson N's notebook
    names it (code or text), and the file follows the lessons' order."""
    problems = _defined_in_problems(PACKAGE / "models.py", every=True)
    assert not problems, problems


def test_every_defined_in_line_of_the_other_modules_is_true():
    """Where another module's helper says "Defined in lesson N", lesson N's notebook names it."""
    problems = {p.name: found for p in _source_files()
                if p.name != "models.py" and EXERCISES not in p.parts
                and (found := _defined_in_problems(p, every=False))}
    assert not problems, problems


def test_models_py_has_a_section_comment_per_lesson():
    text = (PACKAGE / "models.py").read_text(encoding="utf-8")
    sections = [int(n) for n in re.findall(r"^# -+ lesson (\d+):", text, re.M)]
    assert sections == sorted(sections) and len(set(sections)) == len(sections), sections
    assert sections == [1, 2, 3, 5, 6, 7], sections


def test_the_defined_in_check_can_fail(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for n, source in ((1, "models.first(x)"), (2, "second and `third`")):
        (nbs / f"0{n}_lesson.ipynb").write_text(json.dumps(
            {"cells": [{"cell_type": "code", "source": [source]}]}), encoding="utf-8")
    module = tmp_path / "models.py"
    module.write_text('def first():\n    """Defined in lesson 1."""\n'
                      'def second():\n    """Defined in lesson 2."""\n'
                      'def third():\n    """Defined in lesson 1."""\n'
                      'def fourth():\n    """No line."""\n'
                      'def fifth():\n    """Defined in lesson 9."""\n'
                      'def _private():\n    """No line."""\n', encoding="utf-8")
    assert _defined_in_problems(module, every=True, notebooks=nbs) == [
        "third: defined in lesson 1, whose notebook never names it",
        "third (lesson 1) comes after second (lesson 2): out of lesson order",
        "fourth: no 'Defined in lesson N' line",
        "fifth: defined in lesson 9, but there is no notebook notebooks/09_*.ipynb"]
    assert _defined_in_problems(module, every=False, notebooks=nbs) == [
        "third: defined in lesson 1, whose notebook never names it",
        "fifth: defined in lesson 9, but there is no notebook notebooks/09_*.ipynb"]


# --------------------------------------------------------------------------- custom losses


def _custom_loss_offences(path: Path) -> list[str]:
    """What in ``path`` adds a loss another way than ``compute_loss`` with ``keras.ops``: a
    ``GradientTape``, an import of TensorFlow, a ``train_step`` or ``test_step`` method."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "GradientTape" \
                or isinstance(node, ast.Name) and node.id == "GradientTape":
            found.append(f"line {node.lineno}: GradientTape")
        elif (isinstance(node, ast.Import)
              and any(a.name.split(".")[0] == "tensorflow" for a in node.names)
              or isinstance(node, ast.ImportFrom)
              and (node.module or "").split(".")[0] == "tensorflow"):
            found.append(f"line {node.lineno}: imports tensorflow")
        elif isinstance(node, ast.ClassDef):
            found += [f"line {item.lineno}: {node.name}.{item.name}" for item in node.body
                      if isinstance(item, ast.FunctionDef)
                      and item.name in ("train_step", "test_step")]
    return found


def test_models_add_losses_one_way_compute_loss_with_keras_ops():
    offences = _custom_loss_offences(PACKAGE / "models.py")
    assert not offences, ("custom losses in models.py override compute_loss with keras.ops "
                          f"(no GradientTape, no train_step): {offences}")


def test_the_custom_loss_rule_can_fail(tmp_path):
    sample = tmp_path / "models.py"
    sample.write_text("import tensorflow as tf\nimport keras\n"
                      "class M(keras.Model):\n    def train_step(self, data):\n"
                      "        with tf.GradientTape() as tape:\n            pass\n"
                      "    def compute_loss(self, x=None):\n        return 0\n", encoding="utf-8")
    assert _custom_loss_offences(sample) == ["line 1: imports tensorflow", "line 4: M.train_step",
                                             "line 5: GradientTape"]
