"""Addresses of the course website, all derived from ``[project.urls] Repository``.

Also a small Sphinx extension (listed in ``conf.py``):

- a link to a file of the repository that is not a page of the site (``../autoenc_helpers/
  models.py`` in a lesson, ``data/README.md`` in README) becomes a link to that file on GitHub;
  a link to a file that does not exist stays unresolved, so Sphinx warns and the build fails;
- the "show source" button of a page made from ``book/*.md`` points at ``book/``, that of a
  lesson at GitHub's rendered notebook.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

#: The repository's root (this file lives in ``book/``).
ROOT = Path(__file__).resolve().parent.parent
#: Where the site's own pages (not the lessons) are kept in the repository.
BOOK_DIR = "book"


@dataclass(frozen=True)
class GitHubRepository:
    """A GitHub repository, from its ``https://github.com/<owner>/<name>`` address."""

    owner: str
    name: str
    branch: str = "main"

    @property
    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"

    @property
    def pages_url(self) -> str:
        """The GitHub Pages address the workflow in ``.github/workflows/book.yml`` deploys to."""
        return f"https://{self.owner.lower()}.github.io/{self.name}/"

    def blob(self, path: str) -> str:
        """The address of a file of the repository, as GitHub shows it."""
        return f"{self.url}/blob/{self.branch}/{path}"


def repository(pyproject: Path = ROOT / "pyproject.toml") -> GitHubRepository:
    """The repository named in ``[project.urls] Repository`` of ``pyproject``."""
    url = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url)
    if not match:
        raise ValueError(f"{pyproject}: [project.urls] Repository is not a GitHub address: {url}")
    return GitHubRepository(match.group(1), match.group(2))


GITHUB = repository()
REPOSITORY = GITHUB.url
PAGES_URL = GITHUB.pages_url


def repository_file(docname: str, target: str) -> str | None:
    """The repository path that the relative link ``target`` of document ``docname`` names,
    when that file (or folder) exists in the repository; else None. Document names are
    repository paths (``notebooks/01_basics_fashion_mnist``; ``index`` and ``setup``, which
    include README, sit at the root like README)."""
    path = target.split("#", 1)[0]
    if not path or "://" in path or path.startswith(("/", "mailto:")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(docname), path))
    if joined.startswith("..") or not (ROOT / joined).exists():
        return None
    return joined


class LinkRepositoryFiles(SphinxPostTransform):
    """A MyST link that names no page of the site but a file of the repository becomes a link
    to that file on GitHub. Runs just before MyST resolves its links (priority 9), so a link
    to a file that exists nowhere still gets MyST's "target not found" warning."""

    default_priority = 8

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(addnodes.pending_xref)) + list(
                self.document.findall(addnodes.download_reference)):
            if node.get("reftype") != "myst":
                continue
            target = node.get("reftarget", "")
            if node.get("refdomain") == "doc":  # a .md or .ipynb file that is no page
                if target in self.env.all_docs:
                    continue
                anchor = f"#{node['reftargetid']}" if node.get("reftargetid") else ""
                path = next((p for p in (target + ".md", target + ".ipynb")
                             if repository_file("", p)), None)
            else:
                path = repository_file(node.get("refdoc", self.env.docname), target)
                anchor = "#" + target.split("#", 1)[1] if "#" in target else ""
            if path is None:
                continue
            reference = nodes.reference("", "", internal=False, refuri=GITHUB.blob(path) + anchor)
            reference += node.children or [nodes.literal(target, target)]
            node.replace_self(reference)


def _source_of_book_pages(app: Any, pagename: str, templatename: str,
                          context: dict[str, Any], doctree: Any) -> None:
    """``html-page-context`` handler: pages other than the lessons come from ``book/``."""
    if not pagename.startswith("notebooks/"):
        context["doc_path"] = BOOK_DIR


def _render_notebook_sources(app: Any, pagename: str, templatename: str,
                             context: dict[str, Any], doctree: Any) -> None:
    """``html-page-context`` handler, after the theme's buttons: "show source" of a lesson opens
    GitHub's rendered view of the notebook, not its raw JSON (``?plain=1``)."""
    def fix(buttons: list[dict[str, Any]]) -> None:
        for button in buttons:
            fix(button.get("buttons", []))
            if button.get("label") == "source-file-button":
                button["url"] = button["url"].replace(".ipynb?plain=1", ".ipynb")

    fix(context.get("header_buttons", []))


def setup(app: Any) -> dict[str, Any]:
    """Register the handlers (before the book theme builds its header buttons)."""
    app.add_post_transform(LinkRepositoryFiles)
    app.connect("html-page-context", _source_of_book_pages, priority=400)
    app.connect("html-page-context", _render_notebook_sources, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
