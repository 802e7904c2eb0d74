"""The spectral-pooling crop unit: crop/fold ``n -> m`` and its adjoint, pad/unfold ``m -> n``.

Forward timing is ``accel.fixed.crop``'s (the RTL's contract): one pass per half spectrum,
``crop_pass_cycles(n, m)`` cycles of input beats (passes stream back to back), the last
output ``crop_latency_cycles(n, m)`` cycles after a pass's first input.  The unit streams
the whole ``n x (n/2 + 1)`` input order; the bins the crop drops were never computed
upstream (crop-aware GEMMs and FFTs), so their beats read nothing from the buffer: SRAM
reads are the ``(m + 1) x (m/2 + 1)`` kept bins only.  The dropped bins are counted as
``crop_skipped_bins``.

The adjoint (the pad unit) writes the whole ``n x (n/2 + 1)`` padded half spectrum, one bin
per cycle, reading one input bin per kept bin and generating the zeros itself
(``pad_pass_cycles(n, m)``); its last output is ``CROP_LATENCY`` cycles after its last
beat.

Both read their operands through the buffers' synchronous read, one cycle between a beat's
address and its data (``BUFFER_READ_CYCLES``), so results are complete that much later
(measured on ``hdl/top.py``, which runs these descriptors).
"""
from __future__ import annotations

from accel.fixed.crop import CROP_LATENCY, crop_latency_cycles, crop_pass_cycles, crop_skipped, pad_pass_cycles
from accel.layout import half_bins, half_cols, kept_count
from accel.program import BUFFER_READ_CYCLES, Crop

from . import Expansion, Machine, Work, merge


def fold_adds(m: int) -> int:
    """Complex additions of one crop pass: the Nyquist row (m/2 + 1 bins, two input rows
    each) and the Nyquist column (m bins, the mirrored value added)."""
    return half_cols(m) + m


def expand(d: Crop, m: Machine) -> Expansion:
    """One transaction: ``count`` passes back to back."""
    small = half_bins(d.m)
    if d.adjoint:
        per, span = pad_pass_cycles(d.n, d.m), pad_pass_cycles(d.n, d.m) + CROP_LATENCY
        reads = {d.src.buf: m.words(d.src.buf, d.count * small)}
        writes = {d.dst.buf: m.words(d.dst.buf, d.count * half_bins(d.n))}
        ops = {"crop_passes": d.count}
    else:
        per, span = crop_pass_cycles(d.n, d.m), crop_latency_cycles(d.n, d.m)
        reads = {d.src.buf: m.words(d.src.buf, d.count * kept_count(d.n, d.m))}
        writes = {d.dst.buf: m.words(d.dst.buf, d.count * small)}
        ops = {"crop_passes": d.count, "crop_skipped_bins": d.count * crop_skipped(d.n, d.m),
               "crop_fold_adds": d.count * fold_adds(d.m)}
    compute = d.count * per
    occ = max(compute, m.port_cycles(merge(reads, writes)))
    return Expansion([Work(occ, compute, span - per + BUFFER_READ_CYCLES)], reads, writes, ops=ops)
