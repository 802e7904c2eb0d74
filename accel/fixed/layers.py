"""The layer operations of the fixed-point network, as the hardware units do them.

Block-floating-point tensor helpers (:func:`normalize`, plane exponents), the GEMM shift
plan with delayed scaling (:class:`ShiftPlan`), and one function per layer operation:
per-bin conv GEMMs with the bias epilogue, sinc interpolation and its adjoint, 2-D FFTs
of planes, zero padding, the bias gradient and the Hermitian projection.
:class:`accel.fixed.net.FixedNet` composes them into a training iteration, and
``sim/values.py`` calls the same functions per descriptor.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil, log2

import numpy as np

from accel.config import AcceleratorConfig
from accel.layout import crop_mask, half_cols
from accel.spectral import sinc_matrix

from .core import CTensor, Saturations, round_shift, saturate
from .fft import fft_fixed
from .fft2d import block_normalize, column_count
from .mac import cmac_gemm, output_shift

# --------------------------------------------------------------------------- tensor helpers

def normalize(t: CTensor) -> CTensor:
    """Shift mantissas left until the largest magnitude uses the full width (exact).

    This is what a reader does with the maximum its producer tracked: a left shift by the
    unused headroom, with the exponent lowered to match (the 2-D FFT does the same
    between its passes).
    """
    return block_normalize(t)


def real_tensor(x: np.ndarray, exp: int, bits: int) -> CTensor:
    """A real mantissa array as a CTensor with zero imaginary part."""
    x = np.asarray(x, np.int64)
    return CTensor(x, np.zeros_like(x), exp, bits)


def half_to_full(t: CTensor, n: int) -> CTensor:
    """Full Hermitian n x n mantissas from a half spectrum (exact: copies and negations)."""
    h = half_cols(n)
    if t.shape[-2] != n or t.shape[-1] != h:
        raise ValueError(f"half spectrum of size {n} must be (..., {n}, {h}), got {t.shape}")
    cols = np.arange(h, n)
    rows = (-np.arange(n)) % n
    re = np.concatenate([t.re, t.re[..., rows, :][..., n - cols]], axis=-1)
    im = np.concatenate([t.im, -t.im[..., rows, :][..., n - cols]], axis=-1)
    return CTensor(re, im, t.exp, t.bits)


def to_bins(t: CTensor) -> CTensor:
    """(B, C, n, h) -> (n*h, B, C): bins as the GEMM batch axis."""
    B, C = t.shape[:2]

    def f(a: np.ndarray) -> np.ndarray:
        return np.moveaxis(a.reshape(B, C, -1), -1, 0)

    return CTensor(f(t.re), f(t.im), t.exp, t.bits)


def from_bins(t: CTensor, n: int, h: int) -> CTensor:
    """(n*h, B, C) -> (B, C, n, h)."""
    def f(a: np.ndarray) -> np.ndarray:
        return np.moveaxis(a, 0, -1).reshape(a.shape[1], a.shape[2], n, h)

    return CTensor(f(t.re), f(t.im), t.exp, t.bits)


def swap_last(t: CTensor) -> CTensor:
    """Transpose the last two axes."""
    return CTensor(np.swapaxes(t.re, -1, -2), np.swapaxes(t.im, -1, -2), t.exp, t.bits)


@dataclass(frozen=True)
class Widths:
    """The accelerator's number formats as the network uses them."""
    data: int
    weight: int
    grad: int
    acc: int
    twiddle: int
    rounding: str

    @classmethod
    def of(cls, accel: AcceleratorConfig) -> Widths:
        f = accel.formats
        return cls(f.data_bits, f.weight_bits, f.grad_bits, accel.mac_array.acc_bits, f.twiddle_bits, f.rounding)


