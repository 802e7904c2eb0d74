"""Integer model of the 2-D FFT engine: rows -> transpose memory -> columns, half spectra.

The engine is one streaming 1-D pipeline (:mod:`accel.fixed.fft`) used twice per image:

forward (``fft2d_half``, real n x n image -> half spectrum n x (n/2+1), rfft2 layout):
  1. **row pass**: every image row (real samples, imaginary part 0) through the n-point
     pipeline; the transpose memory keeps columns 0..n/2 of each row's spectrum (the
     rest is the conjugate mirror) and undoes the bit-reversed order;
  2. **column pass**: every kept column through the pipeline, natural order out.  When a
     spectral pooling to m follows, only columns 0..m/2 survive it and only those are
     transformed (``keep=m``); the skipped columns are left zero.

inverse (``ifft2d_half``, half spectrum -> real n x n image): the column pass runs the
inverse transform on the n/2+1 stored columns; each row is then completed to n bins by
Hermitian symmetry (``Z[r, n - v] = conj(Z[r, v])``, a conjugating read of the transpose
memory) and the row pass runs the inverse transform; the imaginary parts are discarded.

Timing (``hdl/fft2d.py``, measured by ``tests/test_hdl_fft2d.py``): the engine has a row
pipeline and a column pipeline, so the row pass of image ``k + 1`` overlaps the column
pass of image ``k``.  With gapless input and an always-ready output, an image's first bin
leaves :func:`fft2d_latency` cycles after its first sample enters, its ``cols * n`` bins
follow one per cycle, and images start every :func:`fft2d_interval` = ``n * n`` cycles
(the row pass; the column pass, ``cols * n <= (n/2 + 1) n`` cycles, is shorter).
:func:`fft2d_cycles` is first input to one past the last output of a run of images.

Numbers: the 1-D pipeline's (per-stage 1/2 scaling, ``data_bits`` in and out); each
forward pass raises the exponent by log2 n, inverse passes keep it, so values are
preserved.  The row pass tracks the largest magnitude it writes to the transpose memory
and the column pass reads with the left shift that this maximum leaves unused
(:func:`block_normalize`, exact), so the second pass starts at full scale.  Saturations
are counted under ("fft", tensor).
"""
from __future__ import annotations

import numpy as np

from accel.layout import half_cols, kept_cols

from .core import CTensor, Saturations
from .fft import FFT_II, fft_butterflies, fft_fixed, fft_latency

FFT2D_TRANSPOSE_LATENCY = 6
"""Cycles the transpose adds between the row pipeline's last output of an image and the
column pipeline's first input, minus one: the writer's two registers (bin, then memory
write and peak), the reader's start, its memory read register, a fabric register on the
read data, the shift register and the reader's skid buffer."""


def block_normalize(t: CTensor) -> CTensor:
    """Left-shift all mantissas by the headroom their largest magnitude leaves (exact);
    the exponent drops by the same amount.  All-zero tensors are returned unchanged."""
    peak = int(max(np.max(np.abs(t.re), initial=0), np.max(np.abs(t.im), initial=0)))
    s = t.bits - 1 - peak.bit_length()
    if peak == 0 or s <= 0:
        return t
    return CTensor(t.re << np.int64(s), t.im << np.int64(s), t.exp - s, t.bits)


def _transpose(t: CTensor) -> CTensor:
    return CTensor(np.swapaxes(t.re, -1, -2), np.swapaxes(t.im, -1, -2), t.exp, t.bits)


def column_count(n: int, keep: int | None = None) -> int:
    """Columns the column pass transforms: n/2+1, or m/2+1 when a crop to m follows."""
    return half_cols(n) if keep is None or keep >= n else kept_cols(keep)


def fft2d_transforms(n: int, keep: int | None = None) -> tuple[int, int]:
    """(row transforms, column transforms) of one forward or inverse 2-D transform."""
    return n, column_count(n, keep)


