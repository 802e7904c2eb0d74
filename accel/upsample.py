"""Upsampling of spectra m -> M, and its adjoint (the backward pass), full and half storage.

Three kinds, each a real linear map of the spectrum that keeps Hermitian symmetry (real
signals stay real), written as what it does to the spectrum (numpy conventions,
:mod:`accel.spectral`):

* ``zeros`` -- zero insertion ``y[f p] = x[p]`` (M = f m), zeros between: the spectrum
  tiles, ``Y[u, v] = X[u mod m, v mod m]``.  Every strong bin repeats f x f times, as
  strong as the original: the repetition Tang et al. prove for upsampling.
* ``nearest`` -- each sample repeated f x f times (``np.repeat``): zero insertion, then a
  circular f x f box filter at the origin, ``Y = tile(X) B(u) B(v)`` with the box's
  spectrum ``B(u) = sum_{j<f} exp(-2 pi i u j / M)`` (its envelope ``|B(u)| =
  |sin(pi u / m) / sin(pi u / M)|`` is f at DC and vanishes on the other copies of DC).
* ``spectral`` -- the spectrum zero-padded (ideal sinc interpolation): bins |k| < m/2
  kept, the Nyquist bin split in halves between +-m/2, times (M/m)^2, so that
  ``ifft2(upsample(fft2(x)))`` equals ``scipy.signal.resample`` on both axes (any even
  M > m).  No repetition; the inverse of spectral pooling (``spectral_pool`` of the
  result is the input).

Backward (PyTorch's gradient convention, :mod:`accel.golden`): the transpose of the real
matrix, with the box's conjugate for ``nearest``: ``G_X = fold(conj(B) G_Y)`` where fold
sums the f x f aliases of each bin.  The half forms (rfft2 layout) compute the same
numbers on Hermitian inputs; their unstored columns come from Hermitian symmetry.
"""
from __future__ import annotations

import numpy as np

from accel.config import UpsampleKind
from accel.layout import half_cols
from accel.spectral import to_full, to_half

KINDS: tuple[UpsampleKind, ...] = ("zeros", "nearest", "spectral")


def box_spectrum(m: int, M: int) -> np.ndarray:
    """``B(u) = sum_{j<f} exp(-2 pi i u j / M)``, u = 0..M-1, f = M/m: the spectrum of the
    box ``[1] * f + [0] * (M - f)`` that turns zero insertion into repetition."""
    return np.fft.fft(np.r_[np.ones(M // m), np.zeros(M - M // m)])


def box_envelope(m: int, M: int) -> np.ndarray:
    """The 2-D box spectrum ``B(u) B(v)`` (M x M), by which ``nearest`` multiplies the tiles."""
    b = box_spectrum(m, M)
    return b[:, None] * b[None, :]


def _tile_index(m: int, M: int) -> np.ndarray:
    return np.arange(M) % m


def _tile(X: np.ndarray, M: int, half: bool) -> np.ndarray:
    """``X[u mod m, v mod m]`` on the M x M grid (half: its stored columns)."""
    m = X.shape[-2]
    idx = _tile_index(m, M)
    full = to_full(X, m) if half else X
    cols = idx[: half_cols(M)] if half else idx
    return full[..., idx[:, None], cols[None, :]]


def _fold(G: np.ndarray, m: int, half: bool) -> np.ndarray:
    """Adjoint of :func:`_tile`: the sum of each bin's f x f aliases (half: of the full
    Hermitian gradient, then its stored columns)."""
    M = G.shape[-2]
    f = M // m
    full = to_full(G, M) if half else G
    out = full.reshape(full.shape[:-2] + (f, m, f, m)).sum(axis=(-4, -2))
    return to_half(out) if half else out


def _split_nyquist(X: np.ndarray, M: int, axis: int) -> np.ndarray:
    """One full axis m -> M: bins |k| < m/2 kept, bin m/2 halved into +-m/2, zeros between."""
    X = np.moveaxis(X, axis, -1)
    m = X.shape[-1]
    Y = np.zeros(X.shape[:-1] + (M,), dtype=np.result_type(X.dtype, np.complex128))
    Y[..., : m // 2] = X[..., : m // 2]
    Y[..., M - m // 2 + 1:] = X[..., m // 2 + 1:]
    Y[..., m // 2] = Y[..., M - m // 2] = 0.5 * X[..., m // 2]
    return np.moveaxis(Y, -1, axis)


def _merge_nyquist(G: np.ndarray, m: int, axis: int) -> np.ndarray:
    """Adjoint of :func:`_split_nyquist`: crop M -> m, Nyquist = the mean of +-m/2."""
    G = np.moveaxis(G, axis, -1)
    M = G.shape[-1]
    X = np.concatenate([G[..., : m // 2], 0.5 * (G[..., m // 2: m // 2 + 1] + G[..., M - m // 2: M - m // 2 + 1]),
                        G[..., M - m // 2 + 1:]], axis=-1)
    return np.moveaxis(X, -1, axis)


def _spectral(X: np.ndarray, M: int, half: bool) -> np.ndarray:
    m = X.shape[-2]
    Z = _split_nyquist(X, M, -2)
    if half:  # columns 0..m/2 stored; the copy at -m/2 is in the unstored half
        Y = np.zeros(Z.shape[:-1] + (half_cols(M),), dtype=Z.dtype)
        Y[..., : m // 2] = Z[..., : m // 2]
        Y[..., m // 2] = 0.5 * Z[..., m // 2]
    else:
        Y = _split_nyquist(Z, M, -1)
    return Y * (M / m) ** 2


def _spectral_adjoint(G: np.ndarray, m: int, half: bool) -> np.ndarray:
    M = G.shape[-2]
    Z = _merge_nyquist(G, m, -2)
    if half:  # the unstored column -m/2 of row r is conj(column m/2 of row -r)
        X = Z[..., : half_cols(m)].copy()
        X[..., m // 2] = 0.5 * (Z[..., m // 2] + np.conj(Z[..., (-np.arange(m)) % m, m // 2]))
    else:
        X = _merge_nyquist(Z, m, -1)
    return X * (M / m) ** 2


def upsample(X: np.ndarray, M: int, kind: str, half: bool) -> np.ndarray:
    """Upsample spectra ``(..., m, m)`` (half: ``(..., m, m/2+1)``) to size M (module docstring)."""
    if kind == "spectral":
        return _spectral(X, M, half)
    Y = _tile(X, M, half)
    if kind == "nearest":
        env = box_envelope(X.shape[-2], M)
        Y = Y * (env[:, : half_cols(M)] if half else env)
    return Y


def upsample_adjoint(G: np.ndarray, m: int, kind: str, half: bool) -> np.ndarray:
    """Backward of :func:`upsample`: the gradient at its m x m input from the gradient at
    its M x M output (Hermitian, as every golden-model gradient)."""
    if kind == "spectral":
        return _spectral_adjoint(G, m, half)
    if kind == "nearest":
        env = np.conj(box_envelope(m, G.shape[-2]))
        G = G * (env[:, : half_cols(G.shape[-2])] if half else env)
    return _fold(G, m, half)
