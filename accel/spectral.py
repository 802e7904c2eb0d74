"""Spectral conventions and the spectral operators of the frequency-domain network.

Conventions (numpy): ``X = fft2(x)`` unnormalized, DC at ``[0, 0]`` (no shift); index k
stands for k if k < n/2 and for k - n otherwise.  Real signals have Hermitian spectra,
``X[-u, -v] = conj(X[u, v])``.  Two storages:

* **full**: ``(..., n, n)`` complex;
* **half**: the ``rfft2`` layout ``(..., n, n//2 + 1)`` (rows full, columns 0..n/2), which
  is what the hardware stores.  :func:`to_half` / :func:`to_full` convert.

Every operator below comes in a full form and a ``*_half`` form that agree under
:func:`to_full` / :func:`to_half` on Hermitian inputs.  On half spectra the real inner
product of the full arrays is :func:`half_inner` (columns that have an unstored mirror
count twice).

Operators:

* :func:`spectral_pool` (crop + fold of the +-m/2 bins, times (m/n)^2) and its adjoint
  :func:`spectral_pool_adjoint` (zero-pad + unfold, same scale);
* :func:`sinc_matrix` ``S = F_N P F_n^-1`` and the interpolation it defines,
  :func:`sinc_interp` ``X -> S X S^T`` (= ifft2 -> zero-pad at the end -> fft2), used both
  for ``param: sinc`` kernels (k -> N) and for ``padding: zero`` inputs (n -> N), with its
  adjoint :func:`sinc_interp_adjoint` ``G -> S^H G conj(S)``;
* the three per-bin complex GEMMs of the MAC array: :func:`conv_fd` (forward),
  :func:`conv_fd_backward_data` and :func:`conv_fd_weight_grad`.  They act bin by bin,
  so they take full and half spectra alike.
"""
from __future__ import annotations

import numpy as np

from accel.layout import half_cols

# --------------------------------------------------------------------------- layouts


def to_half(X: np.ndarray) -> np.ndarray:
    """Half (rfft2-layout) view of full spectra ``(..., n, n)``: columns 0..n/2."""
    return X[..., : half_cols(X.shape[-1])]


def to_full(H: np.ndarray, n: int) -> np.ndarray:
    """Full Hermitian spectra ``(..., n, n)`` from half spectra ``(..., n, n//2+1)``.

    The unstored columns v > n/2 are ``X[u, v] = conj(X[-u, n - v])``.
    """
    if H.shape[-2] != n or H.shape[-1] != half_cols(n):
        raise ValueError(f"half spectrum of size {n} must be (..., {n}, {half_cols(n)}), got {H.shape}")
    full = np.empty(H.shape[:-1] + (n,), dtype=np.result_type(H.dtype, np.complex128))
    full[..., : half_cols(n)] = H
    cols = np.arange(half_cols(n), n)
    rows = (-np.arange(n)) % n
    full[..., cols] = np.conj(H[..., rows, :][..., n - cols])
    return full


def mirror(X: np.ndarray) -> np.ndarray:
    """``X[..., -u, -v]`` for full spectra (the index reversal of Hermitian symmetry)."""
    return np.roll(X[..., ::-1, ::-1], 1, axis=(-2, -1))


def hermitian_part(G: np.ndarray) -> np.ndarray:
    """Orthogonal projection of full spectra onto Hermitian arrays: (G + conj(G[-f])) / 2.

    Under the real inner product Re<A, B> it leaves the component along every Hermitian
    direction unchanged, which is why it turns a gradient of a function of unconstrained
    complex arrays into the gradient of its restriction to real signals.
    """
    return 0.5 * (G + np.conj(mirror(G)))


def hermitian_part_of_half(G: np.ndarray, n: int) -> np.ndarray:
    """Half of :func:`hermitian_part` of the full array that holds ``G`` on the stored
    columns and zeros on the unstored ones.

    This is the gradient of a function that reads only the half spectrum (the classifier)
    with respect to the real signal: columns with an unstored mirror are halved, the
    self-mirrored columns 0 and n/2 are symmetrized.
    """
    full = np.zeros(G.shape[:-1] + (n,), dtype=np.complex128)
    full[..., : half_cols(n)] = G
    return to_half(hermitian_part(full))


