"""Integer model of the streaming radix-2^2 single-path delay-feedback (SDF) FFT.

This is the contract of ``hdl/fft.py``: the RTL computes exactly these integers.

Algorithm (decimation in frequency, He & Torkelson's radix-2^2).  An ``n = 2**p`` point
transform runs ``p`` butterfly stages.  Stages come in pairs acting on blocks of ``M``
samples (``M = n, n/4, n/16, ...``):

* ``bf1`` (BF2I): pairs samples ``M/2`` apart: ``(a+b)/2`` then ``(a-b)/2``;
* ``bf2`` (BF2II): pairs samples ``M/4`` apart inside each half; in the second half the
  later sample is first multiplied by ``-j`` (exact: a swap and a negation, done at
  ``data_bits + 1`` bits so it cannot overflow);
* ``twiddle``: sample ``(k1, k2, n3)`` of the block (position ``k1*M/2 + k2*M/4 + n3``)
  is multiplied by ``W_M**(n3*(k1 + 2*k2))``, ``W_M = exp(-2j*pi/M)``.  Omitted where it
  is trivial (``M = 4``).
* For odd ``p`` one last radix-2 ``bf1`` stage acts on pairs of adjacent samples.

Numbers.  Inputs and outputs are ``data_bits``-bit signed mantissas; inside, the
pipeline carries ``guard_bits`` more (``w = data_bits + guard_bits``): the input is
shifted left by ``guard_bits`` (exact) and the output is ``round_shift(., guard_bits)``
saturated to ``data_bits``.  One guard bit buys about 1.5 dB of SQNR (it takes the
forward -> renormalize -> inverse round trip over 60 dB at n = 64 with 16-bit data) and
still fits every real product of a 16-bit configuration in one 18x18 DSP.  Every
butterfly output is ``round_shift(a +- b, 1)`` (round half up) saturated to ``w`` bits:
an n-point transform returns ``FFT(x)/n`` in mantissa units, and the output exponent is
the input exponent plus ``p``, so the value is preserved.  Twiddles are
``twiddle_bits``-bit mantissas at scale ``2**(twiddle_bits-2)``: ``1.0`` is exact and the
precomputed sum ``c + d`` fits the same width, so every real product is at most
``(w+1) x twiddle_bits`` bits (18x18 for 16-bit data, one guard bit, 18-bit twiddles).
The complex multiply ``(a + jb)(c + jd)`` uses three real multipliers::

    k1 = a*(c+d)    k2 = c*(b-a)    k3 = d*(a+b)
    re = round_shift(k1 - k3, twiddle_bits-2)      im = round_shift(k1 + k2, twiddle_bits-2)

each result saturated to ``w`` bits.  Saturations are counted in a
:class:`~accel.fixed.core.Saturations` ledger under ``("fft", tensor)``; inputs outside
``data_bits`` are saturated (and counted) on entry, never wrapped.

Inverse transform: ``swap(FFT(swap(x)))`` where ``swap(re, im) = (im, re)`` -- exact in
hardware (two multiplexers), and it equals ``n * ifft(x)``; with the per-stage scaling the
mantissas hold ``ifft(x)`` and the exponent is unchanged.

Order.  The pipeline emits each transform in bit-reversed order (output position
``bitrev(k)`` holds bin ``k``); :func:`to_natural_order` reorders.

Timing.  The RTL accepts one sample per cycle (``FFT_II``); :func:`fft_latency` is the
number of clock edges from the transfer of a transform's first input sample to the
transfer of its first output sample when input arrives without gaps and the output is
always ready, and sample ``j`` of transform ``f`` of a gapless stream then leaves
``fft_latency(n) + f*n + j`` edges after the first input.  ``tests/test_hdl_fft.py``
measures this on the RTL.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .core import CTensor, Saturations, round_shift, saturate

__all__ = [
    "FFT_II", "GUARD_BITS", "INPUT_LATENCY", "OUTPUT_LATENCY", "CMUL_LATENCY", "MEMORY_DELAY_MIN",
    "Stage", "fft_plan", "butterfly_latency", "fft_latency", "fft_stream_cycles",
    "fft_butterflies", "fft_multiplier_stages", "twiddle_table", "twiddle_exponents", "bit_reverse_indices",
    "to_natural_order", "fft_fixed", "fft_mantissas",
]

FFT_II = 1
"""Initiation interval: cycles per input sample (and per output sample) when streaming."""
INPUT_LATENCY = 1
"""Register stage on the input (inverse swap, guard-bit shift)."""
OUTPUT_LATENCY = 2
"""Output rounding register, then a skid buffer (cuts the consumer's ready from the
pipeline enable)."""
GUARD_BITS = 1
"""Default extra internal bits (see the module docstring)."""
CMUL_LATENCY = 7
"""Twiddle multiplier pipeline: ROM read (``c``, ``d``) and pre-adders, fabric operands
and ``c + d``, multiplier input, product, sum, rounding and saturation registers."""
MEMORY_DELAY_MIN = 8
"""Butterfly stages whose delay line holds at least this many samples keep it in a
memory (synchronous read, read-data register, add, round: four cycles); shorter ones
use registers (add, round: two cycles; ``bf2`` adds a rotation register: three)."""


@dataclass(frozen=True)
class Stage:
    """One pipeline stage of the SDF FFT.

    ``kind`` is ``"bf1"`` (butterfly of samples ``delay`` apart), ``"bf2"`` (the same with
    the ``-j`` rotation in the second half of each ``4*delay`` block) or ``"twiddle"``
    (complex multiply by ``W_m**e`` with ``e`` from the position in an ``m``-sample block).
    """

    kind: str
    delay: int = 0
    m: int = 0


def _log2(n: int) -> int:
    if not isinstance(n, (int, np.integer)) or n < 4 or n > 1024 or n & (n - 1):
        raise ValueError(f"n: expected a power of two from 4 to 1024, got {n!r}")
    return int(n).bit_length() - 1


@cache
def fft_plan(n: int) -> tuple[Stage, ...]:
    """The stage sequence of an ``n``-point transform, shared by the model and the RTL."""
    _log2(n)
    plan: list[Stage] = []
    m = n
    while m >= 4:
        plan.append(Stage("bf1", m // 2))
        plan.append(Stage("bf2", m // 4))
        if m > 4:
            plan.append(Stage("twiddle", m=m))
        m //= 4
    if m == 2:
        plan.append(Stage("bf1", 1))
    return tuple(plan)


def butterfly_latency(delay: int, kind: str = "bf1") -> int:
    """Pipeline registers of a butterfly stage, on top of its ``delay`` samples: 4 for a
    memory delay line; 2 for a register one, plus 1 in ``bf2`` for the register that
    applies the ``-j`` rotation before the adders."""
    if delay >= MEMORY_DELAY_MIN:
        return 4
    return 3 if kind == "bf2" else 2


def fft_latency(n: int) -> int:
    """Clock edges from a transform's first input transfer to its first output transfer.

    Valid for a gapless input stream and an always-ready output; see the module docstring.
    """
    total = INPUT_LATENCY + OUTPUT_LATENCY
    for st in fft_plan(n):
        total += (CMUL_LATENCY if st.kind == "twiddle"
                  else st.delay + butterfly_latency(st.delay, st.kind))
    return total


def fft_stream_cycles(n: int, transforms: int) -> int:
    """Cycles from the first input transfer to one past the last output transfer for
    ``transforms`` back-to-back transforms (gapless input, always-ready output)."""
    return fft_latency(n) + transforms * n * FFT_II


def fft_butterflies(n: int) -> int:
    """Radix-2 butterflies per transform (each stage pairs ``n/2`` samples)."""
    return (n // 2) * _log2(n)


def fft_multiplier_stages(n: int) -> int:
    """Non-trivial twiddle multipliers in the pipeline (each multiplies all n samples)."""
    return sum(st.kind == "twiddle" for st in fft_plan(n))


@cache
def twiddle_table(m: int, twiddle_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantized ``W_m**e`` for ``e = 0..m-1``: ``(c, d, c + d)`` at scale ``2**(bits-2)``.

    ``c = round(cos(2 pi e/m) * 2**(bits-2))``, ``d = round(-sin(2 pi e/m) * 2**(bits-2))``
    (round half up).  All three fit in ``twiddle_bits`` signed bits.
    """
    e = np.arange(m)
    scale = float(1 << (twiddle_bits - 2))
    c = np.floor(np.cos(2 * np.pi * e / m) * scale + 0.5).astype(np.int64)
    d = np.floor(-np.sin(2 * np.pi * e / m) * scale + 0.5).astype(np.int64)
    s = c + d
    for arr in (c, d, s):
        arr.setflags(write=False)
    return c, d, s


