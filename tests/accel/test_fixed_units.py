"""Integer models of the per-bin units against float references of the same operations.

References are independent of the models: numpy einsum and plain loops for the complex
GEMM, ``accel.network.pwl_apply`` for the activation, an index-loop spectral pooling on
full spectra (checked against ``scipy.signal.resample`` and the lead's
``accel.spectral``) for crop/pad, float SGD for the update.  Error bounds follow from
the widths: one half-up rounding is at most half an LSB per real component.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.config import ActLayer
from accel.fixed.act import ACT_LATENCY, PwlTable, act_cycles, pwl_backward, pwl_fixed_table, pwl_forward, pwl_segment
from accel.fixed.core import CTensor, Saturations, int_range
from accel.fixed.crop import (
    CROP_LATENCY,
    crop_half,
    crop_latency_cycles,
    crop_pass_cycles,
    crop_scale,
    crop_skipped,
    pad_half,
)
from accel.fixed.mac import (
    CMAC_LATENCY,
    cmac_gemm,
    cmac_stream_cycles,
    cmac_tile_cycles,
    cmac_tiles,
    output_shift,
    tile_operands,
)
from accel.fixed.update import momentum_exponent, sgd_format, sgd_step, sgd_step_complex
from accel.network import pwl_apply, pwl_table

SETTINGS = settings(max_examples=40, deadline=None)


def rand_ct(rng: np.random.Generator, shape, bits: int, exp: int, extremes: bool = False) -> CTensor:
    lo, hi = int_range(bits)
    if extremes:
        return CTensor(rng.choice([lo, hi], shape), rng.choice([lo, hi], shape), exp, bits)
    return CTensor(rng.integers(lo, hi + 1, shape), rng.integers(lo, hi + 1, shape), exp, bits)


# --------------------------------------------------------------------------- complex MAC

def loop_gemm(a: CTensor, b: CTensor, conj_b: bool, acc_bits: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Plain-Python saturating accumulation in reduction order: (acc re, acc im, components
    whose accumulator clamped at least once)."""
    lo, hi = int_range(acc_bits)
    f_, m_, k_ = a.shape
    n_ = b.shape[-1]
    re = np.zeros((f_, m_, n_), np.int64)
    im = np.zeros_like(re)
    hits = 0
    for f in range(f_):
        for i in range(m_):
            for j in range(n_):
                sr = si = 0
                hr = hi_ = False
                for k in range(k_):
                    x = complex(int(a.re[f, i, k]), int(a.im[f, i, k]))
                    y = complex(int(b.re[f, k, j]), int(b.im[f, k, j]))
                    p = x * (y.conjugate() if conj_b else y)
                    sr, si = sr + int(p.real), si + int(p.imag)
                    hr |= not lo <= sr <= hi
                    hi_ |= not lo <= si <= hi
                    sr, si = min(max(sr, lo), hi), min(max(si, lo), hi)
                re[f, i, j], im[f, i, j] = sr, si
                hits += hr + hi_
    return re, im, hits


@SETTINGS
@given(f=st.integers(1, 3), mm=st.integers(1, 4), k=st.integers(1, 9), nn=st.integers(1, 4),
       a_bits=st.integers(4, 16), b_bits=st.integers(4, 16), out_bits=st.integers(4, 18),
       conj=st.booleans(), seed=st.integers(0, 2 ** 31))
def test_cmac_vs_einsum_within_half_lsb(f, mm, k, nn, a_bits, b_bits, out_bits, conj, seed):
    """With the default shift nothing saturates and the only error is the output rounding."""
    rng = np.random.default_rng(seed)
    a = rand_ct(rng, (f, mm, k), a_bits, -a_bits)
    b = rand_ct(rng, (f, k, nn), b_bits, 2)
    acc_bits = min(48, a_bits + b_bits + 8)
    out_bits = min(out_bits, acc_bits)
    shift = output_shift(k, a_bits, b_bits, out_bits)
    sat = Saturations()
    c = cmac_gemm(a, b, conj, acc_bits, out_bits, shift, sat)
    bv = np.conj(b.value()) if conj else b.value()
    ref = np.einsum("fmk,fkn->fmn", a.value(), bv)
    lsb = 2.0 ** c.exp
    assert sat.total == 0
    assert np.max(np.abs(c.value().real - ref.real), initial=0) <= 0.5 * lsb
    assert np.max(np.abs(c.value().imag - ref.imag), initial=0) <= 0.5 * lsb
    assert c.exp == a.exp + b.exp + shift


