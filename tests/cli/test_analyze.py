"""``fdaccel analyze``: bad input is one line with exit status 2; every analysis runs and
writes its JSON and PNGs whole (the trained ones, shortened to one epoch, are slow)."""
import json

import pytest

from fdaccel.analyze import ANALYSES
from fdaccel.cli import main


@pytest.mark.parametrize("args, words", [
    (["analyze", "nope"], "unknown analysis 'nope'"),
    (["analyze"], "the following arguments are required: kind"),
    (["analyze", "pooling", "--epochs", "0"], "--epochs: must be a positive integer"),
    (["analyze", "pooling", "--epochs", "x"], "invalid int value"),
    (["analyze", "pooling", "--seed", "-1"], "--seed: must be >= 0"),
    (["analyze", "pooling", "--network", "nope"], "unknown network 'nope'"),
    (["analyze", "receptive", "--network", "autoencoder-digits"], "receptive compares classifiers"),
    (["analyze", "robustness", "--network", "lenet-mnist"], "robustness perturbs the native 8 x 8 digits"),
])
def test_bad_arguments_are_one_line_exit_2(capsys, args, words):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_plot_folder_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("")
    assert main(["analyze", "pooling", "--plot", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err


def _run(tmp_path, kind, *extra):
    out, plots = tmp_path / f"{kind}.json", tmp_path / "plots"
    assert main(["analyze", kind, "--json", str(out), "--plot", str(plots), *extra]) == 0
    report = json.loads(out.read_text())
    assert report["analysis"] == kind and report["seconds"] >= 0
    pngs = sorted(plots.glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert not list(tmp_path.glob(".*")) and not list(plots.glob(".*"))  # no temporary files left
    return report


def test_pooling_end_to_end(tmp_path, capsys):
    report = _run(tmp_path, "pooling")
    assert "spectral pooling keeps the most information" in capsys.readouterr().out
    rows = {(r["method"], r["size"]): r for r in report["results"]}
    assert rows[("spectral", 4)]["relative_error"] < rows[("average", 4)]["relative_error"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", [k for k in ANALYSES if k != "pooling"])
def test_every_analysis_runs_for_one_epoch(tmp_path, kind):
    extra = ["--network", "lenet-digits"] if kind in ("attenuation", "fprinciple", "propagation") else []
    report = _run(tmp_path, kind, "--epochs", "1", *extra)
    assert report["seed"] == 0


@pytest.mark.slow
def test_same_seed_same_measurements(tmp_path):
    a = _run(tmp_path / "a", "fprinciple", "--network", "lenet-digits", "--epochs", "1", "--seed", "3")
    b = _run(tmp_path / "b", "fprinciple", "--network", "lenet-digits", "--epochs", "1", "--seed", "3")
    assert a["networks"] == b["networks"] and a["seed"] == 3
