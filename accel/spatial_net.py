"""The spatial-domain reference network: the same layer shapes trained the usual way.

Direct (im2col) convolution, ReLU, average pooling (the same linear map as spectral
pooling's spatial counterpart, :func:`pool_matrix`), upsampling matrices
(:func:`upsample_matrix`) and the classifier, in float64, with the optimizers and losses
of :mod:`accel.golden`; what ``fdaccel train --spatial`` trains and the baseline of
every comparison.
"""
from __future__ import annotations

import numpy as np
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

from accel.config import ActLayer, ConvLayer, DenseLayer, NetworkConfig, PoolLayer, UpsampleLayer
from accel.golden import Params, Trace, TrainableNet
from accel.network import layer_shapes


def pool_matrix(n: int, m: int) -> np.ndarray:
    """Average pooling n -> m as an m x n matrix: output cell r averages the input interval
    [r n/m, (r+1) n/m), cells cut by an interval boundary counted by their covered fraction
    (area averaging).  Integer factors give plain non-overlapping average pooling; other
    factors the natural area-weighted generalization (rows sum to 1)."""
    edges = np.arange(m + 1) * (n / m)
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(n)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0.0, None)
    return overlap / (n / m)


def upsample_matrix(m: int, M: int, kind: str) -> np.ndarray:
    """Upsampling m -> M along one axis as an M x m matrix A (a map is ``A h A^T``):
    ``zeros`` puts sample p at f p, ``nearest`` repeats it on f p .. f p + f - 1 (f = M/m),
    ``spectral`` is ``scipy.signal.resample`` (ideal interpolation), the spatial forms of
    :mod:`accel.upsample`."""
    if kind == "spectral":
        return scipy.signal.resample(np.eye(m), M, axis=0)
    f = M // m
    rows = f * np.arange(m)
    A = np.zeros((M, m))
    for j in range(f if kind == "nearest" else 1):
        A[rows + j, np.arange(m)] = 1.0
    return A


def _windows(x: np.ndarray, k: int, before: bool) -> np.ndarray:
    """k x k circular windows (B, C, n, n, k, k): window p covers x[p-k+1 .. p] (before)
    or x[p .. p+k-1]."""
    pad = ((0, 0), (0, 0), (k - 1, 0), (k - 1, 0)) if before else ((0, 0), (0, 0), (0, k - 1), (0, k - 1))
    return sliding_window_view(np.pad(x, pad, mode="wrap"), (k, k), axis=(2, 3))


