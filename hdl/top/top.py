"""The top: decoder, scoreboard, unit queues, buffer fabric and one sequencer per unit,
connected (see :mod:`hdl.top` for what it runs and how)."""
from __future__ import annotations

from amaranth.hdl import Cat, Module, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from accel.program import DESCRIPTOR_BITS

from .act import ActSequencer
from .checks import ERROR_BITS
from .crop import CropSequencer
from .decoder import Decoder
from .fabric import BufferFabric
from .fft import FftSequencer
from .host import HostPort
from .layouts import TOP_UNITS
from .mac import MacSequencer
from .params import TopParams
from .queues import UnitQueues
from .scoreboard import Scoreboard
from .sequencer import Sequencer
from .signatures import HostSignature, TraceSignature


class Top(wiring.Component):
    """Buffers, MAC array, PWL lanes, crop/pad pairs, FFT engines and the descriptor
    sequencer (see :mod:`hdl.top`).

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        ``TopParams.from_accel(accel)``.

    Attributes
    ----------
    p : :class:`hdl.top.params.TopParams`
        The parameters.
    sequencers : dict of str to :class:`hdl.top.sequencer.Sequencer`
        One per unit of :data:`TOP_UNITS`.
    fabric : :class:`hdl.top.fabric.BufferFabric`
        The buffers, with the host's and every sequencer's ports.

    Members
    -------
    desc : ``In(stream.Signature(DESCRIPTOR_BITS))``
        Descriptors, one per beat (:func:`hdl.top.checks.program_words`).  Keep ``valid``
        high while descriptors remain (a preloaded program): the dispatch timing then equals
        the cycle model's, whose time 0 is the cycle descriptor 0 is dispatched.
    host : ``In(HostSignature(params.addr_bits, params.word_bits))``
        The host's port into every buffer (load operands before the program runs, read
        results after it): one word written and one read per cycle.
    table : ``In(TableSignature(...))``
        The PWL table's write port (:class:`hdl.act.PwlActivation`'s ``wr_*``); load it
        before the program runs.
    trace : ``Out(TraceSignature(ERROR_BITS))``
        Dispatch, per unit start / end / done, idle and the decoder's error.
    """

    def __init__(self, params: TopParams) -> None:
        self.p = params
        self.sequencers: dict[str, Sequencer] = {"mac": MacSequencer(params), "act": ActSequencer(params),
                                                 "crop": CropSequencer(params), "fft": FftSequencer(params)}
        assert tuple(self.sequencers) == TOP_UNITS
        self.host_port = HostPort(params)
        ports = {f"host_{name}": self.host_port.signature.members[name] for name in ("read", "write")}
        for u, seq in self.sequencers.items():
            ports.update({f"{u}_{name}": seq.signature.members[name] for name in seq.buffer_ports})
        self.fabric = BufferFabric(params, ports)
        super().__init__({
            "desc": In(stream.Signature(DESCRIPTOR_BITS)),
            "host": In(HostSignature(params.addr_bits, params.word_bits)),
            "table": self.sequencers["act"].signature.members["table"],
            "trace": Out(TraceSignature(ERROR_BITS)),
        })

    def word(self, buf: int, addr: int) -> Value:
        """Word ``addr`` of buffer ``buf`` (its bank's storage element, for simulators)."""
        return self.fabric.word(buf, addr)

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.p
        m.submodules.decoder = dec = Decoder(p)
        seqs = self.sequencers
        releases = sum(len(s.release) for s in seqs.values())
        completions = sum(len(s.complete) for s in seqs.values())
        m.submodules.scoreboard = sb = Scoreboard(p, releases, completions)
        m.submodules.queues = queues = UnitQueues(p)
        m.submodules.fabric = fabric = self.fabric
        m.submodules.host = host = self.host_port
        connect(m, flipped(self.desc), dec.desc)
        connect(m, dec.o, sb.i)
        connect(m, sb.o, queues.i)
        connect(m, flipped(self.host), host.host)
        connect(m, host.read, fabric.host_read)
        connect(m, host.write, fabric.host_write)
        connect(m, flipped(self.table), seqs["act"].table)
        events = {"release": iter(sb.release), "complete": iter(sb.complete)}
        for k, (u, seq) in enumerate(seqs.items()):
            m.submodules[u] = seq
            connect(m, queues.o[k], sb.heads[k])
            connect(m, sb.ready[k], seq.queue)
            for name in seq.buffer_ports:
                ours, theirs = getattr(seq, name), getattr(fabric, f"{u}_{name}")
                for a, b in (zip(ours, theirs) if isinstance(ours, list) else [(ours, theirs)]):
                    connect(m, a, b)
            for kind, slots in events.items():
                for ev in getattr(seq, kind):
                    connect(m, ev, next(slots))
        traces = [seqs[u].trace for u in TOP_UNITS]
        m.d.comb += [self.trace.dispatch.eq(dec.o.valid & dec.o.ready),
                     self.trace.start.eq(Cat(t.start for t in traces)),
                     self.trace.end.eq(Cat(t.end for t in traces)),
                     self.trace.done.eq(Cat(t.done for t in traces)),
                     self.trace.idle.eq(~dec.pending & ~Cat(q.valid for q in queues.o).any()
                                        & Cat(t.idle for t in traces).all()),
                     self.trace.error.eq(dec.error), self.trace.error_code.eq(dec.error_code)]
        return m
