"""fdaccel sweep: the grid, its checks before work, and what it reports."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from accel.config import ConfigError, load_accelerator
from fdaccel.sweep.grid import parse_set, points


def test_grid_is_the_cartesian_product_of_checked_configs():
    grid = points(load_accelerator(), [parse_set("mac_array.rows=2,4"), parse_set("sram.grad.kbytes=16,32,64")])
    assert [(c["mac_array.rows"], c["sram.grad.kbytes"]) for c in (p.chosen for p in grid)] == \
        [(r, k) for r in (2, 4) for k in (16, 32, 64)]
    for chosen, accel in ((p.chosen, p.accel) for p in grid):
        assert accel.mac_array.rows == chosen["mac_array.rows"]
        assert accel.buffer("grad").kbytes == chosen["sram.grad.kbytes"]
        assert accel.buffer("act") == load_accelerator().buffer("act")


@pytest.mark.parametrize("text, message", [
    ("mac_array.rowz=4", "mac_array.rowz: unknown key"),
    ("sram.big.kbytes=4", "sram.big: no buffer named 'big'"),
    ("fft.max_points=48", "fft.max_points: must be a power of two, got 48"),
    ("mac_array.rows", "sweep --set: expected KEY=V1,V2"),
])
def test_bad_points_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        points(load_accelerator(), [parse_set(text)])


def test_cli_sweep_reports_every_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fdaccel", "sweep", "--batch", "4",
                           "--set", "dram.bytes_per_cycle=4,64", "--json", "s.json", "--csv", "s.csv"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "s.json").read_text())["points"]
    assert [r["dram.bytes_per_cycle"] for r in rows] == [4, 64]
    assert rows[1]["cycles"] <= rows[0]["cycles"]          # more bandwidth is never slower
    assert rows[1]["dram_bytes"] == rows[0]["dram_bytes"]  # and moves the same data
    table = list(csv.reader((tmp_path / "s.csv").read_text().splitlines()))
    assert table[0][0] == "dram.bytes_per_cycle" and len(table) == 3


def test_cli_sweep_bad_key_exits_2_before_work(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fdaccel", "sweep", "--set", "mac_array.rows=4,0", "--json", "s.json"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip().startswith("fdaccel: error: mac_array.rows: must be between")
    assert not (tmp_path / "s.json").exists()
