"""Values through the simulated iteration: every descriptor computes its outputs with ``accel.fixed``.

:class:`Values` holds every tensor of a :class:`sim.schedule.Schedule` as integer mantissas
(a :class:`~accel.fixed.core.CTensor` of the tensor's logical shape) and, per compute
descriptor, in program order, computes the slice of its output tensors the descriptor
covers, vectorized over that slice, with the unit models the fixed-point training iteration
:class:`accel.fixed.net.FixedNet` is built from.  So the weights after one simulated
iteration equal ``FixedNet``'s after ``loss_and_grads`` and ``step``, bit for bit, however
the schedule tiles the work (buffer sizes, MAC array shape, FFT engines).

Slices, by descriptor kind:

* ``Fft2d``: planes ``first .. first+images`` (plane = image x channels + channel) of its
  source and destination; forward: an ``n x n`` real corner zero-padded to ``size``, only
  the columns a crop to ``keep`` reads; inverse: only the ``n x n`` corner of the output.
  Each plane carries its own exponent offset out of the engine (see
  :func:`accel.fixed.net.fft2d_planes`);
* ``Gemm`` (conv): bins ``bin0 .. bin0+bins`` of the layer's kept bins in row-major order
  of the half spectrum (:func:`kept_bins`), output rows ``m0 .. m0+m``, columns
  ``n0 .. n0+n``; (sinc): channel pairs ``bin0 .. bin0+bins`` (output channel major);
* ``Dense``: output rows ``m0 .. m0+m``, columns ``n0 .. n0+n`` in the schedule's
  orientation (forward: images x classes; backward-data: images x features;
  weight-gradient: features x classes).  Parameters keep ``FixedNet``'s orientation
  (classes x features), so the weight gradient is written transposed;
* ``Bias``: the DC bin's rows ``m0 .. m0+m`` and columns ``n0 .. n0+n``;
* ``Crop``: planes ``first .. first+count``;
* ``Act``: values ``first .. first+count`` -- PWL: of the tensor's kept bins in bin-major
  order (bin, then plane: the order the MAC array writes them); ReLU: spatial samples,
  plane-major; Hermitian projection: half-spectrum values, plane-major; loss: logits,
  image-major;
* ``Update``: parameter values ``first .. first+count`` in ``FixedNet``'s C order.

Block floating point: a tensor that ``FixedNet`` normalizes (GEMM, PWL and crop outputs,
FFT outputs after plane alignment) is normalized here when the last descriptor writing it
has run -- its maximum is known then -- and no descriptor reads it before (checked).  DRAM
transfers move words, not values: they compute nothing.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from math import log2

import numpy as np

from accel.config import ConfigError, NetworkConfig
from accel.data import load_dataset
from accel.fixed.act import PwlTable, pwl_backward_real, pwl_fixed_table, pwl_forward_real
from accel.fixed.core import CTensor, Saturations, int_range, round_shift, saturate
from accel.fixed.crop import crop_half, pad_half
from accel.fixed.layers import (
    Ctx,
    add_dc_bias,
    align_planes,
    bias_grad_fixed,
    fft2d_planes,
    half_to_full,
    hermitian_finish,
    hermitian_pair_sums,
    ifft2d_planes,
    normalize,
    quantized_matrix,
)
from accel.fixed.mac import check_widths, cmac_gemm
from accel.fixed.net import FixedNet
from accel.fixed.update import sgd_step
from accel.layout import crop_mask, half_cols
from accel.network import LayerShape, layer_shapes, pwl_table
from accel.program import Act, ActFunction, Bias, Crop, Dense, Descriptor, Fft2d, Gemm, GemmKind, Phase, Update
from accel.spectral import sinc_matrix

from .schedule import Schedule


def kept_bins(n: int, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the bins of an n x (n/2+1) half spectrum in ``keep`` (all if None),
    row-major: the bin order of the per-bin GEMMs and PWL activations."""
    mask = np.ones((n, half_cols(n)), bool) if keep is None else keep
    return np.nonzero(mask)