@SETTINGS
@given(k=st.integers(1, 12), bits=st.integers(4, 12), extra=st.integers(1, 4), shift=st.integers(0, 6),
       conj=st.booleans(), extremes=st.booleans(), seed=st.integers(0, 2 ** 31))
def test_cmac_saturating_accumulator_vs_loop(k, bits, extra, shift, conj, extremes, seed):
    """Narrow accumulators: saturation at every add, in reduction order, counted."""
    rng = np.random.default_rng(seed)
    a = rand_ct(rng, (2, 2, k), bits, 0, extremes)
    b = rand_ct(rng, (2, k, 3), bits, 0, extremes)
    acc_bits = 2 * bits + extra
    sat = Saturations()
    c = cmac_gemm(a, b, conj, acc_bits, acc_bits, shift, sat)
    re, im, hits = loop_gemm(a, b, conj, acc_bits)
    half = (1 << shift) >> 1
    lo, hi = int_range(acc_bits)
    exp_re = np.clip((re + half) >> shift, lo, hi)
    exp_im = np.clip((im + half) >> shift, lo, hi)
    np.testing.assert_array_equal(c.re, exp_re)
    np.testing.assert_array_equal(c.im, exp_im)
    assert sat.counts.get(("cmac", "acc"), 0) == hits


def test_cmac_full_scale_default_shift_never_saturates():
    for k in (1, 2, 3, 8, 17):
        lo, _ = int_range(16)
        # (lo + j lo) * conj(lo - j lo)... the worst component magnitude is |lo|^2 * 2.
        a = CTensor(np.full((1, 1, k), lo), np.full((1, 1, k), lo), 0, 16)
        b = CTensor(np.full((1, k, 1), lo), np.full((1, k, 1), -lo - 1), 0, 16)
        for conj in (False, True):
            sat = Saturations()
            cmac_gemm(a, b, conj, 40, 16, output_shift(k, 16, 16, 16), sat)
            assert sat.total == 0


def test_cmac_rejects_bad_widths_and_shapes():
    a = CTensor(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), 0, 16)
    b = CTensor(np.zeros((1, 3, 2)), np.zeros((1, 3, 2)), 0, 16)
    with pytest.raises(ValueError, match="acc_bits"):
        cmac_gemm(a, b, False, 32, 16, 0)
    with pytest.raises(ValueError, match="shift"):
        cmac_gemm(a, b, False, 40, 16, 40)
    with pytest.raises(ValueError, match="shapes"):
        cmac_gemm(a, a, False, 40, 16, 0)


def test_cmac_tiles_cover_every_output_once():
    rng = np.random.default_rng(0)
    a = rand_ct(rng, (2, 5, 3), 8, 0)
    b = rand_ct(rng, (2, 3, 7), 8, 0)
    rows, cols = 2, 3
    tiles = cmac_tiles(2, 5, 7, 3, rows, cols, True, 0)
    assert len(tiles) == 2 * 3 * 3
    full = cmac_gemm(a, b, True, 40, 24, 0)
    seen = np.zeros((2, 5, 7), int)
    for t in tiles:
        a_re, a_im, b_re, b_im = tile_operands(a, b, t, rows, cols)
        ta = CTensor(a_re.T[None], a_im.T[None], 0, 8)
        tb = CTensor(b_re[None], b_im[None], 0, 8)
        part = cmac_gemm(ta, tb, t.conj_b, 40, 24, t.shift)
        r, c = min(rows, 5 - t.m0), min(cols, 7 - t.n0)
        np.testing.assert_array_equal(part.re[0, :r, :c], full.re[t.bin, t.m0:t.m0 + r, t.n0:t.n0 + c])
        np.testing.assert_array_equal(part.im[0, :r, :c], full.im[t.bin, t.m0:t.m0 + r, t.n0:t.n0 + c])
        seen[t.bin, t.m0:t.m0 + r, t.n0:t.n0 + c] += 1
    assert np.all(seen == 1)


