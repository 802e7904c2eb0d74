"""Op kinds on the activation lanes and the crop unit: PWL activations, spectral pooling and
its adjoint, the loss, the classifier gradient's Hermitian projection, the SGD update.

Values:

* ``Crop``: planes ``first .. first+count``;
* ``Act``: values ``first .. first+count`` -- PWL: of the tensor's kept bins in bin-major
  order (bin, then plane: the order the MAC array writes them); Hermitian projection:
  half-spectrum values, plane-major; loss: logits, image-major;
* ``Update``: parameter values ``first .. first+count`` in ``FixedNet``'s C order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.config import ActLayer
from accel.fixed.act import pwl_backward_real, pwl_fixed_table, pwl_forward_real
from accel.fixed.core import CTensor
from accel.fixed.crop import crop_half, pad_half
from accel.fixed.layers import hermitian_pair_sums
from accel.fixed.update import sgd_step
from accel.layout import half_cols, half_shape, kept_index
from accel.network import pwl_table
from accel.program import Act, ActFunction, Crop, Descriptor, Update

from ..ir import Chunk, Op, Operand, Refs, Tensor, ValueStore, expect

# --------------------------------------------------------------------------- PWL activations


def _kept_values(d: Act, store: ValueStore, n: int, x: Tensor) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """Where values ``first .. first+count`` (bin-major over the kept bins of ``x``'s
    ``n x (n/2+1)`` half spectra) sit in a (planes, n, n/2+1) view, and that view's shape."""
    rr, cc = kept_index(n, store.net.keeps[d.layer])
    P = store.get(x).t.re.size // (n * half_cols(n))
    idx = np.arange(d.first, d.first + d.count)
    p, bi = idx % P, idx // P
    return (p, rr[bi], cc[bi]), (P, *half_shape(n))


