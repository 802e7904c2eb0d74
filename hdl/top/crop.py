"""The crop sequencer: :class:`accel.program.Crop` descriptors, forward (crop) and adjoint
(pad), on the crop/pad pair built for each pooling shape."""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, wiring

from accel.fixed.crop import CROP_LATENCY, crop_latency_cycles, crop_pass_cycles, pad_pass_cycles
from accel.layout import half_bins, half_cols
from accel.program import BUFFER_READ_CYCLES, Crop

from ..crop import SpectralCrop, SpectralPad
from ..stream import complex_layout
from .layouts import bits, entry_bits
from .logic import in_effect
from .params import TopParams
from .sequencer import Head, Sequencer, owed, read_lane, walker_head, write_group


class CropSequencer(Sequencer):
    """A walker that streams a :class:`~accel.program.Crop` descriptor's passes into the
    crop (forward) or pad (adjoint) instance built for its ``(n, m)``, and one output
    tracker per instance that writes the results back.

    Operands are bin major over the descriptor's ``count`` planes, holding the bins their
    consumer reads (``accel.fixed.top``): the crop reads a crop-aware layer's kept bins and
    writes the whole pooled spectrum, the pad the reverse.

    Walker: one position of the n x (n/2 + 1) half spectrum per cycle, pass after pass
    (plane after plane), reading the operand words one cycle ahead of the beat that
    carries them.  Forward, every position is a beat (the bins the crop drops are zeros,
    no read), and after each of the ``m/2 - 1`` bins whose folded Nyquist value the crop
    writes twice it waits one cycle, the cycle the crop's input is not ready:
    ``crop_pass_cycles`` per pass.  The pad walks its output order itself, one bin per
    cycle, and takes an input beat at each kept bin but the replayed row:
    ``pad_pass_cycles`` per pass.  The occupancy is the walker's cycles; the descriptor is
    done when its instance writes its last output (forward: ``m x (m/2 + 1)`` outputs per
    pass at the addresses the crop tags; adjoint: the kept bins of the pad's n x (n/2 + 1)
    outputs, the zeros it generates elsewhere are not stored).

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        The pooling shapes (``pools``), value width, rounding.

    Members
    -------
    queue, release, complete, trace
        As :class:`hdl.top.sequencer.Sequencer`'s; one release (``src``), one completion
        per instance (crop and pad of each pool, in that order).
    src : ``Out(ReadLaneSignature(...))``
        The walker's reads.
    dst : ``Out(WriteGroupSignature(..., 1)).array(2 * len(pools))``
        Each instance's writes (crop and pad of each pool, in that order).
    """

    def __init__(self, params: TopParams) -> None:
        p = params
        k = 2 * len(p.pools)
        super().__init__(p, {"src": read_lane(p), "dst": write_group(p, 1).array(k)}, releases=1, completions=k)

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.p
        h = walker_head(m, "crop", p, self.queue)
        last, beat = self._walker(m, h)
        self.event(m, self.release[0], h.cur.r0, last)
        done_events, idle_terms = [], [~h.busy, ~beat["valid"]]
        k = 0
        for i, (pn, pm) in enumerate(p.pools):
            for adjoint in (False, True):
                done, owing = self._instance(m, h, beat, i, pn, pm, adjoint, self.dst[k], self.complete[k])
                done_events.append(done)
                idle_terms.append(owing == 0)
                k += 1
        crop_done = Signal(name="crop_done")
        m.d.comb += [crop_done.eq(Cat(*done_events).any() if done_events else 0),
                     self.trace.start.eq(h.start), self.trace.end.eq(last), self.trace.done.eq(crop_done),
                     self.trace.idle.eq(Cat(*idle_terms).all())]
        return m

    def _walker(self, m: Module, h: Head) -> tuple[Signal, dict[str, Value]]:
        """The walker over the half spectrum: (its last cycle, the beat stage: ``valid``,
        ``kept`` (a word was read), ``adjoint``, ``pool``, ``word``)."""
        aw = self.p.addr_bits
        head, cur = h.head, h.cur
        n_bits = bits(Crop, "n")
        regs = {"u": Signal(n_bits, name="crop_u"), "v": Signal(n_bits, name="crop_v"),
                "plane": Signal(entry_bits("count"), name="crop_plane"),
                "base": Signal(aw, name="crop_base"), "ptr": Signal(aw, name="crop_ptr"),
                "bubble": Signal(name="crop_bubble")}
        e = in_effect(m, "crop", regs, h.start, {"base": head.r0.addr, "ptr": head.r0.addr})
        n, hm, half = cur.n[:n_bits], cur.m[1:bits(Crop, "m")], cur.n[1:n_bits]
        u, v = e["u"], e["v"]
        kept = ((u <= hm) | (u >= n - hm)) & (v <= hm)
        replay = u == n - hm
        beat = h.active & ~e["bubble"]
        read = beat & kept & ~(cur.adjoint & replay)
        end_row = v == half
        end_pass = end_row & (u == n - 1)
        last_plane = e["plane"] + 1 == cur.count
        last = Signal(name="crop_last")
        m.d.comb += last.eq(beat & end_pass & last_plane)
        m.d.comb += [self.src.buf.eq(cur.r0.buf), self.src.addr.eq(e["ptr"]), self.src.en.eq(read)]
        with m.If(h.active):
            m.d.sync += [reg.eq(e[name]) for name, reg in regs.items()]
            with m.If(e["bubble"]):
                m.d.sync += regs["bubble"].eq(0)
            with m.Else():
                m.d.sync += regs["bubble"].eq(~cur.adjoint & (u > n - hm) & (v == hm))
                with m.If(read):
                    m.d.sync += regs["ptr"].eq(e["ptr"] + cur.count[:aw])
                with m.If(end_pass):
                    m.d.sync += [regs["u"].eq(0), regs["v"].eq(0), regs["plane"].eq(e["plane"] + 1),
                                 regs["base"].eq(e["base"] + 1), regs["ptr"].eq(e["base"] + 1)]
                    with m.If(last_plane):
                        m.d.sync += h.busy.eq(0)
                with m.Elif(end_row):
                    m.d.sync += [regs["v"].eq(0), regs["u"].eq(u + 1)]
                with m.Else():
                    m.d.sync += regs["v"].eq(v + 1)
        # the beat stage: the read word arrives one cycle after its address
        b_valid, b_kept, b_adj = Signal(name="crop_beat"), Signal(), Signal()
        b_pool = Signal(len(cur.unit_shape))
        m.d.sync += [b_valid.eq(beat & (~cur.adjoint | read)), b_kept.eq(read), b_adj.eq(cur.adjoint),
                     b_pool.eq(cur.unit_shape)]
        return last, {"valid": b_valid, "kept": b_kept, "adjoint": b_adj, "pool": b_pool, "word": self.src.data}

    def _instance(self, m: Module, h: Head, beat: dict[str, Value], i: int, pn: int, pm: int, adjoint: bool,
                  dst: wiring.PureInterface, complete: wiring.PureInterface) -> tuple[Signal, Signal]:
        """The crop (or, ``adjoint``, pad) instance of pool ``i`` (``pn -> pm``) and its
        output tracker: (its descriptor's last output is written, descriptors owed)."""
        p, aw, vb = self.p, self.p.addr_bits, self.p.value_bits
        kind = "pad" if adjoint else "crop"
        unit = (SpectralPad if adjoint else SpectralCrop)(pn, pm, vb, rounding=p.rounding)
        m.submodules[f"{kind}_{pn}_{pm}"] = unit
        cl = data.View(complex_layout(vb), beat["word"])
        m.d.comb += [unit.i.valid.eq(beat["valid"] & (beat["pool"] == i) & (beat["adjoint"] == adjoint)),
                     unit.i.payload.re.eq(Mux(beat["kept"], cl.re, 0)),
                     unit.i.payload.im.eq(Mux(beat["kept"], cl.im, 0)),
                     unit.o.ready.eq(1)]
        done = Signal(name=f"{kind}_{pn}_{pm}_done")
        if adjoint:
            per_in, tail = pad_pass_cycles(pn, pm), CROP_LATENCY
        else:
            per_in = crop_pass_cycles(pn, pm)
            tail = crop_latency_cycles(pn, pm) - per_in
        head = h.head
        fh, owing = owed(m, f"{kind}_{pn}_{pm}", p, head,
                         h.start & (head.unit_shape == i) & (head.adjoint == adjoint), done,
                         1 + -(-(tail + BUFFER_READ_CYCLES) // per_in))
        per = half_bins(pn) if adjoint else half_bins(pm)
        obin = Signal(range(per), name=f"{kind}_{pn}_{pm}_bin")
        oplane = Signal(entry_bits("count"), name=f"{kind}_{pn}_{pm}_plane")
        fire = unit.o.valid
        pass_end = obin == per - 1
        m.d.comb += done.eq(fire & pass_end & (oplane + 1 == fh.count))
        with m.If(fire):
            m.d.sync += obin.eq(Mux(pass_end, 0, obin + 1))
            with m.If(pass_end):
                m.d.sync += oplane.eq(Mux(done, 0, oplane + 1))
        if adjoint:
            ph = pm // 2
            ou = Signal(range(pn), name=f"pad_{pn}_{pm}_u")
            ov = Signal(range(half_cols(pn)), name=f"pad_{pn}_{pm}_v")
            off = Signal(aw, name=f"pad_{pn}_{pm}_off")
            kept_o = ((ou <= ph) | (ou >= pn - ph)) & (ov <= ph)
            with m.If(fire):
                with m.If(ov == pn // 2):
                    m.d.sync += [ov.eq(0), ou.eq(Mux(ou == pn - 1, 0, ou + 1))]
                with m.Else():
                    m.d.sync += ov.eq(ov + 1)
                with m.If(kept_o):
                    m.d.sync += off.eq(off + fh.count[:aw])
                with m.If(pass_end):
                    m.d.sync += off.eq(Mux(done, 0, oplane + 1))
            waddr, wen = fh.addr + off, fire & kept_o
        else:
            waddr, wen = fh.addr + (unit.o.payload.addr * fh.count[:aw])[:aw] + oplane, fire
        m.d.comb += [dst.buf.eq(fh.buf), dst.base.eq(waddr[:aw]), dst.mask.eq(Const(1)), dst.en.eq(wen),
                     dst.data[0].eq(Cat(unit.o.payload.x.re, unit.o.payload.x.im))]
        self.event(m, complete, fh, done)
        return done, owing
