"""Energy of simulated iterations: counters x table, parts that add up, CLI outputs."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel.area import static_power
from accel.config import load_accelerator
from accel.energy import components_of, default_45nm, load_table
from accel.network import load_network
from sim.costs import compare, iteration_energy
from sim.run import simulate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _expected_pj(stats, accel) -> float:
    """Energy recomputed from the raw counters and the published primitive energies."""
    t = default_45nm()
    f = accel.formats
    d, w, acc, tw = f.data_bits, f.weight_bits, accel.mac_array.acc_bits, f.twiddle_bits
    cmac = 3 * t.mult(d + 1, w + 1) + 3 * t.add(max(d, w) + 1) + 2 * t.add(d + w + 1) + 2 * t.add(acc)
    total = 0.0
    for row in stats.layers:
        ops = row["ops"]
        total += (ops["complex_macs"] + ops["sinc_macs"]) * cmac
        total += ops["real_macs"] * (t.mult(d, w) + t.add(acc))
        total += ops["butterflies"] * 4 * t.add(d + 1)
        total += ops["twiddle_mults"] * (3 * t.mult(d + 1, tw + 1) + 5 * t.add(d + tw))
        seg = accel.activation.segments
        pwl_eval = math.ceil(math.log2(max(seg, 2))) * t.add(d) + t.mult(d, 16) + t.add(d + 16)
        total += ops["activations"] * (pwl_eval if row["phase"] == "forward" else t.mult(d, 16))
        total += ops["crop_fold_adds"] * 2 * t.add(d + 1)
        total += ops["updates"] * (2 * t.mult(f.grad_bits, 16) + t.add(f.grad_bits + 1) + t.add(w + 1))
        mem = row["memory"]
        total += (math.ceil(mem["dram"]["read_bytes"] / 8) + math.ceil(mem["dram"]["write_bytes"] / 8)) * 8.0 * 64
        for s in accel.sram:
            rw = mem["sram"][s.name]
            per = t.sram("read", s.kbytes / s.banks, s.word_bits)
            total += (rw["reads"] + rw["writes"]) * per
    # static energy: leakage and DRAM background (mW) over the iteration's time, clock per cycle
    p = static_power(accel, "frequency", load_table())
    total += stats.total_cycles * ((sum(p.leakage_mw.values()) + 37.9) * 1e3 / accel.clock_mhz
                                   + sum(p.clock_pj_per_cycle.values()))
    return total


@pytest.mark.parametrize("name", ["lenet-digits", "cifar-small"])
def test_energy_is_counters_times_table_and_adds_up(name):
    accel, net = load_accelerator(), load_network(name)
    sim = simulate(accel, net, 8)
    e = iteration_energy(sim.stats, accel, load_table(), 8)
    assert e.total_pj == pytest.approx(_expected_pj(sim.stats, accel), rel=1e-9)
    d = e.as_dict()
    assert sum(d["by_component"].values()) == pytest.approx(d["total_pj"])
    assert sum(d["by_level"].values()) == pytest.approx(d["total_pj"])
    assert sum(r["total_pj"] for r in d["layers"]) == pytest.approx(d["total_pj"])
    assert d["per_image_pj"] == pytest.approx(d["total_pj"] / 8)
    assert set(d["by_component"]) <= set(components_of(accel))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(1, 16), cols=st.integers(1, 16), kb=st.sampled_from([16, 64, 512]),
       data_bits=st.integers(8, 23), bpc=st.sampled_from([4, 16, 64]), ffts=st.integers(1, 4))
def test_no_negative_or_non_finite_energy_for_any_config(rows, cols, kb, data_bits, bpc, ffts):
    accel = load_accelerator({"mac_array": {"rows": rows, "cols": cols}, "fft": {"count": ffts},
                              "formats": {"data_bits": data_bits}, "dram": {"bytes_per_cycle": bpc},
                              "sram": [{"name": n, "kbytes": kb} for n in ("act", "weight", "grad")]})
    net = load_network("lenet-digits")
    sim = simulate(accel, net, 4)
    cmp = compare(sim.stats, accel, net, 4, load_table())
    for energy in (cmp.freq, cmp.spatial):
        for item in energy.total.items:
            assert math.isfinite(item.pj) and item.pj >= 0
        assert energy.total_pj > 0
    assert all(math.isfinite(v) and v > 0 for v in cmp.ratios().values())


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fdaccel", "simulate", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_cli_writes_energy_json_csv_and_three_pngs(tmp_path):
    proc = _run("--batch", "8", "--json", "e.json", "--csv", "e.csv", "--plot", "plots", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "e.json").read_text())
    energy = report["energy"]
    assert energy["table"] == "default-45nm" and energy["total_pj"] > 0
    assert {"per_image_pj", "pj_per_complex_mac", "by_component", "by_level"} <= set(energy)
    ratios = report["baseline"]["ratios_spatial_over_frequency"]
    assert ratios["cycles"] == pytest.approx(report["baseline"]["spatial_cycles"] / report["total_cycles"])
    rows = list(csv.reader((tmp_path / "e.csv").read_text().splitlines()))
    assert rows[0][:3] == ["layer", "phase", "component"]
    assert sum(float(r[-1]) for r in rows[1:]) == pytest.approx(energy["total_pj"], rel=1e-6)
    pngs = sorted((tmp_path / "plots").iterdir())
    assert len(pngs) == 3 and all(p.read_bytes().startswith(PNG_MAGIC) for p in pngs)


def test_cli_uses_the_given_table_and_says_so(tmp_path):
    (tmp_path / "my_table.yaml").write_text(yaml.safe_dump({"name": "my-table",
                                                            "dram_64b": {"value": 100.0, "source": "a test"}}))
    default = _run("--batch", "8", "--json", "a.json", cwd=tmp_path)
    mine = _run("--batch", "8", "--json", "b.json", "--energy", "my_table.yaml", cwd=tmp_path)
    assert default.returncode == mine.returncode == 0
    assert "energy (my-table)" in mine.stdout
    a = json.loads((tmp_path / "a.json").read_text())["energy"]
    b = json.loads((tmp_path / "b.json").read_text())["energy"]
    assert b["by_level"]["dram"] == pytest.approx(a["by_level"]["dram"] * 100.0 / (8.0 * 64))   # default LPDDR4
    assert b["by_level"]["sram"] == pytest.approx(a["by_level"]["sram"])


def test_cli_bad_energy_table_exits_2_before_work(tmp_path):
    (tmp_path / "bad.yaml").write_text("int_add: {points: {8: -1}, source: a test}\n")
    proc = _run("--energy", "bad.yaml", "--json", "x.json", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "int_add.points.8" in proc.stderr and not (tmp_path / "x.json").exists()
