"""The spectral-pooling crop unit: crop/fold ``n -> m`` and its adjoint, pad/unfold ``m -> n``.

Forward timing is ``accel.fixed.crop``'s (the RTL's contract): one pass per half spectrum,
``crop_pass_cycles(n, m)`` cycles of input beats (passes stream back to back), the last
output ``crop_latency_cycles(n, m)`` cycles after a pass's first input.  The unit streams
the whole ``n x (n/2 + 1)`` input order; the bins the crop drops were never computed
upstream (crop-aware GEMMs and FFTs), so their beats read nothing from the buffer: SRAM
reads are the ``(m + 1) x (m/2 + 1)`` kept bins only.  The dropped bins are counted as
``crop_skipped_bins``.

The adjoint is crop-aware too: it emits only the ``(m + 1) x (m/2 + 1)`` bins of the
padded gradient that are non-zero (the downstream backward GEMMs skip the rest), one per
cycle (:func:`pad_pass_cycles`), with ``CROP_LATENCY`` registers of drain.
"""
from __future__ import annotations

from accel.fixed.crop import CROP_LATENCY, crop_latency_cycles, crop_pass_cycles, crop_skipped
from accel.program import Crop

from . import Expansion, Machine, Work, merge


def kept_bins(m: int) -> int:
    """Bins of an input half spectrum that a crop to ``m`` reads: (m + 1) rows x (m/2 + 1)."""
    return (m + 1) * (m // 2 + 1)


def pad_pass_cycles(n: int, m: int) -> int:
    """Cycles per half spectrum of the adjoint (pad/unfold m -> n): one output beat per
    non-zero bin of the padded ``n x (n/2 + 1)`` gradient, ``kept_bins(m)``.  The timing
    contract of the adjoint until ``accel.fixed.crop`` exports a measured formula."""
    if not (2 <= m < n and m % 2 == 0):
        raise ValueError(f"pad {m} -> {n}: expected an even m < n")
    return kept_bins(m)


def expand(d: Crop, m: Machine) -> Expansion:
    """One transaction: ``count`` passes back to back."""
    small = d.m * (d.m // 2 + 1)
    if d.adjoint:
        per, span = pad_pass_cycles(d.n, d.m), pad_pass_cycles(d.n, d.m) + CROP_LATENCY
        reads = {d.src.buf: m.words(d.src.buf, d.count * small)}
        writes = {d.dst.buf: m.words(d.dst.buf, d.count * kept_bins(d.m))}
        ops = {"crop_passes": d.count}
    else:
        per, span = crop_pass_cycles(d.n, d.m), crop_latency_cycles(d.n, d.m)
        reads = {d.src.buf: m.words(d.src.buf, d.count * kept_bins(d.m))}
        writes = {d.dst.buf: m.words(d.dst.buf, d.count * small)}
        ops = {"crop_passes": d.count, "crop_skipped_bins": d.count * crop_skipped(d.n, d.m)}
    compute = d.count * per
    occ = max(compute, m.port_cycles(merge(reads, writes)))
    return Expansion([Work(occ, compute, span - per)], reads, writes, ops=ops)