def fft2d_latency(n: int) -> int:
    """Clock edges from an image's first input transfer to its first output transfer
    (gapless input, always-ready output): the row pass of ``n * n`` samples, the 1-D
    pipeline latency twice and :data:`FFT2D_TRANSPOSE_LATENCY`."""
    return 2 * fft_latency(n) + n * n * FFT_II + FFT2D_TRANSPOSE_LATENCY


def fft2d_interval(n: int) -> int:
    """Initiation interval between images (cycles): the row pass, ``n * n``."""
    fft_latency(n)  # validates n
    return n * n * FFT_II


def fft2d_cycles(n: int, keep: int | None = None, images: int = 1) -> int:
    """Cycles from the first input transfer to one past the last output transfer for
    ``images`` back-to-back images (gapless input, always-ready output); each image
    emits ``column_count(n, keep) * n`` bins."""
    if images < 1:
        raise ValueError(f"images: expected >= 1, got {images}")
    return ((images - 1) * fft2d_interval(n) + fft2d_latency(n)
            + column_count(n, keep) * n * FFT_II)


def fft2d_butterflies(n: int, keep: int | None = None) -> int:
    """Radix-2 butterflies of one 2-D transform: (rows + columns) x (n/2) log2 n."""
    rows, cols = fft2d_transforms(n, keep)
    return (rows + cols) * fft_butterflies(n)


def fft2d_half(x: CTensor, *, twiddle_bits: int = 18, keep: int | None = None,
               sat: Saturations | None = None, tensor: str = "fft2d") -> CTensor:
    """Forward 2-D FFT of real images ``x`` (..., n, n) (imaginary mantissas ignored) to
    half spectra (..., n, n/2+1) at exponent ``x.exp + 2 log2 n``."""
    n = x.shape[-1]
    if x.shape[-2] != n:
        raise ValueError(f"fft2d_half: images must be square, got {x.shape}")
    bits = x.bits
    real = CTensor(x.re, np.zeros_like(x.re), x.exp, bits)
    rows = fft_fixed(real, data_bits=bits, twiddle_bits=twiddle_bits, natural_order=True, sat=sat,
                     tensor=tensor)
    cols = column_count(n, keep)
    kept = block_normalize(_transpose(rows[..., :cols]))             # (..., cols, n): columns as rows
    spec = _transpose(fft_fixed(kept, data_bits=bits, twiddle_bits=twiddle_bits, natural_order=True,
                                sat=sat, tensor=tensor))             # (..., n, cols)
    h = half_cols(n)
    if cols == h:
        return spec
    pad = [(0, 0)] * (spec.re.ndim - 1) + [(0, h - cols)]
    return CTensor(np.pad(spec.re, pad), np.pad(spec.im, pad), spec.exp, bits)


def ifft2d_half(X: CTensor, *, twiddle_bits: int = 18, sat: Saturations | None = None,
                tensor: str = "ifft2d") -> CTensor:
    """Inverse 2-D FFT of half spectra (..., n, n/2+1) to real images (..., n, n) (the
    imaginary mantissas of the result are zero), at the input's exponent."""
    n, h = X.shape[-2:]
    if h != half_cols(n):
        raise ValueError(f"ifft2d_half: expected (..., n, n/2+1), got {X.shape}")
    bits = X.bits
    cols = _transpose(fft_fixed(_transpose(X), data_bits=bits, twiddle_bits=twiddle_bits, inverse=True,
                                natural_order=True, sat=sat, tensor=tensor))   # (..., n, h)
    src = n - np.arange(h, n)                                          # column n - v feeds column v
    cols = block_normalize(cols)
    re = np.concatenate([cols.re, cols.re[..., src]], axis=-1)
    im = np.concatenate([cols.im, -cols.im[..., src]], axis=-1)
    rows = fft_fixed(CTensor(re, im, cols.exp, bits), data_bits=bits, twiddle_bits=twiddle_bits,
                     inverse=True, natural_order=True, sat=sat, tensor=tensor)
    return CTensor(rows.re, np.zeros_like(rows.re), rows.exp, bits)
