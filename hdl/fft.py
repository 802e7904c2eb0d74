"""Streaming radix-2^2 SDF FFT in Amaranth, bit-exact with :mod:`accel.fixed.fft`.

The stage sequence comes from :func:`accel.fixed.fft.fft_plan` and the arithmetic is the
model's, operation for operation; :func:`accel.fixed.fft.fft_latency` is this pipeline's
latency (measured by ``tests/hdl/test_fft.py``).

Flow control.  The whole pipeline advances on one enable, ``ce``, which is "the output
skid buffer has room" -- a register, so the consumer's ``ready`` never fans out to the
pipeline.  Every pipeline register carries a valid bit; when the input has no sample, a
*bubble* enters.  Each butterfly's delay line is a FIFO (not a fixed-length shift
register): a real sample in the first half of a block is pushed; in the second half it
pops its partner, emits the sum and pushes the difference; the differences are popped
and emitted by whatever comes next, real sample or bubble.  So input gaps never
misalign a block, and a finished transform drains through bubbles without waiting for
the next one.  Stages with short delays keep the FIFO in registers (pop and add in one
cycle, the difference staged in a register before it joins the queue), longer ones in
a memory with a synchronous read, an output register and a registered write, so no path
goes memory -> adder -> memory in one cycle; a last register rounds and saturates
(register stages: 2 cycles, 3 for ``bf2``, whose partner is rotated by ``-j`` in a
register of its own; memory stages: 4 cycles).

The twiddle multiplier registers the ROM read (``c`` and ``d``) and the pre-adders,
then the multiplier operands and ``s = c + d`` in fabric, the operands again at the
multiplier's input, its three products, the two sums, the rounded sums and the saturated
result (7 cycles).

Timing rules (each measured with nextpnr's critical-path report on ECP5): every
register-to-register path holds at most one carry chain, with at most one LUT before or
after it, and no multiplexer behind an adder where it can go in front of it or into a
register of its own; saturation checks sign bits; control flags that gate wide data
(``rot``, "any difference waiting") are register bits, not decoded counters; counters
that address LUT tables increment in LUTs (:func:`_increment`), since ABC otherwise
reuses a carry chain's sums inside the table.  Register delay lines stage their newest
item and keep a one-hot fill level (:meth:`_Butterfly._register_fifo`); memory delay
lines add and subtract straight from the memory's output register
(:meth:`_Butterfly._memory_fifo`).

Memories.  ``dsp="ecp5"`` instantiates a ``DP16KD`` with its output register
(``REGMODE = "OUTREG"``) for delay lines of at least ``ECP5_BRAM_MIN_DEPTH`` samples
and twiddle ROMs of ``ECP5_BRAM_ROM_MIN_DEPTH`` to 512 entries (:func:`registered_ram`,
:func:`registered_rom`): yosys never uses that register for an inferred block RAM, whose
5.8 ns clock-to-output limited n = 256 to about 120 MHz.  Otherwise delay lines of up to
``LUTRAM_MAX_DEPTH`` samples carry ``ram_style = "distributed"`` and twiddle ROMs of up
to ``LOGIC_ROM_MAX_DEPTH`` entries are multiplexer trees of constants; larger ones are
inferred block RAMs with a fabric register after the read register.  Data registers
have no reset (their valid bits do), so an FPGA flip-flop's clock enable takes ``ce``
directly instead of a LUT in front of every data input.

Multipliers.  ``dsp="generic"`` writes each product as ``*`` between two operand
registers and a product register; ``dsp="ecp5"`` instantiates a Lattice ``MULT18X18D``
per product with its input registers (``REG_INPUTA/B_CLK``) and output register
(``REG_OUTPUT_CLK``) enabled on ``CLK0``/``CE0``, so the register -> multiplier ->
register path stays inside the DSP block (yosys' ``synth_ecp5`` maps ``*`` to an
unregistered ``MULT18X18D`` and leaves the registers in fabric, which limited Fmax to
about 135 MHz).  Both choices (multipliers and memories) have the same latency and the
same arithmetic, so the Amaranth-simulated design is the synthesized one, cycle for
cycle; ``tests/hdl/test_tools.py`` runs the ``dsp="ecp5"`` netlist in Verilator with the
primitive models of ``hdl/models`` (:func:`hdl.tools.models.ecp5_models`).
"""
from __future__ import annotations

from amaranth import Cat, Const, Elaboratable, Instance, Module, Mux, ResetSignal, Signal, Value
from amaranth.hdl import ClockSignal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from accel.fixed.fft import (
    GUARD_BITS,
    MEMORY_DELAY_MIN,
    fft_plan,
    twiddle_exponents,
    twiddle_table,
)

from .stream import SkidBuffer, complex_layout

