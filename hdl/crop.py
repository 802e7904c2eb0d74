"""Spectral pooling units: crop (forward, :class:`SpectralCrop`) and pad (backward,
:class:`SpectralPad`).

The crop streams an n-point half spectrum in and writes the m-point one.

The integer contract is ``accel.fixed.crop.crop_half`` (layout and fold rules in its
module docstring; timing ``crop_pass_cycles``/``crop_latency_cycles``, latency
``CROP_LATENCY``).  Input: one complex bin per beat in row-major half-spectrum order
(n rows x n/2 + 1 columns), pass after pass.  Output: address-tagged writes into the
m x (m/2 + 1) result buffer, each address exactly once per pass.  The fold needs two
small register files: the held input row m/2 (m/2 + 1 bins, added to row n - m/2) and
the Nyquist-column values of output rows 1..m/2-1, which combine with the mirrored rows
m/2+1..m-1 that arrive later; that combined value is written twice (row r and,
conjugated, row m - r), which stalls the input for one cycle.

Pipeline: B fold register (also the scale multiplier's operand) -> C scale product (a
plain register when n/m is a power of two) -> D round/saturate -> skid buffer -> ``o``.
"""
from __future__ import annotations

from amaranth.hdl import Array, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.fixed.crop import check_sizes, crop_scale

from .cmac import saturated
from .stream import SkidBuffer, complex_layout


