"""Run the whole course headless, write the course report and check the headline metrics.

``make course`` calls ``python -m autoenc_helpers.course``, which executes every notebook in
``notebooks/`` in order, each in its own kernel (in a subprocess of its own, so that the kernel's
peak memory can be read exactly), keeps the executed copies in ``build/executed/`` and writes
``build/report.json`` and ``build/report.md``: per notebook, the mode, wall seconds, the kernel's
peak resident memory, the headline metrics it recorded with
:func:`autoenc_helpers.record_metrics` and the claim checks it made with
:func:`autoenc_helpers.claim` (each sentence of the prose that interprets the run, with
whether the run bears it out).

In full mode every metric is compared with its expected band in
``notebooks/expected_metrics.toml`` (:data:`BANDS_FILE`); each gets a verdict, ``"ok"``,
``"out of band"``, ``"missing"`` (banded but not recorded) or ``"no band"`` (recorded but not
banded); quick mode gives ``"not checked (quick mode)"`` and fails nothing. Claims are
checked the same way: in full mode a claim that does not hold fails the run; quick mode
records claims without enforcing them.

``--seed N`` runs every notebook with ``AUTOENC_SEED=N``, which replaces the seed of each
notebook's ``ah.setup`` call (and so every seed derived from it): the claims and bands then
face a run that is not the committed one (``make seeds`` runs two such seeds).

Exit status: 0 when every notebook ran and every check passed; 1 when a notebook failed (the
run stops there, and the report names the notebook and the failing cell); 2 when every notebook
ran but a full-mode check (a metric band or a claim) failed.

Other commands: ``--check`` re-checks an existing ``build/report.json`` against the bands
(after editing them); ``--update-readme`` copies wall time and peak memory of a full-mode
``build/report.json`` into README's course map (the rows are matched by notebook file name).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from autoenc_helpers.config import QUICK_ENV, SEED_ENV, get_settings
from autoenc_helpers.report import CLAIMS_ENV, METRICS_ENV

REPO = Path(__file__).resolve().parent.parent
CELL_TIMEOUT_S = 1800
#: Expected full-mode band ``[low, high]`` of each notebook's headline metrics.
BANDS_FILE = REPO / "notebooks" / "expected_metrics.toml"

OK, OUT_OF_BAND, MISSING, NO_BAND = "ok", "out of band", "missing", "no band"
NOT_CHECKED = "not checked (quick mode)"
HOLDS, DOES_NOT_HOLD = "holds", "does not hold"
#: Verdicts that make a full-mode run fail.
FAILING = frozenset({OUT_OF_BAND, MISSING, NO_BAND})

Bands = dict[str, dict[str, tuple[float, float]]]


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


def load_bands(path: Path = BANDS_FILE) -> Bands:
    """Read the bands file: ``{notebook stem: {metric: (low, high)}}``.

    The file is TOML with one table per notebook (named by its file name without ``.ipynb``)
    and one ``metric = [low, high]`` entry per headline metric, both limits inclusive.

    Raises:
        ValueError: the file is not valid TOML or an entry is not ``[low, high]`` numbers
            with ``low <= high``.
    """
    try:
        raw = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc}).") from exc
    bands: Bands = {}
    for notebook, metrics in raw.items():
        if not isinstance(metrics, dict):
            raise ValueError(f"{path}: [{notebook}] must be a table of `metric = [low, high]`.")
        bands[notebook] = {}
        for name, band in metrics.items():
            ok = (isinstance(band, list) and len(band) == 2
                  and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in band)
                  and band[0] <= band[1])
            if not ok:
                raise ValueError(f"{path}: {notebook}.{name} = {band!r}; expected "
                                 f"[low, high] with low <= high.")
            bands[notebook][name] = (float(band[0]), float(band[1]))
    return bands


def check_metrics(metrics: dict[str, float], bands: dict[str, tuple[float, float]],
                  quick: bool) -> dict[str, dict]:
    """Compare one notebook's recorded metrics with its bands.

    Returns ``{metric: {"value", "band", "verdict"}}`` for every banded metric (in the bands'
    order) and then every recorded metric without a band; ``value`` or ``band`` is ``None``
    where there is none. In quick mode every verdict is :data:`NOT_CHECKED`.
    """
    checks: dict[str, dict] = {}
    for name in [*bands, *(m for m in metrics if m not in bands)]:
        value, band = metrics.get(name), bands.get(name)
        if quick:
            verdict = NOT_CHECKED
        elif band is None:
            verdict = NO_BAND
        elif value is None:
            verdict = MISSING
        else:
            verdict = OK if band[0] <= value <= band[1] else OUT_OF_BAND  # NaN: out of band
        checks[name] = {"value": value, "band": list(band) if band else None,
                        "verdict": verdict}
    return checks


def check_claims(claims: list[dict], quick: bool) -> list[dict]:
    """Give each recorded claim (``{"claim", "holds", "evidence"}``) its ``"verdict"``:
    :data:`HOLDS` or :data:`DOES_NOT_HOLD`, or :data:`NOT_CHECKED` in quick mode."""
    return [{**c, "verdict": NOT_CHECKED if quick else HOLDS if c["holds"] else DOES_NOT_HOLD}
            for c in claims]


def apply_bands(report: dict, bands: Bands | None) -> list[str]:
    """Write ``"checks"`` (metric bands) and claim verdicts into every notebook entry of
    ``report`` (no metric checks when ``bands`` is ``None``) and ``"failed_checks"`` into the
    report; returns the failed checks as
    ``"notebook: metric (verdict)"`` and ``"notebook: claim '...' does not hold"`` lines."""
    quick = report["mode"] == "quick"
    failed = []
    for entry in report["notebooks"]:
        if entry.get("status", "ok") != "ok":
            # its metrics are incomplete: not checked; the claims it made before the failure
            # are reported, with their verdicts
            entry["claims"] = check_claims(entry.get("claims", []), quick)
            continue
        entry["checks"] = {} if bands is None else check_metrics(
            entry["metrics"], bands.get(Path(entry["name"]).stem, {}), quick)
        failed += [f"{entry['name']}: {name} = {c['value']} ({c['verdict']}, band {c['band']})"
                   for name, c in entry["checks"].items() if c["verdict"] in FAILING]
        entry["claims"] = check_claims(entry.get("claims", []), quick)
        failed += [f"{entry['name']}: claim '{c['claim']}' does not hold ({c['evidence']})"
                   for c in entry["claims"] if c["verdict"] == DOES_NOT_HOLD]
    report["failed_checks"] = failed
    return failed


def _shown(path: Path) -> str:
    """A path for the report: relative to the checkout when inside it."""
    path = Path(path).resolve()
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name


def _plain(text: str) -> str:
    """Text without ANSI colour codes, for Markdown."""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _markdown(report: dict) -> str:
    lines = [f"# Course report ({report['mode']} mode)", "",
             f"Machine: {report['machine']['cpus']} CPUs, {report['machine']['platform']}, "
             f"Python {report['machine']['python']}; run at {report['started']}"
             + (f", seed {report['seed']} (AUTOENC_SEED) in every notebook"
                if report.get("seed") is not None else ", each notebook with its own seed")
             + ".", ""]
    failure = report.get("failure")
    if failure:
        lines += [f"**The run stopped: `{failure['notebook']}` failed at code cell index "
                  f"{failure['cell']}** (index among all cells of the notebook; the executed "
                  f"copy is in build/executed/). Later notebooks did not run. The error ends:",
                  "", "```", *_plain(failure["error"]).strip().splitlines()[-12:], "```", ""]
    lines += ["| notebook | status | wall (s) | peak RSS (MB) | metrics |",
              "| --- | --- | ---: | ---: | --- |"]
    for nb in report["notebooks"]:
        metrics = ", ".join(f"{k} = {v:.4g}" for k, v in nb["metrics"].items()) or "none"
        lines.append(f"| {nb['name']} | {nb.get('status', 'ok')} | {nb['wall_s']:.1f} | "
                     f"{nb['peak_rss_mb']} | {metrics} |")
    total = sum(n["wall_s"] for n in report["notebooks"])
    lines += ["", f"Total wall time: {total:.1f} s"
              + (" (up to the failure)." if failure else ".")]
    checked = [nb for nb in report["notebooks"] if nb.get("checks")]
    if checked:
        lines += ["", f"## Headline metrics against their bands ({report.get('bands_file')})", "",
                  "| notebook | metric | value | band | verdict |",
                  "| --- | --- | ---: | --- | --- |"]
        for nb in checked:
            for name, c in nb["checks"].items():
                value = "" if c["value"] is None else f"{c['value']:.4g}"
                band = "" if c["band"] is None else f"[{c['band'][0]:.4g}, {c['band'][1]:.4g}]"
                verdict = c["verdict"] if c["verdict"] not in FAILING else f"**{c['verdict']}**"
                lines.append(f"| {nb['name']} | {name} | {value} | {band} | {verdict} |")
    with_claims = [nb for nb in report["notebooks"] if nb.get("claims")]
    if with_claims:
        lines += ["", "## Claims: what the prose says, checked against this run", "",
                  "| notebook | claim | evidence | verdict |", "| --- | --- | --- | --- |"]
        for nb in with_claims:
            for c in nb["claims"]:
                verdict = c["verdict"] if c["verdict"] != DOES_NOT_HOLD else f"**{c['verdict']}**"
                text = c["claim"].replace("|", "\\|")
                evidence = c.get("evidence", "").replace("|", "\\|")
                lines.append(f"| {nb['name']} | {text} | {evidence} | {verdict} |")
        counts = ", ".join(f"{nb['name'][:2]}: {len(nb['claims'])}" for nb in with_claims)
        lines += ["", f"Claims per notebook: {counts}."]
    if checked or with_claims:
        n_failed = len(report.get("failed_checks", []))
        lines += ["", "Every check passed." if not n_failed and report["mode"] == "full" else
                  "Quick mode: metrics and claims are not checked." if report["mode"] == "quick"
                  else f"**{n_failed} check(s) failed**: fix the lesson (a claim that does not "
                  f"hold is reworded to what the run shows), or move its band in "
                  f"{report.get('bands_file')} if the change is deliberate."]
    return "\n".join(lines) + "\n"


def _write_report(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(_markdown(report))


def run_course(notebooks: list[Path], out: Path, quick: bool, save_in_place: bool = False,
               bands_file: Path | None = BANDS_FILE, seed: int | None = None) -> int:
    """Execute ``notebooks`` in order, check their metrics against ``bands_file`` and their
    claims, and write ``out/report.json`` and ``out/report.md``.

    Returns 0 when every notebook ran and every check passed, 1 at the first failing notebook
    (the report then holds the notebooks up to it and says which cell failed), 2 when a
    full-mode metric is out of band, missing or has no band, or a full-mode claim does not
    hold. ``bands_file=None``: no metric checks (claims are still checked). ``seed``: run
    every notebook with ``AUTOENC_SEED=seed`` instead of its own seed.
    """
    mode = "quick" if quick else "full"
    bands = load_bands(bands_file) if bands_file is not None else None
    report = {"mode": mode, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "bands_file": _shown(bands_file) if bands_file is not None else None,
              "seed": seed, "notebooks": []}
    out.mkdir(parents=True, exist_ok=True)
    status = 0
    for notebook in notebooks:
        executed = (notebook if save_in_place else out / "executed" / notebook.name).resolve()
        metrics_file = out / "metrics" / f"{notebook.stem}.json"
        claims_file = out / "claims" / f"{notebook.stem}.json"
        metrics_file.unlink(missing_ok=True)
        claims_file.unlink(missing_ok=True)
        env = {**os.environ, QUICK_ENV: "1" if quick else "0",
               METRICS_ENV: str(metrics_file.resolve()), CLAIMS_ENV: str(claims_file.resolve())}
        env.pop(SEED_ENV, None)
        if seed is not None:
            env[SEED_ENV] = str(seed)
        print(f"[{mode}] {notebook.name} ...", flush=True)
        proc = subprocess.run([sys.executable, "-m", "autoenc_helpers.course", "--one",
                               str(notebook.resolve()), str(executed)],
                              env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not proc.stdout.strip():
            print(proc.stdout + proc.stderr, file=sys.stderr)
            result = {"ok": False, "failed_cell": None, "wall_s": 0.0, "peak_rss_mb": 0,
                      "error": (f"the runner's subprocess exited with status {proc.returncode}"
                                f"\n{proc.stderr[-3000:]}")}
        else:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        claims = json.loads(claims_file.read_text()) if claims_file.exists() else []
        report["notebooks"].append({"name": notebook.name,
                                    "status": "ok" if result["ok"] else "failed",
                                    "wall_s": result["wall_s"],
                                    "peak_rss_mb": result["peak_rss_mb"], "metrics": metrics,
                                    "claims": claims})
        if not result["ok"]:
            report["failure"] = {"notebook": notebook.name, "cell": result["failed_cell"],
                                 "error": _plain(result["error"])}
            print(f"FAILED: {notebook.name}, code cell at index {result['failed_cell']} "
                  f"(executed copy: {executed})\n{result['error']}", file=sys.stderr)
            status = 1
            break
        false = [c["claim"] for c in claims if not c["holds"]]
        print(f"    {result['wall_s']:.1f} s, peak RSS {result['peak_rss_mb']} MB, {metrics}; "
              f"{len(claims)} claim(s)" + (f", {len(false)} not holding: {false}" if false
                                           else ""), flush=True)
    failed_checks = apply_bands(report, bands)
    _write_report(report, out)
    for line in failed_checks:
        print(f"CHECK FAILED: {line}", file=sys.stderr)
    if status == 0 and failed_checks:
        status = 2
    print(f"report: {out / 'report.md'}"
          + {0: "", 1: " (incomplete: a notebook failed)",
             2: f" ({len(failed_checks)} check(s) failed: metrics out of band or claims "
                f"that do not hold)"}
          [status])
    return status


def check_report(out: Path, bands_file: Path = BANDS_FILE) -> int:
    """Re-check ``out/report.json`` against ``bands_file``, rewriting the report's verdicts.

    Returns 0 when every check passes (or the report is from quick mode), 1 when the report
    records a failed notebook, 2 when a check fails.
    """
    report = json.loads((out / "report.json").read_text())
    report["bands_file"] = _shown(bands_file)
    failed = apply_bands(report, load_bands(bands_file))
    _write_report(report, out)
    for line in failed:
        print(f"CHECK FAILED: {line}", file=sys.stderr)
    if report.get("failure"):
        print(f"the report's run stopped at {report['failure']['notebook']}", file=sys.stderr)
        return 1
    print(f"{out / 'report.md'}: " + (f"{len(failed)} check(s) failed" if failed else
                                      "quick mode, nothing checked" if report["mode"] == "quick"
                                      else "every check passed"))
    return 2 if failed else 0


def update_readme(report_file: Path, readme: Path = REPO / "README.md") -> int:
    """Copy wall time and peak memory from a full-mode report into README's course map.

    The course map is the Markdown table whose header has ``notebook``, ``time`` and
    ``memory`` columns; a row is matched by the notebook file name it contains (``NN_*.ipynb``)
    and gets ``"<seconds> s"`` and ``"<GB> GB"``. The date and the total (``on YYYY-MM-DD``,
    ``about N minutes``) in the paragraph above the table are updated too when present.
    Returns 0 on success, 1 when the report is from quick mode or from a run that failed.
    """
    report = json.loads(Path(report_file).read_text())
    if report["mode"] != "full" or report.get("failure"):
        print(f"{report_file}: not a complete full-mode run; README left unchanged.",
              file=sys.stderr)
        return 1
    runs = {nb["name"]: nb for nb in report["notebooks"]}
    lines = Path(readme).read_text().split("\n")
    header = next((i for i, line in enumerate(lines) if line.startswith("|")
                   and {"notebook", "time", "memory"} <= {c.strip() for c in line.split("|")}),
                  None)
    if header is None:
        print(f"{readme}: no table with notebook, time and memory columns.", file=sys.stderr)
        return 1
    columns = [c.strip() for c in lines[header].split("|")]
    t_col, m_col = columns.index("time"), columns.index("memory")
    updated = []
    total_s = 0.0  # the course's total: this report's times, the table's own for other rows
    i = header + 2
    while i < len(lines) and lines[i].startswith("|"):
        cells = lines[i].split("|")
        name = re.search(r"\d\d_[\w.-]+?\.ipynb", lines[i])
        if name and name.group(0) in runs:
            nb = runs[name.group(0)]
            cells[t_col] = f" {nb['wall_s']:.0f} s "
            cells[m_col] = f" {nb['peak_rss_mb'] / 1000:.2f} GB "
            lines[i] = "|".join(cells)
            updated.append(name.group(0))
        seconds = re.fullmatch(r"\s*([\d.]+) s\s*", cells[t_col])
        total_s += float(seconds.group(1)) if seconds else 0.0
        i += 1
    text = "\n".join(lines)
    intro_start = text.rfind("\n## ", 0, text.find(lines[header]))
    intro = text[intro_start:text.find(lines[header])]
    total_min = total_s / 60
    new_intro = re.sub(r"\bon \d{4}-\d{2}-\d{2}\b", f"on {report['started'][:10]}", intro)
    new_intro = re.sub(r"\babout \d+ minutes?\b", f"about {max(1, round(total_min))} minute"
                       + ("s" if round(total_min) != 1 else ""), new_intro)
    text = text.replace(intro, new_intro, 1) if intro else text
    Path(readme).write_text(text)
    missing = sorted(set(runs) - set(updated))
    print(f"{readme}: updated {len(updated)} row(s)"
          + (f"; not in the table: {', '.join(missing)}" if missing else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m autoenc_helpers.course [--quick] [--save] [NOTEBOOK ...]``,
    or ``--check`` / ``--update-readme`` on an existing report; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m autoenc_helpers.course",
                                     description="Execute the course's notebooks, report and "
                                                 "check the headline metrics.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every lesson in notebooks/)")
    parser.add_argument("--quick", action="store_true",
                        help=f"quick mode ({QUICK_ENV}=1); default: full mode, or quick if "
                             f"{QUICK_ENV} is set")
    parser.add_argument("--out", type=Path, default=None,
                        help="report folder (default: build/, or build/seed-N with --seed)")
    parser.add_argument("--bands", type=Path, default=BANDS_FILE,
                        help="expected metric bands (default: notebooks/expected_metrics.toml)")
    parser.add_argument("--save", action="store_true",
                        help="write the outputs back into the notebooks (full mode only; this "
                             "is how the committed outputs are made)")
    parser.add_argument("--seed", type=int, default=None,
                        help=f"run every notebook with this seed ({SEED_ENV}) instead of its own"
                             f" (default out: build/seed-N)")
    parser.add_argument("--check", action="store_true",
                        help="run nothing: re-check OUT/report.json against the bands")
    parser.add_argument("--update-readme", action="store_true",
                        help="run nothing: copy time and memory of OUT/report.json (full mode) "
                             "into README's course map")
    parser.add_argument("--one", nargs=2, type=Path, metavar=("NOTEBOOK", "EXECUTED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = REPO / "build" / (f"seed-{args.seed}" if args.seed is not None else "")
    if args.one:
        print(json.dumps(execute_one(*args.one)))
        return 0
    if args.check or args.update_readme:
        if not (args.out / "report.json").is_file():
            parser.error(f"no report at {args.out / 'report.json'}: run `make course` first")
        if args.check:
            return check_report(args.out, args.bands)
        return update_readme(args.out / "report.json")
    quick = args.quick or get_settings().quick
    if args.save and quick:
        parser.error("--save keeps full-mode outputs only; drop --quick / unset AUTOENC_QUICK")
    if args.save and args.seed is not None:
        parser.error("--save keeps the committed seeds' outputs only; drop --seed")
    notebooks = args.notebooks or find_notebooks(REPO / "notebooks")
    if not notebooks:
        parser.error("no notebooks found")
    return run_course(notebooks, args.out, quick=quick, save_in_place=args.save,
                      bands_file=args.bands, seed=args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
