"""The course runner: executes notebooks, measures them and reports; stops at a failure;
checks full-mode metrics against their bands."""

from __future__ import annotations

import json

import nbformat
import pytest

from autoenc_helpers.course import check_metrics, load_bands, main, run_course, update_readme


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebooks(tmp_path):
    good = _notebook(tmp_path / "01_good.ipynb",
                     "import os\nmode = os.environ['AUTOENC_QUICK']",
                     "from autoenc_helpers import record_metrics\n"
                     "record_metrics(answer=42, mode_is_quick=float(mode == '1'))")
    bad = _notebook(tmp_path / "02_bad.ipynb",
                    "from autoenc_helpers import claim\nclaim('one is one', 1 == 1, 'ok')",
                    "raise RuntimeError('boom')")
    never = _notebook(tmp_path / "03_never.ipynb", "print('should not run')")
    return good, bad, never


def test_report_has_documented_shape(notebooks, tmp_path):
    good = notebooks[0]
    out = tmp_path / "build"
    bands = _bands(tmp_path, "[01_good]\nanswer = [0, 1]\n")  # 42 is out of band...
    assert run_course([good], out, quick=True, bands_file=bands) == 0  # ...but quick mode
    report = json.loads((out / "report.json").read_text())
    assert report["mode"] == "quick"
    assert report["notebooks"][0]["checks"]["answer"]["verdict"] == "not checked (quick mode)"
    (entry,) = report["notebooks"]
    assert entry["name"] == "01_good.ipynb"
    assert entry["metrics"] == {"answer": 42.0, "mode_is_quick": 1.0}
    assert entry["wall_s"] > 0 and 20 < entry["peak_rss_mb"] < 4000
    assert (out / "executed" / "01_good.ipynb").exists()
    assert "01_good.ipynb" in (out / "report.md").read_text()


def test_failing_notebook_stops_the_run(notebooks, tmp_path, capsys):
    out = tmp_path / "build"
    assert run_course(list(notebooks), out, quick=True) == 1
    err = capsys.readouterr().err
    assert "02_bad.ipynb" in err and "index 1" in err and "boom" in err
    entries = json.loads((out / "report.json").read_text())["notebooks"]
    assert [(n["name"], n["status"]) for n in entries] == [  # 03 never ran
        ("01_good.ipynb", "ok"), ("02_bad.ipynb", "failed")]
    md = (out / "report.md").read_text()  # says what failed, not just an empty table
    assert "02_bad.ipynb" in md and "cell index 1" in md and "boom" in md
    assert "\x1b[" not in md
    assert json.loads((out / "report.json").read_text())["failure"]["cell"] == 1
    assert "one is one" in md  # a claim made before the failure is reported, with its verdict


# ------------------------------------------------------------------ metric bands


def _bands(tmp_path, text):
    path = tmp_path / "bands.toml"
    path.write_text(text)
    return path


def test_full_mode_metrics_in_band_pass_out_of_band_fail(notebooks, tmp_path):
    good = notebooks[0]  # records answer = 42 and mode_is_quick = 0 in full mode
    in_band = _bands(tmp_path, "[01_good]\nanswer = [40, 45]\nmode_is_quick = [0, 0]\n")
    out = tmp_path / "build"
    assert run_course([good], out, quick=False, bands_file=in_band) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["notebooks"][0]["checks"]["answer"] == {"value": 42.0, "band": [40.0, 45.0],
                                                          "verdict": "ok"}
    assert report["failed_checks"] == []
    assert "Every check passed" in (out / "report.md").read_text()

    out_of_band = _bands(tmp_path, "[01_good]\nanswer = [0, 41.5]\nmode_is_quick = [0, 0]\n"
                                   "f1 = [0.9, 1.0]\n")
    assert run_course([good], out, quick=False, bands_file=out_of_band) == 2
    checks = json.loads((out / "report.json").read_text())["notebooks"][0]["checks"]
    assert checks["answer"]["verdict"] == "out of band"
    assert checks["f1"] == {"value": None, "band": [0.9, 1.0], "verdict": "missing"}
    assert checks["mode_is_quick"]["verdict"] == "ok"
    md = (out / "report.md").read_text()
    assert "**out of band**" in md and "**missing**" in md and "2 check(s) failed" in md