__all__ = ["FFT", "DSP_KINDS", "LUTRAM_MAX_DEPTH", "ECP5_BRAM_MIN_DEPTH", "LOGIC_ROM_MAX_DEPTH",
           "ECP5_BRAM_ROM_MIN_DEPTH", "registered_multiply", "registered_ram", "registered_rom"]

LUTRAM_MAX_DEPTH = 128
"""Longest butterfly delay line kept in LUT RAM (synthesis hint for ``dsp="generic"``);
longer ones in block RAM."""
ECP5_BRAM_MIN_DEPTH = 64
"""With ``dsp="ecp5"``, delay lines of at least this many samples are ``DP16KD`` block RAMs
with their output register (:func:`registered_ram`); shorter ones LUT RAM."""
ECP5_BRAM_ROM_MIN_DEPTH = 128
"""With ``dsp="ecp5"``, twiddle ROMs of at least this many entries (and at most 512) are
``DP16KD`` block RAMs with their output register (:func:`registered_rom`)."""
LOGIC_ROM_MAX_DEPTH = 256
"""Largest twiddle ROM built from LUTs (synthesis hint); larger ones in block RAM."""

DSP_KINDS = ("generic", "ecp5")
"""Multiplier implementations (see the module docstring)."""


def _saturated(v: Value, bits: int) -> Value:
    """``v`` clamped to the signed range of ``bits`` bits (the model's ``saturate``).

    Overflow is detected from the sign-extension bits, not with comparators, so it costs
    LUTs but no carry chain.
    """
    v = Value.cast(v)
    if v.shape().width <= bits:
        return v
    top = v[bits - 1:]
    fits = (top == 0) | (top == (1 << top.shape().width) - 1)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return Mux(fits, v[:bits].as_signed(), Mux(v[-1], lo, hi))


def _half_up(v: Value, shift: int) -> Value:
    """``round_shift(v, shift)``: add half an LSB, arithmetic shift right.

    Written as ``((v >> (shift-1)) + 1) >> 1`` so the adder spans only the kept bits.
    """
    return ((v >> (shift - 1)) + 1) >> 1


def registered_multiply(m: Module, ce: Value, a: Value, b: Value, dsp: str, name: str) -> Signal:
    """Signed ``a * b`` with a register on both operands and on the product.

    The product appears two enabled clock edges (``ce``) after the operands.  With
    ``dsp="ecp5"`` the three registers are those of one ``MULT18X18D`` (operands of at
    most 18 bits each, sign-extended); with ``"generic"`` they are fabric registers
    around a ``*`` (simulation, other targets).
    """
    a, b = Value.cast(a), Value.cast(b)
    width = a.shape().width + b.shape().width
    product = Signal(signed(width), name=f"{name}_p", reset_less=True)
    if dsp == "generic":
        ra = Signal(a.shape(), name=f"{name}_a", reset_less=True)
        rb = Signal(b.shape(), name=f"{name}_b", reset_less=True)
        with m.If(ce):
            m.d.sync += [ra.eq(a), rb.eq(b), product.eq(ra * rb)]
        return product
    if dsp != "ecp5":
        raise ValueError(f"dsp: expected one of {DSP_KINDS}, got {dsp!r}")
    if a.shape().width > 18 or b.shape().width > 18:
        raise ValueError(f"dsp='ecp5': operands of {a.shape().width} and {b.shape().width} "
                         "bits do not fit one MULT18X18D (18 x 18)")
    a18 = Signal(signed(18), name=f"{name}_a18")
    b18 = Signal(signed(18), name=f"{name}_b18")
    p36 = Signal(signed(36), name=f"{name}_p36")
    m.d.comb += [a18.eq(a), b18.eq(b), product.eq(p36)]
    ports = {f"i_A{k}": a18[k] for k in range(18)}
    ports.update({f"i_B{k}": b18[k] for k in range(18)})
    ports.update({f"i_C{k}": 0 for k in range(18)})
    ports.update({f"o_P{k}": p36[k] for k in range(36)})
    m.submodules[name] = Instance(
        "MULT18X18D",
        p_REG_INPUTA_CLK="CLK0", p_REG_INPUTA_CE="CE0", p_REG_INPUTA_RST="RST0",
        p_REG_INPUTB_CLK="CLK0", p_REG_INPUTB_CE="CE0", p_REG_INPUTB_RST="RST0",
        p_REG_INPUTC_CLK="NONE", p_REG_PIPELINE_CLK="NONE",
        p_REG_OUTPUT_CLK="CLK0", p_REG_OUTPUT_CE="CE0", p_REG_OUTPUT_RST="RST0",
        p_GSR="DISABLED", p_RESETMODE="SYNC", p_MULT_BYPASS="DISABLED",
        i_SIGNEDA=1, i_SIGNEDB=1, i_SOURCEA=0, i_SOURCEB=0,
        i_CLK0=ClockSignal("sync"), i_CLK1=0, i_CLK2=0, i_CLK3=0,
        i_CE0=ce, i_CE1=0, i_CE2=0, i_CE3=0,
        i_RST0=ResetSignal("sync"), i_RST1=0, i_RST2=0, i_RST3=0,
        **ports)
    return product


