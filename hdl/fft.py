"""Streaming radix-2^2 SDF FFT in Amaranth, bit-exact with :mod:`accel.fixed.fft`.

The stage sequence comes from :func:`accel.fixed.fft.fft_plan` and the arithmetic is the
model's, operation for operation; :func:`accel.fixed.fft.fft_latency` is this pipeline's
latency (measured by ``tests/test_hdl_fft.py``).

Flow control.  The whole pipeline advances on one enable, ``ce``, which is "the output
skid buffer has room" -- a register, so the consumer's ``ready`` never fans out to the
pipeline.  Every pipeline register carries a valid bit; when the input has no sample, a
*bubble* enters.  Each butterfly's delay line is a FIFO (not a fixed-length shift
register): a real sample in the first half of a block is pushed; in the second half it
pops its partner, emits the sum and pushes the difference; the differences are popped
and emitted by whatever comes next, real sample or bubble.  So input gaps never
misalign a block, and a finished transform drains through bubbles without waiting for
the next one.  Stages with short delays keep the FIFO in registers (pop, add and push
in one cycle), longer ones in a memory with a synchronous read and a registered write,
so no path goes memory -> adder -> memory in one cycle; a last register rounds and
saturates (register stages: 2 cycles, 3 for ``bf2``, whose partner is rotated by ``-j``
in a register of its own; memory stages add a register on the read data: 4 cycles).

The twiddle multiplier registers the ROM read and the pre-adders, then the multiplier
operands in fabric, the operands again at the multiplier's input, its three products,
the two sums, the rounded sums and the saturated result (7 cycles).  Every
register-to-register path holds at most one carry chain; saturation checks sign bits.
Memories: delay lines of up to ``LUTRAM_MAX_DEPTH`` samples and twiddle ROMs of up to
``LOGIC_ROM_MAX_DEPTH`` entries carry ``ram_style = "distributed"`` / ``rom_style =
"logic"``: on ECP5 an inferred block RAM has no output register (yosys does not use
``REGMODE = "OUTREG"``) and its 5.8 ns clock-to-output alone limited n = 256 to about
120 MHz; LUT RAM and LUT ROMs read in about half that.  Data registers have no reset (their valid bits do), so an FPGA flip-flop's clock enable
takes ``ce`` directly instead of a LUT in front of every data input.

Multipliers.  ``dsp="generic"`` writes each product as ``*`` between two operand
registers and a product register; ``dsp="ecp5"`` instantiates a Lattice ``MULT18X18D``
per product with its input registers (``REG_INPUTA/B_CLK``) and output register
(``REG_OUTPUT_CLK``) enabled on ``CLK0``/``CE0``, so the register -> multiplier ->
register path stays inside the DSP block (yosys' ``synth_ecp5`` maps ``*`` to an
unregistered ``MULT18X18D`` and leaves the registers in fabric, which limited Fmax to
about 135 MHz).  Both choices have the same latency and the same arithmetic, so the
Amaranth-simulated design is the synthesized one, cycle for cycle.
"""
from __future__ import annotations

from amaranth import Elaboratable, Instance, Module, Mux, ResetSignal, Signal, Value
from amaranth.hdl import ClockSignal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from accel.fixed.fft import (
    GUARD_BITS, MEMORY_DELAY_MIN, fft_plan, twiddle_exponents,
    twiddle_table,
)

from .stream import SkidBuffer, complex_layout

__all__ = ["FFT", "DSP_KINDS", "LUTRAM_MAX_DEPTH", "LOGIC_ROM_MAX_DEPTH", "registered_multiply"]