class SpatialNet(TrainableNet):
    """The spatial-domain reference of the same layer shapes.

    conv: direct circular convolution ``y[p] = sum_q w[q] x[p - q] + b`` on the N x N grid
    (``padding: zero``: the input zero-padded to N first, i.e. linear convolution, as the
    frequency model), k x k kernels whatever ``param`` says; act: ReLU for ``pwl``,
    ``spatial`` and ``quadratic``, identity for ``linear``; pool: average pooling by
    :func:`pool_matrix`; upsample: :func:`upsample_matrix` of the same kind; dense over the
    flattened C x m x m map, or for ``loss: mse`` the mean squared pixel error.  Same
    initial kernels as :class:`GoldenNet` for the same seed.  Parameter names as in
    GoldenNet (``weight`` holds real kernels).
    """

    def __init__(self, cfg: NetworkConfig, seed: int | None = None):
        super().__init__(cfg)
        self.shapes = layer_shapes(cfg)
        rng = np.random.default_rng(cfg.training.seed if seed is None else seed)
        scale = cfg.training.weight_scale
        #: the resampling matrix A of each pool and upsample layer (a map is ``A h A^T``)
        self.pools = {}
        for s in self.shapes:
            L = s.layer
            if isinstance(L, ConvLayer):
                w = rng.standard_normal((L.out_channels, s.in_channels, L.kernel, L.kernel))
                self.params[f"{L.name}.weight"] = w * scale * np.sqrt(2.0 / (s.in_channels * L.kernel ** 2))
                if L.bias:
                    self.params[f"{L.name}.bias"] = np.zeros(L.out_channels)
            elif isinstance(L, PoolLayer):
                self.pools[L.name] = pool_matrix(s.in_size, s.out_size)
            elif isinstance(L, UpsampleLayer):
                self.pools[L.name] = upsample_matrix(s.in_size, s.out_size, L.kind)
            elif isinstance(L, DenseLayer):
                f = s.in_channels * s.in_size ** 2
                self.params[f"{L.name}.weight"] = rng.standard_normal((L.classes, f)) * (scale / np.sqrt(f))
                self.params[f"{L.name}.bias"] = np.zeros(L.classes)
        self._init_velocity()

    def reconstruction_loss(self, out: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean squared pixel error against the input and its gradient."""
        D = out - x
        return float(np.mean(D ** 2)), 2.0 * D / D.size

    def images(self, out: np.ndarray) -> np.ndarray:
        return out

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[Trace]]:
        h = np.asarray(x, dtype=np.float64)
        traces = []
        for s in self.shapes:
            L, aux = s.layer, {}
            if isinstance(L, ConvLayer):
                N, k = s.out_size, L.kernel
                xin = np.pad(h, ((0, 0), (0, 0), (0, N - h.shape[-1]), (0, N - h.shape[-1])))
                win = _windows(xin, k, before=True)
                y = np.einsum("bipqjl,oijl->bopq", win, self.params[f"{L.name}.weight"][:, :, ::-1, ::-1],
                              optimize=True)
                if L.bias:
                    y += self.params[f"{L.name}.bias"][None, :, None, None]
                aux = {"win": win}
            elif isinstance(L, ActLayer):
                if L.kind == "linear":
                    y = h.copy()
                else:
                    aux = {"mask": h > 0}
                    y = h * aux["mask"]
            elif isinstance(L, (PoolLayer, UpsampleLayer)):
                A = self.pools[L.name]
                y = np.einsum("rp,bcpq,sq->bcrs", A, h, A, optimize=True)
            else:
                aux = {"x": h.reshape(len(h), -1)}
                y = aux["x"] @ self.params[f"{L.name}.weight"].T + self.params[f"{L.name}.bias"]
            traces.append(Trace(L.name, h, y, aux))
            h = y
        return h, traces

    def backward(self, traces: list[Trace], G_logits: np.ndarray) -> Params:
        grads: Params = {}
        g = G_logits
        for i in range(len(self.shapes) - 1, -1, -1):
            s, tr = self.shapes[i], traces[i]
            L = s.layer
            tr.g_out = g
            if isinstance(L, DenseLayer):
                grads[f"{L.name}.weight"] = g.T @ tr.aux["x"]
                grads[f"{L.name}.bias"] = g.sum(axis=0)
                g = (g @ self.params[f"{L.name}.weight"]).reshape(tr.x.shape)
            elif isinstance(L, (PoolLayer, UpsampleLayer)):
                A = self.pools[L.name]
                g = np.einsum("rp,bcrs,sq->bcpq", A, g, A, optimize=True)
            elif isinstance(L, ActLayer):
                if L.kind != "linear":
                    g = g * tr.aux["mask"]
            else:
                k, n = L.kernel, s.in_size
                gw = np.einsum("bipqjl,bopq->oijl", tr.aux["win"], g, optimize=True)
                grads[f"{L.name}.weight"] = gw[:, :, ::-1, ::-1]
                if L.bias:
                    grads[f"{L.name}.bias"] = g.sum(axis=(0, 2, 3))
                if i == 0:
                    break
                gx = np.einsum("bopqjl,oijl->bipq", _windows(g, k, before=False),
                               self.params[f"{L.name}.weight"], optimize=True)
                g = gx[:, :, :n, :n]
            tr.g_in = g
        return grads
