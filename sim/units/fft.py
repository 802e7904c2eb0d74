"""2-D FFT engines: ``fft.count`` engines working on a descriptor's images in lockstep.

**Forward** (real images -> half spectra): the structure and timing of ``hdl/fft2d.py``,
the RTL (``tests/test_hdl_fft2d.py`` measures it against the formulas used here).  An
engine has a row pipeline and a column pipeline joined by a two-bank transpose memory, so
the column pass of one image overlaps the row pass of the next.  It transforms all
``size`` rows of a plane -- a zero-padded plane's zero rows too -- and only the
``keep/2 + 1`` columns that survive a following crop
(:func:`accel.fixed.fft2d.column_count`).  The ``count`` engines take ``count`` images at
a time, so a descriptor of ``I`` images is ``G = ceil(I / count)`` groups, one
transaction each: a group occupies the engines for :func:`~accel.fixed.fft2d.fft2d_interval`
cycles (its row pass, ``size * size``), and its last bin leaves
:func:`~accel.fixed.fft2d.fft2d_latency` ``+ cols * size`` cycles after its first
sample, so the descriptor's results are complete
:func:`~accel.fixed.fft2d.fft2d_cycles` ``(size, keep, G)`` cycles after its first
sample enters, plus the buffers' synchronous read (``BUFFER_READ_CYCLES``) between the
first address and the first sample, as for the MAC array and the activation lanes.

**Inverse** (half spectra -> real images): there is no RTL for it yet, so it keeps the
model it was written with: one pipeline per engine alternating a column pass and a row
pass, each 1-D transform streaming ``size`` samples at one per cycle with the 1-D
pipeline's latency (``accel.fixed.fft``); pass 2 of a group needs pass 1's results, so
groups interleave: pass1(0), pass1(1), pass2(0), pass1(2), pass2(1), ...  It prunes: the
column pass transforms only the ``keep/2 + 1`` non-zero columns of the input (a gradient
padded from a crop), the row pass only the ``n`` rows kept.

Operation counters count what the pipelines compute: every transform that streams
through them, each with ``fft_butterflies(size)`` butterflies and ``size`` samples per
non-trivial twiddle stage.
"""
from __future__ import annotations

from math import ceil

from accel.fixed.fft import FFT_II, fft_butterflies, fft_latency, fft_multiplier_stages
from accel.fixed.fft2d import column_count, fft2d_interval, fft2d_latency
from accel.layout import kept_cols, kept_rows
from accel.program import BUFFER_READ_CYCLES, Fft2d

from . import Expansion, Machine, Work, merge


def pass_transforms(d: Fft2d) -> tuple[int, int]:
    """1-D transforms per plane in the first and second pass: forward, all ``size`` rows
    then the kept columns (the RTL); inverse, the non-zero columns then the ``n`` kept rows."""
    if d.inverse:
        return kept_cols(d.keep), d.n
    return d.size, column_count(d.size, d.keep)


def _traffic(d: Fft2d, m: Machine) -> tuple[int, int]:
    """Words read and written: forward reads the ``n x n`` stored real samples (two per
    complex word; the zero padding is not stored) and writes the kept bins; inverse the
    reverse."""
    bins = kept_rows(d.size, d.keep) * kept_cols(d.keep)
    if d.inverse:
        return m.words(d.src.buf, d.images * bins), m.words(d.dst.buf, d.images * d.n * d.n, complex_=False)
    return m.words(d.src.buf, d.images * d.n * d.n, complex_=False), m.words(d.dst.buf, d.images * bins)


def expand(d: Fft2d, m: Machine) -> Expansion:
    """The descriptor's transactions on the lockstep engines (forward: one per group, the
    RTL's timing; inverse: row and column passes)."""
    size = d.size
    groups = ceil(d.images / m.accel.fft.count)
    t1, t2 = pass_transforms(d)
    rd, wr = _traffic(d, m)
    if d.inverse:
        works = _inverse_works(d, m, groups, t1, t2, rd, wr)
    else:
        # a group's row pass reads its images while the previous group's bins are written
        interval = fft2d_interval(size)
        port = m.port_cycles(merge({d.src.buf: ceil(rd / groups)}, {d.dst.buf: ceil(wr / groups)}))
        tail = fft2d_latency(size) - interval + column_count(size, d.keep) * size * FFT_II + BUFFER_READ_CYCLES
        works = [Work(max(interval, port), interval, tail)] * groups
    ops = {"fft_transforms": d.images * (t1 + t2),
           "butterflies": d.images * (t1 + t2) * fft_butterflies(size),
           "twiddle_mults": d.images * (t1 + t2) * size * fft_multiplier_stages(size)}
    return Expansion(works, {d.src.buf: rd}, {d.dst.buf: wr}, ops=ops)


def _inverse_works(d: Fft2d, m: Machine, groups: int, t1: int, t2: int, rd: int, wr: int) -> list[Work]:
    """Pass transactions of an inverse descriptor, in issue order (see the module docstring)."""
    size = d.size
    lat = fft_latency(size)
    c1, c2 = t1 * size * FFT_II, t2 * size * FFT_II
    p1 = Work(max(c1, m.port_cycles({d.src.buf: ceil(rd / groups)})), c1, lat)
    order: list[tuple[int, int]] = [(1, 0)]  # (pass, group) in issue order
    for g in range(1, groups):
        order += [(1, g), (2, g - 1)]
    order.append((2, groups - 1))
    index: dict[tuple[int, int], int] = {}
    works: list[Work] = []
    for p, g in order:
        if p == 1:
            works.append(p1)
        else:
            works.append(Work(max(c2, m.port_cycles({d.dst.buf: ceil(wr / groups)})), c2, lat,
                              after=index[(1, g)]))
        index[(p, g)] = len(works) - 1
    return works
