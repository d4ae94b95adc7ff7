"""Run the whole course headless and write the course report.

``make course`` calls ``python -m autoenc_helpers.course``, which executes every notebook in
``notebooks/`` in order, each in its own kernel (in a subprocess of its own, so that the kernel's
peak memory can be read exactly), keeps the executed copies in ``build/executed/`` and writes
``build/report.json`` and ``build/report.md``: per notebook, the mode, wall seconds, the kernel's
peak resident memory and the headline metrics it recorded with
:func:`autoenc_helpers.record_metrics`. A failing notebook stops the run, naming the notebook and
the failing cell.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from autoenc_helpers.config import QUICK_ENV, get_settings
from autoenc_helpers.report import METRICS_ENV

REPO = Path(__file__).resolve().parent.parent
CELL_TIMEOUT_S = 1800


def find_notebooks(folder: Path) -> list[Path]:
    """The lessons, ``NN_*.ipynb``, in course order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def _peak_child_rss_mb() -> float:
    """Largest resident set of any finished child of this process, in MB."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6  # bytes vs KiB


def execute_one(notebook: Path, executed: Path) -> dict:
    """Execute ``notebook`` in a fresh kernel and save the result to ``executed``.

    Returns ``{"wall_s", "peak_rss_mb", "ok"}`` plus ``"failed_cell"`` and ``"error"`` on
    failure. Meant to run in a subprocess of its own (see :func:`run_course`), so that the
    only child whose memory is measured is this notebook's kernel.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})
    start = time.perf_counter()
    result: dict = {"ok": True}
    try:
        client.execute()
    except CellExecutionError as exc:
        failed = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                       and any(o.get("output_type") == "error" for o in c.get("outputs", []))),
                      None)
        result.update(ok=False, failed_cell=failed, error=str(exc)[-3000:])
    result["wall_s"] = round(time.perf_counter() - start, 1)
    result["peak_rss_mb"] = round(_peak_child_rss_mb())
    executed.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, executed)
    return result


def _markdown(report: dict) -> str:
    lines = [f"# Course report ({report['mode']} mode)", "",
             f"Machine: {report['machine']['cpus']} CPUs, {report['machine']['platform']}, "
             f"Python {report['machine']['python']}; run at {report['started']}.", "",
             "| notebook | wall (s) | peak RSS (MB) | metrics |", "| --- | ---: | ---: | --- |"]
    for nb in report["notebooks"]:
        metrics = ", ".join(f"{k} = {v:.4g}" for k, v in nb["metrics"].items()) or "none"
        lines.append(f"| {nb['name']} | {nb['wall_s']:.1f} | {nb['peak_rss_mb']} | {metrics} |")
    lines += ["", f"Total wall time: {sum(n['wall_s'] for n in report['notebooks']):.1f} s."]
    return "\n".join(lines) + "\n"


def run_course(notebooks: list[Path], out: Path, quick: bool, save_in_place: bool = False) -> int:
    """Execute ``notebooks`` in order and write ``out/report.json`` and ``out/report.md``.

    Returns 0 when every notebook ran, 1 at the first failure (the report then holds the
    notebooks that ran before it).
    """
    mode = "quick" if quick else "full"
    report = {"mode": mode, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "notebooks": []}
    out.mkdir(parents=True, exist_ok=True)
    status = 0
    for notebook in notebooks:
        executed = (notebook if save_in_place else out / "executed" / notebook.name).resolve()
        metrics_file = out / "metrics" / f"{notebook.stem}.json"
        metrics_file.unlink(missing_ok=True)
        env = {**os.environ, QUICK_ENV: "1" if quick else "0",
               METRICS_ENV: str(metrics_file.resolve())}
        print(f"[{mode}] {notebook.name} ...", flush=True)
        proc = subprocess.run([sys.executable, "-m", "autoenc_helpers.course", "--one",
                               str(notebook.resolve()), str(executed)],
                              env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not proc.stdout.strip():
            print(proc.stdout + proc.stderr, file=sys.stderr)
            status = 1
            break
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if not result["ok"]:
            print(f"FAILED: {notebook.name}, code cell at index {result['failed_cell']} "
                  f"(executed copy: {executed})\n{result['error']}", file=sys.stderr)
            status = 1
            break
        metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        report["notebooks"].append({"name": notebook.name, "wall_s": result["wall_s"],
                                    "peak_rss_mb": result["peak_rss_mb"], "metrics": metrics})
        print(f"    {result['wall_s']:.1f} s, peak RSS {result['peak_rss_mb']} MB, {metrics}",
              flush=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(_markdown(report))
    print(f"report: {out / 'report.md'}" + ("" if status == 0 else " (incomplete: a notebook failed)"))
    return status


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m autoenc_helpers.course [--quick] [--save] [NOTEBOOK ...]``."""
    parser = argparse.ArgumentParser(prog="python -m autoenc_helpers.course",
                                     description="Execute the course's notebooks and report.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every lesson in notebooks/)")
    parser.add_argument("--quick", action="store_true",
                        help=f"quick mode ({QUICK_ENV}=1); default: full mode, or quick if "
                             f"{QUICK_ENV} is set")
    parser.add_argument("--out", type=Path, default=REPO / "build", help="report folder")
    parser.add_argument("--save", action="store_true",
                        help="write the outputs back into the notebooks (full mode only; this "
                             "is how the committed outputs are made)")
    parser.add_argument("--one", nargs=2, type=Path, metavar=("NOTEBOOK", "EXECUTED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(execute_one(*args.one)))
        return 0
    quick = args.quick or get_settings().quick
    if args.save and quick:
        parser.error("--save keeps full-mode outputs only; drop --quick / unset AUTOENC_QUICK")
    notebooks = args.notebooks or find_notebooks(REPO / "notebooks")
    if not notebooks:
        parser.error("no notebooks found")
    return run_course(notebooks, args.out, quick=quick, save_in_place=args.save)


if __name__ == "__main__":
    raise SystemExit(main())