def test_timing_formulas():
    assert cmac_tile_cycles(1) == 1 + CMAC_LATENCY
    assert cmac_stream_cycles(4, 8) == 32 + CMAC_LATENCY
    assert cmac_stream_cycles(0, 8) == 0
    assert act_cycles(9, 4) == 3 + ACT_LATENCY
    assert act_cycles(0, 4) == 0
    assert crop_pass_cycles(8, 4) == 8 * 5 + 1
    assert crop_latency_cycles(8, 2) == 7 * 5 + 2 + CROP_LATENCY


# --------------------------------------------------------------------------- PWL activation

@SETTINGS
@given(segments=st.integers(2, 12), knee=st.floats(0.25, 4.0), leak=st.floats(0.0, 0.5),
       data_bits=st.integers(8, 18), exp_offset=st.integers(-3, 2), seed=st.integers(0, 2 ** 31))
def test_pwl_forward_backward_vs_float(segments, knee, leak, data_bits, exp_offset, seed):
    """Segments are exact (ceil'd breakpoints); the error is slope quantization (<= 2**-15
    |x|), intercept quantization and output rounding (half an LSB each)."""
    layer = ActLayer(segments=segments, knee=knee, leak=leak)
    bp, sl, ic = pwl_table(layer)
    exp = int(np.ceil(np.log2(3 * knee))) - (data_bits - 1) + exp_offset
    table = pwl_fixed_table(bp, sl, ic, exp, data_bits)
    rng = np.random.default_rng(seed)
    x = rand_ct(rng, (64,), data_bits, exp)
    x.re[:len(table.breakpoints)] = np.clip(table.breakpoints, *int_range(data_bits))
    g = rand_ct(rng, (64,), data_bits, exp - 7)
    lsb = 2.0 ** exp
    xv = x.value()
    sat = Saturations()
    y = pwl_forward(x, table, sat)
    lo, hi = int_range(data_bits)
    for part, xs, ys in (("re", xv.real, y.value().real), ("im", xv.imag, y.value().imag)):
        ref, slopes = pwl_apply(xs, bp, sl, ic)
        ref_c = np.clip(ref, lo * lsb, hi * lsb)  # saturation moves values toward the range
        bound = np.abs(xs) * 2.0 ** -15 + lsb
        assert np.all(np.abs(ys - ref_c) <= bound + 1e-12)
        # segment indices agree exactly with the float table on the quantized inputs
        np.testing.assert_array_equal(pwl_segment(getattr(x, part), table),
                                      np.searchsorted(bp, xs, side="right"))
    gb = pwl_backward(x, g, table)
    glsb = 2.0 ** g.exp
    for xs, gs, gbs in ((xv.real, g.value().real, gb.value().real), (xv.imag, g.value().imag, gb.value().imag)):
        _, slopes = pwl_apply(xs, bp, sl, ic)
        assert np.all(np.abs(gbs - slopes * gs) <= np.abs(gs) * 2.0 ** -15 + 0.5 * glsb + 1e-15)


def test_pwl_table_formats_and_saturation():
    bp, sl, ic = np.array([-1.0, 0.3]), np.array([0.5, 1.25, -3.0]), np.array([0.0, 0.1, 7.0])
    sat = Saturations()
    t = pwl_fixed_table(bp, sl, ic, -10, 12, sat=sat)
    assert list(t.breakpoints) == [-1024, int(np.ceil(0.3 * 1024))]
    assert list(t.slopes) == [8192, 20480, -32768]  # -3.0 saturates to -2.0 in Q2.14
    assert t.intercepts[2] == 2047  # 7.0 at 2**-10 saturates to 12 bits
    assert sat.counts[("act", "table")] == 2
    assert t.words() == list(t.breakpoints) + list(t.slopes) + list(t.intercepts)
    with pytest.raises(ValueError, match="non-decreasing"):
        pwl_fixed_table(np.array([1.0, 0.0]), sl, ic, 0, 12)


