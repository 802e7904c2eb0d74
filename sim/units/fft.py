"""2-D FFT engines: ``fft.count`` streaming SDF pipelines working in lockstep.

A 2-D transform of an ``N x N`` plane is a pass of 1-D row transforms, the engine's
transpose memory, then a pass of column transforms.  Each engine takes one plane; the
``count`` engines take ``count`` planes at a time in lockstep, so a descriptor of ``I``
planes runs ``ceil(I / count)`` groups.  A group is two transactions, pass 1 and pass 2;
pass 2 needs pass 1's results (``fft_latency(N)`` after its last input), so the engine
interleaves groups: pass1(0), pass1(1), pass2(0), pass1(2), pass2(1), ... and the transpose
latency of one group is hidden behind the next group's first pass.

Pruning (only transforms whose inputs or outputs matter run):

* forward: the ``n`` non-zero rows of a zero-padded plane (n <= N) go through the row
  pass; the column pass transforms only the ``keep/2 + 1`` columns of the half spectrum
  that survive a following crop to ``keep`` (``keep = N``: all ``N/2 + 1``);
* inverse: the column pass transforms only the ``keep/2 + 1`` non-zero columns of the
  input (a gradient padded from a crop), the row pass only the ``n`` rows kept.

Each 1-D transform streams ``N`` samples at one per cycle (``FFT_II``); timing and
butterfly counts are those of ``accel.fixed.fft`` (the RTL's measured contract).
"""
from __future__ import annotations

from math import ceil

from accel.fixed.fft import FFT_II, fft_butterflies, fft_latency, fft_multiplier_stages
from accel.program import Fft2d

from . import Expansion, Machine, Work


def half_columns(keep: int) -> int:
    """Columns of a half spectrum that survive a crop to ``keep`` (``keep/2 + 1``)."""
    return keep // 2 + 1


def kept_rows(size: int, keep: int) -> int:
    """Rows of an ``size``-row half spectrum a crop to ``keep`` reads: ``keep + 1`` (the two
    rows at +-keep/2 fold into one), or all ``size`` rows when nothing is cropped."""
    return size if keep >= size else keep + 1


def pass_transforms(d: Fft2d) -> tuple[int, int]:
    """1-D transforms per plane in the first and second pass."""
    cols = half_columns(d.keep)
    return (d.n, cols) if not d.inverse else (cols, d.n)


def expand(d: Fft2d, m: Machine) -> Expansion:
    """Row/column pass transactions of ``d`` on the lockstep engines."""
    engines = m.accel.fft.count
    size = d.size
    t1, t2 = pass_transforms(d)
    lat = fft_latency(size)
    groups = ceil(d.images / engines)
    # SRAM traffic: forward reads n x n real samples, writes the kept bins; inverse the
    # reverse.  Real samples are stored packed (two per complex word).
    bins = kept_rows(size, d.keep) * half_columns(d.keep)
    if d.inverse:
        rd = m.words(d.src.buf, d.images * bins)
        wr = m.words(d.dst.buf, d.images * d.n * d.n, complex_=False)
    else:
        rd = m.words(d.src.buf, d.images * d.n * d.n, complex_=False)
        wr = m.words(d.dst.buf, d.images * bins)
    c1, c2 = t1 * size * FFT_II, t2 * size * FFT_II
    p1 = Work(max(c1, m.port_cycles({d.src.buf: ceil(rd / groups)})), c1, lat)
    order: list[tuple[int, int]] = [(1, 0)]  # (pass, group) in issue order
    for g in range(1, groups):
        order += [(1, g), (2, g - 1)]
    order.append((2, groups - 1))
    index = {}
    works = []
    for p, g in order:
        if p == 1:
            works.append(p1)
        else:
            c = c2
            works.append(Work(max(c, m.port_cycles({d.dst.buf: ceil(wr / groups)})), c, lat,
                              after=index[(1, g)]))
        index[(p, g)] = len(works) - 1
    ops = {"fft_transforms": d.images * (t1 + t2),
           "butterflies": d.images * (t1 + t2) * fft_butterflies(size),
           "twiddle_mults": d.images * (t1 + t2) * size * fft_multiplier_stages(size)}
    return Expansion(works, {d.src.buf: rd}, {d.dst.buf: wr}, ops=ops)
