"""The host's port into the buffers: one word written and one read per cycle."""
from __future__ import annotations

from amaranth.hdl import Const, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .params import TopParams
from .signatures import HostSignature, ReadLaneSignature, WriteGroupSignature


class HostPort(wiring.Component):
    """The host port on the buffer fabric: a read lane (every cycle, at ``addr``) and a
    one-word write group.

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        Address and word widths.

    Members
    -------
    host : ``In(HostSignature(params.addr_bits, params.word_bits))``
        The top's host port.
    read : ``Out(ReadLaneSignature(params.addr_bits, params.word_bits))``
        Its read lane into the fabric.
    write : ``Out(WriteGroupSignature(params.addr_bits, params.word_bits, 1))``
        Its write port into the fabric.
    """

    def __init__(self, params: TopParams) -> None:
        aw, W = params.addr_bits, params.word_bits
        super().__init__({"host": In(HostSignature(aw, W)), "read": Out(ReadLaneSignature(aw, W)),
                          "write": Out(WriteGroupSignature(aw, W, 1))})

    def elaborate(self, platform) -> Module:
        m = Module()
        h, r, w = self.host, self.read, self.write
        m.d.comb += [r.en.eq(Const(1)), r.buf.eq(h.buf), r.addr.eq(h.addr), h.rdata.eq(r.data),
                     w.en.eq(h.we), w.buf.eq(h.buf), w.base.eq(h.addr), w.mask.eq(Const(1)), w.data[0].eq(h.wdata)]
        return m
