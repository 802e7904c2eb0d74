"""The descriptor decoder: one descriptor register, its fields sliced where
:func:`accel.program.field_bits` puts them, the checks of :data:`hdl.top.checks.ERRORS`."""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.program import DESCRIPTOR_BITS, OPCODE_BITS, Act, ActFunction, Crop, Fft2d, Gemm, GemmKind, Phase, field_bits

from .checks import ERROR_BITS
from .layouts import TOP_UNITS, dispatch_layout
from .logic import select
from .params import TopParams

_GEMM = field_bits(Gemm)
_ACT = field_bits(Act)
_CROP = field_bits(Crop)
_FFT = field_bits(Fft2d)
# Crop and Fft2d keep src and dst at the same bits
assert all(_CROP[f"{r}.{p}"] == _FFT[f"{r}.{p}"] for r in ("src", "dst") for p in ("buf", "region", "addr"))
# Gemm and Act keep their three buffer operands at the same bits (checked here once)
assert all(_GEMM[f"{g}.{p}"] == _ACT[f"{a}.{p}"] for g, a in zip("abc", "xgy") for p in ("buf", "region", "addr"))
# every kind keeps the phase at the same bits
assert _GEMM["phase"] == _ACT["phase"] == _CROP["phase"] == _FFT["phase"]
#: Entry operand -> (the Gemm/Act field, the Crop/Fft2d field; None: Gemm and Act only).
_OPERANDS = (("r0", "a", "src"), ("r1", "b", None), ("w", "c", "dst"))