def half_weights(n: int) -> np.ndarray:
    """Per-column multiplicity of the half layout in the full array: 1 for columns 0 and
    n/2 (n even), 2 for the others."""
    w = np.full(half_cols(n), 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w


def half_inner(A: np.ndarray, B: np.ndarray, n: int) -> float:
    """Re<A_full, B_full> computed from half spectra of Hermitian arrays."""
    return float(np.sum(half_weights(n) * np.real(A * np.conj(B))))


# --------------------------------------------------------------------------- pooling


def _check_pool(n: int, m: int) -> None:
    if m > n or m <= 0 or (m < n and m % 2):
        raise ValueError(f"spectral pooling {n} -> {m}: need an even m <= n")


def _fold_axis(X: np.ndarray, m: int, axis: int) -> np.ndarray:
    """Crop a full axis of length n to m and fold the bins +-m/2 into the Nyquist bin."""
    X = np.moveaxis(X, axis, -1)
    n = X.shape[-1]
    Y = np.concatenate([X[..., : m // 2], X[..., n - m // 2:]], axis=-1)
    Y[..., m // 2] += X[..., m // 2]
    return np.moveaxis(Y, -1, axis)


def _unfold_axis(Y: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Adjoint of :func:`_fold_axis`: zero-pad m -> n, the Nyquist bin copied to +-m/2."""
    Y = np.moveaxis(Y, axis, -1)
    m = Y.shape[-1]
    X = np.zeros(Y.shape[:-1] + (n,), dtype=Y.dtype)
    X[..., : m // 2] = Y[..., : m // 2]
    X[..., n - m // 2:] = Y[..., m // 2:]
    X[..., m // 2] = Y[..., m // 2]
    return np.moveaxis(X, -1, axis)


def spectral_pool(X: np.ndarray, m: int) -> np.ndarray:
    """Spectral pooling of full spectra ``(..., n, n) -> (..., m, m)``.

    Keeps |k| < m/2 on each axis, folds the bins at +-m/2 into the new Nyquist bin (their
    sum) and scales by (m/n)^2, so that ``ifft2(spectral_pool(fft2(x), m))`` equals
    ``scipy.signal.resample`` applied along both axes.  m == n is the identity.
    """
    n = X.shape[-1]
    _check_pool(n, m)
    if m == n:
        return X.copy()
    return _fold_axis(_fold_axis(X, m, -2), m, -1) * (m / n) ** 2


def spectral_pool_adjoint(Y: np.ndarray, n: int) -> np.ndarray:
    """Adjoint of :func:`spectral_pool` (full spectra ``(..., m, m) -> (..., n, n)``):
    zero-pad, copy each Nyquist bin to both +-m/2, scale by (m/n)^2.  The pooling matrix
    is real, so this is also the backward pass for either gradient convention."""
    m = Y.shape[-1]
    _check_pool(n, m)
    if m == n:
        return Y.copy()
    return _unfold_axis(_unfold_axis(Y, n, -2), n, -1) * (m / n) ** 2


def spectral_pool_half(X: np.ndarray, m: int) -> np.ndarray:
    """:func:`spectral_pool` on half spectra ``(..., n, n/2+1) -> (..., m, m/2+1)``.

    Rows fold as in full storage.  The column fold needs the unstored column -m/2, which
    Hermitian symmetry gives from column m/2 of the mirrored row:
    ``Y[r, m/2] = Z[r, m/2] + conj(Z[-r, m/2])`` with Z the row-folded spectrum.
    """
    n = X.shape[-2]
    _check_pool(n, m)
    if m == n:
        return X.copy()
    Z = _fold_axis(X, m, -2)[..., : half_cols(m)].copy()
    Z[..., m // 2] += np.conj(Z[..., (-np.arange(m)) % m, m // 2])
    return Z * (m / n) ** 2


def spectral_pool_adjoint_half(Y: np.ndarray, n: int) -> np.ndarray:
    """:func:`spectral_pool_adjoint` on half spectra ``(..., m, m/2+1) -> (..., n, n/2+1)``.

    The copy of the Nyquist column to -m/2 lands in the unstored half (it is the mirror of
    column m/2), so the column step is a plain zero-pad.
    """
    m = Y.shape[-2]
    _check_pool(n, m)
    if m == n:
        return Y.copy()
    Z = _unfold_axis(Y, n, -2)
    X = np.zeros(Z.shape[:-1] + (half_cols(n),), dtype=Z.dtype)
    X[..., : half_cols(m)] = Z
    return X * (m / n) ** 2


# --------------------------------------------------------------------------- sinc interpolation


def sinc_matrix(n: int, k: int) -> np.ndarray:
    """``S = F_n P F_k^-1`` (n x k): interpolates a length-k spectrum to length n.

    P zero-pads k -> n at the end, so ``S V S^T`` is the n x n spectrum of the k x k spatial
    kernel ``ifft2(V)`` placed at the origin (indices 0..k-1).
    """
    if k > n or k <= 0:
        raise ValueError(f"sinc_matrix: need 0 < k <= n, got n={n}, k={k}")
    inv = np.fft.ifft(np.eye(k), axis=0)
    return np.fft.fft(np.pad(inv, ((0, n - k), (0, 0))), axis=0)


def _pad_end(x: np.ndarray, N: int) -> np.ndarray:
    n = x.shape[-1]
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, N - n), (0, N - n)])


def sinc_interp(X: np.ndarray, N: int) -> np.ndarray:
    """``S X S^T`` with ``S = sinc_matrix(N, n)`` on full spectra ``(..., n, n) -> (..., N, N)``:
    ifft2, zero-pad at the end, fft2."""
    n = X.shape[-1]
    if N == n:
        return X.copy()
    return np.fft.fft2(_pad_end(np.fft.ifft2(X), N))


def sinc_interp_adjoint(G: np.ndarray, n: int) -> np.ndarray:
    """``S^H G conj(S)`` with ``S = sinc_matrix(N, n)`` on full spectra ``(..., N, N) -> (..., n, n)``.

    Per axis ``S^H = (N/n) F_n P^T F_N^-1``: ifft2, crop to the leading n x n, fft2, times
    (N/n)^2.  This is the backward pass of :func:`sinc_interp` (PyTorch convention).
    """
    N = G.shape[-1]
    if N == n:
        return G.copy()
    return np.fft.fft2(np.fft.ifft2(G)[..., :n, :n]) * (N / n) ** 2


def sinc_interp_half(X: np.ndarray, N: int, n: int) -> np.ndarray:
    """:func:`sinc_interp` on half spectra ``(..., n, n//2+1) -> (..., N, N/2+1)``."""
    if N == n:
        return X.copy()
    return np.fft.rfft2(_pad_end(np.fft.irfft2(X, s=(n, n)), N))


def sinc_interp_adjoint_half(G: np.ndarray, n: int) -> np.ndarray:
    """:func:`sinc_interp_adjoint` on half spectra ``(..., N, N/2+1) -> (..., n, n//2+1)``."""
    N = G.shape[-2]
    if N == n:
        return G.copy()
    return np.fft.rfft2(np.fft.irfft2(G, s=(N, N))[..., :n, :n]) * (N / n) ** 2


# --------------------------------------------------------------------------- per-bin GEMMs


def _bins_first(T: np.ndarray) -> np.ndarray:
    """(A, C, *bins) -> (F, A, C): bins become the batch axis of a stacked matmul."""
    a, c = T.shape[:2]
    return np.moveaxis(T.reshape(a, c, -1), -1, 0)


def _bins_last(T: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(F, A, C) -> (A, C, *shape)."""
    return np.moveaxis(T, 0, -1).reshape(T.shape[1], T.shape[2], *shape)


def conv_fd(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Forward per-bin complex GEMM: ``Y[b, o, f] = sum_i X[b, i, f] W[o, i, f]``.

    X ``(B, Ci, *bins)``, W ``(Co, Ci, *bins)`` -> ``(B, Co, *bins)``; bins are full or
    half spectra alike.  Circular convolution of the underlying signals.
    """
    Y = _bins_first(X) @ np.swapaxes(_bins_first(W), 1, 2)  # (F, B, Ci) @ (F, Ci, Co)
    return _bins_last(Y, X.shape[2:])


def conv_fd_backward_data(G: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Backward-data per-bin GEMM: ``G_X[b, i, f] = sum_o G[b, o, f] conj(W[o, i, f])``."""
    GX = _bins_first(G) @ np.conj(_bins_first(W))  # (F, B, Co) @ (F, Co, Ci)
    return _bins_last(GX, G.shape[2:])


def conv_fd_weight_grad(G: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Weight-gradient per-bin GEMM: ``G_W[o, i, f] = sum_b G[b, o, f] conj(X[b, i, f])``."""
    GW = np.swapaxes(_bins_first(G), 1, 2) @ np.conj(_bins_first(X))  # (F, Co, B) @ (F, B, Ci)
    return _bins_last(GW, G.shape[2:])
