"""Exact operation counts of one activation layer on the accelerator, per kind.

What a user trades against accuracy when choosing an activation kind: ``pwl`` and
``linear`` act bin by bin (cheap, but a pooling after them only crops the input),
``spatial`` mixes bins with two 2-D transforms each way, ``quadratic``
(:mod:`accel.mixing`) mixes them with a spectral autoconvolution on the complex MAC
array, whose cost grows with the square of its band.  The counts are keyed like the
cycle model's (``(component, action)`` of :mod:`accel.energy`), so
:func:`accel.energy.price` turns them into energy.  They count compute actions only: the
buffer and DRAM traffic of the new kinds comes with their schedule.
"""
from __future__ import annotations

import numpy as np

from accel.config import ActLayer
from accel.fixed.fft import fft_butterflies, fft_multiplier_stages
from accel.fixed.fft2d import fft2d_transforms
from accel.layout import crop_keep, half_cols, half_shape
from accel.mixing import band_mask


def _circular_count(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``c[f] = #{g : a[g] and b[f - g]}`` over the n x n grid (exact integers)."""
    return np.rint(np.fft.ifft2(np.fft.fft2(a) * np.fft.fft2(b)).real).astype(np.int64)


def _full_keep(n: int, keep: int) -> np.ndarray:
    """The bins (full n x n grid) a reader cropping to ``keep`` reads: |u|, |v| <= keep/2."""
    return band_mask(n, keep // 2 if keep < n else 0, half=False)


def quadratic_pairs(n: int, band: int, keep: int) -> tuple[int, int]:
    """Complex multiplies of one quadratic activation on one n x n plane, (forward,
    backward), when its reader reads the bins of a crop to ``keep`` (``keep >= n``: all).

    Forward: for every stored output bin f the reader reads, one multiply per unordered
    pair {g, f - g} of band bins (``Z[g] Z[h]`` and ``Z[h] Z[g]`` are one product).
    Backward: for every stored band bin f, one multiply per bin g the output gradient has
    (the reader's bins, both halves) with f - g in the band."""
    S = band_mask(n, band, half=False).astype(float)
    K = _full_keep(n, keep)
    ordered = _circular_count(S, S)
    # diagonal pairs g = f - g: g in the band with 2 g = f (mod n)
    u = np.arange(n)
    diag = np.zeros((n, n), np.int64)
    rows, cols = np.nonzero(S)
    np.add.at(diag, ((2 * u[rows]) % n, (2 * u[cols]) % n), 1)
    unordered = (ordered + diag) // 2
    fwd_bins = crop_keep(n, keep) if keep < n else np.ones(half_shape(n), bool)
    forward = int(unordered[:, : half_cols(n)][fwd_bins].sum())
    cross = _circular_count(S, K.astype(float))
    backward = int(cross[:, : half_cols(n)][band_mask(n, band, half=True)].sum())
    return forward, backward


def _fft2d_ops(n: int, keep: int | None, transforms: int) -> dict[tuple[str, str], float]:
    rows, cols = fft2d_transforms(n, keep)
    one_d = transforms * (rows + cols)
    return {("fft", "butterfly"): one_d * fft_butterflies(n), ("fft", "twiddle"): one_d * n * fft_multiplier_stages(n)}


def activation_counts(layer: ActLayer, n: int, keep: int) -> dict[tuple[str, str], float]:
    """Actions (``(component, action)`` keys of :mod:`accel.energy`) of one activation on one
    n x n plane, forward and backward, when its reader crops to ``keep`` (``>= n``: reads
    every bin); priced by :func:`accel.energy.price`.

    * ``pwl``: one PWL evaluation per real value of the kept half-spectrum bins forward,
      one slope multiply per value backward;
    * ``spatial``: an inverse and a forward 2-D transform each way (the forward transform
      and the backward's inverse only on the kept columns), rows then columns, radix-2
      butterflies and twiddle multiplies as the FFT unit counts them;
    * ``quadratic``: :func:`quadratic_pairs` complex MACs, plus the ``alpha`` term, two
      real multiplies per kept bin each way;
    * ``linear``: nothing.
    """
    bins = int(crop_keep(n, keep).sum()) if keep < n else n * half_cols(n)
    crop = keep if keep < n else None
    if layer.kind == "pwl":
        return {("pwl", "eval"): 2 * bins, ("pwl", "slope"): 2 * bins}
    if layer.kind == "spatial":
        ops = _fft2d_ops(n, None, 2)
        for k, v in _fft2d_ops(n, crop, 2).items():
            ops[k] += v
        return ops
    if layer.kind == "quadratic":
        forward, backward = quadratic_pairs(n, layer.band, keep)
        return {("cmac", "mac"): forward + backward, ("cmac", "real_mac"): 4 * bins}
    return {}
