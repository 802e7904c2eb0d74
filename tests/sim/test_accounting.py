"""Counters: every unit's cycles add up, and agree with a rebuild from the transaction
trace; the operation counts equal the network's analytic counts (computed here from the
layer list, independently of sim/schedule/)."""
from __future__ import annotations

import dataclasses
from math import log2

import numpy as np
import pytest

from accel.config import load_accelerator
from accel.network import load_network
from accel.program import DISPATCH_TO_START, Phase
from sim.baseline import baseline_accelerator, build_baseline
from sim.engine import UNITS, Run, execute
from sim.run import simulate
from sim.stats import STALL_CAUSES, Stats, collect
from tests.nets import SMALL_NET

B = 8


def _pow2_at_least(x: int) -> int:
    p = 1
    while p < x:
        p *= 2
    return p


def analytic(net) -> dict[str, int]:
    """Complex/sinc/real MACs (bias gradients: B x channels DC sums), butterflies (circular
    nets: the input FFT's rows and kept columns), crop-skipped bins, values through the
    activation lanes (PWL forward and backward, the classifier gradient's Hermitian
    projection) and updated parameters (sinc kernels in half storage, biases, dense weights)."""
    c, n = net.input.channels, net.input.size
    layers = net.layers
    counts = dict(complex_macs=0, sinc_macs=0, real_macs=0, crop_skipped_bins=0, activations=0, butterflies=0,
                  updates=0)
    seen_conv = False
    bins_of_last_conv = None
    for i, l in enumerate(layers):
        if l.type == "conv":
            size = n if l.padding == "circular" else _pow2_at_least(n + l.kernel - 1)
            crop = size
            for nxt in layers[i + 1:]:
                if nxt.type == "act" and nxt.kind in ("pwl", "linear"):
                    continue
                if nxt.type == "pool":
                    crop = nxt.size
                break
            rows, cols = (crop + 1, crop // 2 + 1) if crop < size else (size, size // 2 + 1)
            bins = rows * cols
            gemms = 3 if seen_conv else 2      # forward, weight-gradient (+ backward-data)
            counts["complex_macs"] += gemms * bins * B * c * l.out_channels + B * l.out_channels
            k, hk = l.kernel, l.kernel // 2 + 1
            counts["updates"] += c * l.out_channels * k * hk + l.out_channels
            # S V, (S V) S^T on the kept rows/columns; S^H G and (S^H G) conj(S) over the
            # gradient's rows x rows non-zero full-spectrum bins, k/2+1 output columns
            counts["sinc_macs"] += c * l.out_channels * (rows * k * k + rows * cols * k
                                                         + k * rows * rows + k * hk * rows)
            if i == 0:     # the input FFT: every row of the (padded) plane, the kept columns
                counts["butterflies"] += B * c * (size + cols) * (size // 2) * int(log2(size))
            bins_of_last_conv = bins
            seen_conv = True
            c, n = l.out_channels, size
        elif l.type == "act":
            if l.kind == "pwl":
                counts["activations"] += 2 * B * c * bins_of_last_conv
        elif l.type == "pool":
            if l.size < n:
                counts["crop_skipped_bins"] += B * c * (n * (n // 2 + 1) - (l.size + 1) * (l.size // 2 + 1))
            n = l.size
        elif l.type == "dense":
            feats = 2 * c * n * (n // 2 + 1)
            counts["real_macs"] += 3 * B * feats * l.classes + B * l.classes
            counts["updates"] += feats * l.classes + l.classes
            counts["activations"] += B * c * n * (n // 2 + 1)
    return counts


@pytest.fixture(scope="module", params=["lenet-digits", "cifar-small"])
def sim(request):
    return simulate(load_accelerator(), load_network(request.param), B)


def test_unit_cycles_add_up(sim):
    st = sim.stats
    for u, blk in st.units.items():
        assert blk["idle"] >= 0 and all(v >= 0 for v in blk["stall"].values())
        assert blk["busy"] + blk["idle"] + sum(blk["stall"].values()) == st.total_cycles, u
    assert sum(l["cycles"] for l in st.layers) == st.total_cycles
    for l in st.layers:
        for u, blk in l["units"].items():
            assert blk["idle"] >= 0
            assert blk["busy"] + blk["idle"] + sum(blk["stall"].values()) == l["cycles"], (l["name"], l["phase"], u)
    for u in st.units:
        assert sum(l["units"][u]["busy"] for l in st.layers) == st.units[u]["busy"]
        for cause in STALL_CAUSES:
            assert sum(l["units"][u]["stall"][cause] for l in st.layers) == st.units[u]["stall"][cause]


def test_op_counts_match_the_network(sim):
    want = analytic(sim.net)
    got = sim.stats.ops
    for key, value in want.items():
        assert got[key] == value, key


def test_traffic_is_consistent(sim):
    st = sim.stats
    for key in ("read_bytes", "write_bytes"):
        assert sum(l["memory"]["dram"][key] for l in st.layers) == st.memory["dram"][key]
    # every DRAM byte passes through a buffer port: loads write it, stores read it
    assert st.memory["dram"]["read_bytes"] > 0 and st.memory["dram"]["write_bytes"] > 0
    tx = sim.run.tx
    # (a crop pass's last output can precede its last input beat: the dropped tail rows)
    assert (tx["start"] < tx["end"]).all() and (tx["start"] < tx["done"]).all()
    assert int(tx["done"].max()) == st.total_cycles


def test_spatial_activation_and_zero_padding_transforms():
    """Every transform of the small network, counted by hand (B = 8 images): forward
    transforms run every row (as hdl/fft2d.py does), inverse ones are pruned."""
    net = load_network(SMALL_NET)
    accel = load_accelerator({"fft": {"max_points": 32}})
    st = simulate(accel, net, B).stats

    def bf(n: int) -> int:
        return (n // 2) * int(log2(n))

    planes1, planes2 = B * 2, B * 6     # input planes, conv1 output planes
    planes3 = B * 8                     # conv2 output planes (spatial activation)
    want = (planes1 * (16 + 5) * bf(16)            # input FFT: 16 rows, 5 columns kept for the crop to 8
            + planes2 * (5 + 8) * bf(8)            # conv2 padding: inverse 8-point (5 columns, 8 rows)
            + planes2 * (16 + 9) * bf(16)          #   forward 16-point (all 16 rows, 8 of them zero; 9 columns)
            + planes3 * (9 + 16) * bf(16)          # spatial act forward: inverse (9 cols, 16 rows)
            + planes3 * (16 + 3) * bf(16)          #   forward, 3 columns kept for the crop to 4
            + planes3 * (3 + 16) * bf(16)          # backward: inverse of a gradient with 3 non-zero columns
            + planes3 * (16 + 9) * bf(16)          #   forward, all columns
            + planes2 * (9 + 8) * bf(16)           # conv2 backward-data un-padding: inverse 16 (8 rows kept)
            + planes2 * (8 + 5) * bf(8))           #   forward 8-point
    assert st.ops["butterflies"] == want
    # PWL forward and backward on the kept bins, ReLU forward and backward, and the
    # classifier gradient's Hermitian projection (8 channels of 4 x 3)
    assert st.ops["activations"] == 2 * planes2 * 9 * 5 + 2 * planes3 * 16 * 16 + planes3 * 4 * 3
    for blk in st.units.values():
        assert blk["busy"] + blk["idle"] + sum(blk["stall"].values()) == st.total_cycles


# --------------------------------------------------------------------------- the trace rebuild

#: The labels a unit's cycle can carry in the rebuild: busy, then the stall causes.
TRACE_LABELS = ("busy", *STALL_CAUSES)


def trace_accounting(run: Run) -> tuple[int, dict[str, dict[str, int]], list[tuple[int, int, int, dict]]]:
    """Per-unit busy / stall-by-cause / idle cycles rebuilt from the transaction trace alone
    (``Run.tx``, the descriptors' works and issue cycles -- not ``Run.intervals``): a
    transaction is busy for its work's ``compute`` cycles from its start, port-stalled for
    the rest of its occupancy, and stalled by its ``cause`` from the cycle both its unit
    was free (the previous transaction's occupancy end) and its descriptor available
    (issue + DISPATCH_TO_START) until it started.  Every cycle is painted with its label;
    a cycle painted twice is an error, idle is the cycles nobody painted.  Per layer x
    phase, a cycle belongs to the descriptor whose completion extended the running
    maximum of completions past it.  Returns (total, units, rows): rows are (layer,
    phase, cycles, units) in order of first appearance."""
    tx = run.tx
    descs = run.program.descriptors
    done = np.zeros(len(descs), np.int64)
    np.maximum.at(done, tx["desc"], tx["done"])
    total = int(done.max()) if len(done) else 0
    issue = run.desc_issue
    assert issue is not None
    label = {u: np.full(total, -1, np.int64) for u in UNITS}
    count = {u: np.zeros(total + 1, np.int64) for u in UNITS}      # coverage, as differences
    free = {u: 0 for u in UNITS}
    work_of = np.zeros(len(tx["desc"]), np.int64)
    for r in range(1, len(work_of)):
        work_of[r] = work_of[r - 1] + 1 if tx["desc"][r] == tx["desc"][r - 1] else 0

    def paint(u: str, a: int, b: int, what: int) -> None:
        if b > a:
            label[u][a:b] = what
            count[u][a] += 1
            count[u][b] -= 1

    for r in range(len(work_of)):
        u = UNITS[int(tx["unit"][r])]
        d = int(tx["desc"][r])
        start, end, cause = int(tx["start"][r]), int(tx["end"][r]), int(tx["cause"][r])
        work = run.expansions[d].works[work_of[r]]
        assert end - start == work.occupancy, (r, d)
        if cause:
            paint(u, max(free[u], int(issue[d]) + DISPATCH_TO_START), start, cause)
        paint(u, start, start + work.compute, 0)
        paint(u, start + work.compute, end, TRACE_LABELS.index("port"))
        free[u] = end
    for u in UNITS:
        assert (np.cumsum(count[u])[:total] <= 1).all(), f"{u}: intervals overlap"

    def block(u: str, sel: np.ndarray) -> dict:
        cyc = label[u][sel]
        amounts = np.bincount(cyc[cyc >= 0], minlength=len(TRACE_LABELS))
        return {"busy": int(amounts[0]), "idle": int((cyc < 0).sum()),
                "stall": {c: int(amounts[TRACE_LABELS.index(c)]) for c in STALL_CAUSES}}

    everything = np.ones(total, bool)
    units = {u: block(u, everything) for u in UNITS}
    keys: dict[tuple[int, int], int] = {}
    group = np.array([keys.setdefault((d.layer, int(d.phase)), len(keys)) for d in descs], np.int64)
    ends = np.maximum.accumulate(done)
    owner = np.repeat(group, np.diff(np.concatenate([[0], ends])))          # the group of every cycle
    rows = [(layer, phase, int((owner == g).sum()), {u: block(u, owner == g) for u in UNITS})
            for (layer, phase), g in keys.items()]
    return total, units, rows


def trace_mismatches(run: Run, stats: Stats) -> list[str]:
    """Where ``stats`` disagrees with :func:`trace_accounting` of ``run`` (empty: nowhere)."""
    total, units, rows = trace_accounting(run)
    bad = [] if total == stats.total_cycles else [f"total {stats.total_cycles} != {total}"]
    bad += [f"{u}: {stats.units[u]} != {units[u]}" for u in UNITS if stats.units[u] != units[u]]
    if len(rows) != len(stats.layers):
        return bad + [f"{len(stats.layers)} layer x phase rows != {len(rows)}"]
    for (layer, phase, cycles, blocks), row in zip(rows, stats.layers):
        where = (row["name"], row["phase"])
        if (run.program.layer_name(layer), Phase(phase).label) != where or row["cycles"] != cycles:
            bad.append(f"{where}: {row['cycles']} cycles != {cycles} ({run.program.layer_name(layer)})")
        bad += [f"{where} {u}: {row['units'][u]} != {blocks[u]}" for u in UNITS if row["units"][u] != blocks[u]]
    return bad


def test_unit_cycles_equal_the_transaction_trace(sim):
    """busy, stall by cause and idle, per unit and per layer x phase, as rebuilt from the
    trace (independently of ``Run.intervals`` and ``sim.stats``)."""
    assert trace_mismatches(sim.run, sim.stats) == []


def test_baseline_unit_cycles_equal_the_transaction_trace():
    accel = load_accelerator()
    run = execute(build_baseline(accel, load_network("lenet-digits"), B).program, baseline_accelerator(accel))
    assert trace_mismatches(run, collect(run, [s.name for s in accel.sram])) == []


def test_the_trace_check_can_fail(sim):
    """Statistics collected from a timeline that lost one busy interval, or counted one
    twice, disagree with the trace."""
    names = [s.name for s in sim.accel.sram]
    s, e, lab = sim.run.intervals["mac"]
    busy = np.nonzero(lab == 0)[0]
    keep = np.ones(len(s), bool)
    keep[busy[len(busy) // 2]] = False
    dropped = dataclasses.replace(sim.run, intervals={**sim.run.intervals, "mac": (s[keep], e[keep], lab[keep])})
    assert trace_mismatches(sim.run, collect(dropped, names))
    twice = np.sort(np.concatenate([np.arange(len(s)), busy[:1]]))
    doubled = dataclasses.replace(sim.run, intervals={**sim.run.intervals, "mac": (s[twice], e[twice], lab[twice])})
    assert trace_mismatches(sim.run, collect(doubled, names))