def _fake_report(out, mode="full", **metrics):
    out.mkdir(parents=True, exist_ok=True)
    report = {"mode": mode, "started": "2026-11-23 10:00:00",
              "machine": {"cpus": 2, "platform": "test", "python": "3.11"},
              "notebooks": [{"name": "01_basics_fashion_mnist.ipynb", "status": "ok",
                             "wall_s": 61.4, "peak_rss_mb": 1234, "metrics": metrics}]}
    (out / "report.json").write_text(json.dumps(report))
    return out


def test_check_command_on_a_fake_report(tmp_path, capsys):
    bands = _bands(tmp_path, "[01_basics_fashion_mnist]\ntest_mse = [0.0055, 0.0080]\n")
    args = ["--check", "--bands", str(bands), "--out"]
    good = _fake_report(tmp_path / "good", test_mse=0.00705)
    assert main(args + [str(good)]) == 0
    assert json.loads((good / "report.json").read_text())["notebooks"][0]["checks"][
        "test_mse"]["verdict"] == "ok"
    bad = _fake_report(tmp_path / "bad", test_mse=0.0091)
    assert main(args + [str(bad)]) == 2
    assert "test_mse" in capsys.readouterr().err
    unbanded = _fake_report(tmp_path / "unbanded", test_mse=0.007, extra=1.0)
    assert main(args + [str(unbanded)]) == 2  # every recorded metric needs a band
    quick = _fake_report(tmp_path / "quick", mode="quick", test_mse=0.5)
    assert main(args + [str(quick)]) == 0


def test_committed_figures_are_inside_their_bands(tmp_path):
    """The full-mode figures of the committed lessons pass the committed bands file."""
    figures = {
        "01_basics_fashion_mnist": {"test_mse": 0.00705, "pca_test_mse": 0.0104},
        "02_denoising_fashion_mnist": {"test_mse": 0.00515, "psnr_denoised": 22.88,
                                       "psnr_noisy": 15.93, "psnr_baseline_filter": 18.38},
        "03_latent_space_mnist": {
            "test_mse": 0.00553, "knn_latent_acc": 0.9812, "knn_tsne_acc": 0.954,
            "trustworthiness": 0.990, "ood_flag_rate_rot90": 0.586,
            "ood_flag_rate_rot180": 0.177, "ood_flag_rate_inverted": 1.0,
            "ood_flag_rate_noise": 1.0, "ood_flag_rate_fashion": 0.974,
            "false_alarm_rate": 0.0088},
        "04_ecg_anomaly_detection": {"roc_auc": 0.9923, "pr_auc": 0.978, "accuracy": 0.9786,
                                     "precision": 0.964, "recall": 0.986, "f1": 0.975},
    }
    bands = load_bands()
    for stem, metrics in figures.items():
        checks = check_metrics(metrics, bands[stem], quick=False)
        assert {n: c["verdict"] for n, c in checks.items()} == dict.fromkeys(metrics, "ok"), stem


def test_bands_file_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="low <= high"):
        load_bands(_bands(tmp_path, "[01_x]\nm = [1.0, 0.5]\n"))
    with pytest.raises(ValueError, match="not valid TOML"):
        load_bands(_bands(tmp_path, "[01_x\n"))


