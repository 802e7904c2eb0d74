"""Valid/ready stream helpers shared by the fdaccel HDL units.

Streams are :class:`amaranth.lib.stream.Signature` interfaces (``payload``, ``valid``,
``ready``); a transfer happens on a rising clock edge where ``valid & ready`` both hold.
This module adds what the units have in common on top of that:

* :func:`complex_layout` -- the payload layout of a complex fixed-point sample;
* :class:`SkidBuffer` -- a two-entry stream register whose ``i.ready`` is a register, so
  that a long pipeline can use "the buffer has space" as its clock enable without a
  combinational path from the consumer's ``ready`` to every pipeline register;
* testbench helpers for Amaranth's async simulator (``sim.add_testbench``):
  :func:`stream_put`/:func:`stream_get` move one payload, :func:`stream_send` and
  :func:`stream_recv` move many with random valid gaps / ready backpressure and report the
  cycle of every transfer, which is how the tests measure latency and initiation interval;
  :func:`run_stream_testbench` runs a whole producer/consumer simulation of a component
  with one input stream ``i`` and one output stream ``o``.

Cycle numbers reported by the helpers count clock edges awaited since the helper started;
helpers started by testbenches that begin together therefore share a time base.
"""
from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from amaranth import Module, Mux, Signal
from amaranth.hdl import ShapeLike, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator, SimulatorContext

__all__ = ["complex_layout", "SkidBuffer", "stream_put", "stream_get", "stream_send",
           "stream_recv", "run_stream_testbench"]


def complex_layout(bits: int) -> data.StructLayout:
    """Layout of one complex sample: two's-complement ``re`` and ``im`` of ``bits`` bits."""
    return data.StructLayout({"re": signed(bits), "im": signed(bits)})


class SkidBuffer(wiring.Component):
    """Two-entry stream buffer; ``i.ready`` depends on registers only.

    ``i.ready`` is true while at most one entry is held, so a producer that asserts
    ``valid`` in a cycle where ``i.ready`` was high always finds room; the consumer's
    ``o.ready`` only reaches the two entry registers.  Full throughput: with ``o.ready``
    held high a new payload passes every cycle, one cycle after it entered.

    Parameters
    ----------
    shape : ShapeLike
        Payload shape.
    ready_register : bool
        ``False``: ``i.ready`` is a LUT on the entry count.  ``True``: a flip-flop of its
        own, loaded with "at most one entry held" from the next count -- the same value
        every cycle, but no LUT between the register and its loads: the FFT uses it as the
        clock enable of every pipeline register, where a LUT adds a level to the net with
        the largest fanout of the design.

    Members
    -------
    i : ``In(stream.Signature(shape))``
        Input stream.
    o : ``Out(stream.Signature(shape))``
        Output stream, in input order.
    """

    def __init__(self, shape: ShapeLike, ready_register: bool = False) -> None:
        self._shape = shape
        self._ready_register = ready_register
        super().__init__({"i": In(stream.Signature(shape)), "o": Out(stream.Signature(shape))})

    def elaborate(self, platform) -> Module:
        m = Module()
        # payload registers need no reset (``count`` says which hold data): without one
        # the FPGA flip-flop's clock enable takes the load condition directly
        head = Signal(self._shape, reset_less=True)
        tail = Signal(self._shape, reset_less=True)
        count = Signal(range(3))
        push = self.i.valid & self.i.ready
        pop = self.o.valid & self.o.ready
        nxt = Signal(range(3))
        m.d.comb += [
            self.o.valid.eq(count != 0),
            self.o.payload.eq(head),
            nxt.eq(Mux(push & ~pop, count + 1, Mux(pop & ~push, count - 1, count))),
        ]
        m.d.sync += count.eq(nxt)
        if self._ready_register:
            ready = Signal(init=1)
            m.d.sync += ready.eq(nxt < 2)
            m.d.comb += self.i.ready.eq(ready)
        else:
            m.d.comb += self.i.ready.eq(count < 2)
        with m.If(push & pop):
            with m.If(count == 1):
                m.d.sync += head.eq(self.i.payload)
            with m.Else():
                m.d.sync += [head.eq(tail), tail.eq(self.i.payload)]
        with m.Elif(push):
            with m.If(count == 0):
                m.d.sync += head.eq(self.i.payload)
            with m.Else():
                m.d.sync += tail.eq(self.i.payload)
        with m.Elif(pop):
            m.d.sync += head.eq(tail)
        return m


async def stream_put(ctx: SimulatorContext, s: stream.Interface, payload: Any) -> None:
    """Offer ``payload`` on ``s`` until it is accepted (one transfer), then drop ``valid``."""
    ctx.set(s.valid, 1)
    ctx.set(s.payload, payload)
    await ctx.tick().until(s.ready)
    ctx.set(s.valid, 0)


