"""The per-bin RTL units (MAC array, PWL activation, crop) equal their accel.fixed models.

Each unit runs in Amaranth's simulator on random vectors with random valid gaps and
random backpressure, and on edge values (full scale, saturation); outputs must match the
integer model bit for bit, saturation flags must match the model's ledger, and latency /
initiation interval measured with free-flowing streams must equal the model's timing
formulas (which the cycle simulator uses).  Sizes stay small: the simulator does ~10 k
cycles/s.
"""
from __future__ import annotations

import numpy as np
import pytest

from accel.fixed.act import PwlTable, act_cycles, pwl_backward, pwl_fixed_table, pwl_forward
from accel.fixed.core import CTensor, Saturations, int_range
from accel.fixed.crop import (
    CROP_LATENCY,
    crop_half,
    crop_latency_cycles,
    crop_pass_cycles,
    crop_skipped,
    pad_half,
    pad_pass_cycles,
)
from accel.fixed.mac import CMAC_LATENCY, cmac_gemm, cmac_stream_cycles, cmac_tile_cycles, cmac_tiles, tile_operands
from hdl.act import PwlActivation
from hdl.cmac import ComplexMacArray
from hdl.crop import SpectralCrop, SpectralPad
from hdl.stream import run_stream_testbench
from hdl.tools.stream import simulate_stream
from hdl.tools.verilog import lint, verilog


def run_streams(dut, beats: list, n_out: int, gap: float = 0.0, stall: float = 0.0,
                seed: int = 0, setup=None) -> tuple[list, list[int], list[int]]:
    """Send ``beats`` into ``dut.i`` and collect ``n_out`` beats from ``dut.o``
    (:func:`hdl.stream.run_stream_testbench`): (output payloads, input transfer cycles,
    output transfer cycles), both cycle lists from the same first clock edge."""
    return run_stream_testbench(dut, beats, n_out, gap_prob=gap, stall_prob=stall, seed=seed,
                                setup=setup)


def popcount(x: int) -> int:
    return bin(int(x)).count("1")


# --------------------------------------------------------------------------- MAC array

def rand_ctensor(rng: np.random.Generator, shape: tuple[int, ...], bits: int, exp: int,
                 full_scale: bool = False) -> CTensor:
    lo, hi = int_range(bits)
    if full_scale:  # only the extremes: worst-case products and sums
        pick = np.array([lo, hi])
        return CTensor(rng.choice(pick, shape), rng.choice(pick, shape), exp, bits)
    return CTensor(rng.integers(lo, hi + 1, shape), rng.integers(lo, hi + 1, shape), exp, bits)


def cmac_beats(dut: ComplexMacArray, a: CTensor, b: CTensor, tiles) -> list:
    layout = dut.i.payload.shape()
    beats = []
    for t in tiles:
        a_re, a_im, b_re, b_im = tile_operands(a, b, t, dut.rows, dut.cols)
        for j in range(t.k):
            beats.append(layout.const({
                "a": [{"re": int(a_re[j, r]), "im": int(a_im[j, r])} for r in range(dut.rows)],
                "b": [{"re": int(b_re[j, c]), "im": int(b_im[j, c])} for c in range(dut.cols)],
                "conj": int(t.conj_b), "last": int(j == t.k - 1), "shift": t.shift}))
    return beats


def check_cmac(rows, cols, a_bits, b_bits, acc_bits, out_bits, bins, mm, nn, k, conj, shift,
               seed, gap, stall, full_scale=False):
    rng = np.random.default_rng(seed)
    a = rand_ctensor(rng, (bins, mm, k), a_bits, -3, full_scale)
    b = rand_ctensor(rng, (bins, k, nn), b_bits, 1, full_scale)
    sat = Saturations()
    ref = cmac_gemm(a, b, conj, acc_bits, out_bits, shift, sat)
    dut = ComplexMacArray(rows, cols, a_bits, b_bits, acc_bits, out_bits)
    tiles = cmac_tiles(bins, mm, nn, k, rows, cols, conj, shift)
    outs, in_cyc, out_cyc = run_streams(dut, cmac_beats(dut, a, b, tiles), len(tiles), gap, stall, seed)
    got_re = np.zeros((bins, mm, nn), np.int64)
    got_im = np.zeros_like(got_re)
    acc_flags = out_flags = 0
    for t, p in zip(tiles, outs):
        for r in range(min(rows, mm - t.m0)):
            for c in range(min(cols, nn - t.n0)):
                got_re[t.bin, t.m0 + r, t.n0 + c] = p.c[r][c].re
                got_im[t.bin, t.m0 + r, t.n0 + c] = p.c[r][c].im
                bits = 3 << (2 * (r * cols + c))
                acc_flags += popcount(p.acc_sat & bits)
                out_flags += popcount(p.out_sat & bits)
    np.testing.assert_array_equal(got_re, ref.re)
    np.testing.assert_array_equal(got_im, ref.im)
    assert acc_flags == sat.counts.get(("cmac", "acc"), 0)
    assert out_flags == sat.counts.get(("cmac", "out"), 0)
    return sat, in_cyc, out_cyc


