"""The activation unit: ``activation.lanes`` split-complex PWL lanes.

A lane takes one value per cycle (a complex value: real and imaginary parts in parallel
through the same segment table); ``act_cycles(count, lanes)`` from ``accel.fixed.act`` is
the time of ``count`` values, ``ACT_LATENCY`` after the last input beat, plus the buffers'
synchronous read (``BUFFER_READ_CYCLES``) between the lanes' address and input beats
(measured on ``hdl/top.py``).  The same lanes
serve

* PWL forward (``y = slope x + icpt``) and backward (``g_x = slope(x) g_y``: reads x and g);
* the spatial activation's ReLU on real samples (forward: mask; backward: masked gradient);
* the loss step: moving the logits out and dL/dlogits back (reads logits and labels; the
  values are the host's softmax cross-entropy, see ``sim/schedule/frequency.py``);
* the classifier gradient's Hermitian projection (columns 0 and n/2 of each half
  spectrum summed with their mirrored rows, every other value copied);
* the SGD-with-momentum update (:func:`update_cycles`).
"""
from __future__ import annotations

from math import ceil

from accel.fixed.act import ACT_LATENCY, act_cycles
from accel.program import BUFFER_READ_CYCLES, Act, ActFunction, Update

from . import Expansion, Machine, Work, merge

#: Multiply-adds per value of the momentum update (v = mu v + g, then w = w - lr v) on a
#: lane that has one multiplier per component: two passes through the multiplier.
UPDATE_PASSES = 2


def update_cycles(count: int, lanes: int) -> int:
    """Cycles of an SGD-momentum update of ``count`` values on ``lanes`` lanes:
    ``UPDATE_PASSES`` beats per lane and value, then ``ACT_LATENCY``.  The timing contract
    of the update until ``accel.fixed.update`` exports a measured formula."""
    if count <= 0:
        return 0
    return UPDATE_PASSES * ceil(count / lanes) + ACT_LATENCY


def expand_act(d: Act, m: Machine) -> Expansion:
    """One transaction of ``count`` values through the lanes."""
    lanes = m.accel.activation.lanes
    complex_ = d.function in (ActFunction.PWL, ActFunction.HERMITIAN)
    reads = {d.x.buf: m.words(d.x.buf, d.count, complex_)}
    if d.backward:
        g_count = d.count if d.function != ActFunction.SOFTMAX_XENT else 0
        reads = merge(reads, {d.g.buf: m.words(d.g.buf, g_count, complex_)})
    writes = {d.y.buf: m.words(d.y.buf, d.count, complex_)}
    compute = act_cycles(d.count, lanes) - ACT_LATENCY
    occ = max(compute, m.port_cycles(merge(reads, writes)))
    key = "loss_values" if d.function == ActFunction.SOFTMAX_XENT else "activations"
    return Expansion([Work(occ, compute, ACT_LATENCY + BUFFER_READ_CYCLES)], reads, writes, ops={key: d.count})


def expand_update(d: Update, m: Machine) -> Expansion:
    """One transaction: read w, v, g; write w, v."""
    lanes = m.accel.activation.lanes
    w = m.words(d.w.buf, d.count)
    v = m.words(d.v.buf, d.count, bits=m.momentum_bits)
    reads = merge({d.w.buf: w}, {d.v.buf: v}, {d.g.buf: m.words(d.g.buf, d.count)})
    writes = merge({d.w.buf: w}, {d.v.buf: v})
    compute = update_cycles(d.count, lanes) - ACT_LATENCY
    occ = max(compute, m.port_cycles(merge(reads, writes)))
    return Expansion([Work(occ, compute, ACT_LATENCY + BUFFER_READ_CYCLES)], reads, writes, ops={"updates": d.count})
