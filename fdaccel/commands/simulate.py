"""``fdaccel simulate``: one training iteration on the cycle-level model, reported.

Loads the configs and builds the program first (every configuration problem is a
ConfigError, raised before any simulation work), then times it, prints a per layer x
phase table and the energy comparison with the spatial baseline, and writes the JSON
report, the energy CSV, the plots and the transaction trace if asked.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from accel.area import Design, area_of, static_power
from accel.config import (
    AcceleratorConfig,
    ConfigError,
    NetworkConfig,
    TrainingConfig,
    as_dict,
    field_value,
    load_accelerator,
)
from accel.energy import LayeredTable, dram_setup, load_table
from accel.network import load_network, require_hardware_support
from sim.baseline import baseline_accelerator
from sim.costs import ENERGY_CSV_HEADERS, Comparison, IterationEnergy, compare, energy_rows
from sim.engine import LABELS, UNITS
from sim.run import Simulation, simulate
from sim.stats import utilization

from ..compare.cache import accuracy_line
from ..compare.costs import area_budget, equal_area_input, spatial_cost
from ..options import SimulateOptions
from ..plots import write_plots
from ..report import check_outputs, table, write_csv, write_json
from ..resources import check_memory
from ..trace import TRACE_HEADERS, chrome_trace, trace_rows

table_text = table


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
        "values": ({"dataset": sim.dataset, "loss": sim.values.loss, "saturations": sim.values.sat.as_dict()}
                   if sim.values is not None else None),
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
                        for lv in ("compute", "sram", "dram", "clock", "static")]))
    lines.append(table(["unit", "uJ", "share%"],
                       [[c, round(v / 1e6, 3), round(100 * v / e["total_pj"], 1)]
                        for c, v in sorted(e["by_component"].items(), key=lambda kv: -kv[1])]))
    lines.append(f"spatial baseline (same multipliers, SRAM, DRAM, table): {cmp.spatial_cycles} cycles, "
                 f"{s['total_pj'] / 1e6:.2f} uJ -> spatial/frequency: {r['cycles']:.2f}x cycles, "
                 f"{r['energy']:.2f}x energy")
    return "\n".join(lines)


#: What ``--trace F`` writes, by F's suffix.
TRACE_FORMATS = (".json", ".csv")


def design_summary(cmp: Comparison, accel: AcceleratorConfig, net: NetworkConfig, batch: int,
                   table: LayeredTable) -> tuple[str, dict[str, Any]]:
    """Area, latency, energy (static part named), energy-delay product of the frequency
    design, the spatial baseline at equal multipliers and the spatial baseline at equal
    area (:func:`fdaccel.compare.costs.equal_area_input`), the DRAM technology, and the
    cached accuracies (or "not measured"): text and JSON."""
    base = baseline_accelerator(accel)
    dram = dram_setup(accel)
    out: dict[str, Any] = {"dram": {"technology": accel.dram.technology, "pj_per_bit": dram.pj_per_bit,
                                    "source": dram.pj_source, "devices": dram.devices,
                                    "background_mw": dram.background_mw}}
    eq = spatial_cost(equal_area_input(accel, table, area_budget(accel, table)),
                      net, batch, table, "spatial-equal-area")
    eq_accel = baseline_accelerator(equal_area_input(accel, table, area_budget(accel, table)))
    runs: list[tuple[str, AcceleratorConfig, IterationEnergy, int, Design]] = [
        ("frequency", accel, cmp.freq, cmp.freq_cycles, "frequency"),
        ("spatial (equal multipliers)", base, cmp.spatial, cmp.spatial_cycles, "spatial"),
        ("spatial (equal area)", eq_accel, eq.energy, eq.cycles, "spatial")]
    rows = []
    for key, acc, energy, cycles, design in runs:
        area = area_of(acc, design, table)
        levels = energy.total.by("level")
        static = levels.get("static", 0.0) + levels.get("clock", 0.0)
        seconds = cycles / (acc.clock_mhz * 1e6)
        edp = energy.total_pj * 1e-12 * seconds
        out[key] = {"mac_array": [acc.mac_array.rows, acc.mac_array.cols], "cycles": cycles,
                    "area_mm2": area.total_mm2, "area": area.as_dict(), "latency_s": seconds,
                    "energy_pj": energy.total_pj, "static_pj": static, "edp_js": edp,
                    "static_power": static_power(acc, design, table).as_dict()}
        rows.append([key, f"{acc.mac_array.rows}x{acc.mac_array.cols}", round(area.total_mm2, 3), cycles,
                     round(seconds * 1e6, 1), round(energy.total_pj / 1e6, 2), round(100 * static / energy.total_pj, 1),
                     f"{edp * 1e12:.4g}"])
    f = out["frequency"]
    for key in ("spatial (equal multipliers)", "spatial (equal area)"):
        s = out[key]
        rows.append([f"{key}/frequency", "", round(s["area_mm2"] / f["area_mm2"], 2),
                     f"{s['cycles'] / f['cycles']:.2f}x", "", f"{s['energy_pj'] / f['energy_pj']:.2f}x", "",
                     f"{s['edp_js'] / f['edp_js']:.2f}x"])
    line = accuracy_line(net)
    out["accuracy"] = line
    text = "\n".join([
        table_text(["design", "array", "area_mm2", "cycles", "latency_us", "energy_uJ", "static%", "EDP_pJs"], rows),
        f"DRAM {accel.dram.technology}: {dram.pj_per_bit:g} pJ/bit, {dram.devices} device(s), background "
        f"{dram.background_mw:.1f} mW; static = leakage + clock + DRAM background ({table.primitive.name})",
        line])
    return text, out




def run_simulate(opts: SimulateOptions) -> int:
    """The body of ``fdaccel simulate``: every option, output path and configuration is
    checked (and the run's memory estimated) before the simulation starts."""
    check_outputs({"simulate --json": opts.json, "simulate --csv": opts.csv, "simulate --trace": opts.trace},
                  {"simulate --plot": opts.plot})
    if opts.trace is not None and Path(opts.trace).suffix.lower() not in TRACE_FORMATS:
        raise ConfigError(f"simulate --trace: {opts.trace!r}: give a .json file (a Chrome / Perfetto trace) "
                          f"or a .csv file")
    accel = load_accelerator(opts.accel)
    net = load_network(opts.network)
    require_hardware_support(net, "the cycle model")
    energy_table = load_table(opts.energy, accel)
    batch = net.training.batch if opts.batch is None else field_value(TrainingConfig, "batch", opts.batch,
                                                                      "simulate --batch")
    if opts.seed is not None:
        seed = field_value(TrainingConfig, "seed", opts.seed, "simulate --seed")
        net = dataclasses.replace(net, training=dataclasses.replace(net.training, seed=seed))
    check_memory(accel, net, batch, True, "simulate")
    sim = simulate(accel, net, batch, progress=sys.stderr.isatty(), data_dir=opts.data)
    assert sim.values is not None
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
    summary_text, summary = design_summary(cmp, accel, net, batch, energy_table)
    print(summary_text)
    if opts.json:
        write_json(opts.json, {**report(sim), "energy": cmp.freq.as_dict(), "baseline": cmp.as_dict(),
                               "designs": summary})
    if opts.csv:
        write_csv(opts.csv, ENERGY_CSV_HEADERS, energy_rows(cmp.freq))
    if opts.plot:
        spans = [(r[0], r[1], r[2], r[5]) for r in trace_rows(sim.run)]
        for path in write_plots(opts.plot, cmp, spans, net.name):
            print(f"wrote {path}")
    if opts.trace:
        if Path(opts.trace).suffix.lower() == ".json":
            write_json(opts.trace, chrome_trace(sim.run, accel.clock_mhz, f"{net.name} on {accel.name}, batch {batch}"))
        else:
            write_csv(opts.trace, TRACE_HEADERS, trace_rows(sim.run))
    return 0