class ShiftPlan:
    """Per-GEMM accumulator -> output shifts, with delayed scaling.

    The MAC array cannot look ahead at the accumulators it is about to round, so every
    GEMM (keyed ``layer.op``) uses a shift set before it runs: the worst case for its
    reduction length (``output_shift``) until it has been observed, then the shift that
    would have left ``MARGIN_BITS`` of headroom above the largest output magnitude it
    produced last time (the output stage tracks that maximum).  ``update()`` applies the
    observations; a GEMM that saturated gets more headroom.  Deterministic: the plan is
    part of the network state.
    """

    MARGIN_BITS = 1

    def __init__(self) -> None:
        self.shifts: dict[str, int] = {}
        self._free: dict[str, int] = {}
        self._used: dict[str, int] = {}

    def shift(self, key: str, k: int, a_bits: int, b_bits: int, out_bits: int) -> int:
        worst = output_shift(k, a_bits, b_bits, out_bits)
        return min(self.shifts.get(key, worst), worst)

    def observe(self, key: str, out: CTensor, shift: int, saturated: bool) -> None:
        """Record the unused headroom of one GEMM's output (-1 if it saturated)."""
        peak = int(max(np.max(np.abs(out.re), initial=0), np.max(np.abs(out.im), initial=0)))
        free = -1 if saturated else out.bits - 1 - peak.bit_length()
        key_free = min(self._free.get(key, free), free)
        self._free[key] = key_free
        self._used[key] = shift

    def update(self) -> None:
        """Next iteration's shifts from this iteration's observations."""
        for key, free in self._free.items():
            self.shifts[key] = max(0, self._used[key] - free + self.MARGIN_BITS)
        self._free.clear()


@dataclass
class Ctx:
    """What every phase function needs: widths, the saturation ledger, the shift plan."""
    w: Widths
    sat: Saturations
    plan: ShiftPlan


def gemm(a: CTensor, b: CTensor, conj_b: bool, out_bits: int, c: Ctx, key: str,
         keep: np.ndarray | None = None,
         epilogue: Callable[[CTensor, Saturations], CTensor] | None = None) -> CTensor:
    """One per-bin GEMM on the MAC array with the plan's shift, normalized for its reader.

    ``keep`` (a boolean array broadcasting against the output) marks the outputs the
    hardware computes; the others are left zero and do not count for the maximum.
    ``epilogue`` is what the array's output stage does to the result before it is
    written (the bias add), at the GEMM's own output exponent: that exponent is known
    when the GEMM starts (operand exponents + shift), while the normalized one is known
    only once the whole tensor is written.
    """
    shift = c.plan.shift(key, a.shape[-1], a.bits, b.bits, out_bits)
    local = Saturations()
    out = cmac_gemm(a, b, conj_b, c.w.acc, out_bits, shift, local, c.w.rounding)
    out = masked(out, keep)
    if epilogue is not None:
        out = epilogue(out, local)
    c.plan.observe(key, out, shift, local.total > 0)
    c.sat.merge(local)
    return normalize(out)


def masked(t: CTensor, keep: np.ndarray | None) -> CTensor:
    """Zero the elements outside ``keep`` (the ones hardware does not compute)."""
    if keep is None:
        return t
    return CTensor(np.where(keep, t.re, 0), np.where(keep, t.im, 0), t.exp, t.bits)


def quantized_matrix(s: np.ndarray, bits: int) -> CTensor:
    """A constant complex matrix (sinc interpolation) as ``bits``-bit mantissas."""
    return CTensor.from_complex(s, bits)


# --------------------------------------------------------------------------- layer phases

def sinc_interp_fixed(v: CTensor, N: int, k: int, out_bits: int, c: Ctx, key: str,
                      keep: np.ndarray | None = None) -> CTensor:
    """``S V S^T`` on the MAC array: half (..., k, k/2+1) -> half (..., N, N/2+1), only the
    bins in ``keep`` (N, N/2+1) if given."""
    lead = v.shape[:-2]
    S = quantized_matrix(sinc_matrix(N, k), c.w.weight)
    full = half_to_full(v, k)
    F = int(np.prod(lead)) if lead else 1
    vf = CTensor(full.re.reshape(F, k, k), full.im.reshape(F, k, k), full.exp, full.bits)
    s_b = CTensor(np.broadcast_to(S.re, (F, N, k)), np.broadcast_to(S.im, (F, N, k)), S.exp, S.bits)
    rows = None if keep is None else np.asarray(keep.any(axis=-1))[None, :, None]   # the rows W is needed on
    t = gemm(s_b, vf, False, out_bits, c, f"{key}.sv", rows)        # (F, N, k) = S V
    h = half_cols(N)
    st = swap_last(S[:h])                                            # (k, h) = S^T, half columns
    st_b = CTensor(np.broadcast_to(st.re, (F, k, h)), np.broadcast_to(st.im, (F, k, h)), st.exp, st.bits)
    out = gemm(t, st_b, False, out_bits, c, f"{key}.svst", keep)     # (F, N, h) = S V S^T
    return CTensor(out.re.reshape(lead + (N, h)), out.im.reshape(lead + (N, h)), out.exp, out.bits)