class SpectralCrop(wiring.Component):
    """Crop-and-fold of half spectra, n -> m.

    Parameters
    ----------
    n, m : input and output sizes (even, 2 <= m < n).
    data_bits : input mantissa width.
    out_bits : output mantissa width (default ``data_bits``).
    out_shift : extra right shift of every output (headroom for the fold sums).
    scale_bits : width of the (m/n)**2 constant when n/m is not a power of two.
    rounding : ``"half_up"`` or ``"truncate"``.

    Members
    -------
    i : ``In(stream.Signature(complex_layout(data_bits)))``
        Input bins, row-major half spectrum; the row/column position is counted inside.
    o : ``Out(stream.Signature(...))``
        Payload fields: ``addr`` (row * (m/2 + 1) + column in the output half spectrum),
        ``x`` (complex ``out_bits``), ``sat`` (2 flags, re and im clamped).
    skipped : ``Out(32)``
        Input bins dropped by the crop since reset (``crop_skipped(n, m)`` per pass).
    """

    def __init__(self, n: int, m: int, data_bits: int = 16, out_bits: int | None = None,
                 out_shift: int = 0, scale_bits: int = 18, rounding: str = "half_up") -> None:
        check_sizes(n, m)
        if rounding not in ("half_up", "truncate"):
            raise ValueError(f"rounding: expected half_up or truncate, got {rounding!r}")
        self.n, self.m = n, m
        self.data_bits = data_bits
        self.out_bits = data_bits if out_bits is None else out_bits
        self.out_shift = out_shift
        self.scale = crop_scale(n, m, scale_bits)
        self.rounding = rounding
        out_layout = data.StructLayout({
            "addr": unsigned((m * (m // 2 + 1) - 1).bit_length()),
            "x": complex_layout(self.out_bits),
            "sat": unsigned(2),
        })
        super().__init__({"i": In(stream.Signature(complex_layout(data_bits))),
                          "o": Out(stream.Signature(out_layout)),
                          "skipped": Out(32)})

    def elaborate(self, platform) -> Module:
        mod = Module()
        n, m, h, db = self.n, self.m, self.m // 2, self.data_bits
        wide = signed(db + 2)

        mod.submodules.skid = skid = SkidBuffer(self.o.payload.shape())
        wiring.connect(mod, skid.o, wiring.flipped(self.o))
        en = Signal()
        pend_valid = Signal()
        mod.d.comb += [en.eq(skid.i.ready), self.i.ready.eq(en & ~pend_valid)]
        take = Signal()
        mod.d.comb += take.eq(self.i.valid & self.i.ready)

        # Position of the incoming bin.
        u = Signal(range(n))
        v = Signal(range(n // 2 + 1))
        with mod.If(take):
            with mod.If(v == n // 2):
                mod.d.sync += [v.eq(0), u.eq(Mux(u == n - 1, 0, u + 1))]
            with mod.Else():
                mod.d.sync += v.eq(v + 1)

        def cregs(count: int, name: str) -> list[tuple[Signal, Signal]]:
            return [(Signal(signed(db), name=f"{name}{k}_re"), Signal(signed(db), name=f"{name}{k}_im"))
                    for k in range(count)]

        def read(regs: list, index) -> tuple:
            """Read port of a register file over every value of ``index`` (entries past the
            end alias the last one, which the control never selects): a complete mux."""
            full = regs + [regs[-1]] * ((1 << len(index)) - len(regs))
            return Array(p[0] for p in full)[index], Array(p[1] for p in full)[index]

        def write(regs: list, index, re, im) -> None:
            for k, (r_re, r_im) in enumerate(regs):
                with mod.If(index == k):
                    mod.d.sync += [r_re.eq(re), r_im.eq(im)]

        rowbuf = cregs(h + 1, "rowbuf")  # input row m/2, columns 0..m/2
        nyqbuf = cregs(h, "nyq")  # column m/2 of input rows 1..m/2-1 (entry 0 unused)
        x = self.i.payload
        row_lo, row_hold = u < h, u == h
        row_nyq, row_hi = u == n - h, u > n - h
        col_keep, col_nyq = v < h, v == h
        r = Signal(range(m))
        mod.d.comb += r.eq(Mux(row_lo, u, Mux(row_nyq, h, u - (n - m))))
        held = read(rowbuf, v)
        z_re, z_im = Signal(wide), Signal(wide)
        mod.d.comb += [z_re.eq(x.re + Mux(row_nyq, held[0], 0)),
                       z_im.eq(x.im + Mux(row_nyq, held[1], 0))]
        mirror = read(nyqbuf, (n - u)[:max(1, (h - 1).bit_length())])
        y_re, y_im = Signal(wide), Signal(wide)
        mod.d.comb += [y_re.eq(z_re + mirror[0]), y_im.eq(z_im - mirror[1])]
        stride = h + 1

        # B: fold register, with a pending second write for the mirrored Nyquist column.
        b_valid, b_addr = Signal(), Signal.like(skid.i.payload.addr)
        b_re, b_im = Signal(wide), Signal(wide)
        pend_addr = Signal.like(b_addr)
        pend_re, pend_im = Signal(wide), Signal(wide)
        skipped = Signal(32)
        mod.d.comb += self.skipped.eq(skipped)
        with mod.If(en):
            with mod.If(pend_valid):
                mod.d.sync += [b_valid.eq(1), b_addr.eq(pend_addr), b_re.eq(pend_re),
                               b_im.eq(pend_im), pend_valid.eq(0)]
            with mod.Else():
                mod.d.sync += b_valid.eq(0)
        with mod.If(take):
            with mod.If(~(row_lo | row_nyq | row_hi)):
                with mod.If(row_hold & (v <= h)):
                    write(rowbuf, v, x.re, x.im)
                with mod.Else():
                    mod.d.sync += skipped.eq(skipped + 1)
            with mod.Elif(col_keep):
                mod.d.sync += [b_valid.eq(1), b_addr.eq(r * stride + v), b_re.eq(z_re), b_im.eq(z_im)]
            with mod.Elif(col_nyq):
                with mod.If((u == 0) | row_nyq):
                    mod.d.sync += [b_valid.eq(1), b_addr.eq(r * stride + h), b_re.eq(z_re << 1),
                                   b_im.eq(0)]
                with mod.Elif(row_lo):
                    write(nyqbuf, u, x.re, x.im)
                with mod.Else():
                    mod.d.sync += [b_valid.eq(1), b_addr.eq(r * stride + h), b_re.eq(y_re),
                                   b_im.eq(y_im), pend_valid.eq(1),
                                   pend_addr.eq((m - r) * stride + h), pend_re.eq(y_re),
                                   pend_im.eq(-y_im)]
            with mod.Else():
                mod.d.sync += skipped.eq(skipped + 1)

        # C: scale product; D: round, saturate.
        sc = self.scale
        c_valid, c_addr = Signal(), Signal.like(b_addr)
        prod_shape = signed(db + 3 + sc.frac + 1)
        c_re, c_im = Signal(prod_shape), Signal(prod_shape)
        shift = sc.frac + self.out_shift
        with mod.If(en):
            mod.d.sync += [c_valid.eq(b_valid), c_addr.eq(b_addr),
                           c_re.eq(b_re * sc.mant if sc.multiply else b_re),
                           c_im.eq(b_im * sc.mant if sc.multiply else b_im),
                           skid.i.valid.eq(c_valid), skid.i.payload.addr.eq(c_addr)]
            for field, val, bit in (("re", c_re, 0), ("im", c_im, 1)):
                if self.rounding == "half_up" and shift > 0:
                    val = val + (1 << (shift - 1))
                out, over = saturated(val >> shift, self.out_bits)
                mod.d.sync += [getattr(skid.i.payload.x, field).eq(out),
                               skid.i.payload.sat[bit].eq(over)]
        return mod


class SpectralPad(wiring.Component):
    """Zero-pad-and-unfold of half spectra, m -> n: the backward pass of :class:`SpectralCrop`.

    The integer contract is ``accel.fixed.crop.pad_half``.  The unit walks the output
    n x (n/2 + 1) half spectrum in row-major order, one bin per cycle: kept bins consume
    the next input bin (input row-major m x (m/2 + 1)), dropped bins are zeros, and
    output row n - m/2 replays input row m/2 from a held copy (the Nyquist row's gradient
    goes to both +-m/2).  Timing: ``pad_pass_cycles`` per pass, latency ``CROP_LATENCY``.
    Same B (select, multiplier operand) -> C (scale) -> D (round/saturate) -> skid
    pipeline as the crop.

    Parameters
    ----------
    n, m : output and input sizes (even, 2 <= m < n).
    data_bits, out_bits, scale_bits, rounding : as :class:`SpectralCrop`.

    Members
    -------
    i : ``In(stream.Signature(complex_layout(data_bits)))``
        Input gradient bins, row-major m x (m/2 + 1) half spectrum.
    o : ``Out(stream.Signature(...))``
        Payload fields: ``x`` (complex ``out_bits``), ``sat`` (2 flags, re and im
        clamped).  Row-major n x (n/2 + 1) order, one pass after another.
    """

    def __init__(self, n: int, m: int, data_bits: int = 16, out_bits: int | None = None,
                 scale_bits: int = 18, rounding: str = "half_up") -> None:
        check_sizes(n, m)
        if rounding not in ("half_up", "truncate"):
            raise ValueError(f"rounding: expected half_up or truncate, got {rounding!r}")
        self.n, self.m = n, m
        self.data_bits = data_bits
        self.out_bits = data_bits if out_bits is None else out_bits
        self.scale = crop_scale(n, m, scale_bits)
        self.rounding = rounding
        out_layout = data.StructLayout({"x": complex_layout(self.out_bits), "sat": unsigned(2)})
        super().__init__({"i": In(stream.Signature(complex_layout(data_bits))),
                          "o": Out(stream.Signature(out_layout))})

    def elaborate(self, platform) -> Module:
        mod = Module()
        n, h, db = self.n, self.m // 2, self.data_bits

        mod.submodules.skid = skid = SkidBuffer(self.o.payload.shape())
        wiring.connect(mod, skid.o, wiring.flipped(self.o))
        en = Signal()
        mod.d.comb += en.eq(skid.i.ready)

        # Position of the output bin being produced.
        u = Signal(range(n))
        v = Signal(range(n // 2 + 1))
        kept_col = v <= h
        kept_row = (u <= h) | (u >= n - h)
        replay = (u == n - h) & kept_col
        need = kept_row & kept_col & ~replay
        step = Signal()
        mod.d.comb += [self.i.ready.eq(en & need), step.eq(en & (~need | self.i.valid))]
        with mod.If(step):
            with mod.If(v == n // 2):
                mod.d.sync += [v.eq(0), u.eq(Mux(u == n - 1, 0, u + 1))]
            with mod.Else():
                mod.d.sync += v.eq(v + 1)

        held = [(Signal(signed(db), name=f"held{k}_re"), Signal(signed(db), name=f"held{k}_im"))
                for k in range(h + 1)]
        full = held + [held[-1]] * ((1 << len(v)) - len(held))
        held_re, held_im = Array(p[0] for p in full)[v], Array(p[1] for p in full)[v]
        for k, (r_re, r_im) in enumerate(held):
            with mod.If(step & need & (u == h) & (v == k)):
                mod.d.sync += [r_re.eq(self.i.payload.re), r_im.eq(self.i.payload.im)]

        # B: the selected bin; C: scale product; D: round, saturate.
        b_valid = Signal()
        b_re, b_im = Signal(signed(db)), Signal(signed(db))
        with mod.If(en):
            mod.d.sync += b_valid.eq(step)
            with mod.If(need):
                mod.d.sync += [b_re.eq(self.i.payload.re), b_im.eq(self.i.payload.im)]
            with mod.Elif(replay):
                mod.d.sync += [b_re.eq(held_re), b_im.eq(held_im)]
            with mod.Else():
                mod.d.sync += [b_re.eq(0), b_im.eq(0)]
        sc = self.scale
        c_valid = Signal()
        prod_shape = signed(db + sc.frac + 2)
        c_re, c_im = Signal(prod_shape), Signal(prod_shape)
        with mod.If(en):
            mod.d.sync += [c_valid.eq(b_valid), skid.i.valid.eq(c_valid),
                           c_re.eq(b_re * sc.mant if sc.multiply else b_re),
                           c_im.eq(b_im * sc.mant if sc.multiply else b_im)]
            for field, val, bit in (("re", c_re, 0), ("im", c_im, 1)):
                if self.rounding == "half_up" and sc.frac > 0:
                    val = val + (1 << (sc.frac - 1))
                out, over = saturated(val >> sc.frac, self.out_bits)
                mod.d.sync += [getattr(skid.i.payload.x, field).eq(out),
                               skid.i.payload.sat[bit].eq(over)]
        return mod
