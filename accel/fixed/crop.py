"""Spectral pooling on half spectra: crop and fold (forward), zero-pad and unfold (backward).

Layout: a half spectrum of an n x n real signal is ``n`` rows by ``n/2 + 1`` columns
(``rfft2``); row u stands for frequency u if u < n/2 else u - n, column v for v.
Pooling n -> m (m even, m < n) keeps |k| < m/2 on both axes and folds the bins at +-m/2
into the new Nyquist bin (their sum), scaled by (m/n)**2.  On the half layout:

* rows: output row r < m/2 is input row r; r > m/2 is input row n - m + r; the Nyquist
  row m/2 is the sum of input rows m/2 and n - m/2;
* columns: columns 0..m/2-1 are copied; the Nyquist column m/2 needs the unstored column
  -m/2, which Hermitian symmetry gives from column m/2 of the mirrored row:
  ``Y[r, m/2] = Z[r, m/2] + conj(Z[(-r) mod m, m/2])`` with Z the row-folded spectrum.
  (Rows 0 and m/2 are their own mirrors: their Nyquist-column value is 2 Re Z, im 0.)

Fixed point: folding sums up to 4 inputs, computed exactly (``data_bits + 2`` bits).
The (m/n)**2 factor is absorbed in the exponent when n/m is a power of two (exact);
otherwise it is a constant multiply by ``mant * 2**-frac`` (:class:`CropScale`).
Then ``round_shift(., frac + out_shift)`` (half-up) and saturation to ``out_bits``,
counted under ("crop", "out").  ``out_shift`` (default 0) trades one LSB for headroom
when folded Nyquist bins could exceed full scale; natural spectra concentrate energy
at low frequency (the block exponent is set by DC), so the default keeps the precision
and counts the rare saturation.  Backward (the adjoint) copies instead of summing and
never grows.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil, log2

import numpy as np

from accel.layout import half_bins, half_cols, half_shape, kept_count

from .core import CTensor, Saturations, round_shift, saturate

#: Pipeline registers from an input beat's handshake to its output beat: fold register
#: (also the scale multiplier's operand register), product register, round/saturate
#: register, output skid buffer.
CROP_LATENCY = 4


@dataclass(frozen=True)
class CropScale:
    """(m/n)**2 = ``mant * 2**(exp - frac)``: ``mant == 1, frac == 0`` when n/m is a
    power of two (pure exponent change); else ``mant`` is an unsigned ``frac``-bit
    fraction in [2**(frac-1), 2**frac) and the hardware multiplies."""

    mant: int
    frac: int
    exp: int

    @property
    def multiply(self) -> bool:
        return self.mant != 1


def check_sizes(n: int, m: int) -> None:
    """Reject pooling sizes the half-layout fold does not cover."""
    if n < 4 or n % 2:
        raise ValueError(f"n={n}: expected an even size >= 4")
    if m < 2 or m % 2 or m >= n:
        raise ValueError(f"m={m}: expected an even size 2 <= m < n={n}")


def crop_scale(n: int, m: int, scale_bits: int = 18) -> CropScale:
    """The (m/n)**2 factor as a :class:`CropScale` (``scale_bits``-bit unsigned mantissa)."""
    check_sizes(n, m)
    ratio = (m / n) ** 2
    e = log2(ratio)
    if e == int(e):
        return CropScale(1, 0, int(e))
    e2 = ceil(e)
    frac = scale_bits
    mant = min(int(np.floor(ratio / 2.0 ** e2 * 2 ** frac + 0.5)), (1 << frac) - 1)
    return CropScale(mant, frac, e2)


def crop_source_row(n: int, m: int, u: int) -> int | None:
    """Output row an input row u feeds (u = m/2 and u = n - m/2 both feed row m/2)."""
    h = m // 2
    if u < h:
        return u
    if u == h or u == n - h:
        return h
    if u > n - h:
        return u - n + m
    return None


def crop_skipped(n: int, m: int) -> int:
    """Input bins of one half spectrum that the crop drops: all but (m+1) rows x (m/2+1) cols."""
    check_sizes(n, m)
    return half_bins(n) - kept_count(n, m)


def _scale(x: np.ndarray, scale: CropScale, out_shift: int, out_bits: int,
           sat: Saturations | None, rounding: str) -> np.ndarray:
    return saturate(round_shift(x * np.int64(scale.mant), scale.frac + out_shift, rounding),
                    out_bits, sat, "crop", "out")


def crop_half(x: CTensor, m: int, out_bits: int | None = None, out_shift: int = 0,
              sat: Saturations | None = None, scale_bits: int = 18,
              rounding: str = "half_up") -> CTensor:
    """Spectral pooling n -> m of half spectra ``x`` (..., n, n/2+1) -> (..., m, m/2+1).

    Output exponent ``x.exp + scale.exp + out_shift``; ``out_bits`` defaults to ``x.bits``.
    """
    n = x.shape[-2]
    if x.shape[-1] != half_cols(n):
        raise ValueError(f"half spectrum: expected (..., n, n/2+1), got {x.shape}")
    check_sizes(n, m)
    h = m // 2
    out_bits = x.bits if out_bits is None else out_bits
    scale = crop_scale(n, m, scale_bits)

    def fold_rows(a: np.ndarray) -> np.ndarray:
        z = np.concatenate([a[..., :h, :h + 1],
                            a[..., h:h + 1, :h + 1] + a[..., n - h:n - h + 1, :h + 1],
                            a[..., n - h + 1:, :h + 1]], axis=-2)
        return z

    zr, zi = fold_rows(x.re), fold_rows(x.im)
    mirror = (-np.arange(m)) % m
    yr, yi = zr.copy(), zi.copy()
    yr[..., :, h] = zr[..., :, h] + zr[..., mirror, h]
    yi[..., :, h] = zi[..., :, h] - zi[..., mirror, h]
    return CTensor(_scale(yr, scale, out_shift, out_bits, sat, rounding),
                   _scale(yi, scale, out_shift, out_bits, sat, rounding),
                   x.exp + scale.exp + out_shift, out_bits)


def pad_half(g: CTensor, n: int, out_bits: int | None = None, sat: Saturations | None = None,
             scale_bits: int = 18, rounding: str = "half_up") -> CTensor:
    """Adjoint of :func:`crop_half` (backward): (..., m, m/2+1) -> (..., n, n/2+1).

    Zero-pad and unfold: input row m/2 feeds output rows m/2 and n - m/2, column m/2
    feeds column m/2, all other kept bins copy, the rest are zero; times (m/n)**2
    (exponent ``g.exp + scale.exp``, or the constant multiply).
    """
    m = g.shape[-2]
    if g.shape[-1] != half_cols(m):
        raise ValueError(f"half spectrum: expected (..., m, m/2+1), got {g.shape}")
    check_sizes(n, m)
    h = m // 2
    out_bits = g.bits if out_bits is None else out_bits
    scale = crop_scale(n, m, scale_bits)
    src = [crop_source_row(n, m, u) for u in range(n)]
    rows = np.array([u for u in range(n) if src[u] is not None])
    lead = g.shape[:-2]

    def pad(a: np.ndarray) -> np.ndarray:
        out = np.zeros(lead + half_shape(n), np.int64)
        out[..., rows, :h + 1] = a[..., [src[u] for u in rows], :]
        return out

    return CTensor(_scale(pad(g.re), scale, 0, out_bits, sat, rounding),
                   _scale(pad(g.im), scale, 0, out_bits, sat, rounding),
                   g.exp + scale.exp, out_bits)


def crop_pass_cycles(n: int, m: int) -> int:
    """Cycles the crop unit's input is busy per half spectrum (its II between passes):
    one input beat per cycle, plus one stall for each of the m/2 - 1 rows whose folded
    Nyquist-column value is written twice (to row r and, conjugated, to row m - r)."""
    check_sizes(n, m)
    return half_bins(n) + m // 2 - 1


def pad_pass_cycles(n: int, m: int) -> int:
    """Cycles per gradient pass of the pad unit (its II between passes): it writes the
    n x (n/2 + 1) half spectrum one bin per cycle, consuming an input bin for each kept
    bin, generating the zeros and replaying the held Nyquist row itself.  The first
    output is valid ``CROP_LATENCY`` cycles after the first input handshake."""
    check_sizes(n, m)
    return half_bins(n)


def crop_latency_cycles(n: int, m: int) -> int:
    """First input handshake to last output beat valid, inclusive, with no stalls: the
    last bin that produces output is input (n-1, m/2), preceded by m/2 - 2 stall cycles
    and followed by its second (mirrored) write, then ``CROP_LATENCY``."""
    check_sizes(n, m)
    return (n - 1) * half_cols(n) + m + CROP_LATENCY
