"""The course website (issue 24): ``book/build.py`` (``make book``) builds it from the committed
notebooks and README without running them.

The slow tests build the site once into a temporary folder and check it: no warning, one page
per lesson (``notebooks/NN_*.ipynb``, found by glob), every PNG figure of the committed outputs
on its lesson's page, math rendered by MathJax (no ``$...$`` left in the prose), Colab, Binder
and source links built from ``[project.urls] Repository`` and every internal link resolving.
The expected addresses are spelled out here from pyproject.toml, independently of the site's
own code (``book/site_links.py``).
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import importlib.util
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
OWNER, NAME = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+)", REPOSITORY).groups()
PAGES = f"https://{OWNER.lower()}.github.io/{NAME}/"


def _lesson_id(path: Path) -> str:
    return path.stem


def test_readme_links_to_the_website_at_the_pages_address_of_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"]({PAGES})" in readme, f"README must link to the course website, {PAGES}"
    for marker in ("<!-- website: landing page -->", "<!-- website: set-up page -->"):
        assert readme.count(marker) == 1, f"README needs the marker {marker} (book/*.md use it)"


def test_the_website_workflow_builds_with_make_book_and_deploys_from_main():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: on = True
    assert triggers["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    runs = " ".join(str(s.get("run", "")) for s in jobs["build"]["steps"])
    uses = " ".join(str(s.get("uses", "")) for job in jobs.values() for s in job["steps"])
    assert "make book" in runs
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    assert workflow["permissions"]["pages"] == "write"


def _site_links():
    """``book/site_links.py``, imported from its path (``book/`` is no package)."""
    name = "book_site_links"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "site_links.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def test_links_to_repository_files_are_resolved_against_the_repository():
    site_links = _site_links()
    lesson = "notebooks/02_denoising_fashion_mnist"
    assert site_links.repository_file(lesson, "../autoenc_helpers/models.py#L10") == \
        "autoenc_helpers/models.py"
    assert site_links.repository_file(lesson, "expected_metrics.toml") == \
        "notebooks/expected_metrics.toml"
    assert site_links.repository_file("index", "data/README.md") == "data/README.md"
    for missing in ("../autoenc_helpers/no_such_module.py", "../../outside.py",
                    "https://example.org/x.py", "/etc/passwd", "#anchor"):
        assert site_links.repository_file(lesson, missing) is None, missing
    assert site_links.GITHUB.url == REPOSITORY and site_links.PAGES_URL == PAGES


# ----------------------------------------------------------------------------- the built site

@dataclass(frozen=True)
class Build:
    """A build of the site: its HTML folder, exit status, warnings and console output."""

    html: Path
    status: int
    warnings: str
    output: str


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Build:
    """The site, built once into a temporary folder by ``book/build.py``."""
    tmp = tmp_path_factory.mktemp("book")
    out = tmp / "html"
    proc = subprocess.run([sys.executable, str(ROOT / "book" / "build.py"), "--out", str(out),
                           "--work", str(tmp / "work")],
                          capture_output=True, text=True, timeout=600)
    warnings = out.with_name(out.name + "-warnings.txt")
    found = warnings.read_text(encoding="utf-8").strip() if warnings.exists() else ""
    return Build(out, proc.returncode, found, proc.stdout + proc.stderr)


@pytest.fixture(scope="module")
def site(build: Build) -> Path:
    """The built site's HTML folder (tests of its pages skip when the build made none)."""
    if not (build.html / "index.html").is_file():
        pytest.fail(f"book/build.py made no site:\n{build.output[-4000:]}")
    return build.html


