"""Op kinds on the FFT engines: the input transform, zero padding and its adjoint, and the
spatial activation (inverse transform, ReLU on the lanes, forward transform).

Values (``Fft2d`` descriptors): planes ``first .. first+images`` (plane = image x channels
+ channel) of the source and destination; forward: an ``n x n`` real corner zero-padded
to ``size``, only the columns a crop to ``keep`` reads; inverse: only the ``n x n`` corner
of the output.  Each plane carries its own exponent offset out of the engine (see
:func:`accel.fixed.layers.fft2d_planes`).  The ReLU (``Act``) works on spatial samples,
plane-major.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.fixed.core import CTensor
from accel.fixed.layers import fft2d_planes, ifft2d_planes
from accel.layout import crop_mask, half_cols, kept_count
from accel.program import Act, ActFunction, Descriptor, Fft2d

from ..ir import Chunk, Op, Operand, Refs, Tensor, ValueStore, expect


def _planes(t: CTensor, rows: int, cols: int) -> CTensor:
    """A tensor viewed as planes of ``rows x cols`` (views: writes go through)."""
    return CTensor(t.re.reshape(-1, rows, cols), t.im.reshape(-1, rows, cols), t.exp, t.bits)


def transform_values(d: Fft2d, store: ValueStore, src: Tensor, dst: Tensor, exp_step: int = 0) -> None:
    """The planes of ``dst`` that ``d`` transforms from ``src`` (forward outputs stepped
    by ``exp_step`` in exponent: the adjoint of zero padding scales by a power of 4)."""
    source = store.get(src)
    a, b = d.first, d.first + d.images
    off = source.off[a:b] if source.off is not None else np.zeros(d.images, np.int64)
    if d.inverse:
        z, off = ifft2d_planes(_planes(source.t, d.size, half_cols(d.size))[a:b], off, store.net.ctx)
        z = z[..., :d.n, :d.n]
        P = dst.values // (d.n * d.n)
        s = store.out(dst, (P, d.n, d.n), z.exp, z.bits, "none", P)
    else:
        x = _planes(source.t, d.n, d.n)[a:b]
        pad = [(0, 0), (0, d.size - d.n), (0, d.size - d.n)]
        xp = CTensor(np.pad(x.re, pad), np.zeros((d.images, d.size, d.size), np.int64), x.exp, x.bits)
        keep = d.keep if d.keep < d.size else None
        z, off = fft2d_planes(xp, off, store.net.ctx, keep)
        mask = None if keep is None else crop_mask(d.size, keep)
        if mask is not None:
            z = CTensor(np.where(mask, z.re, 0), np.where(mask, z.im, 0), z.exp, z.bits)
        P = dst.values // kept_count(d.size, d.keep)
        s = store.out(dst, (P, d.size, half_cols(d.size)), z.exp + exp_step, z.bits, "align", P)
    s.t.re[a:b], s.t.im[a:b] = z.re, z.im
    s.offsets()[a:b] = off


def relu_values(d: Act, store: ValueStore, n: int, pre: Tensor, src: Tensor, dst: Tensor) -> None:
    """Spatial ReLU on planes ``first / n^2 ..``: forward (``src`` is ``pre``) keeps the
    positive samples; backward passes the gradient ``src`` where the forward input ``pre``
    was positive."""
    a, b = d.first // (n * n), (d.first + d.count) // (n * n)
    mask = store.get(pre).t.re[a:b] > 0
    source = store.get(src)
    t = source.t
    P = t.shape[0]
    o = store.out(dst, (P, n, n), t.exp, t.bits, "none", P)
    o.t.re[a:b] = np.where(mask, t.re[a:b], 0)
    o.offsets()[a:b] = source.offsets()[a:b]


@dataclass(eq=False, kw_only=True)
class InputFft(Op):
    """The input's forward 2-D FFT: ``n x n`` real ``images`` (zero-padded to ``size``) ->
    ``spectra`` on the bins a crop to ``keep`` reads; one unit per plane."""
    images: Operand
    spectra: Operand
    n: int
    size: int
    keep: int
    label: str = "input-fft"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        return [Fft2d(layer=self.layer, phase=self.phase, src=refs[self.images], dst=refs[self.spectra],
                      first=chunk.first, images=chunk.count, n=self.n, size=self.size,
                      keep=min(self.keep, self.size), inverse=False)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        transform_values(expect(d, Fft2d), store, self.images.tensor, self.spectra.tensor)


@dataclass(eq=False, kw_only=True)
class Resize(Op):
    """A spectrum of size ``n_in`` (read at ``keep_in``) -> ``space``, its ``n_space x
    n_space`` corner (a per-chunk scratch) -> a spectrum of size ``size_out`` computed at
    ``keep_out``: zero padding before a padded conv (label ``pad``) and its adjoint
    (``unpad``, whose output steps up ``exp_step`` in exponent); one unit per plane."""
    src: Operand
    space: Operand
    dst: Operand
    n_in: int
    keep_in: int
    n_space: int
    size_out: int
    keep_out: int
    exp_step: int = 0

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        u0, cnt, n = chunk.first, chunk.count, self.n_space
        return [Fft2d(layer=self.layer, phase=self.phase, src=refs[self.src], dst=refs[self.space], first=u0,
                      images=cnt, n=n, size=self.n_in, keep=self.keep_in, inverse=True),
                Fft2d(layer=self.layer, phase=self.phase, src=refs[self.space], dst=refs[self.dst], first=u0,
                      images=cnt, n=n, size=self.size_out, keep=self.keep_out, inverse=False)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        f = expect(d, Fft2d)
        if f.inverse:
            transform_values(f, store, self.src.tensor, self.space.tensor)
        else:
            transform_values(f, store, self.space.tensor, self.dst.tensor, self.exp_step)


@dataclass(eq=False, kw_only=True)
class SpatialAct(Op):
    """A spatial activation forward: ``x`` (an ``n x n`` half spectrum, all bins) -> the
    spatial pre-activation ``pre`` (kept for the backward pass) -> ReLU -> ``post`` (a
    per-chunk scratch) -> ``y`` on the bins a crop to ``keep`` reads; one unit per plane."""
    x: Operand
    pre: Operand
    post: Operand
    y: Operand
    n: int
    keep: int
    label: str = "spatial"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        n, u0, cnt, i, ph = self.n, chunk.first, chunk.count, self.layer, self.phase
        return [Fft2d(layer=i, phase=ph, src=refs[self.x], dst=refs[self.pre], first=u0, images=cnt, n=n, size=n,
                      keep=n, inverse=True),
                Act(layer=i, phase=ph, function=ActFunction.RELU, x=refs[self.pre], g=refs[self.pre],
                    y=refs[self.post], first=u0 * n * n, count=cnt * n * n, backward=False),
                Fft2d(layer=i, phase=ph, src=refs[self.post], dst=refs[self.y], first=u0, images=cnt, n=n, size=n,
                      keep=self.keep, inverse=False)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        if isinstance(d, Act):
            relu_values(d, store, self.n, self.pre.tensor, self.pre.tensor, self.post.tensor)
        elif (f := expect(d, Fft2d)).inverse:
            transform_values(f, store, self.x.tensor, self.pre.tensor)
        else:
            transform_values(f, store, self.post.tensor, self.y.tensor)


@dataclass(eq=False, kw_only=True)
class SpatialActBackward(Op):
    """A spatial activation backward: the gradient ``g`` (non-zero on the bins a crop to
    ``keep`` reads) -> space ``g_space`` -> masked where the forward input ``pre`` was not
    positive -> ``g_masked`` -> the input gradient ``gx`` on all bins (both spatial
    tensors per-chunk scratches); one unit per plane."""
    g: Operand
    pre: Operand
    g_space: Operand
    g_masked: Operand
    gx: Operand
    n: int
    keep: int
    label: str = "spatial"

    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        n, u0, cnt, i, ph = self.n, chunk.first, chunk.count, self.layer, self.phase
        return [Fft2d(layer=i, phase=ph, src=refs[self.g], dst=refs[self.g_space], first=u0, images=cnt, n=n,
                      size=n, keep=self.keep, inverse=True),
                Act(layer=i, phase=ph, function=ActFunction.RELU, x=refs[self.pre], g=refs[self.g_space],
                    y=refs[self.g_masked], first=u0 * n * n, count=cnt * n * n, backward=True),
                Fft2d(layer=i, phase=ph, src=refs[self.g_masked], dst=refs[self.gx], first=u0, images=cnt, n=n,
                      size=n, keep=n, inverse=False)]

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        if isinstance(d, Act):
            relu_values(d, store, self.n, self.pre.tensor, self.g_space.tensor, self.g_masked.tensor)
        elif (f := expect(d, Fft2d)).inverse:
            transform_values(f, store, self.g.tensor, self.g_space.tensor)
        else:
            transform_values(f, store, self.g_masked.tensor, self.gx.tensor)
