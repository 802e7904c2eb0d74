"""Cycle counts: single transactions against their pipeline formulas, and the properties
the scheduler guarantees (monotone in resources, small buffers cost DRAM traffic)."""
from __future__ import annotations

from math import ceil

from hypothesis import given, settings
from hypothesis import strategies as st

from accel.config import load_accelerator
from accel.fixed.act import act_cycles
from accel.fixed.crop import CROP_LATENCY, crop_latency_cycles, crop_pass_cycles, pad_pass_cycles
from accel.fixed.fft import fft_latency
from accel.fixed.fft2d import FFT2D_TRANSPOSE_LATENCY, fft2d_cycles, fft2d_interval
from accel.fixed.mac import cmac_stream_cycles, cmac_tile_cycles
from accel.network import load_network
from accel.program import (
    BUFFER_READ_CYCLES,
    DISPATCH_TO_START,
    QUEUE_DEPTH,
    ROM,
    Act,
    ActFunction,
    Crop,
    DramLoad,
    DramStore,
    Fft2d,
    Gemm,
    GemmKind,
    Phase,
    Program,
    Ref,
    TensorInfo,
)
from sim.engine import execute
from sim.run import simulate
from tests.nets import SMALL_NET

WIDE = [{"name": n, "kbytes": 256, "banks": 256, "word_bits": 32} for n in ("act", "weight", "grad")]


def _accel(**over):
    cfg = {"sram": WIDE}
    cfg.update(over)
    return load_accelerator(cfg)


def _run(accel, *descs):
    """Total cycles counted from the first dispatch: every program starts DISPATCH_TO_START
    cycles late (the queue register), so the tests subtract it."""
    total = execute(Program(tuple(descs), (TensorInfo("t", 0, 1 << 20),), ("l0",)), accel).total_cycles
    return total - DISPATCH_TO_START


def test_one_mac_tile():
    for k in (1, 5, 32):
        g = Gemm(0, Phase.FORWARD, GemmKind.SINC_ROWS, Ref(ROM, 0), Ref(1, 1), Ref(1, 2), 0, 1, 0, 8, 0, 8, k, False, 0)
        assert _run(_accel(), g) == cmac_tile_cycles(k) + BUFFER_READ_CYCLES


def test_mac_tile_stream():
    # 3 bins x ceil(20/8) x ceil(9/8) tiles of k=7 beats, back to back
    g = Gemm(0, Phase.FORWARD, GemmKind.CONV, Ref(0, 1), Ref(1, 1), Ref(0, 2), 0, 3, 0, 20, 0, 9, 7, False, 0)
    assert _run(_accel(), g) == cmac_stream_cycles(3 * 3 * 2, 7) + BUFFER_READ_CYCLES


def test_mac_port_bound():
    """A 4-bank weight buffer feeds 4 B operands per cycle: an 8-column tile takes 2 cycles per beat."""
    accel = load_accelerator({"sram": [dict(WIDE[0]), {"name": "weight", "kbytes": 64, "banks": 4, "word_bits": 32},
                                       dict(WIDE[2])]})
    g = Gemm(0, Phase.FORWARD, GemmKind.SINC_ROWS, Ref(ROM, 0), Ref(1, 1), Ref(0, 2), 0, 1, 0, 8, 0, 8, 16, False, 0)
    assert _run(accel, g) == 2 * 16 + (cmac_tile_cycles(16) - 16) + BUFFER_READ_CYCLES


def test_one_dram_burst():
    accel = _accel(dram={"bytes_per_cycle": 16, "latency_cycles": 77})
    for words in (1, 4, 5, 1000):
        nbytes = words * 4
        assert _run(accel, DramLoad(0, Phase.FORWARD, 0, Ref(0, 1), 0, words)) == ceil(nbytes / 16) + 77
    # a store of data that a load brings in waits for it; two loads share the channel
    two = _run(accel, DramLoad(0, Phase.FORWARD, 0, Ref(0, 1), 0, 64), DramLoad(0, Phase.FORWARD, 0, Ref(0, 2), 0, 64))
    assert two == 2 * 16 + 77
    chain = _run(accel, DramLoad(0, Phase.FORWARD, 0, Ref(0, 1), 0, 64),
                 DramStore(0, Phase.FORWARD, 0, Ref(0, 1), 0, 64))
    assert chain == (16 + 77) + 16 + 77