def sinc_adjoint_fixed(g: CTensor, k: int, out_bits: int, c: Ctx, key: str) -> CTensor:
    """``S^H G conj(S)`` on the MAC array: half (..., N, N/2+1) -> half (..., k, k/2+1)."""
    N = g.shape[-2]
    lead = g.shape[:-2]
    S = quantized_matrix(sinc_matrix(N, k), c.w.weight)
    sh = CTensor(S.re.T, -S.im.T, S.exp, S.bits)                     # S^H, exact
    full = half_to_full(g, N)
    F = int(np.prod(lead)) if lead else 1
    gf = CTensor(full.re.reshape(F, N, N), full.im.reshape(F, N, N), full.exp, full.bits)
    sh_b = CTensor(np.broadcast_to(sh.re, (F, k, N)), np.broadcast_to(sh.im, (F, k, N)), sh.exp, sh.bits)
    u = gemm(sh_b, gf, False, out_bits, c, f"{key}.shg")            # (F, k, N) = S^H G
    s_b = CTensor(np.broadcast_to(S.re, (F, N, k)), np.broadcast_to(S.im, (F, N, k)), S.exp, S.bits)
    out = gemm(u, s_b, True, out_bits, c, f"{key}.shgs")             # (F, k, k) = S^H G conj(S)
    h = half_cols(k)
    return CTensor(out.re.reshape(lead + (k, k))[..., :h], out.im.reshape(lead + (k, k))[..., :h],
                   out.exp, out.bits)


# --------------------------------------------------------------------------- 2-D FFT engines

def plane_shifts(t: CTensor) -> np.ndarray:
    """Per plane (the last two axes), the left shift :func:`block_normalize` would apply to
    that plane alone: the headroom its largest magnitude leaves (0 for an all-zero plane)."""
    peak = np.maximum(np.abs(t.re).max(axis=(-2, -1), initial=0), np.abs(t.im).max(axis=(-2, -1), initial=0))
    length = np.frexp(peak.astype(np.float64))[1]          # bit length (exact below 2**53)
    s = t.bits - 1 - length
    return np.where((peak == 0) | (s <= 0), 0, s).astype(np.int64)


def _shift_planes(t: CTensor, s: np.ndarray) -> CTensor:
    """Mantissas of every plane shifted left by its own ``s`` (exact)."""
    k = s[..., None, None]
    return CTensor(t.re << k, t.im << k, t.exp, t.bits)


def _swap(t: CTensor) -> CTensor:
    return CTensor(np.swapaxes(t.re, -1, -2), np.swapaxes(t.im, -1, -2), t.exp, t.bits)


def fft2d_planes(x: CTensor, off: np.ndarray, c: Ctx, keep: int | None = None) -> tuple[CTensor, np.ndarray]:
    """Forward 2-D FFT of real planes ``x`` (..., n, n) to half spectra (..., n, n/2+1) on
    the FFT engines, as :func:`accel.fixed.fft2d.fft2d_half` but plane by plane.

    An engine's transpose memory holds one plane, and the column pass reads it with the
    left shift that plane's own maximum leaves, so every plane leaves the engine with its
    own exponent: ``exp + off[p]``.  ``off`` (the planes' incoming exponent offsets, shape
    ``x.shape[:-2]``) is carried through; :func:`align_planes` gives the tensor one
    exponent again.  Plane by plane, the result does not depend on how many planes one
    descriptor transforms.  Only the columns a crop to ``keep`` reads are transformed.
    """
    n = x.shape[-1]
    w = c.w
    real = CTensor(x.re, np.zeros_like(x.re), x.exp, x.bits)
    rows = fft_fixed(real, data_bits=x.bits, twiddle_bits=w.twiddle, natural_order=True, sat=c.sat,
                     tensor="fft2d")
    cols = column_count(n, keep)
    kept = _swap(rows[..., :cols])
    s = plane_shifts(kept)
    spec = _swap(fft_fixed(_shift_planes(kept, s), data_bits=x.bits, twiddle_bits=w.twiddle,
                           natural_order=True, sat=c.sat, tensor="fft2d"))
    pad = [(0, 0)] * (spec.re.ndim - 1) + [(0, half_cols(n) - cols)]
    return CTensor(np.pad(spec.re, pad), np.pad(spec.im, pad), spec.exp, x.bits), off - s


