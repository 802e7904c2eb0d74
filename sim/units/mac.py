"""The complex MAC array: ``rows x cols`` cells running per-bin GEMMs and the dense layer.

Output-stationary (``accel.fixed.mac``): a tile is ``rows x cols`` outputs of one bin; the
array takes one operand beat per cycle (a column of ``rows`` A values and a row of
``cols`` B values), so tiles stream with initiation interval ``k`` and a stream of ``t``
tiles takes ``cmac_stream_cycles(t, k) = t * k + CMAC_LATENCY`` cycles.  A descriptor is
one transaction: all its tiles back to back (its operands are in the buffers before it
starts).  Its occupancy is the ``t * k`` cycles in which it presents operand addresses to
the buffers; the synchronous read adds ``BUFFER_READ_CYCLES`` before the beats reach the
array, so its results are readable ``CMAC_LATENCY + BUFFER_READ_CYCLES`` cycles after its
occupancy ends (measured on ``hdl/top.py``).  Edge tiles are zero padded: they cost full beats.

Operand traffic per tile: each beat reads the tile's real rows of A and real columns of B
(padding is not read), and the tile writes its real outputs once.  The buffers deliver
``banks`` words per cycle each; a GEMM whose operands need more cycles than its beats
runs at the ports' rate (a ``port`` stall).  Operands in the coefficient ROM (the sinc
matrices) cost no buffer port.

The dense classifier is a real GEMM on the same array: one real multiply-accumulate per
cell and beat.  Bias descriptors use the array's output stage (forward: add the bias to
the DC bin's outputs) or the array itself (gradient: a ones row times the DC bin).
"""
from __future__ import annotations

from math import ceil

from accel.fixed.mac import CMAC_DRAIN, CMAC_LATENCY
from accel.program import BUFFER_READ_CYCLES, Bias, Dense, Gemm, GemmKind

from . import Expansion, Machine, Work, merge


def tiles(bins: int, m: int, n: int, rows: int, cols: int) -> int:
    """Tiles of a per-bin GEMM with ``m x n`` outputs per bin."""
    return bins * ceil(m / rows) * ceil(n / cols)


def _gemm(m: Machine, a: int, b: int, c: int, bins: int, mm: int, nn: int, k: int,
          complex_: bool) -> tuple[Work, dict[int, int], dict[int, int]]:
    rows, cols = m.accel.mac_array.rows, m.accel.mac_array.cols
    t = tiles(bins, mm, nn, rows, cols)
    reads = merge({a: m.words(a, bins * k * mm * ceil(nn / cols), complex_)},
                  {b: m.words(b, bins * k * nn * ceil(mm / rows), complex_)})
    writes = {c: m.words(c, bins * mm * nn, complex_)}
    compute = t * k
    return (Work(max(compute, m.port_cycles(merge(reads, writes))), compute, CMAC_LATENCY + BUFFER_READ_CYCLES),
            reads, writes)


def expand_gemm(d: Gemm, m: Machine) -> Expansion:
    """One transaction: the descriptor's tiles streamed through the array."""
    work, reads, writes = _gemm(m, d.a.buf, d.b.buf, d.c.buf, d.bins, d.m, d.n, d.k, True)
    key = "complex_macs" if d.kind == GemmKind.CONV else "sinc_macs"
    return Expansion([work], reads, writes, ops={key: d.bins * d.m * d.n * d.k})


def expand_dense(d: Dense, m: Machine) -> Expansion:
    """One transaction: the classifier's real tiles streamed through the array."""
    work, reads, writes = _gemm(m, d.a.buf, d.b.buf, d.c.buf, 1, d.m, d.n, d.k, False)
    return Expansion([work], reads, writes, ops={"real_macs": d.m * d.n * d.k})


def expand_bias(d: Bias, m: Machine) -> Expansion:
    """One transaction on the array.  Forward: the output stage reads the DC bin's
    ``m x n`` outputs and the ``n`` bias words and writes the sums back, one output beat
    (a ``rows x cols`` tile) per cycle, complete ``CMAC_DRAIN`` cycles after the last.
    Gradient: ``ceil(n / cols)`` tiles of one row, each ``m`` beats (the ones row from the
    ROM times the DC bin's rows), as a GEMM; the ``m x n`` multiply-accumulates are
    counted with the GEMMs' (complex for spectra, real for the logits)."""
    rows, cols = m.accel.mac_array.rows, m.accel.mac_array.cols
    complex_ = not d.real
    y_words = m.words(d.y.buf, d.m * d.n, complex_)
    b_words = m.words(d.b.buf, d.n, complex_=False)
    if d.grad:
        reads, writes = {d.y.buf: y_words}, {d.b.buf: b_words}
        compute, tail = ceil(d.n / cols) * d.m, CMAC_LATENCY + BUFFER_READ_CYCLES
        ops = {"complex_macs" if complex_ else "real_macs": d.m * d.n}
    else:
        reads, writes = merge({d.y.buf: y_words}, {d.b.buf: b_words}), {d.y.buf: y_words}
        compute, tail = ceil(d.m / rows) * ceil(d.n / cols), CMAC_DRAIN + BUFFER_READ_CYCLES
        ops = {}
    occ = max(compute, m.port_cycles(merge(reads, writes)))
    return Expansion([Work(occ, compute, tail)], reads, writes, ops=ops)
