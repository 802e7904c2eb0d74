"""Simulator speed: simulated cycles, wall seconds and simulated cycles per second for one
training iteration of lenet-digits and cifar-small at batch 32 on the default accelerator,
values included (every descriptor computes its outputs with accel.fixed).

The fixed-point network (seed 0) is calibrated on a second batch outside the timing; the
wall time is ``sim.run.simulate``'s: building the program, timing it and computing its
values.  cifar-small trains on CIFAR-10 files, which the benchmark does not need: without
``--data`` it runs on the seeded random images of the same shape (the cost does not
depend on the pixels).  Prints a table and writes ``benchmarks/results/sim_speed.json``.
Each network is timed over REPEATS runs (best wall time), after one warm-up run that pays
the imports.
"""
from __future__ import annotations

import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel.config import load_accelerator, load_network  # noqa: E402
from accel.fixed.net import FixedNet  # noqa: E402
from accel.report import table, write_json  # noqa: E402
from sim.run import simulate  # noqa: E402
from sim.values import iteration_batch  # noqa: E402

NETWORKS = ("lenet-digits", "cifar-small")
BATCH = 32
REPEATS = 3
OUT = Path(__file__).resolve().parent / "results" / "sim_speed.json"


def main() -> int:
    accel = load_accelerator()
    simulate(accel, load_network(NETWORKS[0]), BATCH)
    rows = []
    for name in NETWORKS:
        net = load_network(name)
        batch = iteration_batch(net, BATCH)
        fixed = FixedNet(net, accel, seed=net.training.seed)
        fixed.calibrate(batch.calib_images, batch.calib_labels)
        runs = [simulate(accel, net, BATCH, fixed=fixed, images=batch.images, labels=batch.labels)
                for _ in range(REPEATS)]
        best = min(runs, key=lambda s: s.wall_seconds)
        cycles = best.stats.total_cycles
        rows.append({
            "network": name, "batch": BATCH, "simulated_cycles": cycles,
            "simulated_us": cycles / accel.clock_mhz,
            "descriptors": len(best.schedule.program.descriptors),
            "transactions": int(len(best.run.tx["start"])),
            "wall_seconds": best.wall_seconds,
            "cycles_per_second": cycles / best.wall_seconds,
            "mac_utilization": best.stats.units["mac"]["busy"] / cycles,
            "values": True,
            "dataset": batch.dataset,
            "loss": best.values.loss,
            "saturations": best.values.sat.total,
        })
    keys = ["network", "dataset", "simulated_cycles", "simulated_us", "transactions", "wall_seconds",
            "cycles_per_second", "mac_utilization", "loss"]
    print(table(keys, [[r[k] for k in keys] for r in rows]))
    write_json(OUT, {"accelerator": accel.name, "python": platform.python_version(),
                     "machine": platform.machine(), "repeats": REPEATS, "results": rows})
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
