"""PWL activation unit: ``lanes`` split-complex piecewise-linear evaluators.

The integer contract is ``accel.fixed.act`` (``pwl_forward``/``pwl_backward`` with a
``PwlTable``; latency ``ACT_LATENCY``).  Each lane holds two real evaluators (re, im)
sharing one table.  Pipeline of one beat, all stages on one clock enable (the output skid
buffer's registered ``i.ready``):

    R0  input registers (x, g, backward)
    R1  thermometer code t[j] = x >= bp[j] (parallel compares), operands delayed
    R2  segment select (first j with t[j] = 0): slope and intercept registered together
        with the multiplicand (x forward, g backward) -- both multiplier sides registered
    R3  product slope * operand, intercept delayed
    R4  add intercept << slope_frac, round half-up by slope_frac, saturate -> skid buffer
"""
from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Shape, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .cmac import saturated
from .stream import SkidBuffer, complex_layout


class PwlActivation(wiring.Component):
    """Split-complex PWL activation, forward and backward, with a run-time loadable table.

    Parameters
    ----------
    lanes : complex samples per beat.
    segments : S, the table size (S - 1 breakpoints, S slopes, S intercepts).
    data_bits : width of x, of the gradient g and of the output.
    slope_bits, slope_frac : slope format (default Q2.14).
    rounding : ``"half_up"`` or ``"truncate"``.

    Members
    -------
    i : ``In(stream.Signature(...))``
        Payload fields: ``x`` (``lanes`` complex ``data_bits``: the forward input),
        ``g`` (``lanes`` complex: the incoming gradient, used when ``backward``),
        ``backward`` (0: y = pwl(x); 1: y = slope(segment(x)) * g).
    o : ``Out(stream.Signature(...))``
        Payload fields: ``y`` (``lanes`` complex ``data_bits``), ``sat`` (``2 * lanes``
        flags, bit ``2 * lane + {0: re, 1: im}``, set when that output was clamped).
    wr_en : ``In(1)``
        Table write strobe.  Writes land at the next clock edge; load the table while no
        beats are in flight (the unit does not order writes against the pipeline).
    wr_addr : ``In(range(3 * S - 1))``
        Word address in ``accel.fixed.act.PwlTable.words`` order: breakpoints 0..S-2,
        slopes S-1..2S-2, intercepts 2S-1..3S-2.
    wr_data : ``In(signed(max(data_bits + 1, slope_bits)))``
        The word; truncated to its field's width (breakpoints ``data_bits + 1``, slopes
        ``slope_bits``, intercepts ``data_bits``).
    """

    def __init__(self, lanes: int = 4, segments: int = 8, data_bits: int = 16,
                 slope_bits: int = 16, slope_frac: int = 14, rounding: str = "half_up") -> None:
        if segments < 2:
            raise ValueError(f"segments: expected >= 2, got {segments}")
        if rounding not in ("half_up", "truncate"):
            raise ValueError(f"rounding: expected half_up or truncate, got {rounding!r}")
        self.lanes, self.segments = lanes, segments
        self.data_bits, self.slope_bits, self.slope_frac = data_bits, slope_bits, slope_frac
        self.rounding = rounding
        in_layout = data.StructLayout({
            "x": data.ArrayLayout(complex_layout(data_bits), lanes),
            "g": data.ArrayLayout(complex_layout(data_bits), lanes),
            "backward": 1,
        })
        out_layout = data.StructLayout({
            "y": data.ArrayLayout(complex_layout(data_bits), lanes),
            "sat": unsigned(2 * lanes),
        })
        super().__init__({
            "i": In(stream.Signature(in_layout)),
            "o": Out(stream.Signature(out_layout)),
            "wr_en": In(1),
            "wr_addr": In(range(3 * segments - 1)),
            "wr_data": In(self.table_shape(data_bits, slope_bits)),
        })

    @staticmethod
    def table_shape(data_bits: int = 16, slope_bits: int = 16) -> Shape:
        """Shape of ``wr_data``: a breakpoint (``data_bits + 1``) or a slope, signed."""
        return signed(max(data_bits + 1, slope_bits))

    def elaborate(self, platform) -> Module:
        m = Module()
        S, db, frac = self.segments, self.data_bits, self.slope_frac
        bp = [Signal(signed(db + 1), name=f"bp{j}") for j in range(S - 1)]
        slope = [Signal(signed(self.slope_bits), name=f"slope{j}") for j in range(S)]
        icpt = [Signal(signed(db), name=f"icpt{j}") for j in range(S)]
        for addr, reg in enumerate(bp + slope + icpt):
            with m.If(self.wr_en & (self.wr_addr == addr)):
                m.d.sync += reg.eq(self.wr_data)

        m.submodules.skid = skid = SkidBuffer(self.o.payload.shape())
        wiring.connect(m, skid.o, wiring.flipped(self.o))
        en = Signal()
        m.d.comb += [en.eq(skid.i.ready), self.i.ready.eq(en)]

        valid = [Signal(name=f"r{k}_valid") for k in range(4)]
        bwd = [Signal(name=f"r{k}_backward") for k in range(2)]
        with m.If(en):
            m.d.sync += [valid[0].eq(self.i.valid), bwd[0].eq(self.i.payload.backward),
                         valid[1].eq(valid[0]), bwd[1].eq(bwd[0]),
                         valid[2].eq(valid[1]), valid[3].eq(valid[2]),
                         skid.i.valid.eq(valid[3])]

        flags = []
        for lane in range(self.lanes):
            for part in ("re", "im"):
                tag = f"{part}{lane}"
                x0 = Signal(signed(db), name=f"x0_{tag}")
                g0 = Signal(signed(db), name=f"g0_{tag}")
                therm = Signal(S - 1, name=f"therm_{tag}")
                x1 = Signal(signed(db), name=f"x1_{tag}")
                g1 = Signal(signed(db), name=f"g1_{tag}")
                op2 = Signal(signed(db), name=f"op2_{tag}")
                sl2 = Signal(signed(self.slope_bits), name=f"slope2_{tag}")
                ic2 = Signal(signed(db), name=f"icpt2_{tag}")
                prod3 = Signal(signed(db + self.slope_bits), name=f"prod3_{tag}")
                ic3 = Signal(signed(db), name=f"icpt3_{tag}")
                # Segment = index of the first breakpoint above x (S - 1 if none), as a
                # priority mux straight onto the slope and intercept.
                sel_slope = Signal(signed(self.slope_bits), name=f"sel_slope_{tag}")
                sel_icpt = Signal(signed(db), name=f"sel_icpt_{tag}")
                m.d.comb += [sel_slope.eq(slope[S - 1]), sel_icpt.eq(icpt[S - 1])]
                for j in reversed(range(S - 1)):
                    with m.If(~therm[j]):
                        m.d.comb += [sel_slope.eq(slope[j]), sel_icpt.eq(icpt[j])]
                total = prod3 + (ic3 << frac)
                if self.rounding == "half_up" and frac > 0:
                    total = total + (1 << (frac - 1))
                y, over = saturated(total >> frac, db)
                with m.If(en):
                    m.d.sync += [
                        x0.eq(getattr(self.i.payload.x[lane], part)),
                        g0.eq(getattr(self.i.payload.g[lane], part)),
                        therm.eq(Cat(*[x0 >= b for b in bp])), x1.eq(x0), g1.eq(g0),
                        op2.eq(Mux(bwd[1], g1, x1)), sl2.eq(sel_slope),
                        ic2.eq(Mux(bwd[1], 0, sel_icpt)),
                        prod3.eq(sl2 * op2), ic3.eq(ic2),
                        getattr(skid.i.payload.y[lane], part).eq(y),
                    ]
                flags.append(over)
        with m.If(en):
            m.d.sync += skid.i.payload.sat.eq(Cat(*flags))
        return m