def test_update_readme_copies_time_and_memory(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Course\n\n## Course map\n\nMeasured on 2026-11-22. The whole course runs in about "
        "5 minutes.\n\n| # | notebook | what | time | memory |\n"
        "| --- | --- | --- | ---: | ---: |\n"
        "| 1 | [`01_basics_fashion_mnist.ipynb`](notebooks/01_basics_fashion_mnist.ipynb) | "
        "basics | 73 s | 1.37 GB |\n| 2 | `02_other.ipynb` | other | 119 s | 0.50 GB |\n\n"
        "## Next\n\nabout 3 minutes on 2020-01-01\n")
    report = _fake_report(tmp_path / "build", test_mse=0.007) / "report.json"
    assert update_readme(report, readme) == 0
    text = readme.read_text()
    assert "| basics | 61 s | 1.23 GB |" in text
    assert "| other | 119 s | 0.50 GB |" in text  # not in the report: unchanged
    # the total adds the report's 61 s and the table's 119 s for the row it does not cover
    assert "Measured on 2026-11-23. The whole course runs in about 3 minutes." in text
    assert "about 3 minutes on 2020-01-01" in text  # other sections untouched
    quick = _fake_report(tmp_path / "quick", mode="quick") / "report.json"
    assert update_readme(quick, readme) == 1


# ------------------------------------------------------------------ claim checks


@pytest.fixture
def claiming(tmp_path):
    true = _notebook(tmp_path / "01_true.ipynb",
                     "import autoenc_helpers as ah\nerrors = [0.3, 0.2, 0.1]",
                     "ah.claim('the error falls', errors[-1] < errors[0], "
                     "f'{errors[0]} -> {errors[-1]}')")
    false = _notebook(tmp_path / "02_false.ipynb",
                      "import autoenc_helpers as ah",
                      "ah.claim('the error | rises', 0.1 > 0.3, '0.1 vs 0.3')",
                      "ah.claim('one is one', 1 == 1)")
    return true, false


def test_true_claims_pass_and_are_reported(claiming, tmp_path):
    out = tmp_path / "build"
    assert run_course([claiming[0]], out, quick=False, bands_file=None) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["notebooks"][0]["claims"] == [
        {"claim": "the error falls", "holds": True, "evidence": "0.3 -> 0.1",
         "verdict": "holds"}]
    md = (out / "report.md").read_text()
    assert "| 01_true.ipynb | the error falls | 0.3 -> 0.1 | holds |" in md
    assert "Every check passed" in md


def test_a_false_claim_fails_the_full_run_with_status_2(claiming, tmp_path, capsys):
    out = tmp_path / "build"
    assert run_course(list(claiming), out, quick=False, bands_file=None) == 2
    assert "claim 'the error | rises' does not hold" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    verdicts = [(c["claim"], c["verdict"]) for nb in report["notebooks"] for c in nb["claims"]]
    assert verdicts == [("the error falls", "holds"), ("the error | rises", "does not hold"),
                        ("one is one", "holds")]
    assert len(report["failed_checks"]) == 1
    md = (out / "report.md").read_text()
    assert "| 02_false.ipynb | the error \\| rises | 0.1 vs 0.3 | **does not hold** |" in md
    assert "1 check(s) failed" in md
    # --check re-reads the report and still fails on the false claim
    assert main(["--check", "--bands", str(_bands(tmp_path, "")), "--out", str(out)]) == 2


def test_quick_mode_records_claims_without_enforcing_them(claiming, tmp_path):
    out = tmp_path / "build"
    assert run_course([claiming[1]], out, quick=True, bands_file=None) == 0
    claims = json.loads((out / "report.json").read_text())["notebooks"][0]["claims"]
    assert [c["verdict"] for c in claims] == ["not checked (quick mode)"] * 2
    assert [c["holds"] for c in claims] == [False, True]


def test_seed_option_reaches_every_notebook(tmp_path):
    nb = _notebook(tmp_path / "01_seed.ipynb",
                   "import autoenc_helpers as ah\nS = ah.setup(seed=7)",
                   "ah.record_metrics(seed=S.seed)")
    out = tmp_path / "build"
    assert run_course([nb], out, quick=True, bands_file=None, seed=123) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 123 and report["notebooks"][0]["metrics"] == {"seed": 123.0}
    assert "seed 123 (AUTOENC_SEED)" in (out / "report.md").read_text()
    assert run_course([nb], out, quick=True, bands_file=None) == 0  # no --seed: its own seed
    assert json.loads((out / "report.json").read_text())["notebooks"][0]["metrics"] == {
        "seed": 7.0}