async def stream_get(ctx: SimulatorContext, s: stream.Interface) -> Any:
    """Assert ``ready`` on ``s`` until one payload transfers; return it."""
    ctx.set(s.ready, 1)
    payload, = await ctx.tick().sample(s.payload).until(s.valid)
    ctx.set(s.ready, 0)
    return payload


async def stream_send(ctx: SimulatorContext, s: stream.Interface, payloads: Sequence[Any], *,
                      gap_prob: float = 0.0, rng: random.Random | None = None) -> list[int]:
    """Send every payload in order, inserting random idle cycles; return transfer cycles.

    Before each payload, with probability ``gap_prob`` per cycle, ``valid`` stays low for a
    cycle (a geometric number of gap cycles).  Returns, for every payload, the index of
    the clock edge (0-based, counted from this call) at which it transferred.
    """
    rng = rng or random.Random(0)
    cycle = 0
    cycles: list[int] = []
    for payload in payloads:
        while gap_prob and rng.random() < gap_prob:
            ctx.set(s.valid, 0)
            await ctx.tick()
            cycle += 1
        ctx.set(s.valid, 1)
        ctx.set(s.payload, payload)
        while True:
            *_, ready = await ctx.tick().sample(s.ready)
            cycle += 1
            if ready:
                break
        cycles.append(cycle - 1)
    ctx.set(s.valid, 0)
    return cycles


async def stream_recv(ctx: SimulatorContext, s: stream.Interface, count: int, *,
                      stall_prob: float = 0.0, rng: random.Random | None = None,
                      timeout: int = 1_000_000) -> tuple[list[Any], list[int]]:
    """Receive ``count`` payloads, holding ``ready`` low with probability ``stall_prob``.

    Returns ``(payloads, cycles)``: the payloads in arrival order and the 0-based index of
    the clock edge (counted from this call) at which each transferred.  Raises
    ``TimeoutError`` after ``timeout`` cycles without completing.
    """
    rng = rng or random.Random(1)
    payloads: list[Any] = []
    cycles: list[int] = []
    cycle = 0
    while len(payloads) < count:
        if cycle >= timeout:
            raise TimeoutError(f"received {len(payloads)} of {count} payloads in {timeout} cycles")
        ready = not (stall_prob and rng.random() < stall_prob)
        ctx.set(s.ready, int(ready))
        *_, valid, payload = await ctx.tick().sample(s.valid, s.payload)
        if ready and valid:
            payloads.append(payload)
            cycles.append(cycle)
        cycle += 1
    ctx.set(s.ready, 0)
    return payloads, cycles


def run_stream_testbench(dut: wiring.Component, beats: Sequence[Any], n_out: int, *,
                         gap_prob: float = 0.0, stall_prob: float = 0.0, seed: int = 0,
                         setup: Callable[[SimulatorContext], Awaitable[int]] | None = None,
                         finish: Callable[[SimulatorContext], Awaitable[None]] | None = None,
                         timeout: int = 200_000) -> tuple[list[Any], list[int], list[int]]:
    """Simulate ``dut``: send ``beats`` into ``dut.i``, collect ``n_out`` beats from ``dut.o``.

    The producer inserts random valid gaps (``gap_prob``, :func:`stream_send`, seeded with
    ``seed``) and the consumer random backpressure (``stall_prob``, :func:`stream_recv`,
    seeded with ``seed + 1``).  ``setup(ctx)``, if given, runs in the producer before the
    first beat (e.g. to load a table) and returns the number of clock edges it awaited;
    ``finish(ctx)``, if given, runs in the producer after the last beat (e.g. to sample a
    counter once the stream has drained).
    Returns ``(payloads, in_cycles, out_cycles)``: the output payloads in arrival order and
    the transfer cycles of every input and output beat, counted from the same first clock
    edge.  Raises ``TimeoutError`` if the outputs do not arrive within ``timeout`` cycles.
    """
    result: dict[str, Any] = {}

    async def producer(ctx: SimulatorContext) -> None:
        offset = 0 if setup is None else await setup(ctx)
        cycles = await stream_send(ctx, dut.i, beats, gap_prob=gap_prob, rng=random.Random(seed))
        result["in"] = [c + offset for c in cycles]
        if finish is not None:
            await finish(ctx)

    async def consumer(ctx: SimulatorContext) -> None:
        result["out"] = await stream_recv(ctx, dut.o, n_out, stall_prob=stall_prob,
                                          rng=random.Random(seed + 1), timeout=timeout)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    payloads, out_cycles = result["out"]
    return payloads, result["in"], out_cycles