@pytest.mark.parametrize("conj", [False, True])
def test_cmac_random_gaps_backpressure(conj):
    # 3 x 5 outputs on a 2 x 2 array: edge tiles are zero padded.
    check_cmac(2, 2, 16, 16, 40, 16, bins=2, mm=3, nn=5, k=4, conj=conj, shift=14,
               seed=1 + conj, gap=0.3, stall=0.4)


def test_cmac_saturation_edges():
    # Full-scale operands, a 17-bit accumulator (the minimum for 8 x 8 bits) and no
    # output shift: accumulators and outputs saturate, flags must match the ledger.
    sat, _, _ = check_cmac(2, 3, 8, 8, 17, 10, bins=2, mm=2, nn=3, k=6, conj=True, shift=0,
                           seed=7, gap=0.2, stall=0.2, full_scale=True)
    assert sat.counts[("cmac", "acc")] > 0 and sat.counts[("cmac", "out")] > 0
    sat, _, _ = check_cmac(1, 2, 8, 8, 17, 17, bins=3, mm=1, nn=2, k=5, conj=False, shift=3,
                           seed=8, gap=0.0, stall=0.5, full_scale=True)
    assert sat.counts.get(("cmac", "acc"), 0) > 0


def test_cmac_timing_matches_model():
    for k in (1, 5):
        _, in_cyc, out_cyc = check_cmac(2, 2, 16, 16, 40, 16, bins=1, mm=2, nn=2, k=k, conj=False,
                                        shift=16, seed=k, gap=0.0, stall=0.0)
        assert out_cyc[0] - in_cyc[0] + 1 == cmac_tile_cycles(k)
        assert out_cyc[0] - in_cyc[-1] == CMAC_LATENCY
    k, bins = 3, 4
    _, in_cyc, out_cyc = check_cmac(2, 2, 16, 16, 40, 16, bins=bins, mm=2, nn=2, k=k, conj=True,
                                    shift=16, seed=9, gap=0.0, stall=0.0)
    assert in_cyc == list(range(in_cyc[0], in_cyc[0] + bins * k))  # one beat per cycle
    assert np.all(np.diff(out_cyc) == k)  # II = K
    assert out_cyc[-1] - in_cyc[0] + 1 == cmac_stream_cycles(bins, k)


# --------------------------------------------------------------------------- activation

def act_run(table: PwlTable, lanes: int, x: CTensor, g: CTensor, backward: np.ndarray,
            gap: float, stall: float, seed: int):
    """Load ``table`` through the write port, stream beats of ``lanes`` samples; return
    (y re, y im, sat flags per beat, in cycles, out cycles)."""
    dut = PwlActivation(lanes, table.segments, table.data_bits, table.slope_bits, table.slope_frac)
    layout = dut.i.payload.shape()
    nb = x.shape[0] // lanes
    beats = [layout.const({
        "x": [{"re": int(x.re[j * lanes + l]), "im": int(x.im[j * lanes + l])} for l in range(lanes)],
        "g": [{"re": int(g.re[j * lanes + l]), "im": int(g.im[j * lanes + l])} for l in range(lanes)],
        "backward": int(backward[j])}) for j in range(nb)]

    async def load(ctx):
        for addr, word in enumerate(table.words()):
            ctx.set(dut.wr_en, 1)
            ctx.set(dut.wr_addr, addr)
            ctx.set(dut.wr_data, word)
            await ctx.tick()
        ctx.set(dut.wr_en, 0)
        return len(table.words())

    outs, in_cyc, out_cyc = run_streams(dut, beats, nb, gap, stall, seed, setup=load)
    y_re = np.array([[p.y[l].re for l in range(lanes)] for p in outs]).ravel()
    y_im = np.array([[p.y[l].im for l in range(lanes)] for p in outs]).ravel()
    return y_re, y_im, [p.sat for p in outs], in_cyc, out_cyc