def twiddle_exponents(m: int) -> np.ndarray:
    """Exponent ``e`` of the twiddle applied at each position of an ``m``-sample block."""
    pos = np.arange(m)
    k1 = pos // (m // 2)
    k2 = (pos // (m // 4)) % 2
    n3 = pos % (m // 4)
    return n3 * (k1 + 2 * k2)


def bit_reverse_indices(n: int) -> np.ndarray:
    """``idx[k]`` = output position that holds bin ``k`` (``bitrev(k)``; an involution)."""
    p = _log2(n)
    k = np.arange(n)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(p):
        rev |= ((k >> b) & 1) << (p - 1 - b)
    return rev


def to_natural_order(x: np.ndarray | CTensor, axis: int = -1):
    """Reorder the pipeline's bit-reversed output along ``axis`` to natural bin order."""
    if isinstance(x, CTensor):
        return CTensor(to_natural_order(x.re, axis), to_natural_order(x.im, axis), x.exp, x.bits)
    x = np.asarray(x)
    return np.take(x, bit_reverse_indices(x.shape[axis]), axis=axis)


def _bfly(ar, ai, br, bi, bits, sat, tensor):
    """Butterfly on full-precision operands: saturated ``(a+b)/2`` and ``(a-b)/2``."""
    out = [round_shift(v, 1) for v in (ar + br, ai + bi, ar - br, ai - bi)]
    return [saturate(v, bits, sat, "fft", tensor) for v in out]


def fft_mantissas(re: np.ndarray, im: np.ndarray, *, data_bits: int = 16,
                  twiddle_bits: int = 18, guard_bits: int = GUARD_BITS,
                  inverse: bool = False, sat: Saturations | None = None,
                  tensor: str = "fft") -> tuple[np.ndarray, np.ndarray]:
    """The pipeline on integer mantissas, transforming along the last axis.

    ``re``/``im``: integer arrays of shape ``(..., n)``.  Returns the output mantissas in
    the pipeline's (bit-reversed) order: ``FFT(x)/n`` forward, ``ifft(x)`` inverse.
    Vectorized over all leading axes; the only Python loop is over stages.
    """
    re = saturate(np.asarray(re, dtype=np.int64), data_bits, sat, "fft", tensor)
    im = saturate(np.asarray(im, dtype=np.int64), data_bits, sat, "fft", tensor)
    if re.shape != im.shape:
        raise ValueError(f"re and im shapes differ: {re.shape} vs {im.shape}")
    n = re.shape[-1]
    plan = fft_plan(n)
    if inverse:
        re, im = im, re
    w = data_bits + guard_bits
    re = re << np.int64(guard_bits)
    im = im << np.int64(guard_bits)
    batch = re.shape[:-1]
    re = re.reshape(batch + (1, n))
    im = im.reshape(batch + (1, n))
    shift = twiddle_bits - 2
    for st in plan:
        shape: tuple[int, ...] = re.shape
        blocks, m = shape[-2], shape[-1]
        if st.kind == "bf1":
            h = m // 2
            sr, si, dr, di = _bfly(re[..., :h], im[..., :h], re[..., h:], im[..., h:],
                                   w, sat, tensor)
            re = np.concatenate([sr, dr], axis=-1)
            im = np.concatenate([si, di], axis=-1)
        elif st.kind == "bf2":
            q = m // 4
            vr = re.reshape(batch + (blocks, 2, 2, q))
            vi = im.reshape(batch + (blocks, 2, 2, q))
            ar, ai = vr[..., 0, :], vi[..., 0, :]
            # -j * (br + j bi) = bi - j br, applied to the second half (k1 = 1) only
            br = np.stack([vr[..., 0, 1, :], vi[..., 1, 1, :]], axis=-2)
            bi = np.stack([vi[..., 0, 1, :], -vr[..., 1, 1, :]], axis=-2)
            sr, si, dr, di = _bfly(ar, ai, br, bi, w, sat, tensor)
            re = np.stack([sr, dr], axis=-2).reshape(batch + (blocks, m))
            im = np.stack([si, di], axis=-2).reshape(batch + (blocks, m))
        else:
            c, d, s = twiddle_table(m, twiddle_bits)
            e = twiddle_exponents(m)
            c, d, s = c[e], d[e], s[e]
            k1 = re * s
            k2 = c * (im - re)
            k3 = d * (re + im)
            re = saturate(round_shift(k1 - k3, shift), w, sat, "fft", tensor)
            im = saturate(round_shift(k1 + k2, shift), w, sat, "fft", tensor)
            re = re.reshape(batch + (blocks * 4, m // 4))
            im = im.reshape(batch + (blocks * 4, m // 4))
    re = saturate(round_shift(re.reshape(batch + (n,)), guard_bits), data_bits, sat, "fft", tensor)
    im = saturate(round_shift(im.reshape(batch + (n,)), guard_bits), data_bits, sat, "fft", tensor)
    if inverse:
        re, im = im, re
    return re, im


def fft_fixed(x: CTensor, *, data_bits: int = 16, twiddle_bits: int = 18,
              guard_bits: int = GUARD_BITS, inverse: bool = False, natural_order: bool = False,
              sat: Saturations | None = None, tensor: str = "fft") -> CTensor:
    """Transform a complex fixed-point tensor along its last axis, as the RTL does.

    Returns a ``data_bits`` CTensor whose value is ``fft(x)`` (exponent ``x.exp + p``) or
    ``ifft(x)`` (``inverse``; exponent ``x.exp``), in bit-reversed order unless
    ``natural_order``.
    """
    re, im = fft_mantissas(x.re, x.im, data_bits=data_bits, twiddle_bits=twiddle_bits,
                           guard_bits=guard_bits, inverse=inverse, sat=sat, tensor=tensor)
    p = _log2(x.shape[-1])
    out = CTensor(re, im, x.exp + (0 if inverse else p), data_bits)
    return to_natural_order(out) if natural_order else out