def test_one_fft():
    """One forward 2-D transform takes the RTL's measured time (``hdl/fft2d.py``:
    ``fft2d_cycles``) plus the buffers' synchronous read: all ``size`` rows go through the
    row pipeline, even the zero rows of a padded plane, and the kept columns through the
    column pipeline."""
    accel = _accel(fft={"max_points": 64, "count": 1})
    for n in (4, 16, 64):
        one_row = Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 1, 1, n, 2, False)  # 1 stored row, 2 columns
        assert _run(accel, one_row) == fft2d_cycles(n, 2) + BUFFER_READ_CYCLES
        full = Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 1, n, n, n, False)
        assert _run(accel, full) == fft2d_cycles(n, n) + BUFFER_READ_CYCLES
        assert fft2d_cycles(n, n) == 2 * fft_latency(n) + FFT2D_TRANSPOSE_LATENCY + n * n + (n // 2 + 1) * n


def test_fft_engines_pipeline_images():
    """Three planes on one engine start every ``size * size`` cycles (the row pass; the
    column pass of a plane overlaps the next plane's row pass); three engines take them
    in lockstep, in the time of one."""
    accel = _accel(fft={"max_points": 16, "count": 1})
    n, planes = 16, 3
    d = Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, planes, n, n, n, False)
    assert _run(accel, d) == fft2d_cycles(n, n, planes) + BUFFER_READ_CYCLES
    assert fft2d_cycles(n, n, planes) == 2 * fft2d_interval(n) + fft2d_cycles(n, n)
    three = _accel(fft={"max_points": 16, "count": 3})
    assert _run(three, d) == fft2d_cycles(n, n) + BUFFER_READ_CYCLES
    # transactions: one per image group, back to back, each occupying the row pass
    run = execute(Program((d,), (TensorInfo("t", 0, 1 << 20),), ("l0",)), accel)
    starts = [int(s) for s in run.tx["start"]]
    assert starts == [DISPATCH_TO_START + fft2d_interval(n) * i for i in range(planes)]


