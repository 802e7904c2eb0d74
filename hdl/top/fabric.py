"""The buffer fabric: the on-chip buffers, banked, and a port for every unit lane.

Every buffer is ``2 ** bank_bits`` interleaved banks (word ``a`` is word ``a >> bank_bits``
of bank ``a mod banks``), as many as the widest run of consecutive words one access group
touches in a cycle.  A lane that reads at any address (:class:`ReadLaneSignature`: the
MAC operands, the crop and FFT walkers, the host) has a port on every bank; a group of
lanes that reads or writes consecutive words (:class:`ReadGroupSignature`,
:class:`WriteGroupSignature`: the PWL x, g, y beats; one row of a MAC result tile; the
host's, the crop's and the FFT's single word) meets every bank at most once, so it needs
one port per bank and a rotation.  No access ever waits: the timing is that of one port
per lane.
"""
from __future__ import annotations

from collections.abc import Mapping

from amaranth.hdl import Cat, Const, Module, Signal, Value
from amaranth.lib import memory, wiring

from .logic import named, select
from .params import TopParams
from .signatures import ReadGroupSignature, ReadLaneSignature, WriteGroupSignature


class BufferFabric(wiring.Component):
    """The buffers of :class:`hdl.top.params.TopParams` (one complex value per word) and the
    ports its clients declare.

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        Buffer names and depths, the word width and the banks.
    ports : mapping of str to :class:`amaranth.lib.wiring.Member`
        The clients' ports, as the clients declare them (``Out`` of a
        :class:`ReadLaneSignature`, :class:`ReadGroupSignature` or
        :class:`WriteGroupSignature`, or an array of them), in the order their memory ports
        are made.

    Attributes
    ----------
    banks : list of list of :class:`amaranth.lib.memory.Memory`
        Per buffer, its banks.

    Members
    -------
    <name> : ``In(...)`` for each entry of ``ports``
        The port (or array of ports), flipped.
    """

    def __init__(self, params: TopParams, ports: Mapping[str, wiring.Member]) -> None:
        self.p = params
        banks = 1 << params.bank_bits
        self.banks = [[memory.Memory(shape=params.word_bits, depth=max(1, -(-depth // banks)), init=[])
                       for _ in range(banks)] for _, depth in params.buffers]
        super().__init__({name: member.flip() for name, member in ports.items()})
        # the memory ports, per client port: per buffer, per bank
        self._ports: list[tuple[wiring.PureInterface, list[list]]] = []
        for name in ports:
            value = getattr(self, name)
            for port in (value if isinstance(value, list) else [value]):
                write = isinstance(port.signature.flip(), WriteGroupSignature)
                self._ports.append((port, [[bank.write_port() if write else bank.read_port() for bank in banks]
                                           for banks in self.banks]))

    def word(self, buf: int, addr: int) -> Value:
        """Word ``addr`` of buffer ``buf`` (its bank's storage element, for simulators)."""
        s_b = self.p.bank_bits
        return self.banks[buf][addr & ((1 << s_b) - 1)].data[addr >> s_b]

    def _lo(self, a: Value) -> Value:
        """The bank of word address ``a``."""
        return a[:self.p.bank_bits] if self.p.bank_bits else Const(0, 1)

    def elaborate(self, platform) -> Module:
        m = Module()
        for b, banks in enumerate(self.banks):
            for k, bank in enumerate(banks):
                m.submodules[f"buf_{self.p.buffers[b][0]}_{k}"] = bank
        for port, mem_ports in self._ports:
            sig = port.signature.flip()
            if isinstance(sig, ReadLaneSignature):
                self._read_lane(m, port, mem_ports)
            elif isinstance(sig, ReadGroupSignature):
                self._read_group(m, port, sig.width, mem_ports)
            else:
                assert isinstance(sig, WriteGroupSignature)
                self._write_group(m, port, sig.width, mem_ports)
        return m

    def _read_lane(self, m: Module, port: wiring.PureInterface, mem_ports: list[list]) -> None:
        """The word at (``buf``, ``addr``), ``en`` this cycle: valid the next cycle."""
        s_b, W = self.p.bank_bits, self.p.word_bits
        buf, addr = port.buf, port.addr
        sel_q = Signal(len(buf) + max(1, s_b))
        m.d.sync += sel_q.eq(Cat(self._lo(addr), buf))
        bank_q, buf_q = sel_q[:max(1, s_b)], sel_q[max(1, s_b):]
        row = named(m, addr >> s_b, "rd_row")
        hits = [named(m, port.en & (self._lo(addr) == k), "rd_hit") for k in range(1 << s_b)]
        per_buf = []
        for b, ports in enumerate(mem_ports):
            for k, mp in enumerate(ports):
                m.d.comb += [mp.addr.eq(row), mp.en.eq(hits[k] & (buf == b))]
            per_buf.append(select([mp.data for mp in ports], bank_q, W))
        m.d.comb += port.data.eq(select(per_buf, buf_q, W))

    def _slots(self, m: Module, base: Value, width: int, en: Value,
               mask: Value | None = None) -> list[tuple[Value, Value, Value]]:
        """Per bank ``k``, for a group of ``width <= banks`` consecutive words from ``base``:
        (the group's lane in bank k, its address in bank k, whether bank k is accessed:
        ``en``, the lane exists and its ``mask`` bit is set)."""
        s_b = self.p.bank_bits
        B = 1 << s_b
        out = []
        for k in range(B):
            lane = named(m, (Const(k, s_b) - self._lo(base))[:s_b], "grp_lane") if s_b else Const(0, 1)
            # words of the group before its start's bank wrap to the next bank row
            addr = named(m, (base >> s_b) + (self._lo(base) > k) if k < B - 1 else base >> s_b, "grp_row")
            use = en & (lane < width) if width < B else en
            if mask is not None:
                use = use & select(list(mask), lane, 1)
            out.append((lane, addr, named(m, use, "grp_en")))
        return out

    def _read_group(self, m: Module, port: wiring.PureInterface, width: int, mem_ports: list[list]) -> None:
        """Words ``base .. base + width - 1`` of ``buf``, ``en`` this cycle: valid the next."""
        s_b, W = self.p.bank_bits, self.p.word_bits
        buf, base = port.buf, port.base
        base_q, buf_q = Signal(max(1, s_b)), Signal(len(buf))
        m.d.sync += [base_q.eq(self._lo(base)), buf_q.eq(buf)]
        slots = self._slots(m, base, width, port.en)
        per_buf = []
        for b, ports in enumerate(mem_ports):
            for mp, (_, addr, use) in zip(ports, slots):
                m.d.comb += [mp.addr.eq(addr), mp.en.eq(use & (buf == b))]
            per_buf.append([mp.data for mp in ports])
        by_bank = [named(m, select([d[k] for d in per_buf], buf_q, W), "grp_rdata") for k in range(1 << s_b)]
        for i in range(width):
            m.d.comb += port.data[i].eq(select(by_bank, (base_q + i)[:max(1, s_b)], W))

    def _write_group(self, m: Module, port: wiring.PureInterface, width: int, mem_ports: list[list]) -> None:
        """Write ``data[i]`` to word ``base + i`` of ``buf`` where ``en & mask[i]``."""
        W = self.p.word_bits
        slots = self._slots(m, port.base, width, port.en, port.mask)
        values = [port.data[i] for i in range(width)]
        wdata = [named(m, select(values, lane, W), "grp_wdata") for lane, _, _ in slots]
        for b, ports in enumerate(mem_ports):
            for mp, (_, addr, use), value in zip(ports, slots, wdata):
                m.d.comb += [mp.addr.eq(addr), mp.data.eq(value), mp.en.eq(use & (port.buf == b))]
