"""The FFT integer model (accel/fixed/fft.py) against numpy.fft."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.fixed.core import CTensor, Saturations, sqnr_db
from accel.fixed.fft import (
    GUARD_BITS,
    bit_reverse_indices,
    fft_butterflies,
    fft_fixed,
    fft_latency,
    fft_mantissas,
    fft_multiplier_stages,
    fft_plan,
    fft_stream_cycles,
    to_natural_order,
    twiddle_table,
)

FS = 1 << 15


def random_input(rng: np.random.Generator, shape: tuple[int, ...], level: float,
                 bits: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Integer mantissas uniform in +-level of full scale."""
    lim = int(level * (1 << (bits - 1)))
    return rng.integers(-lim, lim + 1, shape), rng.integers(-lim, lim + 1, shape)


def renormalize(x: CTensor, bits: int) -> CTensor:
    """Block floating point: shift mantissas left (exactly) as far as the peak allows."""
    peak = int(max(np.abs(x.re).max(), np.abs(x.im).max()))
    k = bits - 1 - peak.bit_length()
    return CTensor(x.re << k, x.im << k, x.exp - k, bits)


@pytest.mark.parametrize("n,bound_db", [(64, 60.0), (256, 55.0)])
def test_forward_sqnr(n: int, bound_db: float) -> None:
    rng = np.random.default_rng(n)
    re, im = random_input(rng, (64, n), 0.7)
    sat = Saturations()
    y = fft_fixed(CTensor(re, im, 0, 16), natural_order=True, sat=sat)
    ref = np.fft.fft(re + 1j * im, axis=-1)
    assert y.exp == int(np.log2(n))
    assert sat.total == 0
    assert sqnr_db(ref, y.value()) >= bound_db


@pytest.mark.parametrize("n,bound_db", [(64, 60.0), (256, 55.0)])
def test_inverse_sqnr_and_round_trip(n: int, bound_db: float) -> None:
    rng = np.random.default_rng(n + 1)
    re, im = random_input(rng, (64, n), 0.7)
    x = CTensor(re, im, 0, 16)
    inv = fft_fixed(x, inverse=True, natural_order=True)
    assert inv.exp == 0
    assert sqnr_db(np.fft.ifft(re + 1j * im, axis=-1), inv.value()) >= bound_db
    # forward -> block renormalization (what the unit after the FFT does) -> inverse
    spectrum = renormalize(fft_fixed(x, natural_order=True), 16)
    back = fft_fixed(spectrum, inverse=True, natural_order=True)
    assert sqnr_db(re + 1j * im, back.value()) >= bound_db


def test_bit_reversed_order() -> None:
    n = 16
    idx = bit_reverse_indices(n)
    assert list(idx[:8]) == [0, 8, 4, 12, 2, 10, 6, 14]
    assert np.array_equal(idx[idx], np.arange(n))
    # an impulse at position 1 gives W^k in bin k; the raw output is bit-reversed
    re = np.zeros(n, dtype=np.int64)
    re[1] = 8192 * n
    re = np.clip(re, -FS, FS - 1)
    y = fft_fixed(CTensor(re, np.zeros(n, np.int64), 0, 16))
    ref = np.fft.fft(re) / n
    assert np.allclose(y.re[idx] + 1j * y.im[idx], ref, atol=2)
    assert np.array_equal(to_natural_order(y.re), y.re[idx])


def test_input_overflow_saturated_and_counted() -> None:
    n = 16
    re = np.array([40000, -40000] + [100] * (n - 2))
    im = np.array([0] * (n - 1) + [-70000])
    sat = Saturations()
    y = fft_mantissas(re, im, sat=sat, tensor="x")
    clipped = fft_mantissas(np.clip(re, -FS, FS - 1), np.clip(im, -FS, FS - 1))
    assert np.array_equal(y[0], clipped[0]) and np.array_equal(y[1], clipped[1])
    assert sat.counts[("fft", "x")] == 3


def test_butterfly_overflow_saturates_not_wraps() -> None:
    # n = 4, first stage pairs x0 and x2: (x0 - x2)/2 = 65535/2 rounds to 32768 -> 32767
    re = np.array([FS - 1, 0, -FS, 0])
    im = np.zeros(4, dtype=np.int64)
    sat = Saturations()
    y_re, y_im = fft_mantissas(re, im, guard_bits=0, sat=sat, tensor="x")
    ref = np.fft.fft(re) / 4
    nat = to_natural_order(y_re)
    assert sat.total >= 1
    assert np.all(np.abs(nat - ref) <= 1.0)  # a wrap would be off by 65536
    assert nat.max() <= FS - 1


