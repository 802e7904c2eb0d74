"""hdl/fft.py (and hdl/stream.py) in Amaranth's simulator, against accel/fixed/fft.py."""
from __future__ import annotations

import random

import numpy as np
import pytest

from accel.fixed.core import CTensor, Saturations, sqnr_db
from accel.fixed.fft import FFT_II, fft_latency, fft_mantissas, to_natural_order
from hdl.fft import FFT
from hdl.stream import SkidBuffer, complex_layout, run_stream_testbench

FS = 1 << 15


def run_fft(dut: FFT, re: np.ndarray, im: np.ndarray, *, gap_prob: float = 0.0,
            stall_prob: float = 0.0, seed: int = 0):
    """Stream ``re``/``im`` (shape (transforms, n)) through ``dut``.

    Returns output re, im (same shape, pipeline order) and the input / output transfer
    cycles, on a common time base.
    """
    items = [{"re": int(a), "im": int(b)} for a, b in zip(re.ravel(), im.ravel())]
    payloads, in_cycles, out_cycles = run_stream_testbench(
        dut, items, len(items), gap_prob=gap_prob, stall_prob=stall_prob, seed=seed)
    out_re = np.array([p.re for p in payloads], dtype=np.int64).reshape(re.shape)
    out_im = np.array([p.im for p in payloads], dtype=np.int64).reshape(re.shape)
    return out_re, out_im, in_cycles, out_cycles


@pytest.mark.parametrize("n", [16, 64])
@pytest.mark.parametrize("inverse", [False, True])
def test_bit_exact_with_gaps_and_backpressure(n: int, inverse: bool) -> None:
    rng = np.random.default_rng(n + inverse)
    re = rng.integers(-FS, FS, (3, n))
    im = rng.integers(-FS, FS, (3, n))
    got_re, got_im, _, _ = run_fft(FFT(n, inverse=inverse), re, im, gap_prob=0.3,
                                   stall_prob=0.3, seed=n)
    exp_re, exp_im = fft_mantissas(re, im, inverse=inverse)
    assert np.array_equal(got_re, exp_re)
    assert np.array_equal(got_im, exp_im)


@pytest.mark.parametrize("n", [8, 16])
def test_bit_exact_edge_values(n: int) -> None:
    """Full-scale corners saturate inside (butterflies and twiddles) exactly as modeled."""
    rng = np.random.default_rng(7)
    re = np.concatenate([rng.choice([-FS, FS - 1], (3, n)),
                         np.full((1, n), -FS), np.full((1, n), FS - 1)])
    im = np.concatenate([rng.choice([-FS, FS - 1], (3, n)),
                         np.full((1, n), -FS), np.tile([FS - 1, -FS], (1, n // 2))])
    sat = Saturations()
    exp_re, exp_im = fft_mantissas(re, im, sat=sat)
    assert sat.total > 0
    got_re, got_im, _, _ = run_fft(FFT(n), re, im, stall_prob=0.2, seed=3)
    assert np.array_equal(got_re, exp_re)
    assert np.array_equal(got_im, exp_im)


def test_inverse_returns_input() -> None:
    """RTL forward -> block renormalization -> RTL inverse returns x (model's SQNR bound)."""
    n = 64
    rng = np.random.default_rng(11)
    lim = int(0.7 * FS)
    re = rng.integers(-lim, lim + 1, (4, n))
    im = rng.integers(-lim, lim + 1, (4, n))
    f_re, f_im, _, _ = run_fft(FFT(n), re, im)
    f_re, f_im = to_natural_order(f_re), to_natural_order(f_im)
    k = 15 - int(max(np.abs(f_re).max(), np.abs(f_im).max())).bit_length()
    b_re, b_im, _, _ = run_fft(FFT(n, inverse=True), f_re << k, f_im << k)
    back = CTensor(to_natural_order(b_re), to_natural_order(b_im), 6 - k, 16)
    assert sqnr_db(re + 1j * im, back.value()) >= 60.0


@pytest.mark.parametrize("n", [4, 8, 16, 32, 64, 256])
def test_latency_and_initiation_interval_match_formula(n: int) -> None:
    """Gapless input, always-ready output: output j leaves fft_latency(n) + j after input 0."""
    rng = np.random.default_rng(n)
    transforms = 3
    re = rng.integers(-FS, FS, (transforms, n))
    im = rng.integers(-FS, FS, (transforms, n))
    _, _, in_cycles, out_cycles = run_fft(FFT(n), re, im)
    assert np.all(np.diff(in_cycles) == FFT_II)
    expected = in_cycles[0] + fft_latency(n) + FFT_II * np.arange(transforms * n)
    assert list(out_cycles) == list(expected)


def test_drains_without_further_input() -> None:
    """A lone transform comes out completely although no further input pushes it."""
    n = 32
    rng = np.random.default_rng(2)
    re = rng.integers(-FS, FS, (1, n))
    im = rng.integers(-FS, FS, (1, n))
    got_re, _, in_cycles, out_cycles = run_fft(FFT(n), re, im, gap_prob=0.5)
    assert np.array_equal(got_re, fft_mantissas(re, im)[0])
    assert out_cycles[-1] - in_cycles[-1] < fft_latency(n) + n


def test_skid_buffer_order_and_throughput() -> None:
    dut = SkidBuffer(complex_layout(8))
    rng = random.Random(4)
    items = [{"re": rng.randint(-128, 127), "im": rng.randint(-128, 127)} for _ in range(300)]
    for gap, stall in ((0.0, 0.0), (0.4, 0.4)):
        payloads, in_cycles, cycles = run_stream_testbench(
            dut, items, len(items), gap_prob=gap, stall_prob=stall, seed=0)
        assert [{"re": p.re, "im": p.im} for p in payloads] == items
        if gap == 0.0:
            assert cycles == [c + 1 for c in in_cycles]
