"""``rheumetrics simulate`` and ``rheumetrics calibrate`` from the command line."""

from __future__ import annotations

import re
from importlib import resources

from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.sim.parameters import load_parameters

runner = CliRunner()


def test_simulate_writes_a_report_with_the_calibration_table(tmp_path):
    out = tmp_path / "trial.html"
    table = tmp_path / "shares.csv"
    r = runner.invoke(
        app,
        [
            "simulate",
            "--replicates",
            "2",
            "--workers",
            "0",
            "--patients",
            "30",
            "--out",
            str(out),
            "--table",
            str(table),
        ],
    )
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "Table 2. Calibration" in html and "held out" in html
    assert "imagine_ra_mri" in html and "<svg" in html
    assert table.read_text().startswith("arm,replicate,remission")


def test_population_without_anchors_is_flagged_not_calibrated(tmp_path):
    shipped = resources.files("rheumetrics.sim").joinpath("parameters.toml").read_text("utf-8")
    text = re.sub(r"\[anchors\.early_ra\].*?(?=\n# Concrete regimens)", "", shipped, flags=re.S)
    text = text.replace('calibrated = true, fitted_to = "early_ra", ', "")
    assert "anchors.early_ra" not in text
    bare = tmp_path / "bare.toml"
    bare.write_text(text, encoding="utf-8")
    out = tmp_path / "early.html"
    r = runner.invoke(
        app,
        ["simulate", "--arm", "dream_ra", "--population", "early_ra", "--replicates", "1",
         "--workers", "0", "--patients", "20", "--parameters", str(bare), "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Not calibrated" in out.read_text(encoding="utf-8")


def test_early_ra_report_shows_its_calibration_table(tmp_path):
    out = tmp_path / "early.html"
    r = runner.invoke(
        app,
        ["simulate", "--population", "early_ra", "--replicates", "2", "--workers", "0",
         "--patients", "40", "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "Table 2. Calibration" in html and "dream_ra" in html
    assert "DAS28-CRP &lt; 2.6 at 6 months" in html and "EULAR good response at 3 months" in html
    assert "Not calibrated" not in html


def test_bad_parameter_file_is_one_line_per_problem(tmp_path):
    shipped = resources.files("rheumetrics.sim").joinpath("parameters.toml").read_text("utf-8")
    broken = re.sub(
        r"^(flare_rate = \{ kind = \"probability\", value = )[0-9.e-]+",
        r"\g<1>7",
        shipped,
        flags=re.M,
    )
    assert broken != shipped
    bad = tmp_path / "p.toml"
    bad.write_text(broken, encoding="utf-8")
    r = runner.invoke(
        app, ["simulate", "--parameters", str(bad), "--replicates", "1", "--workers", "0"]
    )
    assert r.exit_code == 1
    assert "activity.flare_rate" in r.output and "Traceback" not in r.output


def test_unknown_population_is_refused():
    r = runner.invoke(app, ["simulate", "--population", "juvenile", "--workers", "0"])
    assert r.exit_code == 1 and "unknown population 'juvenile'" in r.output


def test_calibrate_writes_a_loadable_file(tmp_path):
    out = tmp_path / "calibrated.toml"
    r = runner.invoke(
        app, ["calibrate", "--out", str(out), "--replicates", "1", "--max-evaluations", "2"]
    )
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Calibrated to imagine_ra by rheumetrics")
    p = load_parameters(out)
    assert set(p.calibrated()) == set(load_parameters().calibrated())


def test_calibrate_early_ra_keeps_the_imagine_ra_fit(tmp_path):
    out = tmp_path / "early.toml"
    r = runner.invoke(
        app,
        ["calibrate", "--population", "early_ra", "--out", str(out), "--replicates", "1",
         "--max-evaluations", "2"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Calibrated to early_ra by rheumetrics")
    assert "# Calibrated to imagine_ra by rheumetrics" in text  # the other fit's header stays
    p, shipped = load_parameters(out), load_parameters()
    for name, param in shipped.calibrated("imagine_ra").items():
        section, key = name.split(".")
        assert getattr(getattr(p, section), key).value == param.value, name
