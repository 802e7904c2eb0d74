"""Sweep throughput: timing-only lenet-digits points per hour, in this process
(``--workers 0``) and on a local Dask cluster of 2 workers, in the same run.

The grid (:data:`SETS`, 600 points: MAC array shape, DRAM bandwidth, activation buffer)
runs through ``fdaccel.commands.run_sweep`` as ``fdaccel sweep`` runs it: every point
checked, then simulated (timing only), priced, compared with the spatial baseline and
stored in a fresh SQLite store.  The engines alternate, :data:`REPEATS` times each (the
machine is shared: the best run of each is kept).  Two rates per engine: end to end (the whole command:
grid, cluster start-up, checks, points, store, table) and the engine's (checks and points,
from the cluster's start to the last point stored).  Prints a table and writes
``benchmarks/results/sweep_speed.json``.  Targets (issue 18): at least 50 000 points per
hour with 2 workers, and at least 1.6x the serial rate.
"""
from __future__ import annotations

import contextlib
import io
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fdaccel.commands.sweep import run_sweep
from fdaccel.options import SweepOptions
from fdaccel.report import table, write_json

SETS = ("mac_array.rows=1,2,3,4,6,8,12,16,24,32", "mac_array.cols=4,8,16",
        "dram.bytes_per_cycle=4,8,16,32,64", "sram.act.kbytes=64,128,256,512")
OUT = Path(__file__).resolve().parent / "results" / "sweep_speed.json"
REPEATS = 2


def measure(workers: int, folder: str, run: int) -> dict:
    """One sweep of the grid on ``workers`` (0: this process) into a new store; rates in
    points per hour."""
    opts = SweepOptions(sets=SETS, timing_only=True, workers=workers,
                        store=os.path.join(folder, f"w{workers}-{run}.sqlite"))
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        assert run_sweep(opts) == 0
    wall = time.perf_counter() - t0
    m = re.search(r"(\d+) points \((\d+) simulated in ([0-9.]+) s on (\d+) worker", out.getvalue())
    assert m is not None, out.getvalue()[:500]
    points, engine_s = int(m.group(2)), float(m.group(3))
    return {"workers": workers, "points": points, "wall_seconds": round(wall, 2), "engine_seconds": engine_s,
            "points_per_hour": round(3600 * points / wall), "engine_points_per_hour": round(3600 * points / engine_s)}


def main() -> None:
    runs: dict[int, list[dict]] = {0: [], 2: []}
    with tempfile.TemporaryDirectory() as folder:
        for run in range(REPEATS):
            for workers in runs:
                runs[workers].append(measure(workers, folder, run))
    serial, dask = (max(runs[w], key=lambda r: r["points_per_hour"]) for w in (0, 2))
    ratio = dask["points_per_hour"] / serial["points_per_hour"]
    engine_ratio = dask["engine_points_per_hour"] / serial["engine_points_per_hour"]
    rows = [["serial (--workers 0)", serial["points"], serial["wall_seconds"], serial["points_per_hour"],
             serial["engine_points_per_hour"], ""],
            ["dask (--workers 2)", dask["points"], dask["wall_seconds"], dask["points_per_hour"],
             dask["engine_points_per_hour"], f"{ratio:.2f}x ({engine_ratio:.2f}x engine)"]]
    print(table(["engine", "points", "wall_s", "points/h", "engine points/h", "vs serial"], rows))
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    write_json(OUT, {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average": load,
                     "network": "lenet-digits", "batch": 32, "timing_only": True, "sets": list(SETS),
                     "serial": serial, "dask_2_workers": dask, "all_runs": runs, "ratio": round(ratio, 3),
                     "engine_ratio": round(engine_ratio, 3),
                     "targets": {"points_per_hour_2_workers": 50000, "ratio": 1.6}})


if __name__ == "__main__":
    main()