def registered_ram(m: Module, ce: Value, width: int, depth: int, waddr: Value, wdata: Value,
                   we: Value, raddr: Value, dsp: str, name: str,
                   attrs: dict | None = None) -> Value:
    """Simple dual-port RAM whose read data passes two registers: ``q`` after an enabled
    clock edge (``ce``) is ``mem[raddr]`` as addressed at the enabled edge before.

    The write (``we``, at an edge where ``ce`` also holds) lands at that edge.  A read of
    the address being written at the same edge returns undefined data, which the caller
    must not use (the ECP5 model in ``hdl/models/DP16KD.v`` returns the stored word inverted, so
    a test notices if it is used).  With
    ``dsp="ecp5"`` this is one ``DP16KD`` in its 512 x 36 pseudo-dual-port mode with the
    output register (``REGMODE = "OUTREG"``, ``OCEB = ce``), so the 5.8 ns array
    clock-to-output never reaches fabric logic; otherwise an Amaranth ``Memory`` with a
    synchronous read port and a fabric register (``attrs`` go on the memory).
    """
    data_ = Signal(width, name=f"{name}_q", reset_less=True)
    if dsp != "ecp5":
        mem = Memory(shape=width, depth=depth, init=[], attrs=attrs or {})
        m.submodules[name] = mem
        wp = mem.write_port()
        rp = mem.read_port(domain="sync")
        m.d.comb += [wp.addr.eq(waddr), wp.data.eq(wdata), wp.en.eq(ce & we),
                     rp.addr.eq(raddr), rp.en.eq(ce)]
        with m.If(ce):
            m.d.sync += data_.eq(rp.data)
        return data_
    if width > 36 or depth > 512:
        raise ValueError(f"dsp='ecp5': a {depth} x {width} RAM does not fit one DP16KD (512 x 36)")
    wa = Signal(9, name=f"{name}_wa")
    di = Signal(36, name=f"{name}_di")
    wen = Signal(name=f"{name}_we")
    m.d.comb += [wa.eq(waddr), di.eq(wdata), wen.eq(ce & we)]
    do = _dp16kd(m, name, ce, raddr, write=(wen, wa, di))
    m.d.comb += data_.eq(do[:width])
    return data_


def registered_rom(m: Module, ce: Value, width: int, words: list[int], addr_next: Value,
                   dsp: str, name: str) -> Value:
    """ROM read through two registers, addressed by the *next* value of an address
    register that advances at enabled edges (``ce``): after each enabled edge ``q`` holds
    ``words[addr]``, ``addr`` being the value ``addr_next`` had at the edge before.  So
    ``q`` behaves as a register loading ``words[addr]`` at every enabled edge.

    ``dsp="ecp5"``: one ``DP16KD`` (512 x 36, ``INITVAL`` rows in the layout yosys
    writes for its own 36-bit block RAMs: 18-bit halves, low half first, 16 per row in
    20-bit slots) with its output register; the address register is the block RAM's
    own.  Otherwise an Amaranth ``Memory`` with a synchronous read port and a fabric
    register.
    """
    depth = len(words)
    q = Signal(width, name=f"{name}_q", reset_less=True)
    if dsp != "ecp5":
        mem = Memory(shape=width, depth=depth, init=words)
        m.submodules[name] = mem
        rp = mem.read_port(domain="sync")
        m.d.comb += [rp.addr.eq(addr_next), rp.en.eq(ce)]
        with m.If(ce):
            m.d.sync += q.eq(rp.data)
        return q
    if width > 36 or depth > 512:
        raise ValueError(f"dsp='ecp5': a {depth} x {width} ROM does not fit one DP16KD (512 x 36)")
    units = []
    for word in words:
        units += [word & 0x3FFFF, (word >> 18) & 0x3FFFF]
    units += [0] * (1024 - len(units))
    init = {}
    for row in range(64):
        v = 0
        for i in range(16):
            v |= units[16 * row + i] << (20 * i)
        if v:
            init[f"p_INITVAL_{row:02X}"] = Const(v, 320)
    do = _dp16kd(m, name, ce, addr_next, init=init)
    m.d.comb += q.eq(do[:width])
    return q