def test_pwl_forward_saturation_counted():
    table = PwlTable(np.array([0]), np.array([-(1 << 15), 1 << 14]), np.array([0, 0]), 8)
    x = CTensor(np.array([-128, 127, 5]), np.array([0, 0, 0]), 0, 8)
    sat = Saturations()
    y = pwl_forward(x, table, sat)
    assert list(y.re) == [127, 127, 5]  # -2 * -128 = 256 clamps
    assert sat.counts[("act", "out")] == 1


# --------------------------------------------------------------------------- crop / pad

def ref_pool_full(X: np.ndarray, m: int) -> np.ndarray:
    """Spectral pooling of one full n x n spectrum by index loops (DESIGN.md definition)."""
    n = X.shape[-1]
    Y = np.zeros((m, m), complex)
    for u in range(n):
        ku = u if u < n // 2 else u - n
        if abs(ku) > m // 2:
            continue
        for v in range(n):
            kv = v if v < n // 2 else v - n
            if abs(kv) > m // 2:
                continue
            Y[ku % m, kv % m] += X[u, v]  # +-m/2 both land on m/2: the fold
    return Y * (m / n) ** 2


def ref_pool_adjoint_full(Y: np.ndarray, n: int) -> np.ndarray:
    m = Y.shape[-1]
    X = np.zeros((n, n), complex)
    for u in range(n):
        ku = u if u < n // 2 else u - n
        for v in range(n):
            kv = v if v < n // 2 else v - n
            if abs(ku) <= m // 2 and abs(kv) <= m // 2:
                X[u, v] = Y[ku % m, kv % m]
    return X * (m / n) ** 2


@pytest.mark.parametrize("n,m", [(8, 4), (8, 6), (16, 6), (16, 2), (12, 8)])
def test_reference_pool_is_resample_and_matches_spectral(n, m):
    from accel import spectral

    rng = np.random.default_rng(n + m)
    x = rng.standard_normal((n, n))
    y = np.fft.ifft2(ref_pool_full(np.fft.fft2(x), m))
    r = scipy.signal.resample(scipy.signal.resample(x, m, axis=0), m, axis=1)
    np.testing.assert_allclose(y.imag, 0, atol=1e-12)
    np.testing.assert_allclose(y.real, r, atol=1e-12)
    X = np.fft.fft2(x)
    np.testing.assert_allclose(spectral.spectral_pool(X, m), ref_pool_full(X, m), atol=1e-12)
    G = rng.standard_normal((m, m)) + 1j * rng.standard_normal((m, m))
    np.testing.assert_allclose(spectral.spectral_pool_adjoint(G, n), ref_pool_adjoint_full(G, n),
                               atol=1e-12)
    # adjoint identity <P x, g> = <x, P^T g>
    Z = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    lhs = np.vdot(G, ref_pool_full(Z, m))
    rhs = np.vdot(ref_pool_adjoint_full(G, n), Z)
    assert abs(lhs - rhs) < 1e-9 * max(1, abs(lhs))


@SETTINGS
@given(n2=st.integers(2, 8), m2=st.integers(1, 7), bits=st.integers(8, 16), batch=st.integers(1, 2),
       seed=st.integers(0, 2 ** 31))