class Decoder(wiring.Component):
    """Holds one descriptor, decodes it into a queue entry and offers it for dispatch.

    A descriptor enters the decode register when the register is empty or its descriptor
    is dispatched in the same cycle.  A descriptor that fails a check (:data:`ERRORS`,
    first code of the list that applies) raises ``error`` the next cycle and is never
    offered: the decoder then takes no more descriptors.

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        The buffers, regions, accumulator width, crop/pad and FFT shapes it checks against.

    Members
    -------
    desc : ``In(stream.Signature(DESCRIPTOR_BITS))``
        Descriptors, one per beat, word 0 in the low bits.
    o : ``Out(stream.Signature(dispatch_layout(params)))``
        The decoded descriptor (the scoreboard's wait counts left 0) and its unit's index;
        a transfer is a dispatch.
    pending : ``Out(1)``
        A descriptor is held that is not rejected (it is offered, or its checks run).
    error : ``Out(1)``
        A descriptor was rejected (sticky).
    error_code : ``Out(ERROR_BITS)``
        Its error code (:data:`hdl.top.checks.ERRORS`).
    """

    def __init__(self, params: TopParams) -> None:
        self.p = params
        super().__init__({
            "desc": In(stream.Signature(DESCRIPTOR_BITS)),
            "o": Out(stream.Signature(dispatch_layout(params))),
            "pending": Out(1), "error": Out(1), "error_code": Out(ERROR_BITS),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        raw = Signal(DESCRIPTOR_BITS)
        held = Signal()
        err, err_code = Signal(), Signal(ERROR_BITS)
        d = self.o.payload.entry
        bad = self._decode(m, raw, d)
        go = self.o.valid & self.o.ready
        m.d.comb += [self.o.valid.eq(held & ~err & (bad == 0)), self.pending.eq(held & ~err),
                     self.error.eq(err), self.error_code.eq(err_code),
                     self.desc.ready.eq(~err & (~held | go))]
        with m.If(held & ~err & (bad != 0)):
            m.d.sync += [err.eq(1), err_code.eq(bad)]
        with m.If(self.desc.valid & self.desc.ready):
            m.d.sync += [raw.eq(self.desc.payload), held.eq(1)]
        with m.Elif(go):
            m.d.sync += held.eq(0)
        return m

    def _decode(self, m: Module, raw: Signal, d: data.View) -> Signal:
        """Drive entry ``d`` and the unit index from ``raw``; return the error code (0: none)."""
        p = self.p

        def fld(name: str, fields: dict[str, tuple[int, int]] = _GEMM) -> Value:
            lo, width = fields[name]
            return raw[lo:lo + width]

        opcode = raw[:OPCODE_BITS]
        is_gemm = opcode == Gemm.OPCODE
        is_act = opcode == Act.OPCODE
        is_crop = opcode == Crop.OPCODE
        is_fft = opcode == Fft2d.OPCODE
        unit = self.o.payload.unit
        m.d.comb += unit.eq(Mux(is_fft, TOP_UNITS.index(Fft2d.UNIT),
                                Mux(is_crop, TOP_UNITS.index(Crop.UNIT),
                                    Mux(is_act, TOP_UNITS.index(Act.UNIT), TOP_UNITS.index(Gemm.UNIT)))))
        for slot, g, c in _OPERANDS:
            for part in ("buf", "region", "addr"):
                value = (fld(f"{g}.{part}") if c is None
                         else Mux(is_crop | is_fft, fld(f"{c}.{part}", _CROP), fld(f"{g}.{part}")))
                m.d.comb += getattr(getattr(d, slot), part).eq(value)
        backward = fld("backward", _ACT)
        crop_n, crop_m = fld("n", _CROP), fld("m", _CROP)
        pool_hit = [(crop_n == a) & (crop_m == b) for a, b in p.pools]
        pool_ok = Cat(*pool_hit).any() if p.pools else Const(0)
        f_size, f_keep = fld("size", _FFT), fld("keep", _FFT)
        f_keep_eff = Mux(f_keep >= f_size, f_size, f_keep)
        fft_hit = [(f_size == a) & (f_keep_eff == b) for a, b in p.ffts]
        fft_ok = Cat(*fft_hit).any() if p.ffts else Const(0)
        m.d.comb += [d.r1_active.eq(is_gemm | (is_act & backward)), d.phase.eq(fld("phase")),
                     d.bins.eq(fld("bins")), d.m.eq(Mux(is_fft, f_size, Mux(is_crop, crop_m, fld("m")))),
                     d.n.eq(Mux(is_fft, fld("n", _FFT), Mux(is_crop, crop_n, fld("n")))),
                     d.k.eq(Mux(is_fft, f_keep_eff, fld("k"))), d.conj.eq(fld("conj_b")),
                     d.shift.eq(fld("shift")),
                     d.count.eq(Mux(is_fft, fld("images", _FFT),
                                    Mux(is_crop, fld("count", _CROP), fld("count", _ACT)))),
                     d.backward.eq(backward), d.adjoint.eq(fld("adjoint", _CROP))]
        for i, hit in enumerate(pool_hit):
            with m.If(is_crop & hit):
                m.d.comb += d.unit_shape.eq(i)
        for i, hit in enumerate(fft_hit):
            with m.If(is_fft & hit):
                m.d.comb += d.unit_shape.eq(i)
        nb, aw = len(p.buffers), p.addr_bits
        active = [(d.r0, 1), (d.r1, d.r1_active), (d.w, 1)]
        checks = [
            (1, ~(is_gemm | is_act | is_crop | is_fft)),
            (2, Mux(is_gemm, (fld("kind") != GemmKind.CONV) | (d.phase == Phase.UPDATE),
                    (is_act & (fld("function", _ACT) != ActFunction.PWL)) | (is_fft & fld("inverse", _FFT)))),
            (3, Cat(*[en & (r.buf >= nb) for r, en in active]).any()),
            (4, Cat(*[en & (r.region >= p.regions) for r, en in active]).any()),
            (5, Cat(*[en & (r.addr >= select([Const(dp, aw + 1) for _, dp in p.buffers], r.buf, aw + 1))
                     for r, en in active]).any()),
            (6, Mux(is_gemm, (d.bins == 0) | (d.m == 0) | (d.n == 0) | (d.k == 0), d.count == 0)),
            (7, is_gemm & (d.shift >= p.acc_bits)),
            (8, is_gemm & ((fld("m0") != 0) | (fld("n0") != 0))),
            (9, (is_crop & ~pool_ok) | (is_fft & ~fft_ok)),
        ]
        bad = Signal(ERROR_BITS)
        for code, cond in reversed(checks):
            with m.If(cond):
                m.d.comb += bad.eq(code)
        return bad