def act_expected_flags(x: CTensor, g: CTensor, table: PwlTable, backward: np.ndarray,
                       lanes: int) -> list[int]:
    """Per-beat saturation flags the unit should raise, from the model's ledger run one
    sample at a time (bit 2 * lane + {0: re, 1: im})."""
    flags = []
    for j, bwd in enumerate(backward):
        word = 0
        for l in range(lanes):
            i = j * lanes + l
            for bit, part in ((0, "re"), (1, "im")):
                s = Saturations()
                one = CTensor(getattr(x, part)[i:i + 1], np.zeros(1, np.int64), x.exp, x.bits)
                grad = CTensor(getattr(g, part)[i:i + 1], np.zeros(1, np.int64), g.exp, g.bits)
                pwl_backward(one, grad, table, s) if bwd else pwl_forward(one, table, s)
                word |= int(s.total > 0) << (2 * l + bit)
        flags.append(word)
    return flags


def random_table(rng: np.random.Generator, segments: int, data_bits: int) -> PwlTable:
    lo, hi = int_range(data_bits)
    bp = np.sort(rng.integers(lo - 1, hi + 2, segments - 1))
    return PwlTable(bp, rng.integers(-(1 << 15), 1 << 15, segments),
                    rng.integers(lo, hi + 1, segments), data_bits)


@pytest.mark.parametrize("seed", [0, 1])
def test_act_forward_backward_random(seed):
    rng = np.random.default_rng(seed)
    lanes, bits, nb = 2, 12, 40
    table = random_table(rng, 5, bits)
    x = rand_ctensor(rng, (lanes * nb,), bits, -4)
    g = rand_ctensor(rng, (lanes * nb,), bits, -9)
    # Edge values: both ends of the range and every breakpoint and its neighbours.
    lo, hi = int_range(bits)
    edges = np.clip(np.concatenate([[lo, hi, lo, hi], table.breakpoints - 1, table.breakpoints]), lo, hi)
    x.re[:len(edges)] = edges
    x.im[-len(edges):] = edges
    backward = rng.integers(0, 2, nb)
    y_re, y_im, flags, _, _ = act_run(table, lanes, x, g, backward, 0.3, 0.4, seed)
    sat_f, sat_b = Saturations(), Saturations()
    fwd = pwl_forward(x, table, sat_f)
    bwd = pwl_backward(x, g, table, sat_b)
    sel = np.repeat(backward.astype(bool), lanes)
    np.testing.assert_array_equal(y_re, np.where(sel, bwd.re, fwd.re))
    np.testing.assert_array_equal(y_im, np.where(sel, bwd.im, fwd.im))
    assert flags == act_expected_flags(x, g, table, backward, lanes)