@dataclass
class _Slot:
    """A tensor's mantissas (its whole logical shape), per-plane exponent offsets for FFT
    outputs (else None), how it is finalized (``normalize``, ``align``, ``hermitian`` or
    ``none``) and whether it is final."""
    t: CTensor
    off: np.ndarray | None
    final: str
    done: bool = False


class Values:
    """The values of one iteration of ``schedule`` (see the module docstring).

    ``fixed`` gives the initial parameters, number formats and the GEMM shift plan (the
    schedule must have been built with that plan); it is copied, never changed.  After
    every descriptor has run (:meth:`run`, in program order), :attr:`net` holds the
    updated parameters, :attr:`grads` the parameter gradients, :attr:`loss` the batch
    loss and :attr:`sat` this iteration's saturations.
    """

    def __init__(self, schedule: Schedule, fixed: FixedNet, images: np.ndarray, labels: np.ndarray) -> None:
        self.schedule = schedule
        self.net = copy.deepcopy(fixed)
        self.sat = Saturations()
        self.net.sat = self.sat
        self.net.ctx = Ctx(self.net.w, self.sat, self.net.plan)
        self.w = self.net.w
        self.shapes = layer_shapes(self.net.cfg)
        self.labels = np.asarray(labels, np.int64)
        self.loss: float | None = None
        self.grads: dict[str, CTensor] = {}
        self.tables: dict[int, PwlTable] = {}
        self._host: CTensor | None = None
        self.slots: dict[str, _Slot] = {}
        B = len(self.labels)
        x = self.net.input_images(images)
        c0, n0 = self.net.cfg.input.channels, self.net.cfg.input.size
        self.slots["x"] = _Slot(CTensor(x.re.reshape(B * c0, n0, n0), x.im.reshape(B * c0, n0, n0), x.exp, x.bits),
                                np.zeros(B * c0, np.int64), "none", True)
        # finalize each tensor after the last descriptor of the last op writing it
        last_op: dict[str, int] = {}
        for k, op in enumerate(schedule.ops):
            for o in op.operands:
                if o.mode != "r" and op.label != "update":    # parameters and momenta change in place
                    last_op[o.tensor.name] = k
        last_desc: dict[int, int] = {}
        for di, k in enumerate(schedule.op_of):
            if k >= 0:
                last_desc[k] = di
        self.finalize_after: dict[int, list[str]] = {}
        for name, k in last_op.items():
            self.finalize_after.setdefault(last_desc[k], []).append(name)
        self.param_of = {t.name: t.param for t in schedule.tensors.values() if t.param}
        for name, param in self.param_of.items():
            self.slots[name] = _Slot(self.net.params[param].value, None, "none", True)
        #: gradient tensor -> parameter name
        self.grad_of = {op.operands[2].tensor.name: op.operands[0].tensor.param
                        for op in schedule.ops if op.label == "update"}

    # ------------------------------------------------------------------ tensors
    def get(self, name: str) -> _Slot:
        s = self.slots[name]
        if s.final != "none" and not s.done:
            raise RuntimeError(f"{name} is read before the descriptors writing it are complete")
        return s

    def out(self, name: str, shape: tuple[int, ...], exp: int, bits: int, final: str,
            planes: int | None = None) -> _Slot:
        """The slot a descriptor writes, allocated (zeros) by its first writer; every writer
        must produce the same exponent."""
        s = self.slots.get(name)
        if s is None:
            z = np.zeros(shape, np.int64)
            s = self.slots[name] = _Slot(CTensor(z, z.copy(), exp, bits), None if planes is None else
                                         np.zeros(planes, np.int64), final)
        if s.t.exp != exp or s.done:
            raise RuntimeError(f"{name}: written at exponent {exp}, allocated at {s.t.exp} (done={s.done})")
        return s

    def finalize(self, name: str) -> None:
        s = self.slots[name]
        if s.final == "normalize":
            s.t = normalize(s.t)
        elif s.final == "align":
            s.t, s.off = align_planes(s.t, s.off, self.sat), None
        elif s.final == "hermitian":
            s.t = hermitian_finish(s.t)
        s.done = True

    # ------------------------------------------------------------------ execution
    def run(self, i: int, d: Descriptor) -> None:
        """Compute descriptor ``i`` (``d``) of the program, then finalize the tensors it completes."""
        k = self.schedule.op_of[i]
        if k >= 0:
            op = self.schedule.ops[k]
            names = [o.tensor.name for o in op.operands]
            handler = {Fft2d: self._fft, Gemm: self._gemm, Dense: self._dense, Bias: self._bias, Crop: self._crop,
                       Act: self._act, Update: self._update}[type(d)]
            handler(d, op.label, names)
        for name in self.finalize_after.get(i, ()):
            self.finalize(name)
            if name in self.grad_of:
                self.grads[self.grad_of[name]] = self.slots[name].t

    def layer(self, d: Descriptor) -> LayerShape:
        return self.shapes[d.layer]

    # ------------------------------------------------------------------ FFT engines
    #: (label, phase, inverse) -> (source operand, destination operand) of an Fft2d
    FFT_OPERANDS = {("input-fft", False): (0, 1), ("pad", True): (0, 1), ("pad", False): (1, 2),
                    ("unpad", True): (0, 1), ("unpad", False): (1, 2)}

    def _fft_operands(self, d: Fft2d, label: str) -> tuple[int, int]:
        if label == "spatial":
            if d.phase == Phase.FORWARD:
                return (0, 1) if d.inverse else (2, 3)
            return (0, 2) if d.inverse else (3, 4)
        return self.FFT_OPERANDS[(label, bool(d.inverse))]

    def _fft(self, d: Fft2d, label: str, names: list[str]) -> None:
        si, di = self._fft_operands(d, label)
        src, dst = self.get(names[si]), names[di]
        a, b = d.first, d.first + d.images
        off = src.off[a:b] if src.off is not None else np.zeros(d.images, np.int64)
        if d.inverse:
            z, off = ifft2d_planes(_planes(src.t, d.size, d.size // 2 + 1)[a:b], off, self.net.ctx)
            z = z[..., :d.n, :d.n]
            P = self.schedule.tensors[dst].values // (d.n * d.n)
            s = self.out(dst, (P, d.n, d.n), z.exp, z.bits, "none", P)
        else:
            x = _planes(src.t, d.n, d.n)[a:b]
            pad = [(0, 0), (0, d.size - d.n), (0, d.size - d.n)]
            xp = CTensor(np.pad(x.re, pad), np.zeros((d.images, d.size, d.size), np.int64), x.exp, x.bits)
            keep = d.keep if d.keep < d.size else None
            z, off = fft2d_planes(xp, off, self.net.ctx, keep)
            mask = None if keep is None else crop_mask(d.size, keep)
            if mask is not None:
                z = CTensor(np.where(mask, z.re, 0), np.where(mask, z.im, 0), z.exp, z.bits)
            exp = z.exp
            if label == "unpad":       # adjoint of zero padding n -> N: times (N/n)^2, an exponent step
                s_layer = self.layer(d)
                exp += 2 * int(log2(s_layer.out_size // s_layer.in_size))
            bins = int(np.count_nonzero(mask)) if mask is not None else d.size * (d.size // 2 + 1)
            P = self.schedule.tensors[dst].values // bins
            s = self.out(dst, (P, d.size, d.size // 2 + 1), exp, z.bits, "align", P)
        s.t.re[a:b], s.t.im[a:b] = z.re, z.im
        s.off[a:b] = off

    # ------------------------------------------------------------------ MAC array
    def _gemm(self, d: Gemm, label: str, names: list[str]) -> None:
        if d.kind == GemmKind.CONV:
            self._conv(d, names)
        elif d.phase == Phase.FORWARD:
            self._sinc(d, names)
        else:
            self._sinc_adjoint(d, names)

    def _mac(self, a: CTensor, b: CTensor, conj_b: bool, out_bits: int, shift: int) -> CTensor:
        """``cmac_gemm`` (the MAC array's arithmetic), faster where it is exactly the same.

        ``cmac_gemm`` accumulates step by step, clamping every partial sum, whenever the
        operand widths allow a K-term sum to leave the accumulator (the classifier: K in
        the thousands).  If the sums of the products' magnitudes stay inside the
        accumulator, no partial sum can clamp and the plain matrix product gives the same
        integers; only then is it used here (no accumulator saturations to count)."""
        hi = int_range(self.w.acc)[1]
        if a.shape[-1] * (1 << (a.bits + b.bits - 1)) > hi:
            ar, ai, br, bi = np.abs(a.re), np.abs(a.im), np.abs(b.re), np.abs(b.im)
            if max(int((ar @ br + ai @ bi).max(initial=0)), int((ar @ bi + ai @ br).max(initial=0))) <= hi:
                check_widths(a.bits, b.bits, self.w.acc, out_bits)
                bim = -b.im if conj_b else b.im
                re, im = a.re @ b.re - a.im @ bim, a.re @ bim + a.im @ b.re
                out = [saturate(round_shift(x, shift, self.w.rounding), out_bits, self.sat, "cmac", "out")
                       for x in (re, im)]
                return CTensor(out[0], out[1], a.exp + b.exp + shift, out_bits)
        return cmac_gemm(a, b, conj_b, self.w.acc, out_bits, shift, self.sat, self.w.rounding)

    def _conv(self, d: Gemm, names: list[str]) -> None:
        """Per-bin GEMMs of a conv layer on bins ``bin0 .. bin0+bins`` of its kept bins."""
        s = self.layer(d)
        N, B, ci, co = s.out_size, len(self.labels), s.in_channels, s.out_channels
        rr, cc = kept_bins(N, self.net.keeps[d.layer])
        rr, cc = rr[d.bin0:d.bin0 + d.bins], cc[d.bin0:d.bin0 + d.bins]
        rows, cols = slice(d.m0, d.m0 + d.m), slice(d.n0, d.n0 + d.n)
        A, Bm = self.get(names[0]).t, self.get(names[1]).t

        def pick(t: CTensor, shape: tuple[int, ...], first: slice, second: slice,
                 order: tuple[int, int, int]) -> CTensor:
            """t viewed as (d0, d1, N, h): [first, second, bins], axes permuted to (bins, ., .)."""
            re, im = t.re.reshape(shape)[first, second][:, :, rr, cc], t.im.reshape(shape)[first, second][:, :, rr, cc]
            return CTensor(re.transpose(order), im.transpose(order), t.exp, t.bits)

        h = N // 2 + 1
        full = slice(None)
        if d.phase == Phase.FORWARD:            # X[f] (B x Ci) @ W[f]^T (Ci x Co)
            a = pick(A, (B, ci, N, h), rows, full, (2, 0, 1))
            b = pick(Bm, (co, ci, N, h), cols, full, (2, 1, 0))
            out_shape, bits = (B, co, N, h), self.w.data
        elif d.phase == Phase.BACKWARD_DATA:    # G_Y[f] (B x Co) @ conj(W[f]) (Co x Ci)
            a = pick(A, (B, co, N, h), rows, full, (2, 0, 1))
            b = pick(Bm, (co, ci, N, h), full, cols, (2, 0, 1))
            out_shape, bits = (B, ci, N, h), self.w.grad
        else:                                   # G_Y[f]^T (Co x B) @ conj(X[f]) (B x Ci)
            a = pick(A, (B, co, N, h), full, rows, (2, 1, 0))
            b = pick(Bm, (B, ci, N, h), full, cols, (2, 0, 1))
            out_shape, bits = (co, ci, N, h), self.w.grad
        c = self._mac(a, b, d.conj_b, bits, d.shift)                        # (bins, m, n)
        o = self.out(names[2], out_shape, c.exp, bits, "normalize")
        o.t.re[rows, cols, rr, cc] = c.re.transpose(1, 2, 0)
        o.t.im[rows, cols, rr, cc] = c.im.transpose(1, 2, 0)

    def _sinc_parts(self, d: Gemm) -> tuple[int, int, CTensor, np.ndarray, np.ndarray, int]:
        """Layer size N, kernel k, the quantized S (N x k), its kept rows (= the non-zero
        full-spectrum columns of a gradient), its kept half columns, channel pairs."""
        s = self.layer(d)
        N, k = s.out_size, s.layer.kernel
        S = quantized_matrix(sinc_matrix(N, k), self.w.weight)
        keep = self.net.keeps[d.layer]
        rows = np.arange(N) if keep is None else np.nonzero(keep.any(axis=1))[0]
        cols = np.arange(N // 2 + 1) if keep is None else np.nonzero(keep.any(axis=0))[0]
        return N, k, S, rows, cols, s.in_channels * s.out_channels

    def _sinc(self, d: Gemm, names: list[str]) -> None:
        """W = S V S^T for channel pairs ``bin0 .. bin0+bins``: SINC_ROWS T = S[rows] V_full,
        SINC_COLS W[rows, cols] = T S[cols]^T."""
        N, k, S, rows, cols, pairs = self._sinc_parts(d)
        p = slice(d.bin0, d.bin0 + d.bins)
        x = self.get(names[0]).t
        wb = self.w.weight
        if d.kind == GemmKind.SINC_ROWS:
            v = CTensor(x.re.reshape(pairs, k, -1)[p], x.im.reshape(pairs, k, -1)[p], x.exp, x.bits)
            a = S[rows]
            a = CTensor(np.broadcast_to(a.re, (d.bins,) + a.shape), np.broadcast_to(a.im, (d.bins,) + a.shape),
                        a.exp, a.bits)
            c = self._mac(a, half_to_full(v, k), False, wb, d.shift)        # (pairs, R, k)
            o = self.out(names[1], (pairs, N, k), c.exp, wb, "normalize")
            o.t.re[p, rows], o.t.im[p, rows] = c.re, c.im
        else:
            t = CTensor(x.re[p][:, rows], x.im[p][:, rows], x.exp, x.bits)
            st = CTensor(S.re[cols].T, S.im[cols].T, S.exp, S.bits)
            b = CTensor(np.broadcast_to(st.re, (d.bins,) + st.shape), np.broadcast_to(st.im, (d.bins,) + st.shape),
                        st.exp, st.bits)
            c = self._mac(t, b, False, wb, d.shift)                         # (pairs, R, C)
            o = self.out(names[1], (pairs, N, N // 2 + 1), c.exp, wb, "normalize")
            o.t.re[p, rows[:, None], cols[None, :]] = c.re
            o.t.im[p, rows[:, None], cols[None, :]] = c.im

    def _sinc_adjoint(self, d: Gemm, names: list[str]) -> None:
        """G_V = S^H G_W conj(S) for channel pairs ``bin0 .. bin0+bins``: SINC_ROWS
        U = S^H[:, rows] G_full[rows, rows'], SINC_COLS G_V = U conj(S[rows', :k/2+1])."""
        N, k, S, rows, _, pairs = self._sinc_parts(d)
        p = slice(d.bin0, d.bin0 + d.bins)
        x = self.get(names[0]).t
        gb = self.w.grad
        if d.kind == GemmKind.SINC_ROWS:
            g = half_to_full(CTensor(x.re.reshape(pairs, N, -1)[p], x.im.reshape(pairs, N, -1)[p], x.exp, x.bits), N)
            g = CTensor(g.re[:, rows][:, :, rows], g.im[:, rows][:, :, rows], g.exp, g.bits)
            sh = CTensor(S.re[rows].T, -S.im[rows].T, S.exp, S.bits)          # S^H, kept rows
            a = CTensor(np.broadcast_to(sh.re, (d.bins,) + sh.shape), np.broadcast_to(sh.im, (d.bins,) + sh.shape),
                        sh.exp, sh.bits)
            c = self._mac(a, g, False, gb, d.shift)                         # (pairs, k, R)
            o = self.out(names[1], (pairs, k, N), c.exp, gb, "normalize")
            o.t.re[p][:, :, rows], o.t.im[p][:, :, rows] = c.re, c.im
        else:
            u = CTensor(x.re[p][:, :, rows], x.im[p][:, :, rows], x.exp, x.bits)
            hk = k // 2 + 1
            s_ = CTensor(S.re[rows, :hk], S.im[rows, :hk], S.exp, S.bits)
            b = CTensor(np.broadcast_to(s_.re, (d.bins,) + s_.shape), np.broadcast_to(s_.im, (d.bins,) + s_.shape),
                        s_.exp, s_.bits)
            c = self._mac(u, b, True, gb, d.shift)                          # (pairs, k, k/2+1)
            s = self.layer(d)
            o = self.out(names[1], (s.out_channels, s.in_channels, k, hk), c.exp, gb, "normalize")
            o.t.re.reshape(pairs, k, hk)[p] = c.re
            o.t.im.reshape(pairs, k, hk)[p] = c.im

    def _features(self, name: str) -> CTensor:
        """The classifier's input (B, 2 C n (n/2+1)): Re then Im of each half spectrum."""
        t = self.get(name).t
        B = len(self.labels)
        re = np.concatenate([t.re.reshape(B, -1), t.im.reshape(B, -1)], axis=1)
        return CTensor(re, np.zeros_like(re), t.exp, t.bits)

    def _dense(self, d: Dense, label: str, names: list[str]) -> None:
        """The classifier's real GEMMs on one output block (see the module docstring)."""
        rows, cols = slice(d.m0, d.m0 + d.m), slice(d.n0, d.n0 + d.n)

        def real(x: np.ndarray, t: CTensor) -> CTensor:
            return CTensor(x[None], np.zeros((1,) + x.shape, np.int64), t.exp, t.bits)

        if d.phase == Phase.FORWARD:               # features (B x F) @ W^T (F x classes)
            f, wd = self._features(names[0]), self.get(names[1]).t
            c = self._mac(real(f.re[rows], f), real(wd.re[cols].T, wd), False, self.w.data, d.shift)[0]
            o = self.out(names[2], (len(self.labels), wd.shape[0]), c.exp, self.w.data, "normalize")
            o.t.re[rows, cols] = c.re
        elif d.phase == Phase.BACKWARD_DATA:       # G (B x classes) @ W (classes x F)
            g, wd = self.get(names[0]).t, self.get(names[1]).t
            c = self._mac(real(g.re[rows], g), real(wd.re[:, cols], wd), False, self.w.grad, d.shift)[0]
            o = self.out(names[2], (len(self.labels), wd.shape[1]), c.exp, self.w.grad, "normalize")
            o.t.re[rows, cols] = c.re
        else:                                      # G^T (classes x B) @ features (B x F), stored transposed
            f, g = self._features(names[0]), self.get(names[1]).t
            c = self._mac(real(g.re[:, cols].T, g), real(f.re[:, rows], f), False, self.w.grad, d.shift)[0]
            o = self.out(names[2], (g.shape[1], f.shape[1]), c.exp, self.w.grad, "normalize")
            o.t.re[cols, rows] = c.re

    def _bias(self, d: Bias, label: str, names: list[str]) -> None:
        """Forward: the output-stage bias add on the DC bin; gradient: the DC column sums."""
        rows, cols = slice(d.m0, d.m0 + d.m), slice(d.n0, d.n0 + d.n)
        N = 1 << (d.scale // 2)
        if not d.grad:
            y, b = self.slots[names[0]].t, self.get(names[1]).t      # y: the raw GEMM output, not final
            dc = (rows, cols) if d.real else (rows, cols, 0, 0)
            part = CTensor(y.re[dc][None], y.im[dc][None], y.exp, y.bits)
            y.re[dc] = add_dc_bias(part, b.re[cols], b.exp, N, self.sat, self.w.rounding).re[0]
            return
        g = self.get(names[0]).t
        B = len(self.labels)
        if d.real:
            gr, gi = g.re[:, cols], g.im[:, cols]
        else:                                   # (B, channels, N, N/2+1): the DC bin
            gr, gi = g.re.reshape(B, -1, N, N // 2 + 1)[:, cols, 0, 0], g.im.reshape(B, -1, N, N // 2 + 1)[:, cols, 0, 0]
        gm = CTensor(gr[..., None, None], gi[..., None, None], g.exp, g.bits)
        total, exp = bias_grad_fixed(gm, N, self.w.grad, self.sat, self.w.rounding)
        o = self.out(names[1], (self.schedule.tensors[names[1]].values,), exp, self.w.grad, "none")
        o.t.re[cols] = total

    # ------------------------------------------------------------------ crop unit
    def _crop(self, d: Crop, label: str, names: list[str]) -> None:
        """Spectral pooling n -> m of planes ``first .. first+count`` (adjoint: m -> n)."""
        x = self.get(names[0]).t
        a, b = d.first, d.first + d.count
        if d.adjoint:
            g = x.re.reshape(-1, d.m, d.m // 2 + 1)
            part = CTensor(g[a:b], x.im.reshape(g.shape)[a:b], x.exp, x.bits)
            y = pad_half(part, d.n, sat=self.sat, rounding=self.w.rounding)
            P, n = g.shape[0], d.n
        else:
            z = x.re.reshape(-1, d.n, d.n // 2 + 1)
            part = CTensor(z[a:b], x.im.reshape(z.shape)[a:b], x.exp, x.bits)
            y = crop_half(part, d.m, sat=self.sat, rounding=self.w.rounding)
            P, n = z.shape[0], d.m
        o = self.out(names[1], (P, n, n // 2 + 1), y.exp, y.bits, "normalize")
        o.t.re[a:b], o.t.im[a:b] = y.re, y.im

    # ------------------------------------------------------------------ activation lanes
    def _act(self, d: Act, label: str, names: list[str]) -> None:
        if d.function == ActFunction.PWL:
            self._pwl(d, names)
        elif d.function == ActFunction.RELU:
            self._relu(d, names)
        elif d.function == ActFunction.HERMITIAN:
            self._hermitian(d, names)
        else:
            self._loss(d, names)

    def _pwl(self, d: Act, names: list[str]) -> None:
        """PWL forward / backward on values ``first .. first+count`` (bin-major over the kept bins)."""
        s = self.layer(d)
        n = s.in_size
        rr, cc = kept_bins(n, self.net.keeps[d.layer])
        x = self.get(names[0]).t
        P = x.re.size // (n * (n // 2 + 1))
        idx = np.arange(d.first, d.first + d.count)
        p, bi = idx % P, idx // P
        at = (p, rr[bi], cc[bi])
        shape = (P, n, n // 2 + 1)
        xr, xi = x.re.reshape(shape)[at], x.im.reshape(shape)[at]
        if not d.backward:
            table = self.tables.get(d.layer)
            if table is None:
                table = self.tables[d.layer] = pwl_fixed_table(*pwl_table(s.layer), x.exp, self.w.data, sat=self.sat)
            yr = pwl_forward_real(xr, table, self.sat, self.w.rounding)
            yi = pwl_forward_real(xi, table, self.sat, self.w.rounding)
            exp, bits, out = x.exp, table.data_bits, names[1]
        else:
            table = self.tables[d.layer]
            g = self.get(names[1]).t
            gr, gi = g.re.reshape(shape)[at], g.im.reshape(shape)[at]
            yr = pwl_backward_real(xr, gr, table, g.bits, self.sat, self.w.rounding)
            yi = pwl_backward_real(xi, gi, table, g.bits, self.sat, self.w.rounding)
            exp, bits, out = g.exp, g.bits, names[2]
        o = self.out(out, shape, exp, bits, "normalize")
        o.t.re[at], o.t.im[at] = yr, yi

    def _relu(self, d: Act, names: list[str]) -> None:
        """Spatial ReLU on planes ``first / n^2 ..``: forward keeps the positive samples;
        backward passes the gradient where the forward input was positive."""
        n = self.layer(d).in_size
        a, b = d.first // (n * n), (d.first + d.count) // (n * n)
        pre = self.get(names[1]).t            # the forward input (spatial pre-activation)
        src = self.get(names[2]) if d.backward else self.get(names[1])
        mask = pre.re[a:b] > 0
        out = names[3] if d.backward else names[2]
        t = src.t
        P = t.shape[0]
        o = self.out(out, (P, n, n), t.exp, t.bits, "none", P)
        o.t.re[a:b] = np.where(mask, t.re[a:b], 0)
        o.off[a:b] = src.off[a:b]

    def _hermitian(self, d: Act, names: list[str]) -> None:
        """The classifier gradient's Hermitian projection, planes ``first / (n (n/2+1)) ..``."""
        s = self.layer(d)
        n, C = s.in_size, s.in_channels
        h = n // 2 + 1
        g = self.get(names[0]).t                       # (B, 2F) real: Re then Im of each half spectrum
        B, F = g.shape[0], g.shape[1] // 2
        re, im = g.re[:, :F].reshape(B * C, n, h), g.re[:, F:].reshape(B * C, n, h)
        a, b = d.first // (n * h), (d.first + d.count) // (n * h)
        t = hermitian_pair_sums(CTensor(re[a:b], im[a:b], g.exp, g.bits))
        o = self.out(names[1], (B * C, n, h), t.exp, t.bits, "hermitian")
        o.t.re[a:b], o.t.im[a:b] = t.re, t.im

    def _loss(self, d: Act, names: list[str]) -> None:
        """The host's softmax cross-entropy (``FixedNet.loss_gradient``, in float) for the
        whole batch once the logits are complete; each descriptor delivers its rows."""
        logits = self.get(names[0]).t
        if self._host is None:
            self.loss, self._host = self.net.loss_gradient(logits, self.labels)
        G = self._host
        classes = G.shape[1]
        a, b = d.first // classes, (d.first + d.count) // classes
        o = self.out(names[2], G.shape, G.exp, G.bits, "none")
        o.t.re[a:b] = G.re[a:b]

    # ------------------------------------------------------------------ update
    def _update(self, d: Update, label: str, names: list[str]) -> None:
        """SGD with momentum (``accel.fixed.update``) on values ``first .. first+count``."""
        name = self.param_of[names[0]]
        g = self.get(names[2]).t
        p = self.net.update_format(name, g)
        sl = slice(d.first, d.first + d.count)
        parts = ("re", "im") if self.net.is_spectral(name) else ("re",)
        for part in parts:
            w, v = getattr(p.value, part).flat, getattr(p.momentum, part).flat     # in place, any layout
            w[sl], v[sl] = sgd_step(w[sl], v[sl], getattr(g, part).reshape(-1)[sl], g.exp, p.fmt, self.sat)


def _planes(t: CTensor, rows: int, cols: int) -> CTensor:
    """A tensor viewed as planes of ``rows x cols`` (views: writes go through)."""
    return CTensor(t.re.reshape(-1, rows, cols), t.im.reshape(-1, rows, cols), t.exp, t.bits)


@dataclass(frozen=True)
class Batch:
    """The images and labels one simulated iteration trains on, a different batch that
    calibrates the GEMM shift plan first, and the dataset they came from."""
    images: np.ndarray
    labels: np.ndarray
    calib_images: np.ndarray
    calib_labels: np.ndarray
    dataset: str


def iteration_batch(net: NetworkConfig, batch: int, data_dir: str | None = None) -> Batch:
    """The first ``batch`` training images after a shuffle seeded by ``net.training.seed``
    (as ``fdaccel train`` draws its first batch), and the next ``batch`` for calibration
    (the same batch if the training set is too small).  Datasets that need files (mnist,
    cifar10) without ``data_dir`` are replaced by the seeded ``random`` dataset of the same
    shape (``Batch.dataset`` says which was used)."""
    if net.dataset in ("mnist", "cifar10") and data_dir is None:
        net = dataclasses.replace(net, dataset="random")
    data = load_dataset(net, data_dir, seed=net.training.seed)
    if batch > len(data.y_train):
        raise ConfigError(f"batch: {batch} is more than the {len(data.y_train)} training images of {data.name}")
    order = np.random.default_rng(net.training.seed).permutation(len(data.y_train))
    first, second = order[:batch], order[batch:2 * batch]
    if len(second) < batch:
        second = first
    return Batch(data.x_train[first], data.y_train[first], data.x_train[second], data.y_train[second], data.name)