def test_inverse_fft_keeps_its_pass_model():
    """The inverse transform has no RTL: one pipeline alternating column and row passes,
    pruned to the non-zero columns and the kept rows; the next plane's first pass hides
    the pipeline latency of the previous one's."""
    accel = _accel(fft={"max_points": 16, "count": 1})
    n, planes, rows, keep = 16, 3, 8, 4
    d = Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, planes, rows, n, keep, True)
    p1, p2 = (keep // 2 + 1) * n, rows * n
    # cols0 cols1 rows0 cols2 rows1 rows2 (each row pass waits for its column pass)
    assert _run(accel, d) == max(planes * (p1 + p2), 2 * p1 + p2 + p1 + p2 + fft_latency(n)) + fft_latency(n)


def test_one_crop_and_act():
    """The units' formulas plus the buffers' synchronous read before the first beat."""
    accel = _accel()
    assert (_run(accel, Crop(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 1, 16, 8, False))
            == crop_latency_cycles(16, 8) + BUFFER_READ_CYCLES)
    assert (_run(accel, Crop(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 5, 16, 8, False))
            == 4 * crop_pass_cycles(16, 8) + crop_latency_cycles(16, 8) + BUFFER_READ_CYCLES)
    assert (_run(accel, Crop(0, Phase.BACKWARD_DATA, Ref(0, 1), Ref(0, 2), 0, 3, 16, 8, True))
            == 3 * pad_pass_cycles(16, 8) + CROP_LATENCY + BUFFER_READ_CYCLES)
    a = Act(0, Phase.FORWARD, ActFunction.PWL, Ref(0, 1), Ref(0, 1), Ref(0, 2), 0, 1001, False)
    assert _run(_accel(activation={"lanes": 4}), a) == act_cycles(1001, 4) + BUFFER_READ_CYCLES


def test_dependencies_serialize():
    """A GEMM that reads what a load writes starts when the data have arrived."""
    accel = _accel(dram={"bytes_per_cycle": 8, "latency_cycles": 50})
    load = DramLoad(0, Phase.FORWARD, 0, Ref(0, 1), 0, 80)
    g = Gemm(0, Phase.FORWARD, GemmKind.SINC_ROWS, Ref(ROM, 0), Ref(0, 1), Ref(0, 2), 0, 1, 0, 8, 0, 8, 5, False, 0)
    assert _run(accel, load, g) == (40 + 50) + cmac_tile_cycles(5) + BUFFER_READ_CYCLES


def test_dispatch_one_per_cycle_and_queue_depth():
    """Descriptors dispatch one per cycle; a unit's queue holds QUEUE_DEPTH not yet started,
    and frees a slot in the cycle its descriptor starts."""
    accel = _accel(activation={"lanes": 4})
    acts = [Act(0, Phase.FORWARD, ActFunction.PWL, Ref(0, 1), Ref(0, 1), Ref(0, 2 + i), 0, 40, False)
            for i in range(QUEUE_DEPTH + 2)]
    run = execute(Program(tuple(acts), (), ("l0",)), accel)
    starts = [int(s) for s in run.tx["start"]]
    assert starts == [DISPATCH_TO_START + 10 * i for i in range(len(acts))]
    # the first QUEUE_DEPTH + 1 dispatch back to back (one waits in the dispatch slot of the
    # queue that the first start frees), the next when descriptor i - QUEUE_DEPTH starts
    issue = [int(t) for t in run.desc_issue]
    assert issue[:QUEUE_DEPTH + 1] == list(range(QUEUE_DEPTH + 1))
    assert issue[QUEUE_DEPTH + 1] == starts[1]


def _small_accel(rows: int, cols: int, ffts: int, bpc: float, kb: float):
    return load_accelerator({"mac_array": {"rows": rows, "cols": cols}, "fft": {"count": ffts, "max_points": 32},
                             "dram": {"bytes_per_cycle": bpc, "latency_cycles": 40},
                             "sram": [{"name": n, "kbytes": kb, "banks": 4} for n in ("act", "weight", "grad")]})


@given(rows=st.integers(1, 12), cols=st.integers(1, 12), ffts=st.integers(1, 4),
       bpc=st.sampled_from([1, 2, 4, 8, 16]), kb=st.sampled_from([4, 16, 64]),
       which=st.sampled_from(["rows", "cols", "ffts", "bpc"]), more=st.integers(1, 8))
@settings(max_examples=30, deadline=None)
def test_more_resources_never_slower(rows, cols, ffts, bpc, kb, which, more):
    net = load_network(SMALL_NET)
    base = dict(rows=rows, cols=cols, ffts=ffts, bpc=bpc, kb=kb)
    bigger = dict(base)
    bigger[which] = base[which] * 2 if which == "bpc" else base[which] + more
    t0 = simulate(_small_accel(**base), net, 4).stats.total_cycles
    t1 = simulate(_small_accel(**bigger), net, 4).stats.total_cycles
    assert t1 <= t0, (which, base, bigger, t0, t1)


def test_small_buffer_costs_dram_traffic_not_an_error():
    net = load_network("lenet-digits")
    big = simulate(load_accelerator(), net, 32).stats
    small_cfg = load_accelerator({"sram": [{"name": "act", "kbytes": 4, "banks": 8},
                                           {"name": "weight", "kbytes": 64, "banks": 4},
                                           {"name": "grad", "kbytes": 64, "banks": 4}]})
    small = simulate(small_cfg, net, 32).stats

    def dram(s):
        return s.memory["dram"]["read_bytes"] + s.memory["dram"]["write_bytes"]

    assert dram(small) > dram(big)
    assert small.ops == {**big.ops, "dram_transfers": small.ops["dram_transfers"]}