@functools.lru_cache(maxsize=None)
def _soup(path: Path):
    """The parsed page (cached: the pages are large; do not modify the result)."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _page(site: Path, lesson: Path) -> Path:
    return site / "notebooks" / f"{lesson.stem}.html"


@pytest.mark.slow
def test_the_site_builds_without_a_warning(build):
    assert build.status == 0 and not build.warnings, (
        "make book (book/build.py) treats every Sphinx warning as an error. A new warning "
        "usually comes from a notebook or README edit (a link to a missing file or heading, "
        "math MyST cannot parse, a heading level skipped): fix the source named below.\n"
        f"--- warnings ---\n{build.warnings}\n--- build output (tail) ---\n"
        f"{build.output[-4000:]}")


@pytest.mark.slow
def test_every_lesson_has_its_page_linked_from_the_landing_page(site):
    assert len(LESSONS) >= 7
    landing = {a["href"] for a in _soup(site / "index.html").select("a[href]")}
    for lesson in LESSONS:
        page = _page(site, lesson)
        assert page.is_file(), f"no page for {lesson.name}"
        assert f"notebooks/{lesson.stem}.html" in landing, f"landing page misses {lesson.name}"
        title = _soup(page).find("h1")
        assert title and title.get_text(strip=True), f"{page.name} has no title"


def _png_outputs(lesson: Path) -> dict[str, int]:
    """``{sha256 of the PNG: cell index}`` of every image/png output of a committed notebook."""
    notebook = nbformat.read(lesson, as_version=4)
    return {hashlib.sha256(base64.b64decode(output["data"]["image/png"])).hexdigest(): index
            for index, cell in enumerate(notebook.cells) for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})}


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=_lesson_id)
def test_every_figure_of_the_committed_outputs_is_on_its_page(site, lesson):
    page = _page(site, lesson)
    shown = set()
    for img in _soup(page).select("article img[src]"):
        file = (page.parent / unquote(urlsplit(img["src"]).path)).resolve()
        if file.is_file():
            shown.add(hashlib.sha256(file.read_bytes()).hexdigest())
    figures = _png_outputs(lesson)
    missing = sorted(index for digest, index in figures.items() if digest not in shown)
    assert not missing, f"{page.name} lacks the figures of the outputs of cells {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=_lesson_id)
def test_math_is_rendered_markup_not_raw_dollars(site, lesson):
    notebook = nbformat.read(lesson, as_version=4)
    has_math = any("$" in cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    soup = _soup(_page(site, lesson))
    article = copy.copy(soup.find("article"))  # a copy: its code and math are taken out below
    math = article.select(".math")
    if has_math:
        assert math, f"{lesson.name} has $...$ math but its page no rendered math"
        assert all(re.match(r"\s*\\[(\[]", m.get_text()) for m in math), "math not for MathJax"
        assert any("mathjax" in s.get("src", "").lower() for s in soup.select("script"))
    for element in article.select(".math, pre, code, script, style, .cell_output"):
        element.extract()
    raw = re.findall(r".{0,30}\$[^$\n]+\$.{0,30}", article.get_text())
    assert not raw, f"{lesson.name}: raw $...$ math left in the prose: {raw[:3]}"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=_lesson_id)
def test_launch_buttons_and_source_link_use_the_repository_of_pyproject(site, lesson):
    links = {a["href"] for a in _soup(_page(site, lesson)).select("a[href]")}
    path = f"notebooks/{lesson.name}"
    expected = {
        "Colab": f"https://colab.research.google.com/github/{OWNER}/{NAME}/blob/main/{path}",
        "Binder": f"https://mybinder.org/v2/gh/{OWNER}/{NAME}/main?urlpath=lab/tree/{path}",
        "source": f"{REPOSITORY}/blob/main/{path}",
    }
    for what, url in expected.items():
        assert url in links, f"{lesson.name}: no {what} link {url}"
    other_repo = re.compile(r"github\.com/(?!" + re.escape(f"{OWNER}/{NAME}") + r"\b)")
    foreign = sorted(u for u in links if other_repo.search(u) and "nbval" not in u)
    assert not foreign, f"{lesson.name}: links to another repository: {foreign}"


@functools.lru_cache(maxsize=None)
def _ids(page: Path) -> frozenset[str]:
    return frozenset(tag["id"] for tag in _soup(page).select("[id]"))


@pytest.mark.slow
def test_every_internal_link_resolves(site):
    """Relative links (pages, anchors, images, scripts) name files of the site, and links to
    the repository's files on GitHub (the helpers' source, ...) name files that exist."""
    blob = f"{REPOSITORY}/blob/main/"
    broken = []
    pages = [p for p in sorted(site.rglob("*.html")) if "_static" not in p.parts]  # not templates
    assert len(pages) > len(LESSONS)
    for page in pages:
        soup = _soup(page)
        for tag, attribute in (("a", "href"), ("img", "src"), ("link", "href"),
                               ("script", "src")):
            for element in soup.select(f"{tag}[{attribute}]"):
                url = urlsplit(element[attribute])
                if element[attribute].startswith(blob):  # a repository file that is no page
                    if not (ROOT / unquote(url.path.split("/blob/main/", 1)[1])).exists():
                        broken.append(f"{page.relative_to(site)}: {element[attribute]}")
                    continue
                if url.scheme or url.netloc or element[attribute].startswith("//"):
                    continue
                target = (page.parent / unquote(url.path)).resolve() if url.path else page
                where = f"{page.relative_to(site)}: {element[attribute]}"
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_file() or site.resolve() not in target.parents:
                    broken.append(where)
                elif url.fragment and target.suffix == ".html" and (
                        unquote(url.fragment) not in _ids(target)):
                    broken.append(where + " (no such anchor)")
    assert not broken, f"{len(broken)} internal link(s) do not resolve: {broken[:20]}"