def test_crop_half_vs_float_reference(n2, m2, bits, batch, seed):
    n, m = 2 * n2, 2 * min(m2, n2 - 1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, n, n))
    X = np.fft.fft2(x)
    H = CTensor.from_complex(X[..., : n // 2 + 1], bits, headroom_bits=0)
    hv = H.value()
    full = np.stack([ref_pool_full(_hermitian_full(hv[i], n), m) for i in range(batch)])
    ref = full[..., : m // 2 + 1]
    # four-way folds may exceed full scale: two guard bits keep this test saturation-free
    sat = Saturations()
    Y = crop_half(H, m, out_shift=2, sat=sat)
    assert sat.total == 0
    sc = crop_scale(n, m)
    lsb = 2.0 ** Y.exp
    # exact when (m/n)**2 is a power of two, else the constant's error on a <= 4-term sum
    bound = 0.5 * lsb + (0 if not sc.multiply else 4 * np.max(np.abs(hv)) * (m / n) ** 2 * 2.0 ** -17)
    assert np.max(np.abs(Y.value() - ref)) <= bound * np.sqrt(2) + 1e-12
    assert Y.value().shape == (batch, m, m // 2 + 1)


def _hermitian_full(H: np.ndarray, n: int) -> np.ndarray:
    """Full n x n spectrum from a Hermitian half spectrum, by the definition X[-u,-v] = conj X[u,v]."""
    X = np.zeros((n, n), complex)
    for u in range(n):
        for v in range(n):
            if v <= n // 2:
                X[u, v] = H[u, v]
            else:
                X[u, v] = np.conj(H[(-u) % n, (-v) % n])
    return X


@pytest.mark.parametrize("n,m", [(8, 4), (16, 6), (12, 8), (8, 2)])
def test_crop_pad_match_spectral_half(n, m):
    from accel import spectral

    rng = np.random.default_rng(3)
    X = np.fft.rfft2(rng.standard_normal((2, n, n)))
    H = CTensor.from_complex(X, 16, headroom_bits=2)
    Y = crop_half(H, m)
    np.testing.assert_allclose(Y.value(), spectral.spectral_pool_half(H.value(), m),
                               atol=2.0 ** Y.exp * (1 if crop_scale(n, m).multiply else 1e-9))
    G = CTensor.from_complex(np.fft.rfft2(rng.standard_normal((2, m, m))), 16)
    P = pad_half(G, n)
    ref = spectral.spectral_pool_adjoint_half(G.value(), n)
    np.testing.assert_allclose(P.value(), ref, atol=2.0 ** P.exp * (1 if crop_scale(n, m).multiply else 1e-9))
    # and the independent full-spectrum adjoint restricted to the stored half
    for b in range(2):
        full = ref_pool_adjoint_full(_hermitian_full(G.value()[b], m), n)
        np.testing.assert_allclose(P.value()[b], full[:, : n // 2 + 1],
                                   atol=2.0 ** P.exp * (1 if crop_scale(n, m).multiply else 1e-9))


def test_crop_skipped_and_saturation():
    assert crop_skipped(8, 4) == 8 * 5 - 5 * 3
    lo, hi = int_range(8)
    H = CTensor(np.full((8, 5), hi), np.zeros((8, 5)), 0, 8)
    sat = Saturations()
    Y = crop_half(H, 4, sat=sat)
    # the Nyquist row (3 bins) and the Nyquist column of the other 3 rows reach 2x, the
    # corner 4x full scale: 6 clamped real parts, counted
    assert Y.re[2, 2] == hi and Y.re[0, 2] == hi and Y.re[2, 0] == hi and Y.re[1, 1] == hi
    assert sat.counts[("crop", "out")] == 6
    with pytest.raises(ValueError):
        crop_half(H, 8)


# --------------------------------------------------------------------------- SGD update

@SETTINGS
@given(lr=st.floats(1e-4, 0.5), mu=st.floats(0.0, 0.99), wb=st.integers(8, 16),
       gb=st.integers(8, 16), extra=st.integers(0, 10), g_exp=st.integers(-24, -4),
       w_exp=st.integers(-16, -6), seed=st.integers(0, 2 ** 31))
def test_sgd_step_vs_float(lr, mu, wb, gb, extra, g_exp, w_exp, seed):
    """v' is within one LSB of mu v + g (two roundings); w' within half an LSB of
    w - lr v' (one rounding), unless saturated."""
    mb = gb + extra
    v_exp = momentum_exponent(g_exp, gb, mb, mu)
    fmt = sgd_format(lr, mu, wb, w_exp, mb, v_exp)
    assert abs(fmt.lr - lr) <= lr * 2.0 ** -14 and abs(fmt.mu - mu) <= 2.0 ** -17
    rng = np.random.default_rng(seed)
    shape = (3, 5)
    w = rng.integers(*int_range(wb), shape)
    lo_v, hi_v = int_range(mb)
    v = rng.integers(lo_v // 4, hi_v // 4, shape)
    g = rng.integers(*int_range(gb), shape)
    sat = Saturations()
    w2, v2 = sgd_step(w, v, g, g_exp, fmt, sat)
    vf = fmt.mu * v * 2.0 ** v_exp + g * 2.0 ** g_exp
    ok_v = (v2 > lo_v) & (v2 < hi_v)
    assert np.all(np.abs(v2 * 2.0 ** v_exp - vf)[ok_v] <= 2.0 ** v_exp)
    wf = w * 2.0 ** w_exp - fmt.lr * v2 * 2.0 ** v_exp
    lo_w, hi_w = int_range(wb)
    ok_w = (w2 > lo_w) & (w2 < hi_w)
    assert np.all(np.abs(w2 * 2.0 ** w_exp - wf)[ok_w] <= 0.5 * 2.0 ** w_exp + 1e-18)
    n_sat = np.count_nonzero(~ok_v & ((vf > hi_v * 2.0 ** v_exp) | (vf < lo_v * 2.0 ** v_exp)))
    assert sat.counts.get(("update", "momentum"), 0) >= n_sat


def test_sgd_power_of_two_lr_is_a_shift_and_saturation_counted():
    fmt = sgd_format(2.0 ** -6, 0.5, 8, -7, 12, -12)
    assert fmt.lr_m == 1 and fmt.lr_exp == -6 and fmt.mu_m == 1 << 15
    sat = Saturations()
    w, v = sgd_step(np.array([127, -128, 0]), np.array([0, 0, 2047]), np.array([-(1 << 15), 1 << 15, 0]),
                    -20, fmt, sat)
    # g aligned: -2**15 * 2**-20 / 2**-12 = -128; v' = -128, 128, 1024 (=2047/2 rounded)
    assert list(v) == [-128, 128, 1024]
    # step = v' * 2**-6 * 2**-12 / 2**-7 = v' / 2**11 -> rounds to 0, 0, 1 (0.5 rounds up)
    assert list(w) == [127, -128, -1]
    assert sat.total == 0
    w, v = sgd_step(np.array([127]), np.array([0]), np.array([1 << 40]), -12, fmt, sat)
    assert v[0] == 2047 and sat.counts[("update", "momentum")] == 1
    # huge lr: the step saturates the weight, with an enormous left shift kept in int64
    big = sgd_format(2.0 ** 20, 0.0, 8, -7, 12, -12)
    w, v = sgd_step(np.array([0]), np.array([0]), np.array([2047]), -12, big, sat)
    assert w[0] == -128 and sat.counts[("update", "weight")] == 1


def test_sgd_complex_matches_real_parts():
    rng = np.random.default_rng(4)
    fmt = sgd_format(0.01, 0.9, 16, -14, 24, momentum_exponent(-18, 16, 24, 0.9))
    w = rand_ct(rng, (4, 3), 16, fmt.w_exp)
    v = rand_ct(rng, (4, 3), 20, fmt.v_exp)
    g = rand_ct(rng, (4, 3), 16, -18)
    w2, v2 = sgd_step_complex(w, v, g, fmt)
    wr, vr = sgd_step(w.re, v.re, g.re, g.exp, fmt)
    wi, vi = sgd_step(w.im, v.im, g.im, g.exp, fmt)
    np.testing.assert_array_equal(w2.re, wr)
    np.testing.assert_array_equal(w2.im, wi)
    np.testing.assert_array_equal(v2.re, vr)
    np.testing.assert_array_equal(v2.im, vi)
    with pytest.raises(ValueError, match="exponents"):
        sgd_step_complex(CTensor(w.re, w.im, 0, 16), v, g, fmt)
