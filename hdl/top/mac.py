"""The MAC sequencer: conv :class:`accel.program.Gemm` descriptors on the complex MAC array."""
from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, Value
from amaranth.lib import data

from accel.fixed.mac import CMAC_LATENCY
from accel.program import Gemm, Phase

from ..cmac import ComplexMacArray
from ..stream import complex_layout
from .layouts import BUF_BITS, REGION_BITS, bits, entry_bits
from .logic import in_effect, shift_fifo
from .params import TopParams
from .sequencer import Head, Sequencer, read_lane, walker_head, write_group


class MacSequencer(Sequencer):
    """Output-stationary tiles on :class:`hdl.cmac.ComplexMacArray`: bin major, then row
    blocks, then column blocks (``accel.fixed.mac.cmac_tiles``), one operand beat per
    cycle, edge lanes zero padded.

    Operand layout: every conv tensor is stored bin major, ``[bin][d0][d1]`` in its logical
    order (X and the output gradients ``[b][c]``, W ``[o][i]``), so the phase gives the
    strides: forward reads W transposed (``B[k = i, n = o]``), weight-gradient reads G_Y
    transposed (``A[m = o, k = b]``).  The address generator runs from the start cycle: in
    that cycle its state is the queue head's initial state (``_e`` signals: the state in
    effect this cycle).

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        The array (``rows x cols``), value and accumulator widths, rounding.

    Members
    -------
    queue, release, complete, trace
        As :class:`hdl.top.sequencer.Sequencer`'s; two releases (``a``, ``b``), one
        completion (``c``).
    a : ``Out(ReadLaneSignature(...)).array(rows)``
        One lane per array row: the A operand.
    b : ``Out(ReadLaneSignature(...)).array(cols)``
        One lane per array column: the B operand.
    c : ``Out(WriteGroupSignature(..., cols)).array(rows)``
        One result row of a tile per group.
    """

    def __init__(self, params: TopParams) -> None:
        p = params
        super().__init__(p, {"a": read_lane(p).array(p.rows), "b": read_lane(p).array(p.cols),
                             "c": write_group(p, p.cols).array(p.rows)}, releases=2, completions=1)

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.p
        vb = p.value_bits
        m.submodules.cmac = cmac = ComplexMacArray(p.rows, p.cols, vb, vb, p.acc_bits, vb, p.rounding)
        h = walker_head(m, "mac", p, self.queue)
        e, last_beat, last, rmask, cmask = self._addresses(m, h)
        cur = h.cur
        self.event(m, self.release[0], cur.r0, last)
        self.event(m, self.release[1], cur.r1, last)
        fwd, wg = cur.phase == Phase.FORWARD, cur.phase == Phase.WEIGHT_GRADIENT
        sa_m, sb_n = Mux(wg, 1, cur.k), Mux(fwd, cur.k, 1)
        for r, lane in enumerate(self.a):
            m.d.comb += [lane.buf.eq(cur.r0.buf), lane.addr.eq(e["a_beat"] + r * sa_m), lane.en.eq(h.active & rmask[r])]
        for c, lane in enumerate(self.b):
            m.d.comb += [lane.buf.eq(cur.r1.buf), lane.addr.eq(e["b_beat"] + c * sb_n), lane.en.eq(h.active & cmask[c])]
        # operand stage: the read data arrive one cycle after the addresses
        q_valid, q_rmask, q_cmask = Signal(), Signal(p.rows), Signal(p.cols)
        q_conj, q_shift, q_last = Signal(), Signal(bits(Gemm, "shift")), Signal()
        m.d.sync += [q_valid.eq(h.active), q_rmask.eq(rmask), q_cmask.eq(cmask), q_conj.eq(cur.conj),
                     q_shift.eq(cur.shift), q_last.eq(last_beat)]
        cl = complex_layout(vb)
        m.d.comb += [cmac.i.valid.eq(q_valid), cmac.i.payload.conj.eq(q_conj),
                     cmac.i.payload.last.eq(q_last), cmac.i.payload.shift.eq(q_shift)]
        for r, lane in enumerate(self.a):
            word = data.View(cl, lane.data)
            m.d.comb += [cmac.i.payload.a[r].re.eq(Mux(q_rmask[r], word.re, 0)),
                         cmac.i.payload.a[r].im.eq(Mux(q_rmask[r], word.im, 0))]
        for c, lane in enumerate(self.b):
            word = data.View(cl, lane.data)
            m.d.comb += [cmac.i.payload.b[c].re.eq(Mux(q_cmask[c], word.re, 0)),
                         cmac.i.payload.b[c].im.eq(Mux(q_cmask[c], word.im, 0))]
        tq_count, done = self._results(m, cmac, h, e, last_beat, last, rmask, cmask)
        m.d.comb += [self.trace.start.eq(h.start), self.trace.end.eq(last), self.trace.done.eq(done),
                     self.trace.idle.eq(~h.busy & ~q_valid & (tq_count == 0))]
        return m

    def _addresses(self, m: Module, h: Head) -> tuple[dict[str, Signal], Value, Value, Value, Value]:
        """The address generator: (its state in effect, last beat of a tile, last cycle of
        the occupancy, the tile's row and column masks)."""
        p, aw = self.p, self.p.addr_bits
        rows, cols = p.rows, p.cols
        head, cur = h.head, h.cur
        state = {name: Signal(w, name=f"mac_{name}") for name, w in
                 (("f", entry_bits("bins")), ("mi", bits(Gemm, "m")), ("ni", bits(Gemm, "n")),
                  ("j", bits(Gemm, "k")), ("a_bin", aw), ("a_tile", aw), ("a_beat", aw),
                  ("b_bin", aw), ("b_tile", aw), ("b_beat", aw), ("c_bin", aw), ("c_row", aw), ("c_tile", aw))}
        init = {"f": 0, "mi": 0, "ni": 0, "j": 0,
                "a_bin": head.r0.addr, "a_tile": head.r0.addr, "a_beat": head.r0.addr,
                "b_bin": head.r1.addr, "b_tile": head.r1.addr, "b_beat": head.r1.addr,
                "c_bin": head.w.addr, "c_row": head.w.addr, "c_tile": head.w.addr}
        e = in_effect(m, "mac", state, h.start, init)
        f, mi, ni, j = e["f"], e["mi"], e["ni"], e["j"]
        fwd, wg = cur.phase == Phase.FORWARD, cur.phase == Phase.WEIGHT_GRADIENT
        sa_m, sa_k = Mux(wg, 1, cur.k), Mux(wg, cur.m, 1)
        sb_k, sb_n = Mux(fwd, 1, cur.n), Mux(fwd, cur.k, 1)
        last_beat = j + 1 == cur.k
        last_n = ni + cols >= cur.n
        last_m = mi + rows >= cur.m
        last_bin = f + 1 == cur.bins
        last = h.active & last_beat & last_n & last_m & last_bin
        st = state
        with m.If(h.active):
            m.d.sync += [reg.eq(e[name]) for name, reg in state.items()]     # hold (and load at start)
            with m.If(~last_beat):
                m.d.sync += [st["j"].eq(j + 1), st["a_beat"].eq(e["a_beat"] + sa_k),
                             st["b_beat"].eq(e["b_beat"] + sb_k)]
            with m.Elif(~last_n):
                nxt = e["b_tile"] + cols * sb_n
                m.d.sync += [st["j"].eq(0), st["ni"].eq(ni + cols), st["a_beat"].eq(e["a_tile"]),
                             st["b_tile"].eq(nxt), st["b_beat"].eq(nxt), st["c_tile"].eq(e["c_tile"] + cols)]
            with m.Elif(~last_m):
                na, nc = e["a_tile"] + rows * sa_m, e["c_row"] + rows * cur.n
                m.d.sync += [st["j"].eq(0), st["ni"].eq(0), st["mi"].eq(mi + rows), st["a_tile"].eq(na),
                             st["a_beat"].eq(na), st["b_tile"].eq(e["b_bin"]), st["b_beat"].eq(e["b_bin"]),
                             st["c_row"].eq(nc), st["c_tile"].eq(nc)]
            with m.Elif(~last_bin):
                na, nb_, nc = e["a_bin"] + cur.m * cur.k, e["b_bin"] + cur.k * cur.n, e["c_bin"] + cur.m * cur.n
                m.d.sync += [st["j"].eq(0), st["ni"].eq(0), st["mi"].eq(0), st["f"].eq(f + 1),
                             st["a_bin"].eq(na), st["a_tile"].eq(na), st["a_beat"].eq(na),
                             st["b_bin"].eq(nb_), st["b_tile"].eq(nb_), st["b_beat"].eq(nb_),
                             st["c_bin"].eq(nc), st["c_row"].eq(nc), st["c_tile"].eq(nc)]
            with m.Else():
                m.d.sync += h.busy.eq(0)
        rmask = Cat(*[mi + r < cur.m for r in range(rows)])
        cmask = Cat(*[ni + c < cur.n for c in range(cols)])
        return e, last_beat, last, rmask, cmask

    def _results(self, m: Module, cmac: ComplexMacArray, h: Head, e: dict[str, Signal], last_beat: Value,
                 last: Value, rmask: Value, cmask: Value) -> tuple[Signal, Value]:
        """Tiles in flight and their write-back: (tiles in flight, the descriptor's last
        result is written this cycle)."""
        p, cur = self.p, h.cur
        rows, cols = p.rows, p.cols
        tile_layout = data.StructLayout({"addr": p.addr_bits, "n": bits(Gemm, "n"), "rmask": rows, "cmask": cols,
                                         "buf": BUF_BITS, "region": REGION_BITS, "last": 1})
        tq_depth = CMAC_LATENCY + 3                 # tiles of one beat: at most CMAC_LATENCY + 2 in flight
        tq = [Signal(tile_layout, name=f"tile_{i}") for i in range(tq_depth)]
        tq_count = Signal(range(tq_depth + 1))
        t_push = h.active & last_beat
        t_pop = cmac.o.valid
        t_new = Signal(tile_layout)
        m.d.comb += [t_new.addr.eq(e["c_tile"]), t_new.n.eq(cur.n), t_new.rmask.eq(rmask), t_new.cmask.eq(cmask),
                     t_new.buf.eq(cur.w.buf), t_new.region.eq(cur.w.region), t_new.last.eq(last)]
        shift_fifo(m, tq, tq_count, t_push, t_pop, t_new)
        th = tq[0]
        m.d.comb += cmac.o.ready.eq(1)
        for r, group in enumerate(self.c):
            m.d.comb += [group.buf.eq(th.buf), group.base.eq(th.addr + r * th.n), group.mask.eq(th.cmask),
                         group.en.eq(t_pop & th.rmask[r])]
            for c in range(cols):
                m.d.comb += group.data[c].eq(Cat(cmac.o.payload.c[r][c].re, cmac.o.payload.c[r][c].im))
        done = t_pop & th.last
        self.event(m, self.complete[0], th, done)
        return tq_count, done
