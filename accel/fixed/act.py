"""Piecewise-linear (linearized) activation: fixed-point tables, forward and backward.

The activation is applied to real and imaginary parts separately (split-complex).  For a
real mantissa x (``data_bits``, exponent e) the segment is ``s = #{j : x >= bp[j]}``
(segment s covers [bp[s-1], bp[s]), as ``accel.network.pwl_apply``) and

    forward   y = sat(round_shift(slope[s] * x + (icpt[s] << slope_frac), slope_frac))
    backward  g_x = sat(round_shift(slope[s(x)] * g_y, slope_frac))

Formats (:class:`PwlTable`):

* breakpoints: ``data_bits + 1``-bit mantissas at the input exponent e.  ``x >= t`` for
  a real threshold t is exactly ``x_m >= ceil(t / 2**e)``; the extra bit lets a threshold
  sit just past either end of the data range (then the outer segment is never used);
* slopes: signed ``slope_bits`` with ``slope_frac`` fraction bits (default Q2.14:
  slope_bits=16, slope_frac=14, range [-2, 2), step 2**-14), round half-up, saturated;
* intercepts: ``data_bits`` mantissas at the input exponent (the output exponent equals
  the input exponent, which suits activations that keep the scale such as hard-tanh).

The backward output keeps the exponent of the incoming gradient.  Rounding of the
product is half-up by default (``rounding="truncate"`` drops the half-LSB add).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import numpy as np

from .core import CTensor, Saturations, int_range, quantize, round_shift, saturate

#: Pipeline registers from an input beat's handshake to its output beat: input register,
#: breakpoint-compare register, multiplier-operand registers, product register,
#: round/saturate register, output skid buffer.
ACT_LATENCY = 6


@dataclass(frozen=True)
class PwlTable:
    """A fixed-point PWL table as loaded into the activation unit's register file.

    ``breakpoints`` (S-1,), ``slopes`` (S,), ``intercepts`` (S,) int64 mantissas; see the
    module docstring for their formats.  ``segments`` = S.
    """

    breakpoints: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray
    data_bits: int
    slope_bits: int = 16
    slope_frac: int = 14

    @property
    def segments(self) -> int:
        return len(self.slopes)

    def words(self) -> list[int]:
        """Register-file image: breakpoints at 0..S-2, slopes at S-1..2S-2, intercepts at
        2S-1..3S-2 (two's-complement values, as written through the unit's write port)."""
        return [int(v) for v in np.concatenate([self.breakpoints, self.slopes, self.intercepts])]


def pwl_fixed_table(breakpoints: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray,
                    in_exp: int, data_bits: int, slope_bits: int = 16, slope_frac: int = 14,
                    sat: Saturations | None = None) -> PwlTable:
    """Quantize a float PWL table (``accel.network.pwl_table``) for inputs at ``in_exp``.

    Breakpoints become ``ceil(t / 2**in_exp)`` clamped to the ``data_bits + 1`` range,
    slopes round half-up to ``slope_frac`` fraction bits, intercepts to ``data_bits``
    mantissas at ``in_exp``; saturated table entries are counted under ("act", "table").
    """
    breakpoints = np.asarray(breakpoints, np.float64)
    slopes = np.asarray(slopes, np.float64)
    intercepts = np.asarray(intercepts, np.float64)
    if not (len(slopes) == len(intercepts) == len(breakpoints) + 1):
        raise ValueError(f"pwl table: need S-1 breakpoints, S slopes and intercepts, got "
                         f"{len(breakpoints)}, {len(slopes)}, {len(intercepts)}")
    if np.any(np.diff(breakpoints) < 0):
        raise ValueError("pwl table: breakpoints must be non-decreasing")
    lo, hi = int_range(data_bits + 1)
    bp = np.clip(np.ceil(breakpoints * 2.0 ** (-in_exp)), lo, hi).astype(np.int64)
    sl = quantize(slopes, slope_bits, -slope_frac, sat, "act", "table")
    ic = quantize(intercepts, data_bits, in_exp, sat, "act", "table")
    return PwlTable(bp, sl, ic, data_bits, slope_bits, slope_frac)


def pwl_segment(x: np.ndarray, table: PwlTable) -> np.ndarray:
    """Segment index of every mantissa: the number of breakpoints <= x."""
    return np.searchsorted(table.breakpoints, np.asarray(x, np.int64), side="right")


def pwl_forward_real(x: np.ndarray, table: PwlTable, sat: Saturations | None = None,
                     rounding: str = "half_up") -> np.ndarray:
    """Forward PWL on real ``data_bits`` mantissas; the output exponent is the input's."""
    s = pwl_segment(x, table)
    acc = table.slopes[s] * np.asarray(x, np.int64) + (table.intercepts[s] << np.int64(table.slope_frac))
    return saturate(round_shift(acc, table.slope_frac, rounding), table.data_bits, sat, "act", "out")


def pwl_backward_real(x: np.ndarray, g: np.ndarray, table: PwlTable, grad_bits: int,
                      sat: Saturations | None = None, rounding: str = "half_up") -> np.ndarray:
    """Backward PWL: the gradient mantissas ``g`` times the slope of the segment of the
    forward input ``x``, rounded to ``grad_bits`` at the gradient's exponent."""
    s = pwl_segment(x, table)
    acc = table.slopes[s] * np.asarray(g, np.int64)
    return saturate(round_shift(acc, table.slope_frac, rounding), grad_bits, sat, "act", "grad")


def pwl_forward(x: CTensor, table: PwlTable, sat: Saturations | None = None,
                rounding: str = "half_up") -> CTensor:
    """Split-complex forward PWL of a complex tensor (same exponent out as in)."""
    return CTensor(pwl_forward_real(x.re, table, sat, rounding),
                   pwl_forward_real(x.im, table, sat, rounding), x.exp, table.data_bits)


def pwl_backward(x: CTensor, g: CTensor, table: PwlTable, sat: Saturations | None = None,
                 rounding: str = "half_up") -> CTensor:
    """Split-complex backward PWL: ``g.re`` scaled by the slope at ``x.re``, ``g.im`` at
    ``x.im``; same exponent and width as ``g``."""
    return CTensor(pwl_backward_real(x.re, g.re, table, g.bits, sat, rounding),
                   pwl_backward_real(x.im, g.im, table, g.bits, sat, rounding), g.exp, g.bits)


def act_cycles(samples: int, lanes: int) -> int:
    """Cycles for ``samples`` complex values through ``lanes`` lanes with no stalls: one
    beat of ``lanes`` values per cycle, the last output ``ACT_LATENCY`` cycles after the
    last input handshake (first input handshake to last output valid, inclusive)."""
    if samples <= 0:
        return 0
    return ceil(samples / lanes) + ACT_LATENCY
