"""hdl/fft2d.py in Amaranth's simulator against accel/fixed/fft2d.py: values and timing.

The model's ``fft2d_half`` normalizes the transpose memory with the peak of the tensor it
is given; the engine normalizes each image on its own (``accel.fixed.net.fft2d_planes``
does the same), so the reference is ``fft2d_half`` called image by image, and the
engine's per-image ``shift`` must match that call's exponent.
"""
from __future__ import annotations

import numpy as np
import pytest

from accel.fixed.core import CTensor
from accel.fixed.fft2d import column_count, fft2d_cycles, fft2d_half, fft2d_interval, fft2d_latency
from hdl.fft2d import FFT2D
from hdl.stream import run_stream_testbench

FS = 1 << 15


def images(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    """Random 16-bit images at different scales (so the normalization shifts differ), one
    of them full-scale extremes (saturation inside the pipelines)."""
    x = rng.integers(-FS, FS, (count, n, n))
    for k in range(count):
        x[k] >>= (3 * k) % 11
    x[-1] = rng.choice([-FS, FS - 1], (n, n))
    return x


def run_fft2d(n: int, keep: int | None, x: np.ndarray, gap: float, stall: float, seed: int):
    """Stream images ``x`` (count, n, n) through FFT2D; return the half spectra (count, n,
    n/2+1; columns not emitted stay 0), per-image shifts, emission count per address and
    the transfer cycles."""
    dut = FFT2D(n, keep=keep)
    count, cols, h = x.shape[0], column_count(n, keep), n // 2 + 1
    per = cols * n
    outs, in_cyc, out_cyc = run_stream_testbench(dut, [int(v) for v in x.ravel()], count * per,
                                                 gap_prob=gap, stall_prob=stall, seed=seed)
    re = np.zeros((count, n * h), np.int64)
    im = np.zeros_like(re)
    seen = np.zeros_like(re)
    for i, p in enumerate(outs):
        k = i // per
        re[k, p.addr], im[k, p.addr] = p.x.re, p.x.im
        seen[k, p.addr] += 1
        assert p.shift == outs[k * per].shift
        assert p.last == (i % per == per - 1)
    shifts = [outs[k * per].shift for k in range(count)]
    shape = (count, n, h)
    return re.reshape(shape), im.reshape(shape), shifts, seen.reshape(shape), in_cyc, out_cyc


@pytest.mark.parametrize("n,keep", [(8, None), (8, 4), (16, None), (16, 6)])
def test_bit_exact_with_gaps_and_backpressure(n: int, keep: int | None) -> None:
    rng = np.random.default_rng(n * 10 + (keep or 0))
    x = images(rng, 3, n)
    re, im, shifts, seen, _, _ = run_fft2d(n, keep, x, 0.3, 0.4, seed=n)
    cols, p = column_count(n, keep), n.bit_length() - 1
    assert np.all(seen[..., :cols] == 1) and not seen[..., cols:].any()
    for k in range(len(x)):
        ref = fft2d_half(CTensor(x[k], np.zeros_like(x[k]), 0, 16), keep=keep)
        np.testing.assert_array_equal(re[k], ref.re)
        np.testing.assert_array_equal(im[k], ref.im)
        assert ref.exp == 2 * p - shifts[k]
    assert len(set(shifts)) > 1


@pytest.mark.parametrize("n,keep", [(8, None), (16, 6)])
def test_timing_matches_formula(n: int, keep: int | None) -> None:
    """Gapless input, ready output: image k's bins leave from fft2d_latency(n) + k *
    fft2d_interval(n) after the first input, one per cycle; the run takes fft2d_cycles."""
    count = 3
    x = images(np.random.default_rng(5), count, n)
    _, _, _, _, in_cyc, out_cyc = run_fft2d(n, keep, x, 0.0, 0.0, seed=1)
    assert in_cyc == list(range(in_cyc[0], in_cyc[0] + count * n * n))
    per = column_count(n, keep) * n
    expected = [in_cyc[0] + fft2d_latency(n) + k * fft2d_interval(n) + j
                for k in range(count) for j in range(per)]
    assert out_cyc == expected
    assert out_cyc[-1] - in_cyc[0] + 1 == fft2d_cycles(n, keep, count)


def test_drains_and_stalls_without_loss() -> None:
    """A long output stall fills both transpose banks and stops the input; nothing is lost
    and a lone last image drains without further input."""
    n = 8
    x = images(np.random.default_rng(9), 4, n)
    re, im, _, _, _, _ = run_fft2d(n, None, x, 0.6, 0.9, seed=4)
    for k in range(len(x)):
        ref = fft2d_half(CTensor(x[k], np.zeros_like(x[k]), 0, 16))
        np.testing.assert_array_equal(re[k], ref.re)
        np.testing.assert_array_equal(im[k], ref.im)


@pytest.mark.verilator
def test_lint_clean() -> None:
    from hdl.tools.verilog import lint, verilog
    lint(verilog(FFT2D(16, keep=6), "fft2d"))
