"""Counters of a simulated iteration, in total and per layer x phase.

Plain, well-named numbers that ``accel.energy`` (issue 5) prices:

* per unit: ``busy``, ``idle`` and ``stall`` cycles by cause (``dram``, ``operand``,
  ``space``, ``port``); ``busy + idle + sum(stall) == total_cycles`` for every unit;
* per SRAM buffer: ``reads`` and ``writes`` in buffer words; DRAM ``read_bytes`` and
  ``write_bytes``;
* operations: ``butterflies`` (radix-2, of the 1-D transforms actually run),
  ``twiddle_mults`` (samples through a non-trivial twiddle multiplier),
  ``fft_transforms``, ``complex_macs`` (per-bin GEMMs), ``sinc_macs`` (interpolation and
  projection), ``real_macs`` (classifier), ``activations`` (values through the PWL or ReLU
  lanes), ``loss_values``, ``updates`` (parameter values updated), ``crop_passes``,
  ``crop_skipped_bins`` (bins of cropped half spectra never computed), ``crop_fold_adds``,
  ``dram_transfers``.

Per layer x phase, operations and traffic belong to the descriptors of that layer and
phase.  Cycles are attributed by completion: the program's running maximum of descriptor
completion times cuts the iteration into windows, one per descriptor, and a layer x
phase owns the windows of its descriptors (the time by which it extended the
iteration).  A unit's busy/idle/stall cycles in a layer x phase are its timeline
inside those windows, so they too sum to the layer x phase's cycles, and over all layer
x phases to the totals.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from accel.program import Phase

from .engine import LABELS, UNITS, Run, covered

STALL_CAUSES = LABELS[1:]
OP_COUNTERS = ("butterflies", "twiddle_mults", "fft_transforms", "complex_macs", "sinc_macs", "real_macs",
               "activations", "loss_values", "updates", "crop_passes", "crop_skipped_bins", "crop_fold_adds",
               "dram_transfers")


@dataclass
class Stats:
    """Totals and per layer x phase rows (see the module docstring)."""
    total_cycles: int
    units: dict[str, dict[str, Any]]
    memory: dict[str, Any]
    ops: dict[str, int]
    layers: list[dict[str, Any]]


def _unit_block(amounts: dict[str, int], cycles: int) -> dict[str, Any]:
    stall = {c: int(amounts[c]) for c in STALL_CAUSES}
    busy = int(amounts["busy"])
    return {"busy": busy, "idle": int(cycles - busy - sum(stall.values())), "stall": stall}


def _memory(names: list[str], reads: np.ndarray, writes: np.ndarray, dram_r: int, dram_w: int) -> dict[str, Any]:
    return {"sram": {n: {"reads": int(reads[b]), "writes": int(writes[b])} for b, n in enumerate(names)},
            "dram": {"read_bytes": int(dram_r), "write_bytes": int(dram_w)}}


def collect(run: Run, buffer_names: list[str]) -> Stats:
    """Aggregate a :class:`sim.engine.Run` into totals and per layer x phase rows."""
    program = run.program
    descs = program.descriptors
    total = run.total_cycles
    # groups: (layer, phase) in order of first appearance
    keys: dict[tuple[int, int], int] = {}
    group = np.empty(len(descs), np.int64)
    for i, d in enumerate(descs):
        group[i] = keys.setdefault((d.layer, int(d.phase)), len(keys))
    ngroups = len(keys)
    ends = np.maximum.accumulate(run.desc_done) if len(descs) else np.zeros(0, np.int64)
    starts = np.concatenate([[0], ends[:-1]]) if len(descs) else ends
    cycles = np.bincount(group, weights=ends - starts, minlength=ngroups).astype(np.int64)

    units: dict[str, dict[str, Any]] = {}
    per_group: dict[str, dict[str, np.ndarray]] = {u: {} for u in UNITS}
    for u in UNITS:
        s, e, lab = run.intervals[u]
        amounts = {}
        for li, label in enumerate(LABELS):
            sel = lab == li
            ls, le = s[sel], e[sel]
            amounts[label] = int((le - ls).sum())
            inside = covered(ls, le, ends) - covered(ls, le, starts)
            per_group[u][label] = np.bincount(group, weights=inside, minlength=ngroups).astype(np.int64)
        units[u] = _unit_block(amounts, total)

    nb = len(buffer_names)
    reads = np.zeros((ngroups, nb), np.int64)
    writes = np.zeros((ngroups, nb), np.int64)
    dram = np.zeros((ngroups, 2), np.int64)
    ops = np.zeros((ngroups, len(OP_COUNTERS)), np.int64)
    col = {k: j for j, k in enumerate(OP_COUNTERS)}
    for i, ex in enumerate(run.expansions):
        g = group[i]
        for b, w in ex.reads.items():
            reads[g, b] += w
        for b, w in ex.writes.items():
            writes[g, b] += w
        dram[g, 0] += ex.dram_read_bytes
        dram[g, 1] += ex.dram_write_bytes
        for k, v in ex.ops.items():
            ops[g, col[k]] += v

    layers = []
    for (layer, phase), g in keys.items():
        c = int(cycles[g])
        layers.append({
            "name": program.layer_name(layer), "phase": Phase(phase).label, "cycles": c,
            "units": {u: _unit_block({lab: per_group[u][lab][g] for lab in LABELS}, c) for u in UNITS},
            "memory": _memory(buffer_names, reads[g], writes[g], dram[g, 0], dram[g, 1]),
            "ops": {k: int(ops[g, j]) for k, j in col.items()},
        })
    memory = _memory(buffer_names, reads.sum(0), writes.sum(0), dram[:, 0].sum(), dram[:, 1].sum())
    return Stats(total, units, memory, {k: int(ops[:, j].sum()) for k, j in col.items()}, layers)


def utilization(block: dict[str, Any], cycles: int) -> float:
    """Busy fraction of a unit block over ``cycles``."""
    return block["busy"] / cycles if cycles else 0.0


def energy_actions(ops: dict[str, int], memory: dict[str, Any], phase: str | None = None) -> dict[tuple[str, str], int]:
    """Counters -> action counts keyed (component, action), as ``accel.energy`` prices them.

    Components are those of :func:`accel.energy.components_of`: ``cmac`` (a complex MAC of
    the conv GEMMs and the sinc matmuls; ``real_mac`` for the classifier), ``fft``
    (radix-2 butterflies; twiddle multiplies), ``pwl`` (``eval`` forward, ``slope``
    multiply backward), ``crop`` (fold additions), ``sgd`` (one update per stored parameter
    value), one ``<buffer>_sram`` per SRAM buffer (reads and writes in words) and ``dram``
    (64-bit transfers).  ``phase`` (a layer x phase row's) decides eval vs slope; totals
    without a phase count activations as forward evaluations only if no row says otherwise,
    so callers sum per-row actions for totals.  The loss gradient runs on the host and is
    not priced.
    """
    acts = {
        ("cmac", "mac"): ops.get("complex_macs", 0) + ops.get("sinc_macs", 0),
        ("cmac", "real_mac"): ops.get("real_macs", 0),
        ("fft", "butterfly"): ops.get("butterflies", 0),
        ("fft", "twiddle"): ops.get("twiddle_mults", 0),
        ("pwl", "slope" if phase not in (None, "forward") else "eval"): ops.get("activations", 0),
        ("crop", "fold"): ops.get("crop_fold_adds", 0),
        ("sgd", "update"): ops.get("updates", 0),
        ("dram", "read"): -(-memory["dram"]["read_bytes"] // 8),
        ("dram", "write"): -(-memory["dram"]["write_bytes"] // 8),
    }
    for name, rw in memory["sram"].items():
        acts[(f"{name}_sram", "read")] = rw["reads"]
        acts[(f"{name}_sram", "write")] = rw["writes"]
    return {k: int(v) for k, v in acts.items() if v}


def total_actions(stats: Stats) -> dict[tuple[str, str], int]:
    """Action counts of the whole iteration: the sum of every layer x phase row's."""
    out: dict[tuple[str, str], int] = {}
    for row in stats.layers:
        for k, v in energy_actions(row["ops"], row["memory"], row["phase"]).items():
            out[k] = out.get(k, 0) + v
    return out
