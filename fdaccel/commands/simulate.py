"""``fdaccel simulate``: one training iteration on the cycle-level model, reported.

Loads the configs and builds the program first (every configuration problem is a
ConfigError, raised before any simulation work), then times it, prints a per layer x
phase table and the energy comparison with the spatial baseline, and writes the JSON
report, the energy CSV, the plots and the transaction trace if asked.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from accel.config import as_dict, load_accelerator
from accel.energy import load_table
from accel.network import load_network, require_hardware_support
from accel.program import Phase
from sim.costs import ENERGY_CSV_HEADERS, Comparison, compare, energy_rows
from sim.engine import LABELS, UNITS, Run
from sim.run import Simulation, simulate
from sim.stats import utilization

from ..options import SimulateOptions
from ..plots import write_plots
from ..report import table, write_csv, write_json


def report(sim: Simulation) -> dict[str, Any]:
    """The JSON report: totals, per layer x phase rows, and the configs used."""
    st = sim.stats
    return {
        "total_cycles": st.total_cycles,
        "clock_mhz": sim.accel.clock_mhz,
        "time_us": st.total_cycles / sim.accel.clock_mhz,
        "batch": sim.batch,
        "descriptors": len(sim.schedule.program.descriptors),
        "transactions": int(len(sim.run.tx["start"])),
        "wall_seconds": sim.wall_seconds,
        "units": st.units,
        "memory": st.memory,
        "ops": st.ops,
        "layers": st.layers,
        "placement": {"resident": sim.schedule.resident, "dram": sim.schedule.in_dram},
        "values": {"dataset": sim.dataset, "loss": sim.values.loss, "saturations": sim.values.sat.as_dict()},
        "accelerator": as_dict(sim.accel),
        "network": as_dict(sim.net),
    }


def text_table(sim: Simulation) -> str:
    """Per layer x phase: cycles, time, unit utilizations, SRAM words and DRAM bytes."""
    st = sim.stats
    clock = sim.accel.clock_mhz
    headers = (["layer", "phase", "cycles", "us"] + [f"{u}%" for u in UNITS]
               + ["sram_rd", "sram_wr", "dram_B"])

    def row(name: str, phase: str, cycles: int, units: dict, memory: dict) -> list:
        sram = memory["sram"].values()
        return ([name, phase, cycles, round(cycles / clock, 2)]
                + [round(100 * utilization(units[u], cycles), 1) for u in UNITS]
                + [sum(s["reads"] for s in sram), sum(s["writes"] for s in sram),
                   memory["dram"]["read_bytes"] + memory["dram"]["write_bytes"]])

    rows = [row(l["name"], l["phase"], l["cycles"], l["units"], l["memory"]) for l in st.layers]
    rows.append(row("total", "", st.total_cycles, st.units, st.memory))
    stall = table(["unit", "busy", "idle"] + [f"stall_{c}" for c in LABELS[1:]],
                  [[u, st.units[u]["busy"], st.units[u]["idle"]] + [st.units[u]["stall"][c] for c in LABELS[1:]]
                   for u in UNITS])
    return table(headers, rows) + "\n\n" + stall


def trace_rows(run: Run) -> list[list[Any]]:
    """One CSV row per transaction."""
    program = run.program
    tx = run.tx
    out = []
    for j in range(len(tx["start"])):
        d = program.descriptors[int(tx["desc"][j])]
        cause = int(tx["cause"][j])
        out.append([UNITS[int(tx["unit"][j])], int(tx["start"][j]), int(tx["end"][j]), int(tx["done"][j]),
                    program.layer_name(d.layer), Phase(d.phase).label, int(tx["desc"][j]), type(d).__name__,
                    LABELS[cause] if cause else "", run.waited_for[j]])
    return out


def energy_summary(cmp: Comparison, batch: int) -> str:
    """Energy per iteration and per image, pJ per complex MAC, the breakdowns, and the
    frequency / spatial comparison, naming the table used."""
    e = cmp.freq.as_dict()
    s = cmp.spatial.as_dict()
    r = cmp.ratios()
    lines = [f"energy ({', '.join(e['tables_used'])}): {e['total_pj'] / 1e6:.2f} uJ per iteration, "
             f"{e['per_image_pj'] / 1e6:.3f} uJ per image, {e['pj_per_complex_mac']:.1f} pJ per complex MAC "
             f"all included ({e['pj_per_complex_mac_array_only']:.2f} in the MAC array)" if e["pj_per_complex_mac"] else
             f"energy ({', '.join(e['tables_used'])}): {e['total_pj'] / 1e6:.2f} uJ per iteration"]
    lines.append(table(["level", "frequency_uJ", "spatial_uJ"],
                       [[lv, round(e["by_level"].get(lv, 0) / 1e6, 3), round(s["by_level"].get(lv, 0) / 1e6, 3)]
                        for lv in ("compute", "sram", "dram")]))
    lines.append(table(["unit", "uJ", "share%"],
                       [[c, round(v / 1e6, 3), round(100 * v / e["total_pj"], 1)]
                        for c, v in sorted(e["by_component"].items(), key=lambda kv: -kv[1])]))
    lines.append(f"spatial baseline (same multipliers, SRAM, DRAM, table): {cmp.spatial_cycles} cycles, "
                 f"{s['total_pj'] / 1e6:.2f} uJ -> spatial/frequency: {r['cycles']:.2f}x cycles, "
                 f"{r['energy']:.2f}x energy")
    return "\n".join(lines)


TRACE_HEADERS = ["unit", "start", "end", "done", "layer", "phase", "descriptor", "kind", "waited", "waited_for"]


def run_simulate(opts: SimulateOptions) -> int:
    """The body of ``fdaccel simulate``."""
    accel = load_accelerator(opts.accel)
    net = load_network(opts.network)
    require_hardware_support(net, "the cycle model")
    energy_table = load_table(opts.energy, accel)
    batch = opts.batch if opts.batch is not None else net.training.batch
    if opts.seed is not None:
        net = dataclasses.replace(net, training=dataclasses.replace(net.training, seed=opts.seed))
    sim = simulate(accel, net, batch, progress=True, data_dir=opts.data)
    st = sim.stats
    print(f"{net.name} on {accel.name}: batch {batch}, {st.total_cycles} cycles = "
          f"{st.total_cycles / accel.clock_mhz:.1f} us at {accel.clock_mhz:g} MHz "
          f"({len(sim.run.tx['start'])} transactions, {sim.wall_seconds:.2f} s)")
    print(f"values: {sim.dataset} batch, loss {sim.values.loss:.4f}, "
          f"{sim.values.sat.total} saturations")
    print(text_table(sim))
    cmp = compare(sim.stats, accel, net, batch, energy_table)
    print()
    print(energy_summary(cmp, batch))
    if opts.json:
        write_json(opts.json, {**report(sim), "energy": cmp.freq.as_dict(), "baseline": cmp.as_dict()})
    if opts.csv:
        write_csv(opts.csv, ENERGY_CSV_HEADERS, energy_rows(cmp.freq))
    if opts.plot:
        spans = [(r[0], r[1], r[2], r[5]) for r in trace_rows(sim.run)]
        for path in write_plots(opts.plot, cmp, spans, net.name):
            print(f"wrote {path}")
    if opts.trace:
        write_csv(opts.trace, TRACE_HEADERS, trace_rows(sim.run))
    return 0
