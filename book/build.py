"""Build the course website: ``python book/build.py [--out build/book]`` (``make book``).

Stages the site's sources in a folder that mirrors the repository (``book/index.md``,
``book/setup.md``, ``README.md``, ``notebooks/NN_*.ipynb``; nothing is executed, the committed
outputs are rendered), then runs Sphinx with ``book/conf.py``, warnings treated as errors.
Exit status: 0 when the site was built without a warning, 1 otherwise (every warning is listed,
and kept in ``<out>-warnings.txt``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
#: The book's own pages, copied next to the lessons.
PAGES = ("index.md", "setup.md")
LESSONS = "[0-9][0-9]_*.ipynb"


def stage(src: Path) -> list[Path]:
    """Fill ``src`` (emptied first) with the site's sources; return the lessons staged."""
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    for page in PAGES:
        shutil.copy2(BOOK / page, src / page)
    shutil.copy2(ROOT / "README.md", src / "README.md")
    lessons = sorted((ROOT / "notebooks").glob(LESSONS))
    for notebook in lessons:
        shutil.copy2(notebook, src / "notebooks" / notebook.name)
    return lessons


def _clear(out: Path) -> None:
    """Remove an earlier build in ``out`` (only a folder Sphinx wrote, or an empty one)."""
    if out.is_dir():
        if (out / ".buildinfo").is_file() or not any(out.iterdir()):
            shutil.rmtree(out)
        else:
            raise SystemExit(f"{out} exists and is not a Sphinx build; choose another --out")


def build(out: Path, work: Path | None = None) -> int:
    """Build the site into ``out`` (staging and Sphinx's cache in ``work``, by default
    ``<out>-src``); return the exit status (1 on any warning)."""
    try:
        from sphinx.cmd.build import build_main
    except ImportError:
        print("make book: Sphinx is not installed here; install the site builder with\n"
              "  pip install -c constraints.txt -e \".[book]\"   (the dev extra includes it)",
              file=sys.stderr)
        return 1
    out = out.resolve()
    work = (work or out.with_name(out.name + "-src")).resolve()
    warnings = out.with_name(out.name + "-warnings.txt")
    _clear(out)
    lessons = stage(work / "src")
    start = time.perf_counter()
    status = build_main(["-b", "html", "-c", str(BOOK), "-d", str(work / "doctrees"),
                         "-W", "--keep-going", "-n", "-q", "-w", str(warnings),
                         str(work / "src"), str(out)])
    seconds = time.perf_counter() - start
    found = [line for line in warnings.read_text(encoding="utf-8").splitlines() if line.strip()]
    if status or found:
        print(f"make book: the site has {len(found)} warning line(s), and a warning fails the "
              f"build (listed above and in {warnings}). Staged sources are in {work / 'src'}: "
              "a path there names the notebook or README.md of this checkout.", file=sys.stderr)
        return 1
    print(f"make book: {len(lessons)} lessons built into {out} in {seconds:.0f} s "
          f"(open {out / 'index.html'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--out`` (default ``build/book``) and ``--work``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book",
                        help="where the HTML site goes (default: build/book)")
    parser.add_argument("--work", type=Path, default=None,
                        help="staging folder and Sphinx's cache (default: <out>-src)")
    args = parser.parse_args(argv)
    return build(args.out, args.work)


if __name__ == "__main__":
    sys.exit(main())
