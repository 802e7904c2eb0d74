"""``fdaccel compare``: bad options exit 2 with one line; a small comparison end to end."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fdaccel.compare.costs import area_budget, equal_area_input, spatial_cost
from fdaccel.compare.designs import FREQUENCY_KINDS, designs, with_kind


def _run(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fdaccel", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=env)


@pytest.mark.parametrize("args, message", [
    (["--target", "1.5"], "--target: must be a test accuracy in (0, 1], got 1.5"),
    (["--target", "-1"], "--target: must be a test accuracy in (0, 1], got -1"),
    (["--target", "nan"], "--target: must be a test accuracy in (0, 1], got nan"),
    (["--target", "0"], "--target"),
    (["--seeds", "a,b"], "--seeds"),
    (["--lrs", "0.01,-2"], "--lrs"),
    (["--kinds", "pwl,relu"], "--kinds"),
    (["--epochs", "0"], "--epochs"),
    (["--network", "nope"], "unknown network"),
])
def test_bad_options_exit_2_with_one_line(tmp_path, args, message):
    proc = _run("compare", *args, "--json", "c.json", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and not (tmp_path / "c.json").exists()


def test_designs_cover_every_activation_kind():
    keys = [d.key for d in designs()]
    assert keys == [f"frequency-{k}" for k in FREQUENCY_KINDS] + ["spatial-cnn"]
    from accel.config import ActLayer
    from accel.network import load_network

    net = with_kind(load_network("lenet-digits"), "spatial")
    assert all(l.kind == "spatial" for l in net.layers if isinstance(l, ActLayer))


def test_equal_area_baseline_fills_the_frequency_area():
    from accel.area import area_of
    from accel.config import load_accelerator
    from accel.energy import load_table
    from accel.network import load_network
    from sim.baseline import baseline_accelerator

    accel, table = load_accelerator(), load_table()
    budget = area_budget(accel, table)
    inp = equal_area_input(accel, table, budget)
    base = baseline_accelerator(inp)
    area = area_of(base, "spatial", table).total_mm2
    cell = area_of(base, "spatial", table).by_block()["cmac"] / (base.mac_array.rows * base.mac_array.cols)
    assert area <= budget and budget - area < 0.03 * budget + 3 * cell
    assert base.mac_array.cols % 3 == 0 and base.mac_array.rows * base.mac_array.cols > 8 * 24
    cost = spatial_cost(inp, load_network("lenet-digits"), 8, table)
    assert cost.mac_array == (base.mac_array.rows, base.mac_array.cols) and cost.cycles > 0


def test_a_network_without_data_reports_costs_only(tmp_path):
    env = {**__import__("os").environ, "FDACCEL_CACHE_DIR": str(tmp_path / "cache")}
    proc = _run("compare", "--network", "lenet-mnist", "--kinds", "pwl", "--batch", "4", "--json", "c.json",
                cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "accuracy not measured (no data)" in proc.stdout
    rec = json.loads((tmp_path / "c.json").read_text())["networks"][0]
    assert rec["accuracy_measured"] is False and rec["designs"]["frequency-pwl"]["accuracy"] is None
    assert rec["designs"]["frequency-pwl"]["to_target"]["reached"] is False
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_compare_trains_to_the_target_and_simulate_prints_the_cache(tmp_path):
    env = {**__import__("os").environ, "FDACCEL_CACHE_DIR": str(tmp_path / "cache")}
    proc = _run("compare", "--kinds", "pwl", "--seeds", "0,1", "--lrs", "0.02", "--epochs", "4", "--target", "0.9",
                "--json", "c.json", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    rec = json.loads((tmp_path / "c.json").read_text())["networks"][0]
    assert rec["network"] == "lenet-digits" and rec["accuracy_measured"]
    for key in ("frequency-pwl", "spatial-cnn"):
        d = rec["designs"][key]
        acc, cost, to = d["accuracy"], d["cost"], d["to_target"]
        assert acc["target"] == 0.9 and len(acc["runs"]) == 2 and acc["lr"] == 0.02
        assert {"cycles", "energy_pj", "area_mm2", "edp_js", "static_pj", "time_s"} <= set(cost)
        if to["reached"]:
            assert to["energy_pj"] == pytest.approx(acc["iterations_median"] * cost["energy_pj"])
            assert to["time_s"] == pytest.approx(acc["iterations_median"] * cost["time_s"])
    assert rec["designs"]["frequency-pwl"]["fixed_check"]["model"].startswith("FixedNet")
    ratios = rec["ratios"]["frequency-pwl"]
    assert set(ratios) == {"equal_multipliers", "equal_area"}
    assert ratios["equal_area"]["accuracy_spatial"] == rec["designs"]["spatial-cnn"]["accuracy"]["accuracy_median"]
    assert {"mapping", "sweep", "zigzag"} <= set(rec)
    sim = _run("simulate", "--batch", "8", cwd=tmp_path, env=env)
    assert sim.returncode == 0, sim.stderr
    line = next(l for l in sim.stdout.splitlines() if l.startswith("accuracy:"))
    assert "frequency 0." in line and "spatial CNN 0." in line and "not measured" not in line