LUTRAM_MAX_DEPTH = 128
"""Longest butterfly delay line kept in LUT RAM (synthesis hint); longer ones in block RAM."""
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
    a register before the adders (``-j x = x.im - j x.re``: a swap and a negation, one
    carry chain), so the adders see plain operands and no multiplexer sits between a
    register and a carry chain or between two of them.
    """

    def __init__(self, kind: str, delay: int, bits: int, name: str) -> None:
        self.kind, self.delay, self.bits = kind, delay, bits
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
        with m.If(self.ce & x.valid):
            m.d.sync += cnt.eq(Mux(cnt == self._period() - 1, 0, cnt + 1))
        rot = cnt[D.bit_length() - 1] & cnt[D.bit_length()]
        return Mux(rot, x.im, x.re), Mux(rot, -x.re, x.im)

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
        pend = Signal(range(D + 1))        # differences waiting in the FIFO
        second = cnt[D.bit_length() - 1]   # second half of a 2*D pair block

        bfly = x.valid & second
        push_x = x.valid & ~second
        pop_diff = ~second & (pend != 0)
        with m.If(ce):
            with m.If(x.valid):
                m.d.sync += cnt.eq(Mux(cnt == period - 1, 0, cnt + 1))
            m.d.sync += pend.eq(pend + bfly - pop_diff)

        raw = _Token(w + 1, "raw")         # unrounded stage result
        if D < MEMORY_DELAY_MIN:
            self._register_fifo(m, x, bfly, push_x, pop_diff, raw)
        else:
            self._memory_fifo(m, bfly, push_x, pop_diff, raw)
        with m.If(ce):
            m.d.sync += [
                self.out.valid.eq(raw.valid),
                self.out.re.eq(_saturated(_half_up(raw.re, 1), w)),
                self.out.im.eq(_saturated(_half_up(raw.im, 1), w)),
            ]
        return m

    def _register_fifo(self, m, x, bfly, push_x, pop_diff, raw) -> None:
        """Delay line in registers: pop, add and push in one cycle."""
        D, w, ce = self.delay, self.bits, self.ce
        regs = [(Signal(signed(w + 1), name=f"q{i}_re", reset_less=True),
                 Signal(signed(w + 1), name=f"q{i}_im", reset_less=True)) for i in range(D)]
        fill = Signal(range(D + 1))
        pop = bfly | pop_diff
        a_re, a_im = regs[0]
        push = bfly | push_x
        w_re = Mux(bfly, a_re - x.re, x.re)
        w_im = Mux(bfly, a_im - x.im, x.im)
        slot = fill - pop
        with m.If(ce):
            m.d.sync += fill.eq(fill + push - pop)
            for i, (r, q) in enumerate(regs):
                nxt = regs[i + 1] if i + 1 < D else (r, q)
                with m.If(push & (slot == i)):
                    m.d.sync += [r.eq(w_re), q.eq(w_im)]
                with m.Elif(pop):
                    m.d.sync += [r.eq(nxt[0]), q.eq(nxt[1])]
            m.d.sync += [
                raw.valid.eq(pop),
                raw.re.eq(Mux(bfly, a_re + x.re, a_re)),
                raw.im.eq(Mux(bfly, a_im + x.im, a_im)),
            ]

    def _memory_fifo(self, m, bfly, push_x, pop_diff, raw) -> None:
        """Delay line in a memory: read issued in cycle A, read data registered in fabric
        in R (block-RAM clock-to-output is too slow to feed an adder in the same cycle),
        used in B, written in C.  Needs ``delay >= 3`` (a sample or difference is read at
        the earliest ``delay`` pushes after its push; the write lands 3 steps after it).
        The partner's ``-j`` rotation (``bf2``) is applied in stage R."""
        D, w, ce = self.delay, self.bits, self.ce
        x_re, x_im = self._rotated(m, self.inp)
        layout = complex_layout(w + 1)
        m.submodules.mem = mem = Memory(
            shape=layout, depth=D, init=[],
            attrs={"ram_style": "distributed" if D <= LUTRAM_MAX_DEPTH else "block"})
        wp = mem.write_port()
        rp = mem.read_port(domain="sync", transparent_for=(wp,))
        rd = Signal(range(D))
        wr = Signal(range(D))
        pop = bfly | pop_diff
        # stage R registers: the read data and the token, one cycle later
        r_bfly, r_diff, r_push = Signal(), Signal(), Signal()
        rx_re = Signal(signed(w + 1), reset_less=True)
        rx_im = Signal(signed(w + 1), reset_less=True)
        front = Signal(layout, reset_less=True)
        # stage B registers
        b_bfly, b_diff, b_push = Signal(), Signal(), Signal()
        bx_re = Signal(signed(w + 1), reset_less=True)
        bx_im = Signal(signed(w + 1), reset_less=True)
        # stage C registers (the write)
        c_we = Signal()
        c_data = Signal(layout, reset_less=True)
        m.d.comb += [
            rp.en.eq(ce),
            rp.addr.eq(rd),
            wp.addr.eq(wr),
            wp.data.eq(c_data),
            wp.en.eq(ce & c_we),
        ]
        with m.If(ce):
            with m.If(pop):
                m.d.sync += rd.eq(rd + 1)
            with m.If(c_we):
                m.d.sync += wr.eq(wr + 1)
            m.d.sync += [
                r_bfly.eq(bfly), r_diff.eq(pop_diff), r_push.eq(push_x),
                rx_re.eq(x_re), rx_im.eq(x_im),
                b_bfly.eq(r_bfly), b_diff.eq(r_diff), b_push.eq(r_push),
                bx_re.eq(rx_re), bx_im.eq(rx_im), front.eq(rp.data),
                c_we.eq(b_bfly | b_push),
                c_data.re.eq(Mux(b_bfly, front.re - bx_re, bx_re)),
                c_data.im.eq(Mux(b_bfly, front.im - bx_im, bx_im)),
                raw.valid.eq(b_bfly | b_diff),
                raw.re.eq(Mux(b_bfly, front.re + bx_re, front.re)),
                raw.im.eq(Mux(b_bfly, front.im + bx_im, front.im)),
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
        layout = data.StructLayout({"c": signed(T), "d": signed(T), "s": signed(T)})
        m.submodules.rom = rom = Memory(
            shape=layout, depth=M,
            attrs={"rom_style": "logic" if M <= LOGIC_ROM_MAX_DEPTH else "block"},
            init=[{"c": int(c[k]), "d": int(d[k]), "s": int(s[k])} for k in e])
        rp = rom.read_port(domain="comb")
        pos = Signal(range(M))
        ce, x, out = self.ce, self.inp, self.out
        v = [Signal(name=f"v{k}") for k in range(1, 7)]
        a1 = Signal(signed(w), reset_less=True)
        bma1 = Signal(signed(w + 1), reset_less=True)
        apb1 = Signal(signed(w + 1), reset_less=True)
        a2 = Signal(signed(w), reset_less=True)
        bma2 = Signal(signed(w + 1), reset_less=True)
        apb2 = Signal(signed(w + 1), reset_less=True)
        tw2 = Signal(layout, reset_less=True)
        re5 = Signal(signed(w + T + 2), reset_less=True)
        im5 = Signal(signed(w + T + 2), reset_less=True)
        shift = T - 2
        re6 = Signal(signed(w + T + 2 - shift), reset_less=True)
        im6 = Signal(signed(w + T + 2 - shift), reset_less=True)
        tw1 = Signal(layout, reset_less=True)  # the ROM's read register, written out
        # (an explicit register after an asynchronous read keeps yosys from moving the
        # address incrementer in front of a LUT ROM)
        m.d.comb += rp.addr.eq(pos)
        # 3: multiplier input registers, 4: product registers
        p1 = registered_multiply(m, ce, a2, tw2.s, self.dsp, "k1")
        p2 = registered_multiply(m, ce, tw2.c, bma2, self.dsp, "k2")
        p3 = registered_multiply(m, ce, tw2.d, apb2, self.dsp, "k3")
        with m.If(ce):
            with m.If(x.valid):
                m.d.sync += pos.eq(pos + 1)
            m.d.sync += [
                # 1: ROM read (memory output register), pre-adders
                v[0].eq(x.valid), a1.eq(x.re), bma1.eq(x.im - x.re), apb1.eq(x.re + x.im),
                tw1.eq(rp.data),
                # 2: multiplier operands in fabric registers (the ROM may be a block RAM,
                # whose clock-to-output is too slow to feed a multiplier directly)
                v[1].eq(v[0]), a2.eq(a1), bma2.eq(bma1), apb2.eq(apb1), tw2.eq(tw1),
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
        m.submodules.skid = skid = SkidBuffer(complex_layout(B))
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
                unit = _Butterfly(st.kind, st.delay, w, name)
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