def _dp16kd(m: Module, name: str, ce: Value, raddr: Value, write: tuple | None = None,
            init: dict | None = None) -> Signal:
    """One ``DP16KD`` in 512 x 36 pseudo-dual-port mode with output registers: port B
    reads ``raddr`` (clock and output enables ``ce``), port A writes ``write = (enable,
    address, data)`` or is idle (a ROM, ``init`` its ``p_INITVAL_xx`` parameters).
    Returns the 36-bit registered read data."""
    ra = Signal(9, name=f"{name}_ra")
    do = Signal(36, name=f"{name}_do")
    m.d.comb += ra.eq(raddr)
    wen, wa, di = write if write is not None else (0, None, None)
    ports = {}
    for k in range(18):
        ports[f"i_DIA{k}"] = di[k] if write is not None else 0
        ports[f"i_DIB{k}"] = di[18 + k] if write is not None else 0
        ports[f"o_DOA{k}"] = do[k]
        ports[f"o_DOB{k}"] = do[18 + k]
    # 36-bit mode: ADA0-3 are the byte write enables, ADx5-13 the word address
    for k in range(14):
        ports[f"i_ADA{k}"] = wen if k < 4 else (0 if k == 4 or write is None else wa[k - 5])
        ports[f"i_ADB{k}"] = 0 if k < 5 else ra[k - 5]
    for k in range(3):
        ports[f"i_CSA{k}"] = 0
        ports[f"i_CSB{k}"] = 0
    m.submodules[name] = Instance(
        "DP16KD",
        p_DATA_WIDTH_A=36, p_DATA_WIDTH_B=36, p_REGMODE_A="OUTREG", p_REGMODE_B="OUTREG",
        p_RESETMODE="SYNC", p_ASYNC_RESET_RELEASE="SYNC", p_CSDECODE_A="0b000",
        p_CSDECODE_B="0b000", p_WRITEMODE_A="NORMAL", p_WRITEMODE_B="NORMAL",
        p_GSR="DISABLED", **(init or {}),
        i_CLKA=ClockSignal("sync"), i_CEA=ce if write is not None else 0, i_OCEA=ce,
        i_WEA=1 if write is not None else 0, i_RSTA=0,
        i_CLKB=ClockSignal("sync"), i_CEB=ce, i_OCEB=ce, i_WEB=0, i_RSTB=0,
        **ports)
    return do


def _increment(v: Value) -> Value:
    """``v + 1`` (wrapping) written bit by bit (``v[k] ^ all(v[:k])``) so yosys maps it to
    LUTs instead of a carry chain: a carry chain's sum outputs are functions of the
    counter that ABC otherwise reuses inside a LUT table addressed by the counter, which
    puts the chain in front of the table."""
    v = Value.cast(v)
    return Cat(*[v[k] ^ v[:k].all() if k else ~v[0] for k in range(v.shape().width)])


def _logic_rom(values: list[int], width: int, addr: Value) -> Value:
    """``values[addr]`` as a tree of 2:1 multiplexers on constants (one level per address
    bit, equal subtrees shared).  Unlike a ``Memory`` with ``rom_style = "logic"``, yosys
    cannot merge the address register into a read port and move the address incrementer
    in front of the table."""
    cache: dict[tuple[int, ...], Value] = {}

    def tree(vs: tuple[int, ...], bit: int) -> Value:
        if len(set(vs)) == 1:
            return Const(vs[0], width)
        if vs not in cache:
            h = len(vs) // 2
            cache[vs] = Mux(addr[bit], tree(vs[h:], bit - 1), tree(vs[:h], bit - 1))
        return cache[vs]

    return tree(tuple(values), len(values).bit_length() - 2)


class _Token:
    """A pipeline slot: valid bit and a complex value of ``bits`` bits."""

    def __init__(self, bits: int, name: str) -> None:
        self.valid = Signal(name=f"{name}_valid")
        self.re = Signal(signed(bits), name=f"{name}_re", reset_less=True)
        self.im = Signal(signed(bits), name=f"{name}_im", reset_less=True)


