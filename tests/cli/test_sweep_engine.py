"""fdaccel sweep on Dask, its results store and Pareto fronts (issue 18, parts 1-3)."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from accel.config import ConfigError, load_accelerator
from accel.network import load_network
from fdaccel.commands.sweep import run_sweep
from fdaccel.options import SweepOptions
from fdaccel.sweep.pareto import non_dominated
from fdaccel.sweep.runner import DaskEngine
from sim.run import simulate

from .run import fdaccel, popen

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GRID = ("mac_array.rows=4,8,16", "sram.act.kbytes=64,256")


def _points(path):
    return json.loads(path.read_text())["points"]


@pytest.mark.parametrize("accel", [
    {},
    {"sram": [{"name": "act", "kbytes": 8, "banks": 2}, {"name": "weight", "kbytes": 4, "banks": 2},
              {"name": "grad", "kbytes": 4, "banks": 2}], "dram": {"bytes_per_cycle": 4}},    # DRAM-bound
])
def test_timing_does_not_depend_on_values(accel):
    """--timing-only skips values: the cycles, every unit's timeline and every counter are
    the same with and without them (and with the worst-case shift plan instead of the
    calibrated one)."""
    a, net = load_accelerator(accel), load_network("lenet-digits")
    full = simulate(a, net, 16)
    timing = simulate(a, net, 16, values=False)
    assert full.values is not None and timing.values is None and timing.dataset == "none"
    assert timing.stats.total_cycles == full.stats.total_cycles
    assert timing.stats.units == full.stats.units and timing.stats.memory == full.stats.memory
    for k in ("unit", "start", "end", "done", "desc"):
        assert np.array_equal(timing.run.tx[k], full.run.tx[k])


@pytest.mark.slow
def test_timing_does_not_depend_on_values_cifar():
    a, net = load_accelerator(), load_network("cifar-small")
    assert simulate(a, net, 8, values=False).stats.layers == simulate(a, net, 8).stats.layers


def test_store_skips_finished_points_and_keys_on_the_code(tmp_path, capsys, monkeypatch):
    opts = SweepOptions(sets=("mac_array.rows=4,8", "dram.bytes_per_cycle=8,16"), batch=4, timing_only=True,
                        workers=0, store=str(tmp_path / "s.parquet"), json=str(tmp_path / "a.json"))
    assert run_sweep(opts) == 0
    assert "4 points (4 simulated" in capsys.readouterr().out
    db = sqlite3.connect(tmp_path / "s.sqlite")
    assert db.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 4
    first = _points(tmp_path / "a.json")
    # the same sweep again: nothing runs
    assert run_sweep(dataclasses.replace(opts, json=str(tmp_path / "b.json"))) == 0
    assert "0 simulated" in capsys.readouterr().out and _points(tmp_path / "b.json") == first
    # one more value: only its points run
    more = dataclasses.replace(opts, sets=("mac_array.rows=4,8,16", "dram.bytes_per_cycle=8,16"))
    assert run_sweep(more) == 0
    assert "6 points (2 simulated in" in capsys.readouterr().out
    # another code version: every point is stale
    import fdaccel.commands.sweep as sweep_body
    monkeypatch.setattr(sweep_body, "code_version", lambda: "0.0.0+src.changed")
    assert run_sweep(opts) == 0
    assert "4 points (4 simulated" in capsys.readouterr().out
    # another energy table: stale too
    monkeypatch.undo()
    (tmp_path / "e.yaml").write_text("dram_64b: {value: 1000, source: a test}\n")
    assert run_sweep(dataclasses.replace(opts, energy=str(tmp_path / "e.yaml"))) == 0
    assert "4 points (4 simulated" in capsys.readouterr().out
    # the export holds this sweep's points
    import pyarrow.parquet as pq
    table = pq.read_table(tmp_path / "s.parquet").to_pylist()
    assert [r["mac_array.rows"] for r in table] == [4, 4, 8, 8]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json", "e.yaml", "s.parquet", "s.sqlite"]


def test_resume_runs_the_recorded_sweep(tmp_path, capsys, monkeypatch):
    opts = SweepOptions(sets=("mac_array.rows=4,8",), batch=4, timing_only=True, workers=0,
                        store=str(tmp_path / "s.sqlite"), json=str(tmp_path / "a.json"))
    assert run_sweep(opts) == 0
    (tmp_path / "a.json").unlink()
    monkeypatch.chdir(tmp_path.parent)             # resume works from anywhere
    assert run_sweep(SweepOptions(resume=str(tmp_path / "s.sqlite"), workers=0)) == 0
    assert "2 points (0 simulated" in capsys.readouterr().out
    assert [p["mac_array.rows"] for p in _points(tmp_path / "a.json")] == [4, 8]


def test_a_point_that_cannot_run_stops_the_sweep_before_any_runs(tmp_path):
    p = fdaccel("sweep", "--network", "cifar-small", "--set", "fft.max_points=64,16", "--workers", "0",
                "--timing-only", "--store", "s.sqlite", cwd=tmp_path)
    assert p.returncode == 2 and "fft.max_points=16" in p.stderr, p.stderr
    assert sqlite3.connect(tmp_path / "s.sqlite").execute("SELECT COUNT(*) FROM points").fetchone()[0] == 0


def test_an_unreachable_scheduler_is_a_config_error():
    with pytest.raises(ConfigError, match="cannot reach 'tcp://127.0.0.1:1'"):
        DaskEngine(scheduler="tcp://127.0.0.1:1", connect_timeout=1)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(2, 3)),
              elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, 2.5])))
def test_non_dominated_matches_the_definition(values):
    n = len(values)
    want = [not any(np.all(values[j] <= values[i]) and np.any(values[j] < values[i]) for j in range(n))
            for i in range(n)]
    assert non_dominated(values, block=7).tolist() == want


@pytest.mark.slow
def test_distributed_sweep_equals_serial(tmp_path):
    """A real LocalCluster of 2 workers, through the command line (--workers 2) and through
    an existing cluster (--scheduler), gives the serial sweep's points."""
    from distributed import LocalCluster

    common = ["sweep", "--batch", "8", "--set", "mac_array.rows=2,8", "--set", "dram.bytes_per_cycle=4,32"]
    serial = fdaccel(*common, "--workers", "0", "--json", "serial.json", cwd=tmp_path, timeout=300)
    local = fdaccel(*common, "--workers", "2", "--json", "local.json", cwd=tmp_path, timeout=300)
    assert serial.returncode == 0 and local.returncode == 0, serial.stderr + local.stderr
    assert "on 2 workers" in local.stdout and local.stderr == ""
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = fdaccel(*common, "--scheduler", cluster.scheduler_address, "--json", "remote.json", cwd=tmp_path,
                         timeout=300)
    assert remote.returncode == 0, remote.stderr
    want = _points(tmp_path / "serial.json")
    assert all("loss" in p for p in want)              # values were computed
    assert _points(tmp_path / "local.json") == want and _points(tmp_path / "remote.json") == want