def ifft2d_planes(X: CTensor, off: np.ndarray, c: Ctx) -> tuple[CTensor, np.ndarray]:
    """Inverse 2-D FFT of half spectra (..., n, n/2+1) to real planes (..., n, n), as
    :func:`accel.fixed.fft2d.ifft2d_half` but plane by plane (see :func:`fft2d_planes`)."""
    n, h = X.shape[-2:]
    w = c.w
    cols = _swap(fft_fixed(_swap(X), data_bits=X.bits, twiddle_bits=w.twiddle, inverse=True,
                           natural_order=True, sat=c.sat, tensor="ifft2d"))
    s = plane_shifts(cols)
    cols = _shift_planes(cols, s)
    src = n - np.arange(h, n)                                          # column n - v feeds column v
    re = np.concatenate([cols.re, cols.re[..., src]], axis=-1)
    im = np.concatenate([cols.im, -cols.im[..., src]], axis=-1)
    rows = fft_fixed(CTensor(re, im, cols.exp, X.bits), data_bits=X.bits, twiddle_bits=w.twiddle,
                     inverse=True, natural_order=True, sat=c.sat, tensor="ifft2d")
    return CTensor(rows.re, np.zeros_like(rows.re), rows.exp, X.bits), off - s


def align_planes(t: CTensor, off: np.ndarray, sat: Saturations | None = None) -> CTensor:
    """Planes at exponents ``t.exp + off[p]`` -> one tensor at one exponent, normalized:
    the exponent at which the largest magnitude of all planes uses the full width; planes
    at finer exponents are rounded to it (half-up), coarser ones shifted left (exact).
    Rounding can carry a value to 2**(bits-1): saturated, counted under ("fft", "align")."""
    peak = np.maximum(np.abs(t.re).max(axis=(-2, -1), initial=0), np.abs(t.im).max(axis=(-2, -1), initial=0))
    if not peak.any():
        return t
    top = t.exp + off + np.frexp(peak.astype(np.float64))[1]            # exponent above each plane's peak
    E = int(top[peak > 0].max()) - (t.bits - 1)
    d = E - (t.exp + off)                                              # > 0: round right, < 0: shift left
    right = np.minimum(np.maximum(d, 0), 62)[..., None, None]       # as round_shift: |m| < 2**61
    left = np.maximum(-d, 0)[..., None, None]

    def one(m: np.ndarray) -> np.ndarray:
        half = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
        return saturate(((m + half) >> right) << left, t.bits, sat, "fft", "align")

    return CTensor(one(t.re), one(t.im), E, t.bits)


def zero_pad_fixed(x: CTensor, N: int, c: Ctx, keep: int | None = None) -> CTensor:
    """Zero padding n -> N of the signal a half spectrum stands for: IFFT, pad, FFT on the
    FFT engines (``S X S^T`` with ``S = F_N P F_n^-1``); only the bins a crop to ``keep``
    reads if given."""
    z, off = ifft2d_planes(x, np.zeros(x.shape[:-2], np.int64), c)
    n = z.shape[-1]
    pad = [(0, 0)] * (z.re.ndim - 2) + [(0, N - n), (0, N - n)]
    zp = CTensor(np.pad(z.re, pad), np.pad(z.im, pad), z.exp, z.bits)
    out, off = fft2d_planes(zp, off, c, keep)
    return align_planes(masked(out, None if keep is None else crop_mask(N, keep)), off, c.sat)