class _Butterfly(Elaboratable):
    """One SDF butterfly stage (``bf1`` or ``bf2``) on ``bits``-bit samples.

    ``ce`` advances the stage; ``inp`` is the token entering, ``out`` the registered token
    leaving (``butterfly_latency(delay, kind)`` cycles later).  The delay line holds
    first-half samples and *unrounded* differences (``bits + 1`` wide); sums and
    differences are rounded and saturated in a last register stage, so no path chains two
    carry chains.  In ``bf2`` the ``-j`` rotation of a second-quarter sample is applied in
    a register before the adders (``-j x = x.im - j x.re``: a swap and ``~x.re + 1``, the
    multiplexer in front of the carry chain), so the adders see plain operands.  With
    ``dsp="ecp5"`` a memory delay line of at least ``ECP5_BRAM_MIN_DEPTH`` samples is a
    ``DP16KD`` (same latency).
    """

    def __init__(self, kind: str, delay: int, bits: int, name: str, dsp: str = "generic") -> None:
        self.kind, self.delay, self.bits, self.dsp = kind, delay, bits, dsp
        self.ce = Signal()
        self.inp = _Token(bits, f"{name}_in")
        self.out = _Token(bits, f"{name}_out")

    def _period(self) -> int:
        return 2 * self.delay if self.kind == "bf1" else 4 * self.delay

    def _rotated(self, m: Module, x: _Token) -> tuple[Value, Value]:
        """``x``, or ``-j x`` when ``x`` is the partner (second half of its pair block) in
        the second half of a ``bf2`` block, at ``bits + 1`` bits.  Tracks ``x``'s block
        position with its own counter (advancing on valid ``x``)."""
        D = self.delay
        if self.kind == "bf1":
            return x.re, x.im
        cnt = Signal(range(self._period()), name="rot_cnt")
        nxt = Signal.like(cnt, name="rot_cnt_next")
        rot = Signal(name="rot")           # registered: x is in the last quarter
        m.d.comb += nxt.eq(cnt + 1)        # the period is a power of two: wraps
        with m.If(self.ce & x.valid):
            m.d.sync += [cnt.eq(nxt), rot.eq(nxt[D.bit_length() - 1] & nxt[D.bit_length()])]
        # -x.re = ~x.re + 1: the multiplexer sits in front of the adder (whose carry input
        # takes ``rot``), not behind it
        return Mux(rot, x.im, x.re), Mux(rot, ~x.re, x.im) + rot

    def elaborate(self, platform) -> Module:
        m = Module()
        D, w = self.delay, self.bits
        period = self._period()
        ce, x = self.ce, self.inp
        if D < MEMORY_DELAY_MIN and self.kind == "bf2":
            # register the rotated operand: one more cycle (butterfly_latency)
            b_re, b_im = self._rotated(m, x)
            xr = _Token(w + 1, "rot")
            with m.If(ce):
                m.d.sync += [xr.valid.eq(x.valid), xr.re.eq(b_re), xr.im.eq(b_im)]
            x = xr
        cnt = Signal(range(period))        # real samples seen, modulo the block period
        # differences waiting in the FIFO, minus one: "any waiting" is its sign bit
        pend_m1 = Signal(range(-1, D), init=-1)
        second = cnt[D.bit_length() - 1]   # second half of a 2*D pair block

        bfly = x.valid & second
        push_x = x.valid & ~second
        pop_diff = ~second & ~pend_m1[-1]
        with m.If(ce):
            with m.If(x.valid):
                m.d.sync += cnt.eq(cnt + 1)  # the period is a power of two: wraps
            m.d.sync += pend_m1.eq(pend_m1 + bfly - pop_diff)

        raw = _Token(w + 1, "raw")         # unrounded stage result
        if D < MEMORY_DELAY_MIN:
            self._register_fifo(m, x, second, bfly, push_x, pop_diff, raw)
        else:
            self._memory_fifo(m, bfly, push_x, pop_diff, raw)
        with m.If(ce):
            m.d.sync += [
                self.out.valid.eq(raw.valid),
                self.out.re.eq(_saturated(_half_up(raw.re, 1), w)),
                self.out.im.eq(_saturated(_half_up(raw.im, 1), w)),
            ]
        return m

    def _register_fifo(self, m, x, second, bfly, push_x, pop_diff, raw) -> None:
        """Delay line in registers: pop and add in one cycle, no arithmetic on the way in.

        The newest item waits in a staging register ``S`` (a first-half sample in
        ``s_x``, a difference in ``s_d``, which holds ``a - x`` straight from its carry
        chain); it moves into the queue ``q`` when the next item arrives, unless popped
        first.  So a queue register loads ``S`` or its neighbour (a multiplexer of
        registers), never an adder's output.  ``q`` holds the older items (at most
        ``delay - 1``); its fill level is one-hot (``occ[k]``: ``k`` entries), so a write
        position is a 2:1 choice of two of its bits.  The butterfly partner is ``q[0]``
        (``delay >= 2``: younger items always follow it) or ``S`` (``delay == 1``: there
        is never more than one item, and ``q`` is empty)."""
        D, w, ce = self.delay, self.bits, self.ce

        def pair(name):
            return (Signal(signed(w + 1), name=f"{name}_re", reset_less=True),
                    Signal(signed(w + 1), name=f"{name}_im", reset_less=True))

        sv, s_isdiff = Signal(), Signal()
        s_x, s_d = pair("s_x"), pair("s_d")
        q = [pair(f"q{i}") for i in range(D - 1)]
        pop = bfly | pop_diff
        push = x.valid                     # = bfly | push_x
        if q:
            occ = Signal(D, init=1)
            q_empty = occ[0]
            pop_q = pop & ~q_empty
            pop_s = pop & q_empty
            push_q = push & sv & ~pop_s
            a = q[0]
            # the head: a butterfly partner is always in q, a difference may wait in S
            head = [Mux(q_empty, s_d[k], q[0][k]) for k in range(2)]
        else:
            pop_s, a = pop, s_x
            head = [Mux(second, s_x[k], s_d[k]) for k in range(2)]
        s_val = [Mux(s_isdiff, s_d[k], s_x[k]) for k in range(2)]
        with m.If(ce):
            with m.If(push):
                m.d.sync += [sv.eq(1), s_isdiff.eq(bfly)]
                with m.If(bfly):
                    m.d.sync += [s_d[0].eq(a[0] - x.re), s_d[1].eq(a[1] - x.im)]
                with m.Else():
                    m.d.sync += [s_x[0].eq(x.re), s_x[1].eq(x.im)]
            with m.Elif(pop_s):
                m.d.sync += sv.eq(0)
            if q:
                with m.If(push_q & ~pop_q):
                    m.d.sync += occ.eq(occ << 1)
                with m.Elif(pop_q & ~push_q):
                    m.d.sync += occ.eq(occ >> 1)
                for i, r in enumerate(q):
                    with m.If(push_q & Mux(pop_q, occ[i + 1], occ[i])):
                        m.d.sync += [r[0].eq(s_val[0]), r[1].eq(s_val[1])]
                    if i + 1 < len(q):
                        with m.Elif(pop_q):
                            m.d.sync += [r[0].eq(q[i + 1][0]), r[1].eq(q[i + 1][1])]
            # raw = a + x (bfly) or the popped difference + 0: both operands are
            # multiplexers of registers selected by register bits (in the second half
            # without a valid x nothing pops and raw is not used), so the adder feeds
            # its register directly
            m.d.sync += [
                raw.valid.eq(pop),
                raw.re.eq(head[0] + Mux(second, x.re, 0)),
                raw.im.eq(head[1] + Mux(second, x.im, 0)),
            ]

    def _memory_fifo(self, m, bfly, push_x, pop_diff, raw) -> None:
        """Delay line in a memory: read issued in cycle A, read data registered twice (R:
        the memory's read register, then an output register -- a ``DP16KD``'s own with
        ``dsp="ecp5"`` for long lines, a fabric one otherwise), used in B, written in C.
        Stage B only adds and subtracts (the partner enters the sum already gated to 0
        where the stage passes a difference through), so the memory's output meets one
        carry chain and no multiplexer.
        Needs ``delay >= 3`` (a sample or difference is read at the earliest ``delay``
        pushes after its push; the write lands 3 steps after it).  The partner's ``-j``
        rotation (``bf2``) is applied in stage R."""
        D, w, ce = self.delay, self.bits, self.ce
        x_re, x_im = self._rotated(m, self.inp)
        layout = complex_layout(w + 1)
        rd = Signal(range(D))
        wr = Signal(range(D))
        pop = bfly | pop_diff
        # stage R registers: the token, one cycle later
        r_bfly, r_diff, r_push = Signal(), Signal(), Signal()
        rx_re = Signal(signed(w + 1), reset_less=True)
        rx_im = Signal(signed(w + 1), reset_less=True)
        # stage B registers (bg: the partner where the stage adds it, else 0)
        b_bfly, b_diff, b_push = Signal(), Signal(), Signal()
        bx_re = Signal(signed(w + 1), reset_less=True)
        bx_im = Signal(signed(w + 1), reset_less=True)
        bg_re = Signal(signed(w + 1), reset_less=True)
        bg_im = Signal(signed(w + 1), reset_less=True)
        # stage C registers (the write: the difference or the sample, chosen at the
        # memory's input so that no multiplexer follows the subtractor)
        c_we, c_sel = Signal(), Signal()
        c_diff = Signal(layout, reset_less=True)
        c_x = Signal(layout, reset_less=True)
        c_data = Signal(layout)
        m.d.comb += c_data.eq(Mux(c_sel, c_diff, c_x))
        use_bram = self.dsp == "ecp5" and D >= ECP5_BRAM_MIN_DEPTH
        q = registered_ram(
            m, ce, layout.size, D, wr, c_data.as_value(), c_we, rd,
            "ecp5" if use_bram else "generic", "mem",
            attrs={"ram_style": "distributed" if D <= LUTRAM_MAX_DEPTH else "block"})
        front = layout(q)
        with m.If(ce):
            with m.If(pop):
                m.d.sync += rd.eq(rd + 1)
            with m.If(c_we):
                m.d.sync += wr.eq(wr + 1)
            m.d.sync += [
                r_bfly.eq(bfly), r_diff.eq(pop_diff), r_push.eq(push_x),
                rx_re.eq(x_re), rx_im.eq(x_im),
                b_bfly.eq(r_bfly), b_diff.eq(r_diff), b_push.eq(r_push),
                bx_re.eq(rx_re), bx_im.eq(rx_im),
                bg_re.eq(Mux(r_bfly, rx_re, 0)), bg_im.eq(Mux(r_bfly, rx_im, 0)),
                c_we.eq(b_bfly | b_push), c_sel.eq(b_bfly),
                c_diff.re.eq(front.re - bx_re), c_diff.im.eq(front.im - bx_im),
                c_x.re.eq(bx_re), c_x.im.eq(bx_im),
                raw.valid.eq(b_bfly | b_diff),
                raw.re.eq(front.re + bg_re),
                raw.im.eq(front.im + bg_im),
            ]


