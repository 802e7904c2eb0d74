"""2-D FFT engine for real images: rows -> transpose memory -> columns, half spectra out.

Bit-exact with :func:`accel.fixed.fft2d.fft2d_half`; the timing is
:func:`accel.fixed.fft2d.fft2d_latency` / :func:`~accel.fixed.fft2d.fft2d_cycles`
(measured by ``tests/hdl/test_fft2d.py``).

Structure (two instances of the 1-D pipeline :class:`hdl.fft.FFT`, so that the row pass
of one image overlaps the column pass of the previous one)::

    i (real samples, row-major) -> row FFT -> writer -> transpose memory (2 banks)
        -> reader (<< normalization shift) -> column FFT -> o (address-tagged bins)

* **Row pass.**  Each image row enters the row pipeline with imaginary part 0.  The
  pipeline emits a row's spectrum in bit-reversed order; the writer undoes that order
  through the memory address: output position ``j`` holds bin ``v = bitrev(j)``, which
  is written (only if ``v < cols``, the columns the column pass needs) at
  ``bank * cols * n + v * n + u`` for row ``u`` -- the memory is column-major, so every
  column is ``n`` consecutive words.  The writer also ORs ``|re| | |im|`` of every kept
  bin: the bit length of that OR is the bit length of the block's peak, from which the
  left shift of :func:`accel.fixed.fft2d.block_normalize` follows when the image is
  complete.
* **Column pass.**  When a bank holds a complete image the reader streams its ``cols``
  columns in order, shifts each sample left by the image's normalization shift (exact:
  the shift is what the peak leaves free) and feeds the column pipeline.  A bank is
  released to the writer as soon as its last word is read.
* **Output.**  The column pipeline's bins leave in its bit-reversed row order, each
  tagged with its place in the ``n x (n/2 + 1)`` rfft2 half spectrum (``addr = u *
  (n/2 + 1) + v``, natural indices), so a consumer writing them to a buffer holds the
  half spectrum in natural order.  Columns ``cols..n/2`` (cut by a following crop,
  ``keep``) are neither computed nor emitted: the model's zeros there are never read.
  ``shift`` (the image's normalization shift) rides with every bin: the output
  exponent is ``input exponent + 2 log2 n - shift``.

Flow control: gaps on ``i`` and backpressure on ``o`` are allowed at any time.  The
writer stalls the row pipeline only while its bank still awaits the reader, which
never happens with a free-flowing output (the column pass of an image, ``cols * n``
cycles, is shorter than the row pass of the next, ``n * n``).  The reader runs behind a
skid buffer whose registered ``ready`` is its clock enable, like the 1-D pipeline.
"""
from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.hdl import Cat, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from accel.fixed.fft import GUARD_BITS, fft_latency
from accel.fixed.fft2d import column_count

from .fft import FFT, LUTRAM_MAX_DEPTH
from .stream import SkidBuffer, complex_layout

__all__ = ["FFT2D"]


def _bitrev(v, bits: int):
    """``v``'s low ``bits`` bits in reverse order."""
    return Cat(*[v[k] for k in reversed(range(bits))])