def zero_pad_adjoint_fixed(g: CTensor, n: int, c: Ctx) -> CTensor:
    """Adjoint of :func:`zero_pad_fixed`: ``S^H G = (N/n)^2 F_n P^T F_N^-1 G`` -- IFFT,
    keep the n x n corner, FFT; the factor (N/n)^2 is an exponent step."""
    N = g.shape[-2]
    z, off = ifft2d_planes(g, np.zeros(g.shape[:-2], np.int64), c)
    zc = CTensor(z.re[..., :n, :n], z.im[..., :n, :n], z.exp, z.bits)
    out, off = fft2d_planes(zc, off, c)
    return align_planes(CTensor(out.re, out.im, out.exp + 2 * int(log2(N // n)), out.bits), off, c.sat)


def add_dc_bias(y: CTensor, bias: np.ndarray, bias_exp: int, N: int, sat: Saturations,
                rounding: str) -> CTensor:
    """``Y[DC, b, o] += N^2 bias[o]`` on a GEMM result in bin layout (F, B, C) whose bin 0
    is DC (the classifier's logits: F = 1, N = 1): the bias aligned to Y's exponent, a
    saturating add in the MAC array's output stage."""
    aligned = round_shift(np.asarray(bias, np.int64), y.exp - (bias_exp + 2 * int(log2(N))), rounding) \
        if y.exp >= bias_exp + 2 * int(log2(N)) else \
        np.asarray(bias, np.int64) << np.int64(bias_exp + 2 * int(log2(N)) - y.exp)
    re = y.re.copy()
    re[0] = saturate(re[0] + aligned[None, :], y.bits, sat, "cmac", "bias")
    return CTensor(re, y.im, y.exp, y.bits)


def bias_epilogue(bias: CTensor, N: int, rounding: str) -> Callable[[CTensor, Saturations], CTensor]:
    """The output-stage bias add of a GEMM (see :func:`gemm`)."""
    return lambda y, sat: add_dc_bias(y, bias.re, bias.exp, N, sat, rounding)


def conv_forward_fixed(x: CTensor, wt: CTensor, c: Ctx, key: str, keep: np.ndarray | None = None,
                       bias: CTensor | None = None) -> CTensor:
    """``Y[b, o, f] = sum_i X[b, i, f] W[o, i, f] + delta_f N^2 bias[o]``: A = X[f] (B x Ci),
    B = W[f]^T (Ci x Co), for the bins in ``keep`` (n, n/2+1) if given."""
    n, h = x.shape[-2:]
    bins = None if keep is None else keep.reshape(-1, 1, 1)
    epi = None if bias is None else bias_epilogue(bias, n, c.w.rounding)
    out = gemm(to_bins(x), swap_last(to_bins(wt)), False, c.w.data, c, key, bins, epi)
    return from_bins(out, n, h)


def conv_backward_data_fixed(g: CTensor, wt: CTensor, c: Ctx, key: str) -> CTensor:
    """``G_X[b, i, f] = sum_o G_Y[b, o, f] conj(W[o, i, f])``: B = W[f] (Co x Ci), conjugated."""
    n, h = g.shape[-2:]
    return from_bins(gemm(to_bins(g), to_bins(wt), True, c.w.grad, c, key), n, h)


def conv_weight_grad_fixed(g: CTensor, x: CTensor, c: Ctx, key: str) -> CTensor:
    """``G_W[o, i, f] = sum_b G_Y[b, o, f] conj(X[b, i, f])``: A = G_Y[f]^T (Co x B)."""
    n, h = g.shape[-2:]
    out = gemm(swap_last(to_bins(g)), to_bins(x), True, c.w.grad, c, key)   # (F, Co, Ci)
    return from_bins(out, n, h)


def bias_grad_fixed(g: CTensor, N: int, bits: int, sat: Saturations, rounding: str) -> tuple[np.ndarray, int]:
    """``N^2 Re sum_b G_Y[b, o, DC]``: an exact sum of B mantissas, rounded to ``bits``."""
    total = g.re[:, :, 0, 0].sum(axis=0)
    B = g.shape[0]
    shift = ceil(log2(B)) if B > 1 else 0
    return (saturate(round_shift(total, shift, rounding), bits, sat, "cmac", "bias_grad"),
            g.exp + shift + 2 * int(log2(N)))


def hermitian_project_half(g: CTensor) -> CTensor:
    """The classifier's gradient projected onto Hermitian spectra, on half storage:
    columns with an unstored mirror are halved, columns 0 and n/2 become
    ``(G[u] + conj(G[-u])) / 2`` (as :func:`accel.spectral.hermitian_part_of_half`).

    The halving is the exponent step ``exp - 1``; the pair sums are one add each and may
    need one more bit, in which case the whole tensor is rounded by one bit.
    """
    return hermitian_finish(hermitian_pair_sums(g))


def hermitian_pair_sums(g: CTensor) -> CTensor:
    """The per-plane part of :func:`hermitian_project_half`: columns 0 and n/2 summed with
    their mirrored rows (exact, possibly one bit wider than ``g.bits``), exponent - 1."""
    n = g.shape[-2]
    rows = (-np.arange(n)) % n
    re, im = g.re.copy(), g.im.copy()
    for c in (0, n // 2):
        re[..., c] = g.re[..., c] + g.re[..., rows, c]
        im[..., c] = g.im[..., c] - g.im[..., rows, c]
    return CTensor(re, im, g.exp - 1, g.bits)


def hermitian_finish(t: CTensor) -> CTensor:
    """The whole-tensor part of :func:`hermitian_project_half`: if a pair sum left the
    ``bits`` range, round every value by one bit; then normalize."""
    re, im, exp = t.re, t.im, t.exp
    lo, hi = -(1 << (t.bits - 1)), (1 << (t.bits - 1)) - 1
    if re.min(initial=0) < lo or im.min(initial=0) < lo or re.max(initial=0) > hi or im.max(initial=0) > hi:
        re, im, exp = round_shift(re, 1), round_shift(im, 1), exp + 1
    return normalize(CTensor(saturate(re, t.bits), saturate(im, t.bits), exp, t.bits))
