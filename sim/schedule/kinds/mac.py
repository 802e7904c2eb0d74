"""Op kinds on the MAC array: per-bin conv GEMMs, the sinc interpolation and its adjoint,
the classifier's real GEMMs and the bias steps.

Values:

* conv GEMMs (``Gemm``, kind ``CONV``): bins ``bin0 .. bin0+bins`` of the layer's kept
  bins in row-major order of the half spectrum (:func:`accel.layout.kept_index`), output
  rows ``m0 .. m0+m``, columns ``n0 .. n0+n``;
* sinc GEMMs (kinds ``SINC_ROWS``, ``SINC_COLS``): channel pairs ``bin0 .. bin0+bins``
  (output channel major);
* ``Dense``: output rows ``m0 .. m0+m``, columns ``n0 .. n0+n`` in the schedule's
  orientation (forward: images x classes; backward-data: images x features;
  weight-gradient: features x classes).  Parameters keep ``FixedNet``'s orientation
  (classes x features), so the weight gradient is written transposed;
* ``Bias``: the DC bin's rows ``m0 .. m0+m`` and columns ``n0 .. n0+n``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from accel.fixed.core import CTensor, int_range, round_shift, saturate
from accel.fixed.layers import add_dc_bias, bias_grad_fixed, half_to_full, quantized_matrix
from accel.fixed.mac import check_widths, cmac_gemm
from accel.layout import half_cols, kept_index
from accel.program import ROM, Bias, Dense, Descriptor, Gemm, GemmKind, Ref
from accel.spectral import sinc_matrix

from ..ir import Chunk, GemmShape, Op, Operand, Refs, Tensor, ValueStore, expect

#: The coefficient ROM (the quantized sinc matrices) as a GEMM operand.
ROM_REF = Ref(buf=ROM, region=0)


def mac(store: ValueStore, a: CTensor, b: CTensor, conj_b: bool, out_bits: int, shift: int) -> CTensor:
    """``cmac_gemm`` (the MAC array's arithmetic), faster where it is exactly the same.

    ``cmac_gemm`` accumulates step by step, clamping every partial sum, whenever the
    operand widths allow a K-term sum to leave the accumulator (the classifier: K in
    the thousands).  If the sums of the products' magnitudes stay inside the
    accumulator, no partial sum can clamp and the plain matrix product gives the same
    integers; only then is it used here (no accumulator saturations to count)."""
    w = store.w
    hi = int_range(w.acc)[1]
    if a.shape[-1] * (1 << (a.bits + b.bits - 1)) > hi:
        ar, ai, br, bi = np.abs(a.re), np.abs(a.im), np.abs(b.re), np.abs(b.im)
        if max(int((ar @ br + ai @ bi).max(initial=0)), int((ar @ bi + ai @ br).max(initial=0))) <= hi:
            check_widths(a.bits, b.bits, w.acc, out_bits)
            bim = -b.im if conj_b else b.im
            re, im = a.re @ b.re - a.im @ bim, a.re @ bim + a.im @ b.re
            out = [saturate(round_shift(x, shift, w.rounding), out_bits, store.sat, "cmac", "out")
                   for x in (re, im)]
            return CTensor(out[0], out[1], a.exp + b.exp + shift, out_bits)
    return cmac_gemm(a, b, conj_b, w.acc, out_bits, shift, store.sat, w.rounding)


def _broadcast(t: CTensor, count: int) -> CTensor:
    """``t`` repeated ``count`` times along a new first axis (a view)."""
    return CTensor(np.broadcast_to(t.re, (count,) + t.shape), np.broadcast_to(t.im, (count,) + t.shape),
                   t.exp, t.bits)


# --------------------------------------------------------------------------- conv GEMMs

class _View(NamedTuple):
    """A conv GEMM operand as the kernel reads it: ``tensor`` viewed as ``shape x (N, N/2+1)``
    at the chunk's bins, restricted to the block on axis ``block_axis`` of ``shape``, axes
    permuted by ``order`` to (bins, rows, columns) of the per-bin matrix."""
    tensor: Tensor
    shape: tuple[int, int]
    block_axis: int
    order: tuple[int, int, int]


@dataclass(eq=False, kw_only=True)
class _ConvGemm(Op):
    """What the three per-bin GEMMs of a conv layer share: batch, channels, transform size,
    the accumulator -> output shift; one unit per kept bin."""
    batch: int
    ci: int
    co: int
    size: int
    shift: int
    label: str = "conv"

    def _gemm(self, chunk: Chunk, a: Ref, b: Ref, c: Ref, k: int, conj_b: bool) -> list[Descriptor]:
        blk = chunk.block
        return [Gemm(layer=self.layer, phase=self.phase, kind=GemmKind.CONV, a=a, b=b, c=c, bin0=chunk.first,
                     bins=chunk.count, m0=blk.m0, m=blk.m, n0=blk.n0, n=blk.n, k=k, conj_b=conj_b,
                     shift=self.shift)]

    def _values(self, d: Descriptor, store: ValueStore, a: _View, b: _View, out: Tensor,
                out_shape: tuple[int, int], bits: int) -> None:
        """``C[f] = A[f] @ B'[f]`` on the descriptor's bins, A restricted to the block's rows
        and B to its columns (see :class:`_View`)."""
        g = expect(d, Gemm)
        N = self.size
        h = half_cols(N)
        rr, cc = kept_index(N, store.net.keeps[g.layer])
        rr, cc = rr[g.bin0:g.bin0 + g.bins], cc[g.bin0:g.bin0 + g.bins]
        rows, cols = slice(g.m0, g.m0 + g.m), slice(g.n0, g.n0 + g.n)
        full = slice(None)

        def pick(view: _View, block: slice) -> CTensor:
            t = store.get(view.tensor).t
            first, second = (block, full) if view.block_axis == 0 else (full, block)
            v = (*view.shape, N, h)
            re = t.re.reshape(v)[first, second][:, :, rr, cc]
            im = t.im.reshape(v)[first, second][:, :, rr, cc]
            return CTensor(re.transpose(view.order), im.transpose(view.order), t.exp, t.bits)

        x = pick(a, rows)
        y = pick(b, cols)
        c = mac(store, x, y, g.conj_b, bits, g.shift)                       # (bins, m, n)
        o = store.out(out, (*out_shape, N, h), c.exp, bits, "normalize")
        o.t.re[rows, cols, rr, cc] = c.re.transpose(1, 2, 0)
        o.t.im[rows, cols, rr, cc] = c.im.transpose(1, 2, 0)


@dataclass(eq=False, kw_only=True)
class ConvForward(_ConvGemm):
    """``Y[f] = X[f] W[f]^T`` per kept bin f: X (B x Ci), W (Co x Ci), Y (B x Co)."""
    x: Operand
    w: Operand
    y: Operand

    def gemm(self) -> GemmShape:
        return (self.batch, self.co, self.ci)

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return self._gemm(chunk, refs[self.x], refs[self.w], refs[self.y], k=self.ci, conj_b=False)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        B, ci, co = self.batch, self.ci, self.co
        self._values(d, store, _View(self.x.tensor, (B, ci), 0, (2, 0, 1)),       # X[f] (B x Ci)
                     _View(self.w.tensor, (co, ci), 0, (2, 1, 0)),                  # W[f]^T (Ci x Co)
                     self.y.tensor, (B, co), store.w.data)


@dataclass(eq=False, kw_only=True)
class ConvBackwardData(_ConvGemm):
    """``G_X[f] = G_Y[f] conj(W[f])`` per kept bin: G_Y (B x Co), W (Co x Ci), G_X (B x Ci)."""
    g: Operand
    w: Operand
    gx: Operand

    def gemm(self) -> GemmShape:
        return (self.batch, self.ci, self.co)

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return self._gemm(chunk, refs[self.g], refs[self.w], refs[self.gx], k=self.co, conj_b=True)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        B, ci, co = self.batch, self.ci, self.co
        self._values(d, store, _View(self.g.tensor, (B, co), 0, (2, 0, 1)),       # G_Y[f] (B x Co)
                     _View(self.w.tensor, (co, ci), 1, (2, 0, 1)),                  # W[f] (Co x Ci)
                     self.gx.tensor, (B, ci), store.w.grad)


@dataclass(eq=False, kw_only=True)
class ConvWeightGradient(_ConvGemm):
    """``G_W[f] = G_Y[f]^T conj(X[f])`` per kept bin: G_Y (B x Co), X (B x Ci), G_W (Co x Ci)."""
    g: Operand
    x: Operand
    gw: Operand

    def gemm(self) -> GemmShape:
        return (self.co, self.ci, self.batch)

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return self._gemm(chunk, refs[self.g], refs[self.x], refs[self.gw], k=self.batch, conj_b=True)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        B, ci, co = self.batch, self.ci, self.co
        self._values(d, store, _View(self.g.tensor, (B, co), 1, (2, 1, 0)),       # G_Y[f]^T (Co x B)
                     _View(self.x.tensor, (B, ci), 1, (2, 0, 1)),                   # X[f] (B x Ci)
                     self.gw.tensor, (co, ci), store.w.grad)


# --------------------------------------------------------------------------- sinc GEMMs

@dataclass(eq=False, kw_only=True)
class _Sinc(Op):
    """What the sinc matmuls of a conv layer share: transform size, kernel, channels, the
    kept rows and half columns of the layer's spectra, the shift; one unit per channel pair."""
    size: int
    kernel: int
    ci: int
    co: int
    n_rows: int
    n_cols: int
    shift: int

    def _gemm(self, chunk: Chunk, kind: GemmKind, a: Ref, b: Ref, c: Ref, m: int, n: int, k: int,
              conj_b: bool) -> list[Descriptor]:
        return [Gemm(layer=self.layer, phase=self.phase, kind=kind, a=a, b=b, c=c, bin0=chunk.first,
                     bins=chunk.count, m0=0, m=m, n0=0, n=n, k=k, conj_b=conj_b, shift=self.shift)]

    def _parts(self, store: ValueStore) -> tuple[CTensor, np.ndarray, np.ndarray]:
        """The quantized S (N x k), its kept rows (= the non-zero full-spectrum columns of a
        gradient) and its kept half columns."""
        N = self.size
        S = quantized_matrix(sinc_matrix(N, self.kernel), store.w.weight)
        keep = store.net.keeps[self.layer]
        rows = np.arange(N) if keep is None else np.nonzero(keep.any(axis=1))[0]
        cols = np.arange(half_cols(N)) if keep is None else np.nonzero(keep.any(axis=0))[0]
        return S, rows, cols


@dataclass(eq=False, kw_only=True)
class SincRows(_Sinc):
    """``T = S[rows] V`` per channel pair (V in half storage, k x (k/2+1), read as full)."""
    v: Operand
    t: Operand
    label: str = "sinc-rows"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        k = self.kernel
        return self._gemm(chunk, GemmKind.SINC_ROWS, ROM_REF, refs[self.v], refs[self.t], m=self.n_rows, n=k,
                          k=k, conj_b=False)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        g = expect(d, Gemm)
        S, rows, _ = self._parts(store)
        N, k, pairs = self.size, self.kernel, self.ci * self.co
        p = slice(g.bin0, g.bin0 + g.bins)
        x = store.get(self.v.tensor).t
        wb = store.w.weight
        v = CTensor(x.re.reshape(pairs, k, -1)[p], x.im.reshape(pairs, k, -1)[p], x.exp, x.bits)
        c = mac(store, _broadcast(S[rows], g.bins), half_to_full(v, k), False, wb, g.shift)   # (pairs, R, k)
        o = store.out(self.t.tensor, (pairs, N, k), c.exp, wb, "normalize")
        o.t.re[p, rows], o.t.im[p, rows] = c.re, c.im


@dataclass(eq=False, kw_only=True)
class SincCols(_Sinc):
    """``W[rows, cols] = T S[cols]^T`` per channel pair: the spectral weights on the kept bins."""
    t: Operand
    w: Operand
    label: str = "sinc-cols"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return self._gemm(chunk, GemmKind.SINC_COLS, refs[self.t], ROM_REF, refs[self.w], m=self.n_rows,
                          n=self.n_cols, k=self.kernel, conj_b=False)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        g = expect(d, Gemm)
        S, rows, cols = self._parts(store)
        N, pairs = self.size, self.ci * self.co
        p = slice(g.bin0, g.bin0 + g.bins)
        x = store.get(self.t.tensor).t
        wb = store.w.weight
        t = CTensor(x.re[p][:, rows], x.im[p][:, rows], x.exp, x.bits)
        st = CTensor(S.re[cols].T, S.im[cols].T, S.exp, S.bits)
        c = mac(store, t, _broadcast(st, g.bins), False, wb, g.shift)         # (pairs, R, C)
        o = store.out(self.w.tensor, (pairs, N, half_cols(N)), c.exp, wb, "normalize")
        o.t.re[p, rows[:, None], cols[None, :]] = c.re
        o.t.im[p, rows[:, None], cols[None, :]] = c.im


@dataclass(eq=False, kw_only=True)
class SincAdjointRows(_Sinc):
    """``U = S^H[:, rows] G_W[rows, rows']`` per channel pair: G_W read as the full
    Hermitian spectrum, whose non-zero rows and columns are the R kept rows."""
    gw: Operand
    u: Operand
    label: str = "sinc-rows"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        R = self.n_rows
        return self._gemm(chunk, GemmKind.SINC_ROWS, ROM_REF, refs[self.gw], refs[self.u], m=self.kernel, n=R,
                          k=R, conj_b=False)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        g = expect(d, Gemm)
        S, rows, _ = self._parts(store)
        N, k, pairs = self.size, self.kernel, self.ci * self.co
        p = slice(g.bin0, g.bin0 + g.bins)
        x = store.get(self.gw.tensor).t
        gb = store.w.grad
        full = half_to_full(CTensor(x.re.reshape(pairs, N, -1)[p], x.im.reshape(pairs, N, -1)[p], x.exp, x.bits), N)
        full = CTensor(full.re[:, rows][:, :, rows], full.im[:, rows][:, :, rows], full.exp, full.bits)
        sh = CTensor(S.re[rows].T, -S.im[rows].T, S.exp, S.bits)          # S^H, kept rows
        c = mac(store, _broadcast(sh, g.bins), full, False, gb, g.shift)      # (pairs, k, R)
        o = store.out(self.u.tensor, (pairs, k, N), c.exp, gb, "normalize")
        o.t.re[p][:, :, rows], o.t.im[p][:, :, rows] = c.re, c.im


@dataclass(eq=False, kw_only=True)
class SincAdjointCols(_Sinc):
    """``G_V = U conj(S[rows', :k/2+1])`` per channel pair: the kernel gradient in half storage."""
    u: Operand
    gv: Operand
    label: str = "sinc-cols"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return self._gemm(chunk, GemmKind.SINC_COLS, refs[self.u], ROM_REF, refs[self.gv], m=self.kernel,
                          n=half_cols(self.kernel), k=self.n_rows, conj_b=True)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        g = expect(d, Gemm)
        S, rows, _ = self._parts(store)
        k, pairs = self.kernel, self.ci * self.co
        hk = half_cols(k)
        p = slice(g.bin0, g.bin0 + g.bins)
        x = store.get(self.u.tensor).t
        gb = store.w.grad
        u = CTensor(x.re[p][:, :, rows], x.im[p][:, :, rows], x.exp, x.bits)
        s_ = CTensor(S.re[rows, :hk], S.im[rows, :hk], S.exp, S.bits)
        c = mac(store, u, _broadcast(s_, g.bins), True, gb, g.shift)          # (pairs, k, k/2+1)
        o = store.out(self.gv.tensor, (self.co, self.ci, k, hk), c.exp, gb, "normalize")
        o.t.re.reshape(pairs, k, hk)[p] = c.re
        o.t.im.reshape(pairs, k, hk)[p] = c.im


# --------------------------------------------------------------------------- classifier

def _real(x: np.ndarray, t: CTensor) -> CTensor:
    """Real values ``x`` (of ``t``'s format) as one GEMM of a batch of one."""
    return CTensor(x[None], np.zeros((1,) + x.shape, np.int64), t.exp, t.bits)


def _features(store: ValueStore, x: Tensor) -> CTensor:
    """The classifier's input (B, 2 C n (n/2+1)): Re then Im of each half spectrum."""
    t = store.get(x).t
    B = len(store.labels)
    re = np.concatenate([t.re.reshape(B, -1), t.im.reshape(B, -1)], axis=1)
    return CTensor(re, np.zeros_like(re), t.exp, t.bits)


@dataclass(eq=False, kw_only=True)
class _DenseGemm(Op):
    """What the classifier's real GEMMs share: batch, features, classes, the shift; one unit."""
    batch: int
    feats: int
    classes: int
    shift: int
    label: str = "dense"

    def _dense(self, chunk: Chunk, a: Ref, b: Ref, c: Ref, k: int, trans_a: bool, trans_b: bool) -> list[Descriptor]:
        blk = chunk.block
        return [Dense(layer=self.layer, phase=self.phase, a=a, b=b, c=c, m0=blk.m0, m=blk.m, n0=blk.n0, n=blk.n, k=k,
                      trans_a=trans_a, trans_b=trans_b, shift=self.shift)]


def _block(d: Descriptor) -> tuple[Dense, slice, slice]:
    g = expect(d, Dense)
    return g, slice(g.m0, g.m0 + g.m), slice(g.n0, g.n0 + g.n)


@dataclass(eq=False, kw_only=True)
class DenseForward(_DenseGemm):
    """``logits = features W^T``: features (B x F, the half spectra's Re and Im), W (classes x F)."""
    x: Operand
    w: Operand
    y: Operand

    def gemm(self) -> GemmShape:
        return (self.batch, self.classes, self.feats)

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return self._dense(chunk, refs[self.x], refs[self.w], refs[self.y], k=self.feats, trans_a=False,
                           trans_b=False)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        g, rows, cols = _block(d)
        f, wd = _features(store, self.x.tensor), store.get(self.w.tensor).t
        c = mac(store, _real(f.re[rows], f), _real(wd.re[cols].T, wd), False, store.w.data, g.shift)[0]
        o = store.out(self.y.tensor, (len(store.labels), wd.shape[0]), c.exp, store.w.data, "normalize")
        o.t.re[rows, cols] = c.re


@dataclass(eq=False, kw_only=True)
class DenseBackwardData(_DenseGemm):
    """``G_F = G W``: G (B x classes), W (classes x F) read transposed, G_F (B x F) real."""
    g: Operand
    w: Operand
    gx: Operand

    def gemm(self) -> GemmShape:
        return (self.batch, self.feats, self.classes)

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return self._dense(chunk, refs[self.g], refs[self.w], refs[self.gx], k=self.classes, trans_a=False,
                           trans_b=True)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        g, rows, cols = _block(d)
        gt, wd = store.get(self.g.tensor).t, store.get(self.w.tensor).t
        c = mac(store, _real(gt.re[rows], gt), _real(wd.re[:, cols], wd), False, store.w.grad, g.shift)[0]
        o = store.out(self.gx.tensor, (len(store.labels), wd.shape[1]), c.exp, store.w.grad, "normalize")
        o.t.re[rows, cols] = c.re


@dataclass(eq=False, kw_only=True)
class DenseWeightGradient(_DenseGemm):
    """``G_W = features^T G`` (F x classes), stored transposed as W is (classes x F)."""
    x: Operand
    g: Operand
    gw: Operand

    def gemm(self) -> GemmShape:
        return (self.feats, self.classes, self.batch)

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return self._dense(chunk, refs[self.x], refs[self.g], refs[self.gw], k=self.batch, trans_a=True,
                           trans_b=False)

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        g, rows, cols = _block(d)
        f, gt = _features(store, self.x.tensor), store.get(self.g.tensor).t
        c = mac(store, _real(gt.re[:, cols].T, gt), _real(f.re[:, rows], f), False, store.w.grad, g.shift)[0]
        o = store.out(self.gw.tensor, (gt.shape[1], f.shape[1]), c.exp, store.w.grad, "normalize")
        o.t.re[cols, rows] = c.re


# --------------------------------------------------------------------------- bias

@dataclass(eq=False, kw_only=True)
class BiasAdd(Op):
    """The output stage's bias add on the DC bin of a finished GEMM output ``y`` (``m``
    rows x ``n`` channels), ``2**scale b`` at y's exponent; one unit."""
    y: Operand
    b: Operand
    m: int
    n: int
    scale: int
    real: bool
    label: str = "bias"

    def gemm(self) -> GemmShape:
        return (self.m, self.n, 1)

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        blk = chunk.block
        return [Bias(layer=self.layer, phase=self.phase, y=refs[self.y], b=refs[self.b], m0=blk.m0, m=blk.m,
                     n0=blk.n0, n=blk.n, scale=self.scale, real=self.real, grad=False)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        g = expect(d, Bias)
        rows, cols = slice(g.m0, g.m0 + g.m), slice(g.n0, g.n0 + g.n)
        N = 1 << (g.scale // 2)
        y, b = store.pending(self.y.tensor).t, store.get(self.b.tensor).t   # y: the raw GEMM output
        dc = (rows, cols) if g.real else (rows, cols, 0, 0)
        part = CTensor(y.re[dc][None], y.im[dc][None], y.exp, y.bits)
        y.re[dc] = add_dc_bias(part, b.re[cols], b.exp, N, store.sat, store.w.rounding).re[0]


@dataclass(eq=False, kw_only=True)
class BiasGrad(Op):
    """A bias gradient ``gb``: the column sums of the ``m`` batch rows of ``g``'s DC bin
    (``n`` channels); one unit."""
    g: Operand
    gb: Operand
    m: int
    n: int
    scale: int
    real: bool
    label: str = "bias-grad"

    def gemm(self) -> GemmShape:
        return (1, self.n, self.m)

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        blk = chunk.block
        return [Bias(layer=self.layer, phase=self.phase, y=refs[self.g], b=refs[self.gb], m0=0, m=self.m,
                     n0=blk.n0, n=blk.n, scale=self.scale, real=self.real, grad=True)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        bd = expect(d, Bias)
        cols = slice(bd.n0, bd.n0 + bd.n)
        N = 1 << (bd.scale // 2)
        g = store.get(self.g.tensor).t
        B = len(store.labels)
        if bd.real:
            gr, gi = g.re[:, cols], g.im[:, cols]
        else:                                   # (B, channels, N, N/2+1): the DC bin
            shape = (B, -1, N, half_cols(N))
            gr, gi = g.re.reshape(shape)[:, cols, 0, 0], g.im.reshape(shape)[:, cols, 0, 0]
        gm = CTensor(gr[..., None, None], gi[..., None, None], g.exp, g.bits)
        total, exp = bias_grad_fixed(gm, N, store.w.grad, store.sat, store.w.rounding)
        o = store.out(self.gb.tensor, (self.gb.tensor.values,), exp, store.w.grad, "none")
        o.t.re[cols] = total

