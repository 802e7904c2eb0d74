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

Then one conv layer's training phases (lenet-digits conv2 at batch 32 with the
activation and pooling after it: forward GEMM, PWL forward, crop 8 -> 4, pad, PWL
backward, backward-data and weight-gradient GEMMs, the schedule's descriptors unchanged)
run three ways on the same program and operands: the cycle model
(``sim.engine.execute``), the Verilator build of ``hdl.top`` and Amaranth's simulator
of the same top. The three cycle counts must be equal (the script fails otherwise); the
wall seconds are the execution alone (Verilator: measured inside the C++ harness,
without loading and dumping the buffers; Amaranth: the whole simulation), best of
REPEATS for the model and Verilator.
"""
from __future__ import annotations

import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import time

from accel.config import load_accelerator
from accel.fixed.net import FixedNet
from accel.network import load_network
from fdaccel.report import table, write_json
from sim.run import simulate
from sim.values import iteration_batch

NETWORKS = ("lenet-digits", "cifar-small")
BATCH = 32
REPEATS = 3
OUT = Path(__file__).resolve().parent / "results" / "sim_speed.json"


#: The top's configuration for the three-way run: a 4x4 array, 4 lanes, buffers large
#: enough to hold conv2's tensors on chip, ports that never bind (see hdl/top).
TOP_ACCEL = {"mac_array": {"rows": 4, "cols": 4}, "activation": {"lanes": 4},
             "sram": [{"name": "act", "kbytes": 512, "banks": 64}, {"name": "weight", "kbytes": 256, "banks": 64},
                      {"name": "grad", "kbytes": 512, "banks": 64}]}


def three_ways() -> dict:
    """lenet-digits conv2's training phases on the cycle model, Verilator and Amaranth."""
    from fdaccel.agreement import conv_fragment, model_times, params_for
    from hdl.tools.top_run import run_top, simulate_top
    from hdl.top import program_words
    accel = load_accelerator(TOP_ACCEL)
    net = load_network("lenet-digits")
    batch = iteration_batch(net, BATCH)
    fixed = FixedNet(net, accel, seed=net.training.seed)
    fixed.calibrate(batch.calib_images, batch.calib_labels)
    sim = simulate(accel, net, BATCH, fixed=fixed, images=batch.images, labels=batch.labels)
    fr = conv_fragment(sim, 3, with_act=True, with_pool=True)
    p = params_for(accel, fr)
    words = program_words(fr.program, accel, p)
    units = [d.UNIT for d in fr.program.descriptors]
    model_s = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        run, times = model_times(fr.program, accel)
        model_s.append(time.perf_counter() - t0)
    verilator = [run_top(p, words, units, fr.images, fr.table) for _ in range(REPEATS)]
    t0 = time.perf_counter()
    amaranth = simulate_top(p, words, units, fr.images, fr.table)
    amaranth_s = time.perf_counter() - t0
    cycles = {"model": int(run.total_cycles), "verilator": max(verilator[0][0].done),
              "amaranth": max(amaranth.done)}
    same = all(getattr(r, k) == times[k] for r in (verilator[0][0], amaranth)
               for k in ("dispatch", "start", "end", "done"))
    if not same or len(set(cycles.values())) != 1:
        raise SystemExit(f"cycle counts differ: {cycles}")
    v_s = min(s for _, s in verilator)
    m_s = min(model_s)
    return {"workload": "lenet-digits conv2+act2+pool2 F/BD/WG, batch 32, 4x4 array, 4 lanes",
            "descriptors": len(words), "cycles": cycles["model"], "all_transactions_equal": same,
            "model_seconds": m_s, "verilator_seconds": v_s, "amaranth_seconds": amaranth_s,
            "model_vs_verilator": v_s / m_s, "model_vs_amaranth": amaranth_s / m_s,
            "verilator_vs_amaranth": amaranth_s / v_s}


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
    three = three_ways()
    print(f"\n{three['workload']}: {three['descriptors']} descriptors, {three['cycles']} cycles in all three")
    print(table(["simulator", "cycles", "wall_seconds", "cycles_per_second"],
                [[name, three["cycles"], three[f"{name}_seconds"], three["cycles"] / three[f"{name}_seconds"]]
                 for name in ("model", "verilator", "amaranth")]))
    print(f"cycle model {three['model_vs_verilator']:.0f}x faster than Verilator, "
          f"{three['model_vs_amaranth']:.0f}x faster than Amaranth; Verilator {three['verilator_vs_amaranth']:.0f}x "
          "faster than Amaranth")
    write_json(OUT, {"accelerator": accel.name, "python": platform.python_version(),
                     "machine": platform.machine(), "repeats": REPEATS, "results": rows, "conv_layer": three})
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
