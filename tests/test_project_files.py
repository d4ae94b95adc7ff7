"""Project files agree with each other: pyproject, environment.yml, README, CI, Makefile."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ @]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins() -> dict[str, str]:
    return {_name(line): line.split("==", 1)[1].strip()
            for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}


def _environment_yml() -> tuple[dict, list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_list = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return env, pip_list


def _installed_requirements() -> list[str]:
    """What ``pip install -e ".[dev]"`` asks for: the dependencies and the dev extra, with the
    project's own extras that dev names (``autoenc-helpers[book]``) expanded."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras, own = project["optional-dependencies"], _name(project["name"])
    found, todo, seen = list(project["dependencies"]), ["dev"], set()
    while todo:
        extra = todo.pop()
        seen.add(extra)
        for req in extras[extra]:
            if _name(req) != own:
                found.append(req)
                continue
            named = re.search(r"\[([^\]]*)\]", req)
            todo += [e.strip() for e in (named.group(1) if named else "").split(",")
                     if e.strip() and e.strip() not in seen]
    return found


def test_dev_extra_includes_the_book_extra():
    """`make test` builds the website (tests/test_book.py), so dev brings the site builder."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    book = {_name(r) for r in project["optional-dependencies"]["book"]}
    assert book and book <= {_name(r) for r in _installed_requirements()}


def test_environment_yml_names_the_same_packages_as_pyproject():
    wanted = {_name(r) for r in _installed_requirements()}
    env, pip_list = _environment_yml()
    listed = {_name(r) for r in pip_list if not r.startswith("-")}
    assert listed == wanted
    assert "-e ." in pip_list and "-c constraints.txt" in pip_list


def test_environment_yml_pins_the_versions_of_constraints_txt():
    """Binder and conda users get the versions the committed outputs were made with."""
    pins = _pins()
    env, pip_list = _environment_yml()
    for req in pip_list:
        if req.startswith("-"):
            continue
        assert "==" in req, f"environment.yml: {req} is not pinned with =="
        name, version = req.split("==")
        assert pins.get(_name(name)) == version.strip(), (
            f"environment.yml pins {req}, constraints.txt {name}=={pins.get(_name(name))}")


def _tested_pythons() -> list[str]:
    """The Python versions README names: "You need Python 3.11 or 3.12 (...)"."""
    readme = (ROOT / "README.md").read_text()
    named = re.search(r"You need Python ([0-9., and or]+?)\s*\(", readme)
    assert named, "README must say which Python versions the course needs"
    return re.findall(r"3\.\d+", named.group(1))


def test_python_versions_agree():
    versions = _tested_pythons()
    assert versions, "README must say which Python versions the course needs"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={versions[0]}"
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    matrix = workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert sorted(matrix) == sorted(versions), "CI must test every version README names"
    env, _ = _environment_yml()
    conda_python = next(d for d in env["dependencies"]
                        if isinstance(d, str) and d.startswith("python="))
    assert conda_python.split("=")[1] in versions


def test_repository_address_lives_in_pyproject_and_the_badges_use_it():
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    owner_name = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)", url).group(1)
    readme = (ROOT / "README.md").read_text()
    badges = re.findall(
        r"\]\((https://(?:colab\.research\.google\.com/github|mybinder\.org/v2)[^)]*)\)", readme)
    assert len(badges) == 2, "README needs its Colab and Binder badges"
    assert f"colab.research.google.com/github/{owner_name}/blob/main/notebooks/" in badges[0]
    assert f"mybinder.org/v2/gh/{owner_name}/main" in badges[1]
    others = set(re.findall(r"github\.com/([\w.-]+/[\w.-]+?)(?:/|\.git|\)|\s|$)", readme))
    assert others <= {owner_name, "computationalmodelling/nbval"}, others


def test_constraints_pin_every_dependency():
    pins = {_name(line) for line in (ROOT / "constraints.txt").read_text().splitlines()
            if "==" in line}
    for req in _installed_requirements():
        assert _name(req) in pins, f"{req} is not pinned in constraints.txt"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make course" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_notebook_is_listed_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert nb.name in readme, f"{nb.name} missing from the README's course map"


def _make(*args: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("CONDA", "_CONDA", "VIRTUAL_ENV", "MAKE"))}
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args],
                          env={**clean, **env}, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_never_plans_to_install_into_conda_base(tmp_path):
    base = tmp_path / "miniconda3"
    (base / "condabin").mkdir(parents=True)
    for env in ({"CONDA_DEFAULT_ENV": "base", "CONDA_PREFIX": str(base),
                 "CONDA_EXE": str(base / "bin" / "conda")},
                {"CONDA_DEFAULT_ENV": str(base), "CONDA_PREFIX": str(base)},  # activated by path
                {"CONDA_DEFAULT_ENV": "x", "CONDA_PREFIX": str(base), "_CONDA_ROOT": str(base)}):
        plan = _make("-n", "course", **env)
        assert ".venv/bin/python -m autoenc_helpers.course" in plan, plan
        assert str(base) not in plan.replace("Python environment .venv", ""), plan
        assert "make: Python environment .venv (not conda's base" in plan
    named = base / "envs" / "course"
    plan = _make("-n", "course", CONDA_DEFAULT_ENV="course", CONDA_PREFIX=str(named),
                 CONDA_EXE=str(base / "bin" / "conda"))
    assert f"{named}/bin/python -m autoenc_helpers.course" in plan, plan


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_help_lists_every_target_and_lab_allows_root():
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split()
    help_text = _make("help")
    for target in phony:
        assert re.search(rf"^make {re.escape(target)}\b", help_text, re.M), target
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    assert targets <= set(phony), f"not .PHONY / not in help: {targets - set(phony)}"
    lab = _make("-n", "lab")
    assert ("--allow-root" in lab) == (os.geteuid() == 0)


def test_ci_workflow_runs_make_test_and_a_weekly_full_course():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: on = True
    assert "schedule" in triggers and "push" in triggers
    def steps(job):
        return " ".join(str(s.get("run", "")) for s in workflow["jobs"][job]["steps"])
    assert "make test" in steps("test")
    assert "make course" in steps("course")
    assert "schedule" in workflow["jobs"]["course"]["if"]


MACHINE_PATH = re.compile(r"(?<![\w.~$])(?:/(?:home|root|Users|tmp|work|var|opt|usr|mnt|private"
                          r"|content|srv|scratch)/[\w.+-]|[A-Za-z]:\\(?:Users|Windows)\\)")


def test_no_committed_output_shows_a_path_of_the_machine_it_ran_on():
    import nbformat

    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(notebook, as_version=4)
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                texts = [output.get("text", ""), "\n".join(output.get("traceback", []))]
                texts += [v for k, v in output.get("data", {}).items()
                          if k.startswith("text/") and isinstance(v, str)]
                for text in texts:
                    found = MACHINE_PATH.search(text)
                    context = text[max(0, found.start() - 40):found.end() + 40] if found else ""
                    assert not found, (f"{notebook.name}, cell {index}: output shows a machine "
                                       f"path: ...{context}...")
