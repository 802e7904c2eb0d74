"""What the four sequencers share: their members, the descriptor in effect, and the
queue of descriptors an instance still owes results for."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import entry_layout, owed_layout
from .logic import shift_fifo
from .params import TopParams
from .signatures import EventSignature, ReadGroupSignature, ReadLaneSignature, UnitTraceSignature, WriteGroupSignature


def read_lane(p: TopParams) -> wiring.Member:
    """A read lane into the buffer fabric, from the reader's side."""
    return Out(ReadLaneSignature(p.addr_bits, p.word_bits))


def read_group(p: TopParams, width: int) -> wiring.Member:
    """A group of ``width`` consecutive words read from the buffer fabric."""
    return Out(ReadGroupSignature(p.addr_bits, p.word_bits, width))


def write_group(p: TopParams, width: int) -> wiring.Member:
    """A group of ``width`` consecutive words written into the buffer fabric."""
    return Out(WriteGroupSignature(p.addr_bits, p.word_bits, width))


class Sequencer(wiring.Component):
    """A unit and the sequencer that runs its queue's descriptors on it (the base of
    :class:`hdl.top.mac.MacSequencer`, :class:`hdl.top.act.ActSequencer`,
    :class:`hdl.top.crop.CropSequencer` and :class:`hdl.top.fft.FftSequencer`).

    A unit starts its queue head, when the scoreboard allows (``queue.valid``), in a cycle
    it is free.  Its occupancy is the cycles in which it presents operand addresses (one
    beat per cycle); it releases its read regions at the end of them; its writes complete
    when the last result is written (readable the next cycle).

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        What the top is built for.
    ports : mapping of str to :class:`amaranth.lib.wiring.Member`
        The sequencer's ports into the buffer fabric (:func:`read_lane`,
        :func:`read_group`, :func:`write_group`, or arrays of them).
    releases, completions : int
        Its scoreboard events: read releases and write completions.
    members : mapping of str to :class:`amaranth.lib.wiring.Member`
        Further members of the subclass.

    Attributes
    ----------
    buffer_ports : tuple of str
        The names of the members that go to the buffer fabric.

    Members
    -------
    queue : ``In(stream.Signature(entry_layout(params)))``
        The queue head, valid when the scoreboard lets it start; a transfer is a start.
    <port> : for each entry of ``ports``
        Its port into the buffer fabric.
    release : ``Out(EventSignature()).array(releases)``
        A descriptor's reads of a region are released.
    complete : ``Out(EventSignature()).array(completions)``
        A descriptor's last result is written into a region.
    trace : ``Out(UnitTraceSignature())``
        Start, last occupancy cycle, completion, idle.
    """

    def __init__(self, params: TopParams, ports: Mapping[str, wiring.Member], releases: int, completions: int,
                 members: Mapping[str, wiring.Member] | None = None) -> None:
        self.p = params
        self.buffer_ports = tuple(ports)
        super().__init__({"queue": In(stream.Signature(entry_layout(params))), **ports,
                          "release": Out(EventSignature()).array(releases),
                          "complete": Out(EventSignature()).array(completions),
                          "trace": Out(UnitTraceSignature()), **(members or {})})

    @staticmethod
    def event(m: Module, port: wiring.PureInterface, ref: data.View, en: Value) -> None:
        """Raise scoreboard event ``port`` for ``ref``'s (buffer, region) when ``en``."""
        m.d.comb += [port.en.eq(en), port.buf.eq(ref.buf), port.region.eq(ref.region)]


@dataclass
class Head:
    """A sequencer's view of the descriptor it runs (:func:`walker_head`)."""
    head: data.View     # the queue head
    busy: Signal        # a descriptor is running (set the cycle after its start)
    start: Signal       # the queue head starts this cycle
    cur: data.View      # the descriptor in effect this cycle: the head at its start, then a register
    active: Value       # busy or starting


def walker_head(m: Module, name: str, p: TopParams, queue: wiring.PureInterface) -> Head:
    """A unit that runs one descriptor at a time from its queue: it takes the head when it
    is not busy, and runs it from that cycle on."""
    entry = entry_layout(p)
    head = queue.payload
    busy = Signal(name=f"{name}_busy")
    start = Signal(name=f"{name}_start")
    m.d.comb += [queue.ready.eq(~busy), start.eq(queue.valid & queue.ready)]
    cur_r = Signal(entry, name=f"{name}_cur")
    cur = Signal(entry, name=f"{name}_cur_e")
    m.d.comb += cur.eq(Mux(start, head.as_value(), cur_r.as_value()))
    with m.If(start):
        m.d.sync += [busy.eq(1), cur_r.eq(head)]
    return Head(head, busy, start, cur, busy | start)


def owed(m: Module, name: str, p: TopParams, head: data.View, push: Value, done: Value,
         depth: int) -> tuple[data.View, Signal]:
    """The descriptors whose outputs an instance still owes, oldest first (pushed when
    one starts on it, popped on ``done``): (the oldest's destination and count, how
    many).  ``depth``: the most that can be owed at once, ``1 + ceil(tail / pass)``
    for an instance whose results trail its last input by ``tail`` cycles and whose
    shortest descriptor (one pass) occupies it ``pass`` cycles."""
    track = owed_layout(p)
    depth = max(2, depth)
    fq = [Signal(track, name=f"{name}_owed_{k}") for k in range(depth)]
    count = Signal(range(depth + 1), name=f"{name}_owed")
    new = Signal(track)
    m.d.comb += [new.buf.eq(head.w.buf), new.region.eq(head.w.region), new.addr.eq(head.w.addr),
                 new.count.eq(head.count)]
    shift_fifo(m, fq, count, push, done, new)
    return fq[0], count
