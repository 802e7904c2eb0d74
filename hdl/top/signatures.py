"""The top's interfaces: host, PWL table and trace ports, and the buffer fabric's and the
scoreboard's ports, each from the side of the party that drives the request.

Every signature is a :class:`amaranth.lib.wiring.Signature` whose members are listed in
its docstring, as amaranth-soc documents its buses.
"""
from __future__ import annotations

from amaranth.hdl import ShapeLike
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .layouts import BUF_BITS, REGION_BITS, TOP_UNITS


class _Signature(wiring.Signature):
    """A signature that equals another of its class with the same members."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, wiring.FlippedSignature):
            return False
        return type(self) is type(other) and isinstance(other, wiring.Signature) and self.members == other.members


class HostSignature(_Signature):
    """The host's port into every buffer, from the host's side.

    Parameters
    ----------
    addr_bits : int
        Width of a word address.
    word_bits : int
        Width of a buffer word.

    Members
    -------
    we : ``Out(1)``
        Write ``wdata`` to word ``addr`` of buffer ``buf`` this cycle.
    buf : ``Out(BUF_BITS)``
        Buffer index (into the configuration's ``sram`` list).
    addr : ``Out(addr_bits)``
        Word address, for the write and the read.
    wdata : ``Out(word_bits)``
        The word written: ``re`` in the low half.
    rdata : ``In(word_bits)``
        The word at the previous cycle's ``buf``/``addr``.
    """

    def __init__(self, addr_bits: int, word_bits: int) -> None:
        super().__init__({"we": Out(1), "buf": Out(BUF_BITS), "addr": Out(addr_bits),
                          "wdata": Out(word_bits), "rdata": In(word_bits)})


class TableSignature(_Signature):
    """The PWL table's write port (:class:`hdl.act.PwlActivation`'s ``wr_*``), from the
    writer's side; load it before the program runs.

    Parameters
    ----------
    segments : int
        Segments of the table: ``3 * segments - 1`` registers.
    data_shape : ShapeLike
        Shape of a register write (the unit's ``wr_data``: signed
        ``max(data_bits + 1, slope_bits)``).

    Members
    -------
    we : ``Out(1)``
        Write ``data`` to register ``addr`` this cycle.
    addr : ``Out(range(3 * segments - 1))``
        Register index (``PwlTable.words`` order).
    data : ``Out(data_shape)``
        Register value.
    """

    def __init__(self, segments: int, data_shape: ShapeLike) -> None:
        super().__init__({"we": Out(1), "addr": Out(range(3 * segments - 1)), "data": Out(data_shape)})


class TraceSignature(_Signature):
    """What the top reports every cycle, from the top's side.

    Parameters
    ----------
    error_bits : int
        Width of an error code (:data:`hdl.top.checks.ERRORS`).

    Members
    -------
    dispatch : ``Out(1)``
        A descriptor is dispatched this cycle.
    start, end, done : ``Out(len(TOP_UNITS))``
        Per unit (:data:`TOP_UNITS`): a transaction starts this cycle; this is the last
        cycle of its occupancy (the cycle model's ``end`` is the next cycle); its last
        result is written this cycle (the model's ``done`` is the next cycle).
    idle : ``Out(1)``
        No descriptor held (but a rejected one), queued, running or with results in flight.
    error : ``Out(1)``
        The decoder found a descriptor it cannot execute; sticky, nothing is dispatched
        after it.
    error_code : ``Out(error_bits)``
        Which check failed (:data:`hdl.top.checks.ERRORS`; 0: none).
    """

    def __init__(self, error_bits: int) -> None:
        units = len(TOP_UNITS)
        super().__init__({"dispatch": Out(1), "start": Out(units), "end": Out(units), "done": Out(units),
                          "idle": Out(1), "error": Out(1), "error_code": Out(error_bits)})


class UnitTraceSignature(_Signature):
    """What a sequencer reports every cycle, from its side.

    Members
    -------
    start : ``Out(1)``
        It starts its queue head this cycle.
    end : ``Out(1)``
        This is the last cycle of a transaction's occupancy.
    done : ``Out(1)``
        A transaction's last result is written this cycle.
    idle : ``Out(1)``
        Nothing running and no result in flight.
    """

    def __init__(self) -> None:
        super().__init__({"start": Out(1), "end": Out(1), "done": Out(1), "idle": Out(1)})


class ReadLaneSignature(_Signature):
    """One word of any buffer at any address per cycle, from the reader's side: the buffer
    fabric gives the lane a port on every bank.

    Parameters
    ----------
    addr_bits, word_bits : int
        Widths of a word address and of a word.

    Members
    -------
    en : ``Out(1)``
        Read this cycle.
    buf : ``Out(BUF_BITS)``
        Buffer index.
    addr : ``Out(addr_bits)``
        Word address.
    data : ``In(word_bits)``
        The word read in the previous cycle.
    """

    def __init__(self, addr_bits: int, word_bits: int) -> None:
        super().__init__({"en": Out(1), "buf": Out(BUF_BITS), "addr": Out(addr_bits), "data": In(word_bits)})


class ReadGroupSignature(_Signature):
    """``width`` consecutive words of a buffer per cycle, from the reader's side: they meet
    every bank at most once, so the fabric gives the group one port per bank.

    Parameters
    ----------
    addr_bits, word_bits : int
        Widths of a word address and of a word.
    width : int
        Words per access, at most the banks of a buffer.

    Members
    -------
    en : ``Out(1)``
        Read this cycle.
    buf : ``Out(BUF_BITS)``
        Buffer index.
    base : ``Out(addr_bits)``
        Address of the first word.
    data : ``In(data.ArrayLayout(word_bits, width))``
        Words ``base .. base + width - 1`` read in the previous cycle.
    """

    def __init__(self, addr_bits: int, word_bits: int, width: int) -> None:
        self.width = width
        super().__init__({"en": Out(1), "buf": Out(BUF_BITS), "base": Out(addr_bits),
                          "data": In(data.ArrayLayout(word_bits, width))})


class WriteGroupSignature(_Signature):
    """Up to ``width`` consecutive words into a buffer per cycle, from the writer's side
    (one port per bank).

    Parameters
    ----------
    addr_bits, word_bits : int
        Widths of a word address and of a word.
    width : int
        Words per access, at most the banks of a buffer.

    Members
    -------
    en : ``Out(1)``
        Write this cycle.
    buf : ``Out(BUF_BITS)``
        Buffer index.
    base : ``Out(addr_bits)``
        Address of the first word.
    mask : ``Out(width)``
        Bit ``i``: write word ``base + i``.
    data : ``Out(data.ArrayLayout(word_bits, width))``
        The words.
    """

    def __init__(self, addr_bits: int, word_bits: int, width: int) -> None:
        self.width = width
        super().__init__({"en": Out(1), "buf": Out(BUF_BITS), "base": Out(addr_bits), "mask": Out(width),
                          "data": Out(data.ArrayLayout(word_bits, width))})


class EventSignature(_Signature):
    """A scoreboard event of a (buffer, region), from the side that raises it: reads
    released, or a write completed.

    Members
    -------
    en : ``Out(1)``
        The event happens this cycle.
    buf : ``Out(BUF_BITS)``
        Buffer index.
    region : ``Out(REGION_BITS)``
        Region id.
    """

    def __init__(self) -> None:
        super().__init__({"en": Out(1), "buf": Out(BUF_BITS), "region": Out(REGION_BITS)})