@dataclass(eq=False, kw_only=True)
class Pwl(Op):
    """The split-complex PWL activation ``y = f(x)`` of layer ``act`` on the kept bins of
    ``x`` (``n x n`` half spectra); one unit per value."""
    x: Operand
    y: Operand
    n: int
    act: ActLayer
    label: str = "pwl"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return [Act(layer=self.layer, phase=self.phase, function=ActFunction.PWL, x=refs[self.x], g=refs[self.x],
                    y=refs[self.y], first=chunk.first, count=chunk.count, backward=False)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        a = expect(d, Act)
        at, shape = _kept_values(a, store, self.n, self.x.tensor)
        x = store.get(self.x.tensor).t
        xr, xi = x.re.reshape(shape)[at], x.im.reshape(shape)[at]
        table = store.tables.get(a.layer)
        if table is None:
            table = store.tables[a.layer] = pwl_fixed_table(*pwl_table(self.act), x.exp, store.w.data, sat=store.sat)
        yr = pwl_forward_real(xr, table, store.sat, store.w.rounding)
        yi = pwl_forward_real(xi, table, store.sat, store.w.rounding)
        o = store.out(self.y.tensor, shape, x.exp, table.data_bits, "normalize")
        o.t.re[at], o.t.im[at] = yr, yi


@dataclass(eq=False, kw_only=True)
class PwlBackward(Op):
    """``g_x = f'(x) g`` on the kept bins (the forward's table, ``x`` its input); one unit per value."""
    x: Operand
    g: Operand
    gx: Operand
    n: int
    label: str = "pwl"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return [Act(layer=self.layer, phase=self.phase, function=ActFunction.PWL, x=refs[self.x], g=refs[self.g],
                    y=refs[self.gx], first=chunk.first, count=chunk.count, backward=True)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        a = expect(d, Act)
        at, shape = _kept_values(a, store, self.n, self.x.tensor)
        x = store.get(self.x.tensor).t
        xr, xi = x.re.reshape(shape)[at], x.im.reshape(shape)[at]
        table = store.tables[a.layer]
        g = store.get(self.g.tensor).t
        gr, gi = g.re.reshape(shape)[at], g.im.reshape(shape)[at]
        yr = pwl_backward_real(xr, gr, table, g.bits, store.sat, store.w.rounding)
        yi = pwl_backward_real(xi, gi, table, g.bits, store.sat, store.w.rounding)
        o = store.out(self.gx.tensor, shape, g.exp, g.bits, "normalize")
        o.t.re[at], o.t.im[at] = yr, yi


# --------------------------------------------------------------------------- crop unit

def _pool_values(d: Crop, store: ValueStore, src: Tensor, dst: Tensor) -> None:
    """Spectral pooling n -> m of planes ``first .. first+count`` (adjoint: m -> n)."""
    x = store.get(src).t
    a, b = d.first, d.first + d.count
    rounding = store.w.rounding
    if d.adjoint:
        g = x.re.reshape(-1, *half_shape(d.m))
        y = pad_half(CTensor(g[a:b], x.im.reshape(g.shape)[a:b], x.exp, x.bits), d.n, sat=store.sat,
                     rounding=rounding)
        P, n = g.shape[0], d.n
    else:
        z = x.re.reshape(-1, *half_shape(d.n))
        y = crop_half(CTensor(z[a:b], x.im.reshape(z.shape)[a:b], x.exp, x.bits), d.m, sat=store.sat,
                      rounding=rounding)
        P, n = z.shape[0], d.m
    o = store.out(dst, (P, *half_shape(n)), y.exp, y.bits, "normalize")
    o.t.re[a:b], o.t.im[a:b] = y.re, y.im


@dataclass(eq=False, kw_only=True)
class Pool(Op):
    """Spectral pooling ``n -> m`` on the crop unit: ``x`` (its kept bins) -> ``y``; one unit per plane."""
    x: Operand
    y: Operand
    n: int
    m: int
    label: str = "crop"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return [Crop(layer=self.layer, phase=self.phase, src=refs[self.x], dst=refs[self.y], first=chunk.first,
                     count=chunk.count, n=self.n, m=self.m, adjoint=False)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        _pool_values(expect(d, Crop), store, self.x.tensor, self.y.tensor)


@dataclass(eq=False, kw_only=True)
class Unpool(Op):
    """The adjoint of pooling ``n -> m`` (zero-pad and unfold): ``g`` -> ``gx``; one unit per plane."""
    g: Operand
    gx: Operand
    n: int
    m: int
    label: str = "crop"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return [Crop(layer=self.layer, phase=self.phase, src=refs[self.g], dst=refs[self.gx], first=chunk.first,
                     count=chunk.count, n=self.n, m=self.m, adjoint=True)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        _pool_values(expect(d, Crop), store, self.g.tensor, self.gx.tensor)


# --------------------------------------------------------------------------- loss and projection

@dataclass(eq=False, kw_only=True)
class Loss(Op):
    """The loss step: the logits out to the host, ``dL/dlogits`` back (the host's softmax
    cross-entropy, ``FixedNet.loss_gradient``); one unit per image."""
    logits: Operand
    labels: Operand
    g: Operand
    classes: int
    label: str = "loss"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        c = self.classes
        return [Act(layer=self.layer, phase=self.phase, function=ActFunction.SOFTMAX_XENT, x=refs[self.logits],
                    g=refs[self.labels], y=refs[self.g], first=chunk.first * c, count=chunk.count * c,
                    backward=True)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        a = expect(d, Act)
        G = store.host_gradient(store.get(self.logits.tensor).t)
        classes = G.shape[1]
        lo, hi = a.first // classes, (a.first + a.count) // classes
        o = store.out(self.g.tensor, G.shape, G.exp, G.bits, "none")
        o.t.re[lo:hi] = G.re[lo:hi]


@dataclass(eq=False, kw_only=True)
class Hermitian(Op):
    """The classifier gradient's Hermitian projection: ``gd`` (B x 2F reals, Re then Im of
    ``channels`` half spectra of ``n x n``) -> ``g`` (columns 0 and n/2 summed with their
    mirrored rows, finished once complete); one unit per plane."""
    gd: Operand
    g: Operand
    n: int
    channels: int
    label: str = "hermitian"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        per = self.n * half_cols(self.n)
        return [Act(layer=self.layer, phase=self.phase, function=ActFunction.HERMITIAN, x=refs[self.gd],
                    g=refs[self.gd], y=refs[self.g], first=chunk.first * per, count=chunk.count * per,
                    backward=False)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        a = expect(d, Act)
        n, C = self.n, self.channels
        h = half_cols(n)
        g = store.get(self.gd.tensor).t
        B, F = g.shape[0], g.shape[1] // 2
        re, im = g.re[:, :F].reshape(B * C, n, h), g.re[:, F:].reshape(B * C, n, h)
        lo, hi = a.first // (n * h), (a.first + a.count) // (n * h)
        t = hermitian_pair_sums(CTensor(re[lo:hi], im[lo:hi], g.exp, g.bits))
        o = store.out(self.g.tensor, (B * C, n, h), t.exp, t.bits, "hermitian")
        o.t.re[lo:hi], o.t.im[lo:hi] = t.re, t.im


# --------------------------------------------------------------------------- update

@dataclass(eq=False, kw_only=True)
class SgdUpdate(Op):
    """SGD with momentum (``accel.fixed.update``) on parameter ``w`` and its momentum ``v``
    in place, from the gradient ``g``; one unit per value."""
    w: Operand
    v: Operand
    g: Operand
    label: str = "update"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return [Update(layer=self.layer, phase=self.phase, w=refs[self.w], v=refs[self.v], g=refs[self.g],
                       first=chunk.first, count=chunk.count)]

    def outputs(self) -> tuple[Operand, ...]:
        """None: parameters and momenta change in place and are never finalized."""
        return ()

    def gradient(self) -> tuple[Tensor, str]:
        return self.g.tensor, self.w.tensor.param

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        u = expect(d, Update)
        name = self.w.tensor.param
        g = store.get(self.g.tensor).t
        p = store.net.update_format(name, g)
        assert p.fmt is not None and p.momentum is not None, "update_format fixes both"
        sl = slice(u.first, u.first + u.count)
        parts = ("re", "im") if store.net.is_spectral(name) else ("re",)
        for part in parts:
            w, v = getattr(p.value, part).flat, getattr(p.momentum, part).flat     # in place, any layout
            w[sl], v[sl] = sgd_step(w[sl], v[sl], getattr(g, part).reshape(-1)[sl], g.exp, p.fmt, store.sat)