class FFT2D(wiring.Component):
    """Forward 2-D FFT of real ``n x n`` images to half spectra, rows then kept columns.

    Parameters
    ----------
    n : int
        Image size, a power of two from 4 to 1024.
    keep : int or None
        Size of the spectral crop that follows (even, ``< n``): only columns
        ``0..keep/2`` are transformed and emitted.  ``None`` (or ``>= n``): all
        ``n/2 + 1`` columns.
    data_bits, twiddle_bits, guard_bits, dsp :
        As :class:`hdl.fft.FFT` (both pipelines use them).

    Members
    -------
    i : ``In(stream.Signature(signed(data_bits)))``
        Real image samples, row-major, ``n * n`` per image, images back to back.
    o : ``Out(stream.Signature(...))``
        ``cols * n`` bins per image (``cols = column_count(n, keep)``), column by column
        (``v = 0..cols-1``), rows of a column in bit-reversed order.  Payload fields:
        ``addr`` (``u * (n/2 + 1) + v``), ``x`` (complex ``data_bits``), ``shift`` (the
        image's normalization left shift: exponent = input exponent + 2 log2 n - shift),
        ``last`` (the image's final bin).
    """

    def __init__(self, n: int, *, keep: int | None = None, data_bits: int = 16,
                 twiddle_bits: int = 18, guard_bits: int = GUARD_BITS,
                 dsp: str = "generic") -> None:
        fft_latency(n)  # validates n
        if keep is not None and keep < n and (keep < 2 or keep % 2):
            raise ValueError(f"keep: expected an even size >= 2 or None, got {keep!r}")
        self.n, self.keep, self.cols = n, keep, column_count(n, keep)
        self.data_bits, self.twiddle_bits = data_bits, twiddle_bits
        self.guard_bits, self.dsp = guard_bits, dsp
        out_layout = data.StructLayout({
            "addr": unsigned((n * (n // 2 + 1) - 1).bit_length()),
            "x": complex_layout(data_bits),
            "shift": unsigned((data_bits - 1).bit_length()),
            "last": 1,
        })
        super().__init__({"i": In(stream.Signature(signed(data_bits))),
                          "o": Out(stream.Signature(out_layout))})

    def _fft(self) -> FFT:
        return FFT(self.n, data_bits=self.data_bits, twiddle_bits=self.twiddle_bits,
                   guard_bits=self.guard_bits, dsp=self.dsp)

    def elaborate(self, platform) -> Module:
        m = Module()
        n, B, C = self.n, self.data_bits, self.cols
        p = n.bit_length() - 1
        words = C * n  # one bank
        shift_shape = self.o.payload.shift.shape()

        m.submodules.row = row = self._fft()
        m.submodules.col = col = self._fft()
        m.d.comb += [row.i.valid.eq(self.i.valid), row.i.payload.re.eq(self.i.payload),
                     row.i.payload.im.eq(0), self.i.ready.eq(row.i.ready)]

        depth = 2 * words
        m.submodules.tmem = tmem = Memory(
            shape=complex_layout(B), depth=depth, init=[],
            attrs={"ram_style": "distributed" if depth <= LUTRAM_MAX_DEPTH * 4 else "block"})
        wp = tmem.write_port()
        rp = tmem.read_port(domain="sync")
        full = Signal(2)  # bank holds a complete image the reader has not finished
        bank_shift = [Signal(shift_shape, name=f"bank{b}_shift") for b in range(2)]

        # ---- writer: W1 registers the bin and its address, W2 writes and tracks the peak
        wbank = Signal()
        wj = Signal(p)  # position in the row pipeline's (bit-reversed) output
        wu = Signal(p)  # row
        m.d.comb += row.o.ready.eq(~full.bit_select(wbank, 1))
        take = row.o.valid & row.o.ready
        v_bin = _bitrev(wj, p)
        w1_valid, w1_keep, w1_last, w1_bank = Signal(), Signal(), Signal(), Signal()
        w1_addr = Signal(range(2 * words))
        w1_data = Signal(complex_layout(B))
        w1_mag = Signal(unsigned(B))
        peak = Signal(unsigned(B))  # OR of the magnitudes written so far
        m.d.sync += w1_valid.eq(take)
        with m.If(take):
            m.d.sync += [
                wj.eq(wj + 1),
                w1_keep.eq(v_bin < C), w1_last.eq((wj == n - 1) & (wu == n - 1)),
                w1_bank.eq(wbank),
                w1_addr.eq(Mux(wbank, words, 0) + Cat(wu, v_bin)),
                w1_data.eq(row.o.payload),
                w1_mag.eq(abs(row.o.payload.re) | abs(row.o.payload.im)),
            ]
            with m.If(wj == n - 1):
                m.d.sync += wu.eq(wu + 1)
                with m.If(wu == n - 1):
                    m.d.sync += wbank.eq(~wbank)
        m.d.comb += [wp.addr.eq(w1_addr), wp.data.eq(w1_data),
                     wp.en.eq(w1_valid & w1_keep)]
        final = Signal(unsigned(B))
        m.d.comb += final.eq(peak | Mux(w1_keep, w1_mag, 0))
        bitlen = Signal(range(B + 1))
        for k in range(B):
            with m.If(final[k]):
                m.d.comb += bitlen.eq(k + 1)
        norm = Mux((final == 0) | (bitlen >= B - 1), 0, B - 1 - bitlen)
        with m.If(w1_valid):
            with m.If(w1_last):
                m.d.sync += [peak.eq(0), full.bit_select(w1_bank, 1).eq(1)]
                for b in range(2):
                    with m.If(w1_bank == b):
                        m.d.sync += bank_shift[b].eq(norm)
            with m.Else():
                m.d.sync += peak.eq(final)

        # ---- reader: issue (R0) -> memory read register (R1) -> fabric register (R2) ->
        # shift (R3) -> skid; R2 keeps a block RAM's slow clock-to-output off the shifter
        m.submodules.rskid = rskid = SkidBuffer(complex_layout(B))
        rce = rskid.i.ready
        queue_depth = 2 + -(-(fft_latency(n) + 8) // words)
        m.submodules.shq = shq = SyncFIFO(width=shift_shape.width, depth=queue_depth)
        rbank, ractive = Signal(), Signal()
        rk = Signal(range(words))
        rshift = Signal(shift_shape)
        start = ~ractive & full.bit_select(rbank, 1) & shq.w_rdy
        m.d.comb += [shq.w_en.eq(start), shq.w_data.eq(Mux(rbank, bank_shift[1], bank_shift[0]))]
        with m.If(start):
            m.d.sync += [ractive.eq(1), rk.eq(0), rshift.eq(shq.w_data)]
        issue = ractive & rce
        m.d.comb += [rp.addr.eq(Mux(rbank, words, 0) + rk), rp.en.eq(rce)]
        with m.If(issue):
            m.d.sync += rk.eq(rk + 1)
            with m.If(rk == words - 1):
                m.d.sync += [ractive.eq(0), rbank.eq(~rbank), full.bit_select(rbank, 1).eq(0)]
        r1_valid, r2_valid, r3_valid = Signal(), Signal(), Signal()
        r1_shift = Signal(shift_shape)
        r2_shift = Signal(shift_shape)
        r2_data = Signal(complex_layout(B), reset_less=True)
        r3_data = Signal(complex_layout(B), reset_less=True)
        with m.If(rce):
            m.d.sync += [r1_valid.eq(issue), r1_shift.eq(rshift),
                         r2_valid.eq(r1_valid), r2_shift.eq(r1_shift), r2_data.eq(rp.data),
                         r3_valid.eq(r2_valid),
                         r3_data.re.eq((r2_data.re << r2_shift)[:B]),
                         r3_data.im.eq((r2_data.im << r2_shift)[:B])]
        m.d.comb += [rskid.i.valid.eq(r3_valid), rskid.i.payload.eq(r3_data)]
        wiring.connect(m, rskid.o, col.i)

        # ---- output: tag each column-pipeline bin with its rfft2 address
        oj = Signal(p)              # position in the column pipeline's output
        ov = Signal(range(C))       # column
        oaddr = Signal.like(self.o.payload.addr)  # address of the bin at position (oj, ov)
        last = (oj == n - 1) & (ov == C - 1)
        fire = self.o.valid & self.o.ready
        m.d.comb += [
            self.o.valid.eq(col.o.valid), col.o.ready.eq(self.o.ready),
            self.o.payload.x.eq(col.o.payload), self.o.payload.addr.eq(oaddr),
            self.o.payload.shift.eq(shq.r_data), self.o.payload.last.eq(last),
            shq.r_en.eq(fire & last),
        ]
        nj = Signal(p)
        nv = Signal(range(C))
        m.d.comb += [nj.eq(oj + 1), nv.eq(Mux(oj == n - 1, Mux(ov == C - 1, 0, ov + 1), ov))]
        u_next = _bitrev(nj, p)
        with m.If(fire):
            m.d.sync += [oj.eq(nj), ov.eq(nv), oaddr.eq((u_next << (p - 1)) + u_next + nv)]
        return m
