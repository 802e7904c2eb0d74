"""``fdaccel simulate`` end to end: reports, trace, and one-line exit 2 on bad configs."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest


def _simulate(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fdaccel", "simulate", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_default_run_writes_json_and_trace(tmp_path):
    j, t = tmp_path / "r.json", tmp_path / "t.csv"
    p = _simulate("--batch", "8", "--json", str(j), "--trace", str(t))
    assert p.returncode == 0, p.stderr
    assert "lenet-digits" in p.stdout and "total" in p.stdout
    rep = json.loads(j.read_text())
    for key in ("total_cycles", "clock_mhz", "layers", "units", "memory", "ops", "accelerator", "network"):
        assert key in rep
    assert rep["total_cycles"] > 0 and rep["clock_mhz"] == 200.0
    layer = rep["layers"][0]
    assert {"name", "phase", "cycles", "units"} <= set(layer)
    assert {"busy", "idle", "stall"} <= set(layer["units"]["mac"])
    rows = list(csv.reader(t.open()))
    assert rows[0][:6] == ["unit", "start", "end", "done", "layer", "phase"] and "waited_for" in rows[0]
    assert len(rows) - 1 == rep["transactions"]
    assert max(int(r[3]) for r in rows[1:]) == rep["total_cycles"]


@pytest.mark.parametrize("files, args, key", [
    ({"a.yaml": "fft: {max_points: 16}\n"}, ["--accel", "a.yaml", "--network", "cifar-small"], "fft.max_points"),
    ({"a.yaml": "sram: [{name: act, kbytes: 0.25}, {name: weight, kbytes: 0.25}, {name: grad, kbytes: 0.25}]\n"},
     ["--accel", "a.yaml", "--network", "cifar-small"], "sram["),
    ({"a.yaml": "sram: [{name: act}, {name: weights}]\n"}, ["--accel", "a.yaml"], "sram:"),
    ({"a.yaml": "mac_array: {rows: 0}\n"}, ["--accel", "a.yaml"], "mac_array.rows"),
    ({"n.yaml": "input: {size: 16}\nlayers: [{type: conv, kernal: 3}, {type: dense}]\n"},
     ["--network", "n.yaml"], "layers[0].kernal"),
    ({}, ["--batch", "0"], "batch"),
])
def test_bad_configs_exit_2_with_the_key(tmp_path, files, args, key):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    p = _simulate(*args, "--json", "out.json", cwd=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], p.stderr
    assert not (tmp_path / "out.json").exists() and p.stdout == ""