class _Twiddle(Elaboratable):
    """Complex multiply by the twiddle of each position of an ``size``-sample block."""

    def __init__(self, size: int, bits: int, twiddle_bits: int, name: str, dsp: str) -> None:
        self.size, self.bits, self.tw, self.dsp = size, bits, twiddle_bits, dsp
        self.ce = Signal()
        self.inp = _Token(bits, f"{name}_in")
        self.out = _Token(bits, f"{name}_out")

    def elaborate(self, platform) -> Module:
        m = Module()
        M, w, T = self.size, self.bits, self.tw
        c, d, s = twiddle_table(M, T)
        e = twiddle_exponents(M)
        # the ROM holds c and d (36 bits for 18-bit twiddles: one DP16KD word); the
        # multiplier's c + d is added in stage 2
        layout = data.StructLayout({"c": signed(T), "d": signed(T)})
        pos = Signal(range(M))
        pos1 = Signal(range(M), init=1)    # pos + 1 (mod M), so pos_next is one multiplexer
        pos_next = Signal.like(pos)
        m.d.comb += pos_next.eq(Mux(self.inp.valid, pos1, pos))
        words = [layout.const({"c": int(c[k]), "d": int(d[k])}).as_value().value for k in e]
        bram = self.dsp == "ecp5" and ECP5_BRAM_ROM_MIN_DEPTH <= M <= 512
        if bram or M > LOGIC_ROM_MAX_DEPTH:
            # a block RAM whose address register is ``pos`` itself (it loads pos_next at
            # every enabled edge) and whose output register is tw1
            tw1 = layout(registered_rom(m, self.ce, layout.size, words, pos_next,
                                        "ecp5" if bram else "generic", "rom"))
        else:
            tw1 = Signal(layout, reset_less=True)  # the ROM's read register
            with m.If(self.ce):
                m.d.sync += tw1.eq(_logic_rom(words, layout.size, pos))
        ce, x, out = self.ce, self.inp, self.out
        v = [Signal(name=f"v{k}") for k in range(1, 7)]
        a1 = Signal(signed(w), reset_less=True)
        bma1 = Signal(signed(w + 1), reset_less=True)
        apb1 = Signal(signed(w + 1), reset_less=True)
        a2 = Signal(signed(w), reset_less=True)
        bma2 = Signal(signed(w + 1), reset_less=True)
        apb2 = Signal(signed(w + 1), reset_less=True)
        tw2 = Signal(data.StructLayout({"c": signed(T), "d": signed(T), "s": signed(T)}),
                     reset_less=True)
        re5 = Signal(signed(w + T + 2), reset_less=True)
        im5 = Signal(signed(w + T + 2), reset_less=True)
        shift = T - 2
        re6 = Signal(signed(w + T + 2 - shift), reset_less=True)
        im6 = Signal(signed(w + T + 2 - shift), reset_less=True)
        # 3: multiplier input registers, 4: product registers
        p1 = registered_multiply(m, ce, a2, tw2.s, self.dsp, "k1")
        p2 = registered_multiply(m, ce, tw2.c, bma2, self.dsp, "k2")
        p3 = registered_multiply(m, ce, tw2.d, apb2, self.dsp, "k3")
        with m.If(ce):
            m.d.sync += pos.eq(pos_next)
            with m.If(x.valid):
                m.d.sync += pos1.eq(_increment(pos1))
            m.d.sync += [
                # 1: ROM read (memory output register), pre-adders
                v[0].eq(x.valid), a1.eq(x.re), bma1.eq(x.im - x.re), apb1.eq(x.re + x.im),
                # 2: multiplier operands in fabric registers, c + d (the ROM may be a block
                # RAM, whose output should not feed a multiplier directly)
                v[1].eq(v[0]), a2.eq(a1), bma2.eq(bma1), apb2.eq(apb1),
                tw2.c.eq(tw1.c), tw2.d.eq(tw1.d), tw2.s.eq(tw1.c + tw1.d),
                v[2].eq(v[1]), v[3].eq(v[2]),
                # 5: sums; 6: round (a carry chain); 7: saturate (sign-bit check, mux)
                v[4].eq(v[3]), re5.eq(p1 - p3), im5.eq(p1 + p2),
                v[5].eq(v[4]), re6.eq(_half_up(re5, shift)), im6.eq(_half_up(im5, shift)),
                out.valid.eq(v[5]),
                out.re.eq(_saturated(re6, w)),
                out.im.eq(_saturated(im6, w)),
            ]
        return m


