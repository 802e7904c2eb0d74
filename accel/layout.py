"""The one spectral geometry: half spectra, kept bins, crop/pad maps, buffer words, packing.

Every layer of fdaccel -- the golden and fixed-point models, the schedule and cycle model,
the RTL and the tests -- asks this module the same questions, so that none of them
carries its own copy of a formula:

* **half spectra**: an ``n x n`` real signal's spectrum is stored in the ``rfft2`` layout,
  ``n`` rows x ``n/2 + 1`` columns (:func:`half_cols`, :func:`half_shape`,
  :func:`half_bins`);
* **kept bins**: a spectrum read by a spectral pooling to ``m`` (a crop) is needed only on
  rows ``|u| <= m/2`` and columns ``v <= m/2``: ``(m + 1) x (m/2 + 1)`` bins
  (:func:`crop_keep`, :func:`kept_rows`, :func:`kept_cols`, :func:`kept_count`); producers
  compute and store exactly those, in row-major order of the half spectrum
  (:func:`kept_index`);
* **buffer words**: how many buffer words hold a number of values of a given width
  (:func:`buffer_words`), and how many words a buffer of ``kbytes`` has
  (:func:`buffer_depth`);
* **complex packing**: one complex mantissa pair per word, the real part in the low
  ``bits`` (:func:`pack_complex`, :func:`unpack_complex`), as the RTL buffers store it.
"""
from __future__ import annotations

from collections.abc import Sequence
from math import ceil

import numpy as np

# --------------------------------------------------------------------------- half spectra

def half_cols(n: int) -> int:
    """Columns of the half (rfft2) layout of an n x n spectrum: ``n/2 + 1``."""
    return n // 2 + 1


def half_shape(n: int) -> tuple[int, int]:
    """Shape ``(n, n/2 + 1)`` of an n x n half spectrum."""
    return n, half_cols(n)


def half_bins(n: int) -> int:
    """Bins of an n x n half spectrum: ``n (n/2 + 1)``."""
    return n * half_cols(n)


# --------------------------------------------------------------------------- kept bins

def kept_rows(size: int, keep: int) -> int:
    """Rows of a ``size``-row half spectrum a crop to ``keep`` reads: ``keep + 1`` (the two
    rows at +-keep/2 fold into one), or all ``size`` rows when nothing is cropped."""
    return size if keep >= size else keep + 1


def kept_cols(keep: int) -> int:
    """Columns of a half spectrum that survive a crop to ``keep``: ``keep/2 + 1``."""
    return keep // 2 + 1


def kept_count(size: int, keep: int) -> int:
    """Bins of a ``size`` half spectrum read by a crop to ``keep`` (all of them if
    ``keep >= size``)."""
    return kept_rows(size, keep) * kept_cols(min(keep, size))


def crop_keep(n: int, m: int) -> np.ndarray:
    """Bins of an n x (n/2+1) half spectrum that spectral pooling to m reads:
    rows |u| <= m/2, columns v <= m/2 ((m + 1) x (m/2 + 1) bins)."""
    k = np.abs(np.fft.fftfreq(n, 1.0 / n)) <= m // 2
    return k[:, None] & (np.arange(half_cols(n)) <= m // 2)[None, :]


def crop_mask(n: int, m: int) -> np.ndarray | None:
    """:func:`crop_keep` if a crop to m < n reads the spectrum, None (all bins) if m >= n."""
    return crop_keep(n, m) if m < n else None


def kept_index(n: int, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the bins of an n x (n/2+1) half spectrum in the mask ``keep`` (all
    if None), row-major: the bin order of the per-bin GEMMs and PWL activations."""
    mask = np.ones(half_shape(n), bool) if keep is None else keep
    rows, cols = np.nonzero(mask)
    return rows, cols


def crop_index(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns), row-major, of the bins a forward transform or a crop-aware producer
    of size ``n`` stores when its reader crops to ``m``: those :func:`crop_keep` marks, or
    all of them if ``m >= n``."""
    return kept_index(n, crop_mask(n, m))


# --------------------------------------------------------------------------- buffers

def buffer_depth(kbytes: float, word_bits: int) -> int:
    """Words of a buffer of ``kbytes`` KiB made of ``word_bits``-bit words."""
    return int(kbytes * 1024 * 8) // word_bits


def buffer_words(values: int, value_bits: int, word_bits: int, complex_: bool = True) -> int:
    """Words holding ``values`` values of ``value_bits`` bits each (twice that if complex),
    packed densely into ``word_bits``-bit words, rounded up."""
    if values <= 0:
        return 0
    return ceil(values * value_bits * (2 if complex_ else 1) / word_bits)


# --------------------------------------------------------------------------- packing

def pack_complex(re: np.ndarray | Sequence[int], im: np.ndarray | Sequence[int], bits: int) -> np.ndarray:
    """Buffer words of complex mantissas, flattened: ``re`` in the low ``bits``, ``im``
    above them (two's complement fields); int64 words, or Python ints where ``2 bits``
    exceed 63."""
    mask = (1 << bits) - 1
    r = np.asarray(re, np.int64).ravel()
    i = np.asarray(im, np.int64).ravel()
    if 2 * bits <= 63:
        return (r & mask) | ((i & mask) << bits)
    return np.array([(int(a) & mask) | ((int(b) & mask) << bits) for a, b in zip(r, i)], dtype=object)


def unpack_complex(words: Sequence[int] | np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The signed ``(re, im)`` int64 mantissas of :func:`pack_complex` words."""
    mask, sign = (1 << bits) - 1, 1 << (bits - 1)
    re = np.array([((int(x) & mask) ^ sign) - sign for x in words], dtype=np.int64)
    im = np.array([(((int(x) >> bits) & mask) ^ sign) - sign for x in words], dtype=np.int64)
    return re, im
