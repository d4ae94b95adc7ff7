"""Sphinx configuration of the course website (``make book``).

The site is built by ``book/build.py`` from a staging folder that mirrors the repository
(``index.md`` and ``setup.md`` from ``book/``, ``README.md`` and ``notebooks/NN_*.ipynb``), so
that every document's name is its path in the repository. The notebooks are rendered with their
committed outputs, never executed. The repository's address comes from ``[project.urls]`` of
``pyproject.toml``, its one home: launch buttons, source links and links to files outside the
site (the helpers' source, for instance) are all derived from it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from site_links import GITHUB, PAGES_URL, REPOSITORY  # noqa: E402

project = "Autoencoders, hands-on"
author = "the course authors"
copyright = "the course authors, MIT licence"

extensions = ["myst_nb", "sphinx_book_theme", "site_links"]
root_doc = "index"
# Only the landing pages and the lessons are documents; README.md is included, not rendered.
include_patterns = ["index.md", "setup.md", "notebooks/[0-9][0-9]_*.ipynb"]
exclude_patterns = ["README.md", "jupyter_execute"]

# The committed outputs are a full-mode run: render them as they are.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

html_theme = "sphinx_book_theme"
html_title = project
html_baseurl = PAGES_URL
# light or dark as the reader's system; unset, the theme logs a console error
html_context = {"default_mode": "auto"}
html_copy_source = True  # the download button offers the .ipynb
html_show_sourcelink = False
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": GITHUB.branch,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_source_button": True,
    "use_issues_button": False,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "launch_buttons": {
        "notebook_interface": "jupyterlab",
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
    },
}