class FFT(wiring.Component):
    """Streaming radix-2^2 SDF FFT: one complex sample per cycle, bit-reversed output.

    Computes :func:`accel.fixed.fft.fft_mantissas` on consecutive blocks of ``n`` input
    samples, bit for bit, and emits each transform in the pipeline's (bit-reversed) order.
    Input gaps (``i.valid`` low) and output backpressure (``o.ready`` low) are allowed at
    any time.  Saturation happens as in the model; the RTL does not count it.

    Parameters
    ----------
    n : int
        Transform size, a power of two from 4 to 1024.
    data_bits : int
        Width of the input and output mantissas.
    twiddle_bits : int
        Width of the twiddle mantissas (scale ``2**(twiddle_bits-2)``).
    guard_bits : int
        Extra internal bits (the model's ``guard_bits``).
    inverse : bool
        Build the inverse transform (``ifft``; re/im swapped at input and output).
    dsp : str
        Multiplier implementation, ``"generic"`` (``*``; simulation and any target) or
        ``"ecp5"`` (registered ``MULT18X18D`` instances; needs ``data_bits + guard_bits
        + 1 <= 18`` and ``twiddle_bits <= 18``).  Same latency either way.

    Members
    -------
    i : ``In(stream.Signature(complex_layout(data_bits)))``
        Input samples, ``n`` per transform, in natural order.
    o : ``Out(stream.Signature(complex_layout(data_bits)))``
        Output bins, ``n`` per transform, in bit-reversed order.
    """

    def __init__(self, n: int, *, data_bits: int = 16, twiddle_bits: int = 18,
                 guard_bits: int = GUARD_BITS, inverse: bool = False,
                 dsp: str = "generic") -> None:
        error = None
        if dsp not in DSP_KINDS:
            error = f"dsp: expected one of {DSP_KINDS}, got {dsp!r}"
        elif dsp == "ecp5" and (data_bits + guard_bits + 1 > 18 or twiddle_bits > 18):
            error = ("dsp='ecp5' needs data_bits + guard_bits + 1 <= 18 and twiddle_bits <= 18 "
                     f"(one MULT18X18D per product), got {data_bits}, {guard_bits}, {twiddle_bits}")
        if error is not None:
            self._MustUse__silence = True  # never elaborated: no "unused" warning
            raise ValueError(error)
        self.dsp = dsp
        self.plan = fft_plan(n)
        self.n, self.data_bits, self.twiddle_bits = n, data_bits, twiddle_bits
        self.guard_bits, self.inverse = guard_bits, inverse
        layout = complex_layout(data_bits)
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(layout))})

    def elaborate(self, platform) -> Module:
        m = Module()
        B, g = self.data_bits, self.guard_bits
        w = B + g
        m.submodules.skid = skid = SkidBuffer(complex_layout(B), ready_register=True)
        ce = Signal()
        m.d.comb += ce.eq(skid.i.ready)

        tok = _Token(w, "input")
        in_re, in_im = self.i.payload.re, self.i.payload.im
        if self.inverse:
            in_re, in_im = in_im, in_re
        m.d.comb += self.i.ready.eq(ce)
        with m.If(ce):
            m.d.sync += [tok.valid.eq(self.i.valid),
                         tok.re.eq(in_re << g), tok.im.eq(in_im << g)]

        for idx, st in enumerate(self.plan):
            name = f"s{idx}_{st.kind}"
            if st.kind == "twiddle":
                unit = _Twiddle(st.m, w, self.twiddle_bits, name, self.dsp)
            else:
                unit = _Butterfly(st.kind, st.delay, w, name, self.dsp)
            m.submodules[name] = unit
            m.d.comb += [unit.ce.eq(ce), unit.inp.valid.eq(tok.valid),
                         unit.inp.re.eq(tok.re), unit.inp.im.eq(tok.im)]
            tok = unit.out

        res = Signal(complex_layout(B), reset_less=True)
        res_valid = Signal()
        out_re = _saturated(_half_up(tok.re, g), B) if g else tok.re
        out_im = _saturated(_half_up(tok.im, g), B) if g else tok.im
        if self.inverse:
            out_re, out_im = out_im, out_re
        with m.If(ce):
            m.d.sync += [res_valid.eq(tok.valid), res.re.eq(out_re), res.im.eq(out_im)]
        m.d.comb += [skid.i.valid.eq(res_valid), skid.i.payload.eq(res)]
        wiring.connect(m, skid.o, wiring.flipped(self.o))
        return m