def _stored(db):
    with sqlite3.connect(db) as c:
        return {k for (k,) in c.execute("SELECT key FROM points")}


@pytest.mark.slow
@pytest.mark.parametrize("sig, group", [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)])
def test_an_interrupted_distributed_sweep_resumes_without_redoing_points(tmp_path, sig, group):
    """The acceptance command, interrupted once its first points are stored (SIGINT to the
    process or, as Ctrl-C does, to its whole process group; SIGTERM), loses no finished
    point, leaves only the store, and --resume runs only the missing points."""
    args = ["sweep", "--set", "mac_array.rows=1,2,4,8,16,32,64", "--set", "sram.act.kbytes=64,128,256",
            "--set", "dram.bytes_per_cycle=4,8,16,32", "--workers", "2", "--timing-only",
            "--store", "s.parquet", "--pareto", "energy,latency", "--plot", "out"]
    p = popen(*args, cwd=tmp_path, start_new_session=True)
    db = tmp_path / "s.sqlite"
    deadline = time.time() + 120
    while time.time() < deadline and not (db.exists() and _stored(db)):
        time.sleep(0.1)
    os.killpg(p.pid, sig) if group else p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fdaccel: interrupted: ") and "--resume" in lines[0], err
    done = int(lines[0].split(": ")[2].split()[0])
    kept = _stored(db)
    assert 0 < len(kept) == done < 84
    assert sorted(os.listdir(tmp_path)) == ["s.sqlite"]          # no export, no plot, no temporary file
    resumed = fdaccel("sweep", "--resume", "s.parquet", "--workers", "2", cwd=tmp_path, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({84 - done} simulated in" in resumed.stdout and f"{done} from the store" in resumed.stdout
    assert kept < _stored(db) and len(_stored(db)) == 84
    assert sorted(os.listdir(tmp_path)) == ["out", "s.parquet", "s.sqlite"]
    assert sorted(os.listdir(tmp_path / "out")) == ["pareto.csv", "pareto.png"]
    assert (tmp_path / "out" / "pareto.png").read_bytes().startswith(PNG_MAGIC)
    front = (tmp_path / "out" / "pareto.csv").read_text().splitlines()
    assert front[0].startswith("mac_array.rows,sram.act.kbytes,dram.bytes_per_cycle,cycles") and len(front) > 1
    assert all(r.endswith(",True") for r in front[1:])


@pytest.mark.slow
def test_acceptance_command(tmp_path):
    p = fdaccel("sweep", "--set", GRID[0], "--set", GRID[1], "--workers", "2", "--timing-only", "--store",
                "s.parquet", "--pareto", "energy,latency", "--plot", "out", cwd=tmp_path, timeout=300)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "6 points (6 simulated" in p.stdout and "Pareto front (energy, latency" in p.stdout
    import pyarrow.parquet as pq
    rows = pq.read_table(tmp_path / "s.parquet").to_pylist()
    assert len(rows) == 6 and {"pareto", "cycles", "energy_uj"} <= set(rows[0])
    assert sorted(os.listdir(tmp_path / "out")) == ["pareto.csv", "pareto.png"]