def test_act_network_table_and_saturation_counts():
    """The network's own PWL table (via pwl_fixed_table) and a steep table that
    saturates: total flags equal the model's ledger."""
    from accel.config import ActLayer
    from accel.network import pwl_table

    rng = np.random.default_rng(5)
    bits, lanes, nb, exp = 16, 3, 30, -12
    layer = ActLayer(segments=6)
    table = pwl_fixed_table(*pwl_table(layer), exp, bits)
    x = rand_ctensor(rng, (lanes * nb,), bits, exp)
    g = rand_ctensor(rng, (lanes * nb,), bits, -20)
    backward = np.zeros(nb, int)
    backward[nb // 2:] = 1
    y_re, y_im, flags, _, _ = act_run(table, lanes, x, g, backward, 0.0, 0.3, 5)
    half = nb // 2 * lanes
    fwd, bwd = pwl_forward(x, table), pwl_backward(x, g, table)
    np.testing.assert_array_equal(y_re, np.concatenate([fwd.re[:half], bwd.re[half:]]))
    np.testing.assert_array_equal(y_im, np.concatenate([fwd.im[:half], bwd.im[half:]]))

    lo, hi = int_range(bits)
    steep = PwlTable(np.array([0]), np.array([-(1 << 15), (1 << 15) - 1]), np.array([hi, lo]), bits)
    x = rand_ctensor(rng, (lanes * nb,), bits, exp, full_scale=True)
    backward = rng.integers(0, 2, nb)
    y_re, _, flags, _, _ = act_run(steep, lanes, x, x, backward, 0.2, 0.2, 6)
    expect = act_expected_flags(x, x, steep, backward, lanes)
    assert sum(map(popcount, expect)) > 0
    assert flags == expect
    sel = np.repeat(backward.astype(bool), lanes)
    np.testing.assert_array_equal(y_re, np.where(sel, pwl_backward(x, x, steep).re,
                                                 pwl_forward(x, steep).re))


def test_act_timing_matches_model():
    rng = np.random.default_rng(3)
    lanes, nb = 2, 10
    table = random_table(rng, 4, 16)
    x = rand_ctensor(rng, (lanes * nb,), 16, 0)
    _, _, _, in_cyc, out_cyc = act_run(table, lanes, x, x, np.zeros(nb, int), 0.0, 0.0, 3)
    assert in_cyc == list(range(in_cyc[0], in_cyc[0] + nb))
    assert out_cyc == [c + act_cycles(1, lanes) - 1 for c in in_cyc]
    assert out_cyc[-1] - in_cyc[0] + 1 == act_cycles(lanes * nb, lanes)


# --------------------------------------------------------------------------- crop

def crop_run(n: int, m: int, x: CTensor, gap: float, stall: float, seed: int, **kw):
    """Stream the half spectra of ``x`` (passes, n, n/2+1) through the crop unit; return
    (out re, out im, sat flags, writes per address, skipped, in cycles, out cycles)."""
    dut = SpectralCrop(n, m, x.bits, **kw)
    passes, words = x.shape[0], m * (m // 2 + 1)
    beats = [{"re": int(a), "im": int(b)} for a, b in zip(x.re.ravel(), x.im.ravel())]
    counter = {}

    async def read_skipped(ctx):
        await ctx.tick().repeat(CROP_DRAIN_GUARD)
        counter["skipped"] = ctx.get(dut.skipped)

    payloads, in_cyc, out_cyc = run_stream_testbench(
        dut, beats, passes * words, gap_prob=gap, stall_prob=stall, seed=seed,
        finish=read_skipped)
    re = np.zeros((passes, words), np.int64)
    im = np.zeros_like(re)
    seen = np.zeros_like(re)
    flags = 0
    for i, p in enumerate(payloads):
        k = i // words
        re[k, p.addr], im[k, p.addr] = p.x.re, p.x.im
        seen[k, p.addr] += 1
        flags += popcount(p.sat)
    shape = (passes, m, m // 2 + 1)
    return re.reshape(shape), im.reshape(shape), flags, seen, counter["skipped"], in_cyc, out_cyc


#: Cycles the sender waits after its last beat before reading the skipped counter.
CROP_DRAIN_GUARD = 2


@pytest.mark.parametrize("n,m", [(8, 4), (8, 6), (8, 2), (16, 6)])
def test_crop_random_gaps_backpressure(n, m):
    rng = np.random.default_rng(n * 100 + m)
    x = rand_ctensor(rng, (2, n, n // 2 + 1), 12, -5)
    sat = Saturations()
    ref = crop_half(x, m, sat=sat)
    re, im, flags, seen, skipped, _, _ = crop_run(n, m, x, 0.3, 0.4, n + m)
    np.testing.assert_array_equal(re, ref.re)
    np.testing.assert_array_equal(im, ref.im)
    assert np.all(seen == 1)
    assert flags == sat.total
    assert skipped == 2 * crop_skipped(n, m)


def test_crop_full_scale_and_out_shift():
    n, m = 8, 4
    lo, hi = int_range(10)
    x = CTensor(np.full((2, n, n // 2 + 1), hi), np.full((2, n, n // 2 + 1), lo), 0, 10)
    x.re[1], x.im[1] = lo, hi
    for out_shift in (0, 2):
        sat = Saturations()
        ref = crop_half(x, m, out_shift=out_shift, sat=sat)
        re, im, flags, _, _, _, _ = crop_run(n, m, x, 0.1, 0.1, 4, out_shift=out_shift)
        np.testing.assert_array_equal(re, ref.re)
        np.testing.assert_array_equal(im, ref.im)
        assert flags == sat.total
        assert (sat.total > 0) == (out_shift == 0)  # two guard bits absorb a 4-way fold


@pytest.mark.parametrize("n,m", [(8, 4), (8, 2), (16, 6)])
def test_crop_timing_matches_model(n, m):
    rng = np.random.default_rng(1)
    x = rand_ctensor(rng, (2, n, n // 2 + 1), 16, 0)
    _, _, _, _, _, in_cyc, out_cyc = crop_run(n, m, x, 0.0, 0.0, 1)
    per_pass = n * (n // 2 + 1)
    assert in_cyc[per_pass] - in_cyc[0] == crop_pass_cycles(n, m)
    words = m * (m // 2 + 1)
    assert out_cyc[words - 1] - in_cyc[0] + 1 == crop_latency_cycles(n, m)


# --------------------------------------------------------------------------- pad (crop backward)

def pad_run(n: int, m: int, g: CTensor, gap: float, stall: float, seed: int):
    dut = SpectralPad(n, m, g.bits)
    passes = g.shape[0]
    beats = [{"re": int(a), "im": int(b)} for a, b in zip(g.re.ravel(), g.im.ravel())]
    outs, in_cyc, out_cyc = run_streams(dut, beats, passes * n * (n // 2 + 1), gap, stall, seed)
    shape = (passes, n, n // 2 + 1)
    re = np.array([p.x.re for p in outs]).reshape(shape)
    im = np.array([p.x.im for p in outs]).reshape(shape)
    return re, im, sum(popcount(p.sat) for p in outs), in_cyc, out_cyc


@pytest.mark.parametrize("n,m", [(8, 4), (8, 6), (8, 2), (16, 6)])
def test_pad_random_gaps_backpressure(n, m):
    rng = np.random.default_rng(7 * n + m)
    g = rand_ctensor(rng, (2, m, m // 2 + 1), 12, -3, full_scale=(m == 6))
    sat = Saturations()
    ref = pad_half(g, n, sat=sat)
    re, im, flags, _, _ = pad_run(n, m, g, 0.3, 0.4, n * m)
    np.testing.assert_array_equal(re, ref.re)
    np.testing.assert_array_equal(im, ref.im)
    assert flags == sat.total


@pytest.mark.parametrize("n,m", [(8, 4), (16, 6)])
def test_pad_timing_matches_model(n, m):
    rng = np.random.default_rng(2)
    g = rand_ctensor(rng, (2, m, m // 2 + 1), 16, 0)
    _, _, _, in_cyc, out_cyc = pad_run(n, m, g, 0.0, 0.0, 2)
    per_pass = n * (n // 2 + 1)
    assert out_cyc[0] - in_cyc[0] == CROP_LATENCY
    assert out_cyc == list(range(out_cyc[0], out_cyc[0] + 2 * per_pass))  # one bin per cycle
    assert out_cyc[per_pass] - out_cyc[0] == pad_pass_cycles(n, m)


# --------------------------------------------------------------------------- Verilator

def _fields(layout) -> dict:
    """Bit offset and width of every leaf field of a payload layout, keyed by path."""
    from amaranth.hdl import Shape
    from amaranth.lib import data

    out = {}

    def walk(lay, base, path):
        if isinstance(lay, data.StructLayout):
            for name, field in lay:
                walk(field.shape, base + field.offset, path + (name,))
        elif isinstance(lay, data.ArrayLayout):
            size = Shape.cast(lay.elem_shape).width
            for k in range(lay.length):
                walk(lay.elem_shape, base + k * size, path + (k,))
        else:
            out[path] = (base, Shape.cast(lay).width)

    walk(layout, 0, ())
    return out


@pytest.mark.verilator
def test_cmac_verilator_harness_100k_cycles():
    """The MAC array's Verilog in a Verilator C++ harness for >= 100 000 cycles (random
    tile lengths, conj flags and shifts; random valid gaps and backpressure) equals
    accel.fixed.mac tile by tile, flags included, and never beats the model's latency."""
    rows, cols, ab, bb, acc, ob = 2, 2, 12, 12, 26, 12  # narrow: saturation happens too
    dut = ComplexMacArray(rows, cols, ab, bb, acc, ob)
    fin = _fields(dut.i.payload.shape())
    fout = _fields(dut.o.payload.shape())
    rng = np.random.default_rng(2024)
    words, tiles = [], []
    n_beats = 0
    while n_beats < 90_000:
        k = int(rng.integers(1, 17))
        conj = bool(rng.integers(0, 2))
        shift = int(rng.integers(0, acc))
        a = rand_ctensor(rng, (1, rows, k), ab, 0, full_scale=rng.random() < 0.1)
        b = rand_ctensor(rng, (1, k, cols), bb, 0, full_scale=rng.random() < 0.1)
        tiles.append((a, b, conj, shift, n_beats + k - 1))
        for j in range(k):
            w = 0
            for r in range(rows):
                w |= (int(a.re[0, r, j]) & 0xFFF) << fin["a", r, "re"][0]
                w |= (int(a.im[0, r, j]) & 0xFFF) << fin["a", r, "im"][0]
            for c in range(cols):
                w |= (int(b.re[0, j, c]) & 0xFFF) << fin["b", c, "re"][0]
                w |= (int(b.im[0, j, c]) & 0xFFF) << fin["b", c, "im"][0]
            w |= int(conj) << fin["conj",][0] | int(j == k - 1) << fin["last",][0]
            w |= shift << fin["shift",][0]
            words.append(w)
        n_beats += k
    run = simulate_stream(dut, "cmac_h", words, len(tiles), gap_prob=0.2, stall_prob=0.2,
                                seed=7)
    assert run.cycles >= 100_000
    assert len(run.outputs) == len(tiles)

    def field(word: int, path: tuple, signed: bool = True) -> int:
        off, width = fout[path]
        v = (word >> off) & ((1 << width) - 1)
        return v - (1 << width) if signed and v >> (width - 1) else v

    for (a, b, conj, shift, last_beat), word, out_cycle in zip(tiles, run.outputs, run.out_cycles):
        sat = Saturations()
        ref = cmac_gemm(a, b, conj, acc, ob, shift, sat)
        got_re = [[field(word, ("c", r, c, "re")) for c in range(cols)] for r in range(rows)]
        got_im = [[field(word, ("c", r, c, "im")) for c in range(cols)] for r in range(rows)]
        np.testing.assert_array_equal(got_re, ref.re[0])
        np.testing.assert_array_equal(got_im, ref.im[0])
        assert popcount(field(word, ("acc_sat",), False)) == sat.counts.get(("cmac", "acc"), 0)
        assert popcount(field(word, ("out_sat",), False)) == sat.counts.get(("cmac", "out"), 0)
        assert out_cycle >= run.in_cycles[last_beat] + CMAC_LATENCY
    # free-flowing: one beat per cycle and every result exactly CMAC_LATENCY after its
    # tile's last beat, so a stream of tiles takes sum(K) + CMAC_LATENCY cycles
    n = sum(1 for t in tiles if t[4] < 4000)
    beats = tiles[n - 1][4] + 1
    free = simulate_stream(dut, "cmac_h", words[:beats], n)
    assert free.in_cycles == list(range(free.in_cycles[0], free.in_cycles[0] + beats))
    assert [c - free.in_cycles[t[4]] for c, t in zip(free.out_cycles, tiles)] == [CMAC_LATENCY] * n
    assert free.out_cycles[-1] - free.in_cycles[0] + 1 == beats + CMAC_LATENCY


@pytest.mark.verilator
@pytest.mark.parametrize("name,make", [
    ("cmac", lambda: ComplexMacArray(2, 3)),
    ("act", lambda: PwlActivation(2, 6)),
    ("crop", lambda: SpectralCrop(16, 6)),
    ("pad", lambda: SpectralPad(32, 16)),
])
def test_units_lint_clean(name, make):
    lint(verilog(make(), name))
