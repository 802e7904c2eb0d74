"""Complex MAC array: an output-stationary ``rows x cols`` grid of 3-multiplier complex MACs.

The integer contract is ``accel.fixed.mac`` (``cmac_gemm``, the tile descriptor
``CmacTile`` and the timing constants ``CMAC_FILL``/``CMAC_DRAIN``/``CMAC_LATENCY``);
the module docstring there gives the arithmetic and the dataflow.  Pipeline of one
operand beat (all stages advance together; the array stalls as a whole only while a
result beat waits for ``o.ready``):

    R0  operand registers (per array row: a, b; per column: c, d; conj, first, last, shift)
    R1  pre-adds, shared by a row (a + b) or a column (d - c, c + d; conj: -(c+d), c - d),
        registered together with the multiplier's other operand
    R2  the three products per cell, registered (both multiplier sides registered: ECP5
        MULT18X18D at full speed)
    R3  post-adds re = k1 - k3, im = k1 + k2
    R4  saturating accumulators (reset to the product on a tile's first beat)
    R5  result register: round half-up by the tile's shift, saturate to out_bits
    --  ``hdl.stream.SkidBuffer`` (two entries) in front of ``o``

R5 holds the finished tile while R4 accumulates the next one, so tiles stream back to
back at one operand beat per cycle.  The pipeline's clock enable is the skid buffer's
registered ``i.ready``: the consumer's ``o.ready`` reaches only the buffer, never the
array's registers.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.fixed.core import int_range
from accel.fixed.mac import check_widths

from .stream import SkidBuffer, complex_layout


def saturated(value, bits: int):
    """(clamped value, overflow flag) of a signed Value narrowed to ``bits`` bits: the
    hardware ``accel.fixed.core.saturate``.

    The value overflows iff its bits above ``bits - 1`` are not all copies of its sign.
    """
    width = len(value)
    if width <= bits:
        return value, Const(0, 1)
    top = value[bits - 1:]
    ok = (top == 0) | (top == (1 << (width - bits + 1)) - 1)
    lo, hi = int_range(bits)
    clamped = Mux(ok, value[:bits].as_signed(), Mux(value[-1], lo, hi))
    return clamped, ~ok


class ComplexMacArray(wiring.Component):
    """Output-stationary complex MAC array (per-bin complex GEMM tiles).

    Parameters
    ----------
    rows, cols : array size; one tile = ``rows x cols`` outputs.
    a_bits, b_bits : operand mantissa widths (A: data or gradient, B: weight or data).
    acc_bits : accumulator width (saturating), at least ``a_bits + b_bits + 1``.
    out_bits : result mantissa width.
    rounding : ``"half_up"`` or ``"truncate"`` (the right shift from accumulator to result).

    Members
    -------
    i : ``In(stream.Signature(...))``
        One reduction step per beat.  Payload fields: ``a`` (array of ``rows`` complex
        ``a_bits`` samples, A[bin, m0 + r, k]), ``b`` (``cols`` complex ``b_bits``,
        B[bin, k, n0 + c]), ``conj`` (conjugate b), ``last`` (final beat of the tile),
        ``shift`` (accumulator -> result right shift, sampled with ``last``).  The beat
        after a ``last`` beat starts a new tile.
    o : ``Out(stream.Signature(...))``
        One result beat per tile.  Payload fields: ``c`` (``rows`` x ``cols`` complex
        ``out_bits`` samples, cell (r, c) at ``c[r][c]``), ``acc_sat`` and ``out_sat``
        (``2 * rows * cols`` flags, bit ``2 * (r * cols + c) + {0: re, 1: im}``; set
        when that accumulator clamped at least once during the tile / the result was
        clamped to ``out_bits``).  These match the ("cmac", "acc") and ("cmac", "out")
        counts of ``accel.fixed.mac.cmac_gemm``.
    """

    def __init__(self, rows: int = 2, cols: int = 2, a_bits: int = 16, b_bits: int = 16,
                 acc_bits: int = 40, out_bits: int = 16, rounding: str = "half_up") -> None:
        check_widths(a_bits, b_bits, acc_bits, out_bits)
        if rounding not in ("half_up", "truncate"):
            raise ValueError(f"rounding: expected half_up or truncate, got {rounding!r}")
        self.rows, self.cols = rows, cols
        self.a_bits, self.b_bits = a_bits, b_bits
        self.acc_bits, self.out_bits = acc_bits, out_bits
        self.rounding = rounding
        shift_shape = unsigned(max(1, (acc_bits - 1).bit_length()))
        in_layout = data.StructLayout({
            "a": data.ArrayLayout(complex_layout(a_bits), rows),
            "b": data.ArrayLayout(complex_layout(b_bits), cols),
            "conj": 1,
            "last": 1,
            "shift": shift_shape,
        })
        out_layout = data.StructLayout({
            "c": data.ArrayLayout(data.ArrayLayout(complex_layout(out_bits), cols), rows),
            "acc_sat": unsigned(2 * rows * cols),
            "out_sat": unsigned(2 * rows * cols),
        })
        super().__init__({"i": In(stream.Signature(in_layout)),
                          "o": Out(stream.Signature(out_layout))})

    def elaborate(self, platform) -> Module:
        m = Module()
        rows, cols = self.rows, self.cols
        ab, bb = self.a_bits, self.b_bits
        m.submodules.skid = skid = SkidBuffer(self.o.payload.shape())
        wiring.connect(m, skid.o, wiring.flipped(self.o))
        en = Signal()  # the whole pipeline advances
        m.d.comb += [en.eq(skid.i.ready), self.i.ready.eq(en)]

        shift_shape = self.i.payload.shift.shape()
        start = Signal(init=1)  # the next accepted beat is the first of a tile
        with m.If(self.i.valid & en):
            m.d.sync += start.eq(self.i.payload.last)

        def ctrl(name: str):
            return (Signal(name=f"{name}_valid"), Signal(name=f"{name}_first"),
                    Signal(name=f"{name}_last"), Signal(shift_shape, name=f"{name}_shift"))

        # R0: operand registers.
        v0, f0, l0, s0 = ctrl("r0")
        cj0 = Signal()
        a0 = [(Signal(signed(ab), name=f"a0_re{r}"), Signal(signed(ab), name=f"a0_im{r}"))
              for r in range(rows)]
        b0 = [(Signal(signed(bb), name=f"b0_re{c}"), Signal(signed(bb), name=f"b0_im{c}"))
              for c in range(cols)]
        with m.If(en):
            m.d.sync += [v0.eq(self.i.valid), f0.eq(start), l0.eq(self.i.payload.last),
                         s0.eq(self.i.payload.shift), cj0.eq(self.i.payload.conj)]
            for r in range(rows):
                m.d.sync += [a0[r][0].eq(self.i.payload.a[r].re), a0[r][1].eq(self.i.payload.a[r].im)]
            for c in range(cols):
                m.d.sync += [b0[c][0].eq(self.i.payload.b[c].re), b0[c][1].eq(self.i.payload.b[c].im)]

        # R1: shared pre-adds, with the other multiplier operands delayed alongside.
        v1, f1, l1, s1 = ctrl("r1")
        row1 = [(Signal(signed(ab + 1), name=f"apb{r}"), Signal(signed(ab), name=f"a1{r}"),
                 Signal(signed(ab), name=f"b1{r}")) for r in range(rows)]
        col1 = [(Signal(signed(bb), name=f"c1{c}"), Signal(signed(bb + 2), name=f"dmc{c}"),
                 Signal(signed(bb + 2), name=f"cpd{c}")) for c in range(cols)]
        with m.If(en):
            m.d.sync += [v1.eq(v0), f1.eq(f0), l1.eq(l0), s1.eq(s0)]
            for r in range(rows):
                a, b = a0[r]
                m.d.sync += [row1[r][0].eq(a + b), row1[r][1].eq(a), row1[r][2].eq(b)]
            for c in range(cols):
                cc, d = b0[c]
                m.d.sync += [col1[c][0].eq(cc),
                             col1[c][1].eq(Mux(cj0, -(cc + d), d - cc)),
                             col1[c][2].eq(Mux(cj0, cc - d, cc + d))]

        # R2: products; R3: post-adds; R4: accumulators.
        v2, f2, l2, s2 = ctrl("r2")
        v3, f3, l3, s3 = ctrl("r3")
        v4, l4, s4 = Signal(name="r4_valid"), Signal(name="r4_last"), Signal(shift_shape, name="r4_shift")
        with m.If(en):
            m.d.sync += [v2.eq(v1), f2.eq(f1), l2.eq(l1), s2.eq(s1),
                         v3.eq(v2), f3.eq(f2), l3.eq(l2), s3.eq(s2),
                         v4.eq(v3), l4.eq(v3 & l3), s4.eq(s3)]

        prod_bits = ab + bb + 3
        cells = {}
        for r in range(rows):
            apb, a, b = row1[r]
            for c in range(cols):
                cc, dmc, cpd = col1[c]
                k1 = Signal(signed(prod_bits), name=f"k1_{r}_{c}")
                k2 = Signal(signed(prod_bits), name=f"k2_{r}_{c}")
                k3 = Signal(signed(prod_bits), name=f"k3_{r}_{c}")
                p_re = Signal(signed(ab + bb + 1), name=f"p_re_{r}_{c}")
                p_im = Signal(signed(ab + bb + 1), name=f"p_im_{r}_{c}")
                acc = [Signal(signed(self.acc_bits), name=f"acc_{p}_{r}_{c}") for p in ("re", "im")]
                hit = [Signal(name=f"acc_sat_{p}_{r}_{c}") for p in ("re", "im")]
                with m.If(en):
                    m.d.sync += [k1.eq(cc * apb), k2.eq(a * dmc), k3.eq(b * cpd),
                                 p_re.eq(k1 - k3), p_im.eq(k1 + k2)]
                    with m.If(v3):
                        for p, x in ((0, p_re), (1, p_im)):
                            total, over = saturated(Mux(f3, 0, acc[p]) + x, self.acc_bits)
                            m.d.sync += [acc[p].eq(total), hit[p].eq(Mux(f3, 0, hit[p]) | over)]
                cells[r, c] = (acc, hit)

        # R5: round, saturate, present.  Half-up rounding by s >= 1 is
        # ((acc >> (s - 1)) + 1) >> 1, which needs no variable-position half-LSB constant.
        s4m1 = Signal(shift_shape)
        m.d.comb += s4m1.eq(s4 - 1)
        with m.If(en):
            m.d.sync += skid.i.valid.eq(v4 & l4)
            with m.If(v4 & l4):
                acc_flags, out_flags = [], []
                for r in range(rows):
                    for c in range(cols):
                        acc, hit = cells[r, c]
                        for p, field in ((0, "re"), (1, "im")):
                            if self.rounding == "half_up":
                                rounded = Mux(s4 == 0, acc[p],
                                              ((acc[p] >> s4m1) + 1) >> 1)
                            else:
                                rounded = acc[p] >> s4
                            value, over = saturated(rounded, self.out_bits)
                            m.d.sync += getattr(skid.i.payload.c[r][c], field).eq(value)
                            acc_flags.append(hit[p])
                            out_flags.append(over)
                m.d.sync += [skid.i.payload.acc_sat.eq(Cat(*acc_flags)),
                             skid.i.payload.out_sat.eq(Cat(*out_flags))]
        return m
