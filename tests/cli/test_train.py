"""``fdaccel train``: errors are one line with exit status 2; a short run writes its report."""
import json
import subprocess
import sys

import pytest
import yaml

from fdaccel.cli import main
from fdaccel.training import MODELS

TINY = {"name": "tiny", "dataset": "random", "input": {"channels": 1, "size": 8},
        "layers": [{"type": "conv", "out_channels": 2, "kernel": 3},
                   {"type": "act", "kind": "pwl", "segments": 4},
                   {"type": "pool", "size": 4},
                   {"type": "dense", "classes": 3}],
        "training": {"epochs": 1, "batch": 64, "lr": 0.01}}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "fdaccel", "train", *args], capture_output=True, text=True,
                          timeout=120)


def test_unknown_network_is_one_line_exit_2():
    r = run_cli("--network", "nope")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope" in lines[0]


@pytest.mark.parametrize("args,words", [(["--epochs", "0"], "--epochs"), (["--batch", "-1"], "--batch"),
                                        (["--lr", "0"], "--lr"), (["--seed", "-3"], "--seed")])
def test_bad_arguments_exit_2(capsys, args, words):
    assert main(["train", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


def test_mode_without_a_model_is_a_clean_error(capsys, monkeypatch):
    monkeypatch.delitem(MODELS, "fixed", raising=False)
    assert main(["train", "--fixed"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--fixed" in err[0]


@pytest.mark.parametrize("mode", [[], ["--spatial"]])
def test_one_epoch_writes_json(tmp_path, capsys, mode):
    net = tmp_path / "tiny.yaml"
    net.write_text(yaml.safe_dump(TINY))
    out = tmp_path / "out.json"
    assert main(["train", "--network", str(net), "--json", str(out), "--seed", "4", *mode]) == 0
    report = json.loads(out.read_text())
    assert report["network"] == "tiny" and report["epochs"] == 1 and report["seed"] == 4
    assert report["mode"] == ("spatial" if mode else "frequency")
    assert len(report["train_loss"]) == 1 and 0.0 <= report["test_accuracy"] <= 1.0
    assert report["test_accuracy_per_epoch"] == [report["test_accuracy"]]
    assert report["seconds"] > 0
    assert "epoch   1/1" in capsys.readouterr().out
    # deterministic: the same seed gives the same numbers
    out2 = tmp_path / "again.json"
    assert main(["train", "--network", str(net), "--json", str(out2), "--seed", "4", *mode]) == 0
    assert json.loads(out2.read_text())["train_loss"] == report["train_loss"]


TINY_AE = {"name": "tiny-ae", "dataset": "random", "loss": "mse", "input": {"channels": 1, "size": 8},
           "layers": [{"type": "conv", "out_channels": 2, "kernel": 3}, {"type": "act", "kind": "spatial"},
                      {"type": "pool", "size": 4}, {"type": "upsample", "kind": "nearest", "factor": 2},
                      {"type": "conv", "out_channels": 1, "kernel": 3}],
           "training": {"epochs": 2, "batch": 64, "lr": 0.01, "optimizer": "adam"}}


def test_autoencoder_reports_reconstruction_error_beside_pca(tmp_path, capsys):
    net = tmp_path / "ae.yaml"
    net.write_text(yaml.safe_dump(TINY_AE))
    out = tmp_path / "ae.json"
    assert main(["train", "--network", str(net), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "test mse" in text and "PCA with the same latent size (32 components)" in text
    report = json.loads(out.read_text())
    assert report["pca_components"] == 32 and 0 < report["pca_test_mse"] < 1.2
    assert len(report["test_mse_per_epoch"]) == 2 and report["test_mse"] == report["test_mse_per_epoch"][-1]
    assert report["train_loss"][1] < report["train_loss"][0]


@pytest.mark.parametrize("args, words", [
    (["train", "--network", "autoencoder-digits", "--fixed"],
     "layers[7].type: the fixed-point model does not run upsample layers yet"),
    (["simulate", "--network", "autoencoder-digits"], "layers[7].type: the cycle model does not run upsample layers"),
    (["sweep", "--network", "autoencoder-digits", "--set", "mac_array.rows=4"], "the cycle model does not run"),
])
def test_hardware_models_refuse_the_autoencoder_in_one_line(capsys, args, words):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


@pytest.mark.slow
def test_builtin_autoencoder_beats_pca_with_its_latent_size(tmp_path, capsys):
    """The acceptance run (about a minute): the defaults, seed 0."""
    out = tmp_path / "ae.json"
    assert main(["train", "--network", "autoencoder-digits", "--json", str(out)]) == 0
    assert "test reconstruction MSE" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["pca_components"] == 16 and report["test_mse"] < report["pca_test_mse"]
