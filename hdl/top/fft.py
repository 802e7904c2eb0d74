"""The FFT sequencer: forward :class:`accel.program.Fft2d` descriptors on the 2-D FFT engine
built for each ``(size, keep)``."""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring

from accel.fixed.fft2d import fft2d_interval, fft2d_latency
from accel.program import BUFFER_READ_CYCLES, Fft2d

from ..fft2d import FFT2D
from .layouts import bits, entry_bits
from .logic import in_effect
from .params import TopParams
from .sequencer import Head, Sequencer, owed, read_lane, walker_head, write_group


class FftSequencer(Sequencer):
    """A walker that streams a forward :class:`~accel.program.Fft2d` descriptor's images into
    the :class:`hdl.fft2d.FFT2D` engine built for its ``(size, keep)``, and one output
    tracker per engine.

    Walker: one sample of the ``size x size`` image per cycle, image after image; the
    ``n x n`` stored samples (plane major, two per word: even samples in the low half)
    are read one cycle ahead, the zero padding is not stored.  Tracker: the engine's
    bins leave column by column, rows bit-reversed; the kept ones (all rows, or the
    ``keep + 1`` a crop reads) are written bin major over the descriptor's planes, at
    ``dst + kept bin * images + plane``.  The engine's per-image block exponent (its
    normalization shift) is not stored: the top does not normalize (``accel.fixed.top``).

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        The engines' shapes (``ffts``), value and twiddle widths.

    Members
    -------
    queue, release, complete, trace
        As :class:`hdl.top.sequencer.Sequencer`'s; one release (``src``), one completion
        per engine.
    src : ``Out(ReadLaneSignature(...))``
        The walker's reads.
    dst : ``Out(WriteGroupSignature(..., 1)).array(len(ffts))``
        Each engine's writes.
    """

    def __init__(self, params: TopParams) -> None:
        p = params
        k = len(p.ffts)
        super().__init__(p, {"src": read_lane(p), "dst": write_group(p, 1).array(k)}, releases=1, completions=k)

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.p
        h = walker_head(m, "fft", p, self.queue)
        last, beat = self._walker(m, h)
        self.event(m, self.release[0], h.cur.r0, last)
        done_events, idle_terms = [], [~h.busy, ~beat["valid"]]
        for i, (fsize, keep) in enumerate(p.ffts):
            done, owing = self._engine(m, h, beat, i, fsize, keep, self.dst[i], self.complete[i])
            done_events.append(done)
            idle_terms.append(owing == 0)
        fft_done = Signal(name="fft_done")
        m.d.comb += [fft_done.eq(Cat(*done_events).any() if done_events else 0),
                     self.trace.start.eq(h.start), self.trace.end.eq(last), self.trace.done.eq(fft_done),
                     self.trace.idle.eq(Cat(*idle_terms).all())]
        return m

    def _walker(self, m: Module, h: Head) -> tuple[Signal, dict[str, Value]]:
        """The walker over the images: (its last cycle, the beat stage: ``valid``, ``read``
        (a sample was stored), ``shape``, ``sample``)."""
        aw, vb = self.p.addr_bits, self.p.value_bits
        cur = h.cur
        size_bits = bits(Fft2d, "size")
        regs = {"r": Signal(size_bits, name="fft_r"), "c": Signal(size_bits, name="fft_c"),
                "plane": Signal(entry_bits("count"), name="fft_plane"), "sample": Signal(aw + 1, name="fft_sample")}
        e = in_effect(m, "fft", regs, h.start, {})
        n, size = cur.n[:bits(Fft2d, "n")], cur.m[:size_bits]
        r, c = e["r"], e["c"]
        read = h.active & (r < n) & (c < n)
        end_row = c == size - 1
        end_image = end_row & (r == size - 1)
        last = Signal(name="fft_last")
        m.d.comb += last.eq(h.active & end_image & (e["plane"] + 1 == cur.count))
        m.d.comb += [self.src.buf.eq(cur.r0.buf), self.src.addr.eq((cur.r0.addr + (e["sample"] >> 1))[:aw]),
                     self.src.en.eq(read)]
        with m.If(h.active):
            m.d.sync += [reg.eq(e[name]) for name, reg in regs.items()]
            with m.If(read):
                m.d.sync += regs["sample"].eq(e["sample"] + 1)
            with m.If(end_image):
                m.d.sync += [regs["r"].eq(0), regs["c"].eq(0), regs["plane"].eq(e["plane"] + 1)]
                with m.If(e["plane"] + 1 == cur.count):
                    m.d.sync += h.busy.eq(0)
            with m.Elif(end_row):
                m.d.sync += [regs["c"].eq(0), regs["r"].eq(r + 1)]
            with m.Else():
                m.d.sync += regs["c"].eq(c + 1)
        # the beat stage: the read word arrives one cycle after its address
        b_valid, b_read, b_odd = Signal(name="fft_beat"), Signal(), Signal()
        b_shape = Signal(len(cur.unit_shape))
        m.d.sync += [b_valid.eq(h.active), b_read.eq(read), b_odd.eq(e["sample"][0]), b_shape.eq(cur.unit_shape)]
        word = self.src.data
        sample = Mux(b_odd, word[vb:2 * vb], word[:vb])
        return last, {"valid": b_valid, "read": b_read, "shape": b_shape, "sample": sample}

    def _engine(self, m: Module, h: Head, beat: dict[str, Value], i: int, fsize: int, keep: int,
                dst: wiring.PureInterface, complete: wiring.PureInterface) -> tuple[Signal, Signal]:
        """Engine ``i`` (``fsize``, ``keep``) and its output tracker: (its descriptor's last
        bin is written, descriptors owed)."""
        p, aw = self.p, self.p.addr_bits
        name = f"fft2d_{fsize}_{keep}"
        eng = FFT2D(fsize, keep=keep if keep < fsize else None, data_bits=p.value_bits, twiddle_bits=p.twiddle_bits)
        m.submodules[name] = eng
        m.d.comb += [eng.i.valid.eq(beat["valid"] & (beat["shape"] == i)),
                     eng.i.payload.eq(Mux(beat["read"], beat["sample"], 0)), eng.o.ready.eq(1)]
        done = Signal(name=f"{name}_done")
        interval = fft2d_interval(fsize)
        tail = fft2d_latency(fsize) - interval + eng.cols * fsize + BUFFER_READ_CYCLES
        head = h.head
        fh, owing = owed(m, name, p, head, h.start & (head.unit_shape == i), done, 1 + -(-tail // interval))
        log2 = fsize.bit_length() - 1
        cols = eng.cols
        j = Signal(log2, name=f"{name}_j")
        v = Signal(range(cols), name=f"{name}_v")
        plane = Signal(entry_bits("count"), name=f"{name}_plane")
        u = Cat(*[j[k] for k in reversed(range(log2))])
        fire = eng.o.valid
        image_end = (j == fsize - 1) & (v == cols - 1)
        m.d.comb += done.eq(fire & image_end & (plane + 1 == fh.count))
        with m.If(fire):
            m.d.sync += j.eq(j + 1)
            with m.If(j == fsize - 1):
                m.d.sync += v.eq(Mux(v == cols - 1, 0, v + 1))
                with m.If(v == cols - 1):
                    m.d.sync += plane.eq(Mux(done, 0, plane + 1))
        if keep < fsize:   # the rows a crop to ``keep`` reads: |u| <= keep / 2, stored consecutively
            hk = keep // 2
            kept_row = (u <= hk) | (u >= fsize - hk)
            row = Mux(u <= hk, u, u - (fsize - keep - 1))
        else:
            kept_row, row = Const(1), u
        kidx = Signal(aw, name=f"{name}_kidx")
        m.d.comb += kidx.eq(row * cols + v)
        waddr = fh.addr + (kidx * fh.count[:aw])[:aw] + plane
        m.d.comb += [dst.buf.eq(fh.buf), dst.base.eq(waddr[:aw]), dst.mask.eq(Const(1)), dst.en.eq(fire & kept_row),
                     dst.data[0].eq(Cat(eng.o.payload.x.re, eng.o.payload.x.im))]
        self.event(m, complete, fh, done)
        return done, owing
