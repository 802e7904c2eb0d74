"""Integer model of ``hdl/top.py``: conv GEMM, PWL, crop and forward FFT descriptors executed on buffer images.

The top stores one complex value per buffer word and every conv-layer tensor bin major,
``[bin][d0][d1]`` in the tensor's logical order: inputs and output gradients ``[b][c]``,
spectral weights ``[o][i]``.  A :class:`~accel.program.Gemm` of kind ``CONV`` then reads
its operands with strides that its phase gives (:func:`gemm_strides`), and an
:class:`~accel.program.Act` reads and writes ``count`` consecutive words.  Executing the
descriptors in program order on the images (:func:`execute`) gives the buffers' contents
after the RTL has run the same program: the scoreboard only reorders what the program's
dependencies allow.  The arithmetic is ``accel.fixed.mac.cmac_gemm``,
``accel.fixed.act.pwl_forward_real`` / ``pwl_backward_real`` and
``accel.fixed.crop.crop_half`` / ``pad_half``.

A :class:`~accel.program.Crop` descriptor's operands are bin major over its ``count``
planes (bin ``j`` of plane ``p`` at ``addr + j * count + p``), each plane holding the bins
its consumer reads, in row-major half-spectrum order (:func:`accel.layout.crop_index`): the n-point side
(the crop's input, the pad's output) holds the ``(m + 1) x (m/2 + 1)`` bins the crop keeps
-- a crop-aware conv layer's kept bins -- and the m-point side all ``m x (m/2 + 1)``.
A forward :class:`~accel.program.Fft2d` reads ``images`` planes of ``n x n`` real samples,
plane major, two per word (even samples in the low half), and writes each plane's half
spectrum (``accel.fixed.fft2d.fft2d_half``, zero-padded to ``size``) the same way, bin major
over the kept bins of a crop to ``keep`` (all bins if ``keep >= size``).  Planes keep the
engine's own exponents: like every output here, the mantissas are not block-normalized
(the top has no normalization pass; ``accel.fixed.net`` aligns FFT planes and normalizes
the other outputs when their readers read them).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accel.layout import crop_index, half_bins, half_shape
from accel.program import Act, ActFunction, Crop, Descriptor, Fft2d, Gemm, GemmKind, Phase

from .act import PwlTable, pwl_backward_real, pwl_forward_real
from .core import CTensor, int_range
from .crop import crop_half, pad_half
from .fft2d import fft2d_half
from .mac import cmac_gemm


def gemm_strides(phase: Phase, m: int, n: int, k: int) -> tuple[int, int, int, int]:
    """``(a_m, a_k, b_k, b_n)``: word strides of ``A[row, step]`` and ``B[step, col]`` inside
    one bin of a conv GEMM with ``m x n`` outputs and reduction ``k`` (output ``C[row, col]``
    is always at ``row * n + col``).  Forward reads the weights ``[o][i]`` transposed,
    weight-gradient reads the output gradient ``[b][o]`` transposed."""
    if phase == Phase.FORWARD:
        return k, 1, 1, k
    if phase == Phase.BACKWARD_DATA:
        return k, 1, n, 1
    if phase == Phase.WEIGHT_GRADIENT:
        return 1, m, n, 1
    raise ValueError(f"phase: conv GEMMs run forward, backward-data or weight-gradient, got {phase.label}")


def table_words(table: PwlTable, segments: int) -> list[int]:
    """The register-file image (``PwlTable.words`` order) of ``table`` in a unit built for
    ``segments >= table.segments``: the extra breakpoints sit past the largest input (their
    segments are never selected), their slopes and intercepts are 0."""
    extra = segments - table.segments
    if extra < 0:
        raise ValueError(f"segments: the unit has {segments}, the table needs {table.segments}")
    past = int_range(table.data_bits + 1)[1]
    return ([int(v) for v in table.breakpoints] + [past] * extra + [int(v) for v in table.slopes] + [0] * extra
            + [int(v) for v in table.intercepts] + [0] * extra)


def execute(descriptors: Sequence[Descriptor], images: list[tuple[np.ndarray, np.ndarray]], table: PwlTable,
            acc_bits: int, bits: int, rounding: str = "half_up",
            twiddle_bits: int = 18) -> list[tuple[np.ndarray, np.ndarray]]:
    """Run conv GEMM, PWL, crop and forward FFT descriptors in order on buffer images ((re,
    im) mantissa arrays per buffer, ``bits`` wide); returns the new images (the inputs are
    not changed)."""
    out = [(re.copy(), im.copy()) for re, im in images]
    for d in descriptors:
        if isinstance(d, Gemm) and d.kind == GemmKind.CONV:
            am, ak, bk, bn = gemm_strides(d.phase, d.m, d.n, d.k)
            f = np.arange(d.bins)[:, None, None]
            r, c, s = np.arange(d.m), np.arange(d.n), np.arange(d.k)
            ia = d.a.addr + f * d.m * d.k + r[:, None] * am + s[None, :] * ak        # (bins, m, k)
            ib = d.b.addr + f * d.k * d.n + s[:, None] * bk + c[None, :] * bn        # (bins, k, n)
            ic = d.c.addr + f * d.m * d.n + r[:, None] * d.n + c[None, :]            # (bins, m, n)
            a = CTensor(out[d.a.buf][0][ia], out[d.a.buf][1][ia], 0, bits)
            b = CTensor(out[d.b.buf][0][ib], out[d.b.buf][1][ib], 0, bits)
            y = cmac_gemm(a, b, d.conj_b, acc_bits, bits, d.shift, rounding=rounding)
            out[d.c.buf][0][ic], out[d.c.buf][1][ic] = y.re, y.im
        elif isinstance(d, Act) and d.function == ActFunction.PWL:
            sl = slice(d.x.addr, d.x.addr + d.count)
            xr, xi = out[d.x.buf][0][sl], out[d.x.buf][1][sl]
            if d.backward:
                gs = slice(d.g.addr, d.g.addr + d.count)
                yr = pwl_backward_real(xr, out[d.g.buf][0][gs], table, bits, rounding=rounding)
                yi = pwl_backward_real(xi, out[d.g.buf][1][gs], table, bits, rounding=rounding)
            else:
                yr = pwl_forward_real(xr, table, rounding=rounding)
                yi = pwl_forward_real(xi, table, rounding=rounding)
            ys = slice(d.y.addr, d.y.addr + d.count)
            out[d.y.buf][0][ys], out[d.y.buf][1][ys] = yr, yi
        elif isinstance(d, Crop):
            _crop(d, out, bits, rounding)
        elif isinstance(d, Fft2d) and not d.inverse:
            _fft(d, out, bits, twiddle_bits)
        else:
            raise ValueError(f"{type(d).__name__}: the top's model runs conv Gemm, PWL Act, Crop and forward "
                             "Fft2d descriptors")
    return out


def _fft(d: Fft2d, out: list[tuple[np.ndarray, np.ndarray]], bits: int, twiddle_bits: int) -> None:
    """A forward 2-D FFT of ``d.images`` planes in the layout of the module docstring."""
    s = np.arange(d.images * d.n * d.n)
    words = out[d.src.buf][0][d.src.addr + s // 2], out[d.src.buf][1][d.src.addr + s // 2]
    x = np.where(s % 2 == 0, words[0], words[1]).reshape(d.images, d.n, d.n)
    x = np.pad(x, [(0, 0), (0, d.size - d.n), (0, d.size - d.n)])
    keep = d.keep if d.keep < d.size else None
    kr, kc = crop_index(d.size, d.keep)
    for p in range(d.images):             # the engine normalizes each image on its own
        y = fft2d_half(CTensor(x[p], np.zeros_like(x[p]), 0, bits), twiddle_bits=twiddle_bits, keep=keep)
        idst = d.dst.addr + np.arange(len(kr)) * d.images + p
        out[d.dst.buf][0][idst], out[d.dst.buf][1][idst] = y.re[kr, kc], y.im[kr, kc]


def _crop(d: Crop, out: list[tuple[np.ndarray, np.ndarray]], bits: int, rounding: str) -> None:
    """A crop (pad when ``d.adjoint``) of ``d.count`` planes in the layout of the module docstring."""
    kr, kc = crop_index(d.n, d.m)
    small = half_bins(d.m)
    src_bins, dst_bins = (small, len(kr)) if d.adjoint else (len(kr), small)
    isrc = d.src.addr + np.arange(src_bins)[None, :] * d.count + np.arange(d.count)[:, None]   # (planes, bins)
    idst = d.dst.addr + np.arange(dst_bins)[None, :] * d.count + np.arange(d.count)[:, None]
    x_re, x_im = out[d.src.buf][0][isrc], out[d.src.buf][1][isrc]
    if d.adjoint:
        g = CTensor(x_re.reshape(d.count, d.m, -1), x_im.reshape(d.count, d.m, -1), 0, bits)
        y = pad_half(g, d.n, rounding=rounding)
        y_re, y_im = y.re[:, kr, kc], y.im[:, kr, kc]
    else:
        full = [np.zeros((d.count, *half_shape(d.n)), np.int64) for _ in range(2)]
        full[0][:, kr, kc], full[1][:, kr, kc] = x_re, x_im
        y = crop_half(CTensor(full[0], full[1], 0, bits), d.m, rounding=rounding)
        y_re, y_im = y.re.reshape(d.count, -1), y.im.reshape(d.count, -1)
    out[d.dst.buf][0][idst], out[d.dst.buf][1][idst] = y_re, y_im
