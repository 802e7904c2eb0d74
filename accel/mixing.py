"""The quadratic activation, which mixes frequency bins without leaving the spectra, and
the exact operation counts of every activation kind on the accelerator.

Quadratic activation (``kind: quadratic``) of a real signal x with spectrum X (n x n)::

    y = alpha x + beta z^2,   z = P x,   Y = alpha X + beta / n^2 (Z * Z)

where P keeps the bins ``|u|, |v| <= band`` (all for ``band: 0``), ``Z = P X`` and ``*``
is the circular convolution of n x n spectra: ``(A * B)[f] = sum_g A[g] B[f - g]``.  A
product in space is a convolution of spectra, so the square is a spectral
autoconvolution: each output bin f sums ``Z[g] Z[f - g]`` over the band, every pair of
bins that adds up to f.  That is exactly the kind of mixing that bin-local activations
(``pwl``, ``linear``) cannot do and ``spatial`` (IFFT -> ReLU -> FFT) does with two
transforms.  A polynomial is the one nonlinearity whose spectrum is a finite sum of such
products, so it is exact on spectra; ``band`` trades the mixing's reach for its cost.

Backward (PyTorch's convention, :mod:`accel.golden`): ``G_X = alpha G_Y + (2 beta / n^2)
P (Z * G_Y)``: the output gradient convolved with the band-limited input, on the band.

The golden model evaluates both convolutions through the convolution theorem
(``fft2(z^2) = (Z * Z) / n^2``, equal to rounding); the hardware computes them as the sums
above on the complex MAC array, which :func:`accel.activation_cost.quadratic_pairs`
counts exactly.
"""
from __future__ import annotations

import numpy as np

from accel.config import ActLayer
from accel.layout import half_cols


def signed_bins(n: int) -> np.ndarray:
    """The signed frequency of each index 0..n-1 (k, or k - n from n/2 on)."""
    return np.fft.fftfreq(n, 1.0 / n).astype(int)


def band_mask(n: int, band: int, half: bool) -> np.ndarray:
    """Bins of an n x n spectrum (half: its stored columns) with ``|u|, |v| <= band``;
    every bin for ``band: 0``."""
    k = np.abs(signed_bins(n)) <= (band if band else n)
    mask = k[:, None] & k[None, :]
    return mask[:, : half_cols(n)] if half else mask


def _to_space(X: np.ndarray, half: bool) -> np.ndarray:
    n = X.shape[-2]
    return np.fft.irfft2(X, s=(n, n)) if half else np.fft.ifft2(X).real


def _to_spectrum(x: np.ndarray, half: bool) -> np.ndarray:
    return np.fft.rfft2(x) if half else np.fft.fft2(x)


def quadratic_forward(X: np.ndarray, layer: ActLayer, half: bool) -> tuple[np.ndarray, np.ndarray]:
    """``alpha X + beta / n^2 (Z * Z)``, ``Z = P X``.  Returns the output and z = ifft2(Z),
    which the backward needs."""
    n = X.shape[-2]
    z = _to_space(X * band_mask(n, layer.band, half), half)
    return layer.alpha * X + layer.beta * _to_spectrum(z * z, half), z


def quadratic_backward(G_Y: np.ndarray, z: np.ndarray, layer: ActLayer, half: bool) -> np.ndarray:
    """``alpha G_Y + (2 beta / n^2) P (Z * G_Y)`` (the ifft2/fft2 factors cancel as in the
    spatial ReLU's backward)."""
    n = G_Y.shape[-2]
    mixed = _to_spectrum(z * _to_space(G_Y, half), half)
    return layer.alpha * G_Y + 2 * layer.beta * band_mask(n, layer.band, half) * mixed