def test_twiddle_overflow_saturates_not_wraps() -> None:
    # a full-scale corner value rotated by 45 degrees exceeds the component range
    n = 8
    rng = np.random.default_rng(3)
    re = rng.choice([-FS, FS - 1], (200, n))
    im = rng.choice([-FS, FS - 1], (200, n))
    sat = Saturations()
    y = fft_fixed(CTensor(re, im, 0, 16), natural_order=True, sat=sat, tensor="corner")
    assert sat.counts.get(("fft", "corner"), 0) > 0
    ref = np.fft.fft(re + 1j * im, axis=-1) / n
    err = np.abs(y.re + 1j * y.im - ref)
    # saturation loses at most the overshoot (< 0.42 of full scale); a wrap would lose > 1
    assert err.max() < 0.42 * FS * np.sqrt(2)
    assert y.re.max() <= FS - 1 and y.re.min() >= -FS


def error_bound_lsb(n: int, data_bits: int, twiddle_bits: int, guard_bits: int) -> float:
    """Worst-case |complex error| of the model, in output LSBs, for unsaturated inputs.

    Internal LSB = 2**-guard_bits output LSB.  Each butterfly stage averages two errors
    and adds a rounding of at most 1/2 per component (sqrt(2)/2 complex); each twiddle
    stage multiplies the error by |w_q| <= 1 + 2**-(T-2), adds the same rounding, plus the
    twiddle quantization |x| |w_q - w| <= sqrt(2) 2**(w-1) * sqrt(2)/2 * 2**-(T-2).
    The output rounding adds sqrt(2)/2 output LSB.
    """
    w = data_bits + guard_bits
    half = np.sqrt(2) / 2
    grow = 1 + 2.0 ** -(twiddle_bits - 2)
    err = 0.0
    for stage in fft_plan(n):
        if stage.kind == "twiddle":
            err = err * grow + half + 2.0 ** (w - 1) * 2.0 ** -(twiddle_bits - 2) * grow
        else:
            err = err + half
    return err * 2.0 ** -guard_bits + half


@settings(max_examples=60, deadline=None)
@given(p=st.integers(2, 10), data_bits=st.integers(8, 24), twiddle_bits=st.integers(8, 24),
       guard_bits=st.integers(0, 2), inverse=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_error_bound_from_widths(p: int, data_bits: int, twiddle_bits: int, guard_bits: int,
                                 inverse: bool, seed: int) -> None:
    n = 1 << p
    rng = np.random.default_rng(seed)
    # half of full scale: no butterfly or twiddle stage can saturate
    re, im = random_input(rng, (4, n), 0.5, data_bits)
    sat = Saturations()
    y_re, y_im = fft_mantissas(re, im, data_bits=data_bits, twiddle_bits=twiddle_bits,
                               guard_bits=guard_bits, inverse=inverse, sat=sat)
    x = re + 1j * im
    ref = np.fft.ifft(x, axis=-1) if inverse else np.fft.fft(x, axis=-1) / n
    err = np.abs(to_natural_order(y_re + 1j * y_im) - ref)
    assert sat.total == 0
    assert err.max() <= error_bound_lsb(n, data_bits, twiddle_bits, guard_bits)


def test_twiddle_table_fits_width() -> None:
    for m in (8, 64, 1024):
        for bits in (10, 18):
            c, d, s = twiddle_table(m, bits)
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            for arr in (c, d, s):
                assert arr.min() >= lo and arr.max() <= hi
            assert c[0] == 1 << (bits - 2) and d[0] == 0


def test_plan_and_timing_formulas() -> None:
    assert [s.kind for s in fft_plan(4)] == ["bf1", "bf2"]
    assert [s.kind for s in fft_plan(8)] == ["bf1", "bf2", "twiddle", "bf1"]
    assert [s.delay for s in fft_plan(64) if s.kind != "twiddle"] == [32, 16, 8, 4, 2, 1]
    assert fft_multiplier_stages(64) == 2 and fft_multiplier_stages(256) == 3
    assert fft_butterflies(64) == 32 * 6
    for n in (4, 16, 64, 1024):
        # the delay lines alone hold n - 1 samples
        assert fft_latency(n) > n - 1
        assert fft_stream_cycles(n, 3) == fft_latency(n) + 3 * n
    with pytest.raises(ValueError):
        fft_plan(2048)
    with pytest.raises(ValueError):
        fft_plan(48)


def test_batch_shapes_and_guard_default() -> None:
    rng = np.random.default_rng(5)
    re, im = random_input(rng, (3, 2, 32), 0.5)
    y = fft_mantissas(re, im)
    y0 = fft_mantissas(re[1, 1], im[1, 1])
    assert y[0].shape == (3, 2, 32)
    assert np.array_equal(y[0][1, 1], y0[0]) and np.array_equal(y[1][1, 1], y0[1])
    assert GUARD_BITS == 1
    # guard bits are internal only: zero guard bits is a different, valid model
    assert not np.array_equal(fft_mantissas(re, im, guard_bits=0)[0], y[0])
