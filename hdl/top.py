"""The accelerator's datapath and sequencer: executes the descriptor words of ``sim/schedule.py``.

:class:`Top` holds, for one accelerator configuration, the on-chip buffers (one per
``sram`` entry, named after it, one complex value per word, banked: see below), the
complex MAC array (:class:`hdl.cmac.ComplexMacArray`), the PWL activation lanes
(:class:`hdl.act.PwlActivation`), a crop and a pad unit per pooling shape
(:class:`hdl.crop.SpectralCrop`, :class:`hdl.crop.SpectralPad`) and a sequencer that runs
the binary descriptors of :mod:`accel.program` under exactly the issue rules the cycle model (``sim/engine.py``)
uses, so that both give the same start, end and completion cycle for every transaction:

* **dispatch**: descriptors arrive on the ``desc`` stream (one 256-bit descriptor per beat)
  into a decode register, and are dispatched in program order, at most one per cycle, into
  the target unit's queue of :data:`accel.program.QUEUE_DEPTH` entries; dispatch waits
  while the queue is full, and a slot frees in the cycle its descriptor starts;
* **scoreboard**: per buffer region (``Ref.region``), four wrapping counters -- writes
  dispatched / completed, reads dispatched / released.  At dispatch a descriptor records,
  for each region it reads, the writes dispatched before it, and for the region it writes,
  the reads dispatched before it; it starts when the completed writes (released reads)
  have caught up.  That is the cycle model's rule (a read waits for the region's last
  write, a write for every earlier read): a later write cannot complete before an earlier
  read has been released, so counting completions counts exactly the earlier ones;
* **start**: a unit starts its queue head ``DISPATCH_TO_START`` cycles after dispatch at
  the earliest, when it is free and the scoreboard allows.  Its occupancy is the cycles in
  which it presents operand addresses (one beat per cycle); it releases its read regions
  at the end of them; its writes complete when the last result is written (readable the
  next cycle: ``BUFFER_READ_CYCLES`` + the unit's latency after the occupancy).

Units and the descriptors they execute (the others are rejected by the decoder):

* ``mac``: :class:`accel.program.Gemm` of kind ``CONV`` -- output-stationary tiles, bin
  major, then row blocks, then column blocks (``accel.fixed.mac.cmac_tiles``), one operand
  beat per cycle, edge lanes zero padded.  Operand layout: every conv tensor is stored bin
  major, ``[bin][d0][d1]`` in its logical order (X and the output gradients ``[b][c]``,
  W ``[o][i]``), so the phase gives the strides: forward reads W transposed
  (``B[k = i, n = o]``), weight-gradient reads G_Y transposed (``A[m = o, k = b]``);
* ``act``: :class:`accel.program.Act` of function ``PWL``, forward and backward, ``lanes``
  values per beat at consecutive addresses;
* ``crop``: :class:`accel.program.Crop`, forward (crop) and adjoint (pad), for the
  ``(n, m)`` shapes in ``TopParams.pools``: a walker streams each plane's half spectrum
  through the instance of the descriptor's shape, one bin per cycle (``Top._crop_unit``).
  Operands are bin major over the descriptor's ``count`` planes, holding the bins their
  consumer reads (``accel.fixed.top``): the crop reads a crop-aware layer's kept bins and
  writes the whole pooled spectrum, the pad the reverse.  A pool whose pooled side is a
  crop-aware conv layer (lenet's pool1 before conv2) would need that side to hold only
  the next layer's kept bins, which the descriptor does not say: such a chain is not
  laid out consistently yet (the tests run pools whose pooled side is whole);
* ``fft``: forward :class:`accel.program.Fft2d` on the engine built for its
  ``(size, keep)`` (``TopParams.ffts``; one engine each, so ``fft.count`` must be 1): a
  walker streams the stored samples one per cycle (``Top._fft_unit``).

Not in the top (rejected by the loader and the decoder): the inverse 2-D FFT (no RTL yet),
the sinc and dense GEMMs and the bias (they need the coefficient ROM and the classifier's
real layout), the update, and DRAM transfers.  The top runs the part of an iteration held
on chip, and does not block-normalize: outputs keep the exponent their unit gives them
(an FFT plane its engine's), which ``accel.fixed.top`` models.

Buffers: every unit lane can read or write any word of any buffer in every cycle, so the
units never wait for a port, and the top agrees with the cycle model on programs whose
descriptors the model does not find port-bound (its ``banks`` do not bind).  Each buffer
is ``2 ** bank_bits`` interleaved banks (word ``a`` in bank ``a mod banks``), as many as
the widest run of consecutive words one access group touches in a cycle: a MAC result
row (``cols`` words) or a PWL beat (``lanes`` words).  Such a group meets every bank at
most once, so it takes one port per bank and a rotation, however many lanes it has: per
buffer, ``rows`` result-row groups, the PWL's y group and the host write one word per
bank each (was ``rows * cols + lanes + 1`` single-word write ports), and the x and g
groups read one.  The MAC operand lanes (``rows + cols``), the crop walker and the host
read have a port on every bank: they read with strides of any ``k`` or ``m`` words (the forward GEMM reads
the weights transposed, the weight-gradient GEMM the output gradient), for which no bank
mapping is conflict-free, and a conflict would stall a unit for a cycle the cycle model
-- whose ``banks`` bound a descriptor's aggregate word rate -- does not have.  No FPGA
RAM has that many ports, so synthesis builds the buffers from flip-flops with a read
multiplexer per port and a write multiplexer per word: the cost grows with words x
ports (about 550 LUT4 per word with the crop and FFT walkers' ports), which is why
``fdaccel synth`` measures the top with 4-word buffers (:func:`hdl.build.synth_top_params`).  The default configuration's Verilog (192 KB of
buffers) is for simulation; about 40% of its text is the buffers' zero initial contents,
one line per word, which Amaranth always emits.

Programs are checked before they run (:func:`program_words`: every
:func:`accel.program.validate` rule, plus what this top can execute: kinds, region ids,
operand extents inside their buffers, whole-matrix GEMM blocks); the decoder also flags
what is cheap to check in hardware (:data:`ERRORS`) and then stops dispatching, so a bad
descriptor is never executed.
"""
from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accel.config import AcceleratorConfig, ConfigError
from accel.fixed.act import ACT_LATENCY
from accel.fixed.crop import CROP_LATENCY, check_sizes, crop_latency_cycles, crop_pass_cycles, pad_pass_cycles
from accel.fixed.fft2d import fft2d_interval, fft2d_latency
from accel.fixed.mac import CMAC_LATENCY
from accel.program import (
    BUFFER_READ_CYCLES,
    DESCRIPTOR_BITS,
    OPCODE_BITS,
    QUEUE_DEPTH,
    ROM,
    Act,
    ActFunction,
    Crop,
    Descriptor,
    Fft2d,
    Gemm,
    GemmKind,
    Phase,
    Program,
    ProgramError,
    encode,
    field_bits,
    validate,
)

from .act import PwlActivation
from .cmac import ComplexMacArray
from .crop import SpectralCrop, SpectralPad
from .fft2d import FFT2D

#: Units of the top, in trace order (bit i of ``start``/``end``/``done``).
TOP_UNITS = ("mac", "act", "crop", "fft")
#: Decoder error codes (``error_code``), in priority order.
ERRORS = {1: "unsupported opcode", 2: "unsupported kind, function or phase", 3: "buffer index out of range",
          4: "region id out of range", 5: "address past the buffer", 6: "empty work (a size field is 0)",
          7: "shift past the accumulator", 8: "blocked GEMM (m0 or n0 not 0)", 9: "crop or FFT shape not built"}

_GEMM = field_bits(Gemm)
_ACT = field_bits(Act)
_CROP = field_bits(Crop)
_FFT = field_bits(Fft2d)
# Crop and Fft2d keep src and dst at the same bits
assert all(_CROP[f"{r}.{p}"] == _FFT[f"{r}.{p}"] for r in ("src", "dst") for p in ("buf", "region", "addr"))
# both kinds keep their three buffer operands at the same bits (checked here once)
assert all(_GEMM[f"{g}.{p}"] == _ACT[f"{a}.{p}"] for g, a in zip("abc", "xgy") for p in ("buf", "region", "addr"))


@dataclass(frozen=True)
class TopParams:
    """What the top is built for: array, lanes, formats, buffers and scoreboard size."""
    rows: int
    cols: int
    lanes: int
    segments: int
    value_bits: int
    acc_bits: int
    rounding: str
    buffers: tuple[tuple[str, int], ...]     # (name, depth in words)
    regions: int
    pools: tuple[tuple[int, int], ...] = ()  # (n, m) of each crop/pad pair
    ffts: tuple[tuple[int, int], ...] = ()   # (size, keep) of each forward 2-D FFT engine
    twiddle_bits: int = 18

    @classmethod
    def from_accel(cls, accel: AcceleratorConfig, regions: int = 64,
                   pools: Sequence[tuple[int, int]] | None = None,
                   ffts: Sequence[tuple[int, int]] | None = None) -> TopParams:
        """The top of ``accel``: one complex value per buffer word, so the data, weight and
        gradient formats must be equal and half the word width (ConfigError otherwise).
        ``pools``: the spectral-pooling shapes ``(n, m)`` it gets a crop and a pad unit for
        (default: the largest transform halved, ``fft.max_points -> max_points / 2``, as
        ``fdaccel verilog``'s ``crop.v`` and ``pad.v``); ``ffts``: the ``(size, keep)`` of
        the forward 2-D FFT engines (``keep == size``: every column; default: one engine of
        ``fft.max_points``, as ``fft2d.v``).  The top builds one engine per shape: it runs
        ``Fft2d`` descriptors when ``fft.count`` is 1."""
        f = accel.formats
        if not f.data_bits == f.weight_bits == f.grad_bits:
            raise ConfigError(f"formats: the top needs data_bits == weight_bits == grad_bits, got "
                              f"{f.data_bits}, {f.weight_bits}, {f.grad_bits}")
        for i, s in enumerate(accel.sram):
            if s.word_bits != 2 * f.data_bits:
                raise ConfigError(f"sram[{i}].word_bits: the top stores one complex value per word "
                                  f"(2 x data_bits = {2 * f.data_bits}), got {s.word_bits}")
        if len(accel.sram) > ROM:
            raise ConfigError(f"sram: at most {ROM} buffers, got {len(accel.sram)}")
        if not 1 <= regions <= 256:
            raise ConfigError(f"regions: expected 1..256, got {regions}")
        n = accel.fft.max_points
        pools = ((n, n // 2),) if pools is None else tuple((int(a), int(b)) for a, b in pools)
        for i, (a, b) in enumerate(pools):
            try:
                check_sizes(a, b)
            except ValueError as exc:
                raise ConfigError(f"pools[{i}]: {exc}") from None
        if len(set(pools)) != len(pools):
            raise ConfigError(f"pools: each (n, m) once, got {list(pools)}")
        ffts = ((n, n),) if ffts is None else tuple((int(a), int(b)) for a, b in ffts)
        for i, (size, keep) in enumerate(ffts):
            if size < 4 or size > n or size & (size - 1):
                raise ConfigError(f"ffts[{i}]: size must be a power of two 4..fft.max_points={n}, got {size}")
            if keep != size and not (2 <= keep < size and keep % 2 == 0):
                raise ConfigError(f"ffts[{i}]: keep must be the size or an even 2..size-2, got {keep}")
        if len(set(ffts)) != len(ffts):
            raise ConfigError(f"ffts: each (size, keep) once, got {list(ffts)}")
        return cls(accel.mac_array.rows, accel.mac_array.cols, accel.activation.lanes, accel.activation.segments,
                   f.data_bits, accel.mac_array.acc_bits, f.rounding,
                   tuple((s.name, int(s.kbytes * 1024 * 8) // s.word_bits) for s in accel.sram), regions, pools,
                   ffts, f.twiddle_bits)


def _extents(d: Descriptor) -> list[tuple[str, int]]:
    """(operand, words) of every buffer operand the top touches."""
    if isinstance(d, Gemm):
        return [("a", d.bins * d.m * d.k), ("b", d.bins * d.k * d.n), ("c", d.bins * d.m * d.n)]
    if isinstance(d, Crop):
        big, small = (d.m + 1) * (d.m // 2 + 1), d.m * (d.m // 2 + 1)
        return [("src", d.count * (small if d.adjoint else big)), ("dst", d.count * (big if d.adjoint else small))]
    if isinstance(d, Fft2d):
        bins = d.size * (d.size // 2 + 1) if d.keep >= d.size else (d.keep + 1) * (d.keep // 2 + 1)
        return [("src", -(-d.images * d.n * d.n // 2)), ("dst", d.images * bins)]
    out = [("x", d.count), ("y", d.count)]
    return out + [("g", d.count)] if d.backward else out


def check_descriptor(d: Descriptor, accel: AcceleratorConfig, p: TopParams) -> None:
    """Reject (ProgramError, naming kind and field) a descriptor this top cannot execute:
    :func:`accel.program.validate`'s rules, then the top's own (kinds, regions, extents)."""
    validate(d, accel)
    kind = type(d).__name__
    if isinstance(d, Gemm):
        if d.kind != GemmKind.CONV or d.phase == Phase.UPDATE:
            raise ProgramError(f"Gemm.kind: the top runs conv GEMMs of the forward, backward-data and "
                               f"weight-gradient phases, got {d.kind.name} ({d.phase.label})")
        if d.m0 or d.n0:
            raise ProgramError(f"Gemm.m0: the top runs whole-matrix GEMMs (m0 = n0 = 0), got {d.m0}, {d.n0}")
    elif isinstance(d, Act):
        if d.function != ActFunction.PWL:
            raise ProgramError(f"Act.function: the top's lanes run PWL, got {d.function.name}")
    elif isinstance(d, Crop):
        if (d.n, d.m) not in p.pools:
            raise ProgramError(f"Crop.n: the top has crop units for {list(p.pools)} (n, m), got ({d.n}, {d.m})")
    elif isinstance(d, Fft2d):
        if d.inverse:
            raise ProgramError("Fft2d.inverse: the top's FFT engines run the forward transform")
        if accel.fft.count != 1:
            raise ProgramError(f"Fft2d: the top builds one FFT engine per shape, fft.count is {accel.fft.count}")
        if (d.size, min(d.keep, d.size)) not in p.ffts:
            raise ProgramError(f"Fft2d.size: the top has FFT engines for {list(p.ffts)} (size, keep), "
                               f"got ({d.size}, {d.keep})")
    else:
        raise ProgramError(f"{kind}: not executable by the top (it runs Gemm, Act, Crop and Fft2d descriptors)")
    for name, words in _extents(d):
        ref = getattr(d, name)
        if ref.buf == ROM:
            raise ProgramError(f"{kind}.{name}.buf: the top has no coefficient ROM")
        if ref.region >= p.regions:
            raise ProgramError(f"{kind}.{name}.region: {ref.region} is past the scoreboard's {p.regions} regions")
        depth = p.buffers[ref.buf][1]
        if ref.addr + words > depth:
            raise ProgramError(f"{kind}.{name}: words {ref.addr}..{ref.addr + words - 1} are past buffer "
                               f"{p.buffers[ref.buf][0]!r} ({depth} words)")


def program_words(program: Program, accel: AcceleratorConfig, p: TopParams) -> list[int]:
    """The program as ``desc`` stream beats (one 256-bit int per descriptor, word 0 in the
    low bits), after :func:`check_descriptor` on every descriptor (ProgramError names the
    first bad one and never returns a partial program)."""
    out = []
    for i, d in enumerate(program.descriptors):
        try:
            check_descriptor(d, accel, p)
        except ProgramError as exc:
            raise ProgramError(f"descriptor {i}: {exc}") from None
        out.append(sum(w << (32 * j) for j, w in enumerate(encode(d))))
    return out


def _select(items: Sequence, index: Value, width: int) -> Value:
    """``items[index]`` over every value of ``index``'s low ``max(1, ceil_log2(len(items)))``
    bits: the list is padded with zeros to a power of two, so the emitted ``case`` covers
    every pattern (Verilator's CASEINCOMPLETE) and no out-of-range index reads an
    undefined value.  Callers only use the result for in-range indices (the decoder
    rejects the others before they are dispatched)."""
    bits = max(1, ceil_log2(len(items)))
    padded = list(items) + [Const(0, width)] * ((1 << bits) - len(items))
    return Array(padded)[index[:bits]]


def _ref_layout(aw: int) -> data.StructLayout:
    return data.StructLayout({"buf": 3, "region": 8, "addr": aw})


class Top(wiring.Component):
    """Buffers, MAC array, PWL lanes and the descriptor sequencer (see the module docstring).

    Parameters
    ----------
    params : :class:`TopParams` (``TopParams.from_accel(accel)``).

    Members
    -------
    desc : ``In(stream.Signature(256))``
        Descriptors, one per beat (:func:`program_words`).  Keep ``valid`` high while
        descriptors remain (a preloaded program): the dispatch timing then equals the cycle
        model's, whose time 0 is the cycle descriptor 0 is dispatched.
    host_we, host_buf, host_addr, host_wdata : ``In``
        Host write port into every buffer (load operands before the program runs); one
        word per cycle, ``re`` in the low half.
    host_rdata : ``Out(2 * value_bits)``
        Host read port: the word at ``host_buf``/``host_addr`` of the previous cycle.
    table_we, table_addr, table_data : ``In``
        PWL table write port (:class:`hdl.act.PwlActivation`'s ``wr_*``); load before the
        program runs.
    dispatch : ``Out(1)``
        A descriptor is dispatched this cycle.
    start, end, done : ``Out(len(TOP_UNITS))``
        Per unit (:data:`TOP_UNITS`): a transaction starts this cycle; this is the last
        cycle of its occupancy (the cycle model's ``end`` is the next cycle); its last
        result is written this cycle (the model's ``done`` is the next cycle).
    error : ``Out(1)``, error_code : ``Out(4)``
        The decoder found a descriptor it cannot execute (:data:`ERRORS`); sticky, nothing
        is dispatched after it.
    idle : ``Out(1)``
        No descriptor held (but a rejected one), queued, running or with results in flight.
    """

    def __init__(self, params: TopParams) -> None:
        self.p = params
        depth_max = max(d for _, d in params.buffers)
        self.aw = max(1, ceil_log2(depth_max + 1))
        vb = params.value_bits
        #: log2 of the banks per buffer: enough for the widest group of consecutive words
        #: accessed in one cycle (a MAC result row, a PWL beat).
        self.bank_bits = ceil_log2(max(params.cols, params.lanes))
        banks = 1 << self.bank_bits
        #: The on-chip buffers, named like the configuration's ``sram`` entries: per buffer,
        #: its banks (word ``a`` is word ``a >> bank_bits`` of bank ``a mod banks``).
        self.buffers = [[memory.Memory(shape=2 * vb, depth=max(1, -(-depth // banks)), init=[])
                         for _ in range(banks)] for _, depth in params.buffers]
        super().__init__({
            "desc": In(stream.Signature(DESCRIPTOR_BITS)),
            "host_we": In(1), "host_buf": In(3), "host_addr": In(self.aw), "host_wdata": In(2 * vb),
            "host_rdata": Out(2 * vb),
            "table_we": In(1), "table_addr": In(range(3 * params.segments - 1)),
            "table_data": In(signed(max(vb + 1, 16))),
            "dispatch": Out(1), "start": Out(len(TOP_UNITS)), "end": Out(len(TOP_UNITS)),
            "done": Out(len(TOP_UNITS)), "error": Out(1), "error_code": Out(4), "idle": Out(1),
        })

    def word(self, buf: int, addr: int) -> Value:
        """Word ``addr`` of buffer ``buf`` (its bank's storage element, for simulators)."""
        return self.buffers[buf][addr & ((1 << self.bank_bits) - 1)].data[addr >> self.bank_bits]

    # ------------------------------------------------------------------ helpers
    def _entry_layout(self) -> data.StructLayout:
        ref = _ref_layout(self.aw)
        return data.StructLayout({
            "r0": ref, "r1": ref, "w": ref, "r1_active": 1,
            "wait_r0": 8, "wait_r1": 8, "wait_w": 8,
            "phase": 2, "bins": 24, "m": 17, "n": 13, "k": 17, "conj": 1, "shift": 6,
            "count": 32, "backward": 1, "adjoint": 1,
            "unit_shape": max(1, ceil_log2(max(1, len(self.p.pools), len(self.p.ffts)))),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.p
        nb, R, aw, vb = len(p.buffers), p.regions, self.aw, p.value_bits
        rows, cols, lanes = p.rows, p.cols, p.lanes
        entry = self._entry_layout()

        # ---------------------------------------------------------------- buffers and ports
        # Every buffer is ``B`` interleaved banks (word ``a`` in bank ``a mod B``), B >= the
        # widest contiguous access.  A lane that reads at any address (the MAC operands,
        # the host) has a port on every bank; a group of lanes that reads or writes
        # consecutive words (the PWL x, g, y beats; one row of a MAC result tile; the
        # host's single word) meets every bank at most once, so it needs one port per bank
        # and a rotation.  No access ever waits: the timing is that of one port per lane.
        W, s_b = 2 * vb, self.bank_bits
        B = 1 << s_b
        lo = (lambda a: a[:s_b]) if s_b else (lambda a: Const(0, 1))             # noqa: E731
        for b, banks in enumerate(self.buffers):
            for k, bank in enumerate(banks):
                m.submodules[f"buf_{p.buffers[b][0]}_{k}"] = bank

        def named(value: Value, name: str) -> Signal:
            """``value`` in a signal of its own, so every buffer's ports share one copy."""
            sig = Signal(len(value), name=name)
            m.d.comb += sig.eq(value)
            return sig

        def read_lane(buf, addr, en) -> Value:
            """The word at (``buf``, ``addr``), ``en`` this cycle: valid the next cycle."""
            sel_q = Signal(3 + max(1, s_b))
            m.d.sync += sel_q.eq(Cat(lo(addr), buf) if s_b else Cat(Const(0, 1), buf))
            bank_q, buf_q = sel_q[:max(1, s_b)], sel_q[max(1, s_b):]
            row = named(addr >> s_b, "rd_row")
            hits = [named(en & (lo(addr) == k), "rd_hit") for k in range(B)]
            per_buf = []
            for b, banks in enumerate(self.buffers):
                ports = [bank.read_port() for bank in banks]
                for k, port in enumerate(ports):
                    m.d.comb += [port.addr.eq(row), port.en.eq(hits[k] & (buf == b))]
                per_buf.append(_select([pt.data for pt in ports], bank_q, W))
            return _select(per_buf, buf_q, W)

        def group_slots(base, width: int, en, mask=None) -> list[tuple[Value, Value, Value]]:
            """Per bank ``k``, for a group of ``width <= B`` consecutive words from ``base``:
            (the group's lane in bank k, its address in bank k, whether bank k is accessed:
            ``en``, the lane exists and its ``mask`` bit is set)."""
            out = []
            for k in range(B):
                lane = named((Const(k, s_b) - lo(base))[:s_b], "grp_lane") if s_b else Const(0, 1)
                # words of the group before its start's bank wrap to the next bank row
                addr = named((base >> s_b) + (lo(base) > k) if k < B - 1 else base >> s_b, "grp_row")
                use = en & (lane < width) if width < B else en
                if mask is not None:
                    use = use & _select(list(mask), lane, 1)
                out.append((lane, addr, named(use, "grp_en")))
            return out

        def read_group(buf, base, width: int, en) -> list[Value]:
            """Words ``base .. base + width - 1`` of ``buf``, ``en`` this cycle: valid the next."""
            base_q, buf_q = Signal(max(1, s_b)), Signal(3)
            m.d.sync += [base_q.eq(lo(base)), buf_q.eq(buf)]
            slots = group_slots(base, width, en)
            per_buf = []
            for b, banks in enumerate(self.buffers):
                ports = [bank.read_port() for bank in banks]
                for port, (_, addr, use) in zip(ports, slots):
                    m.d.comb += [port.addr.eq(addr), port.en.eq(use & (buf == b))]
                per_buf.append([pt.data for pt in ports])
            by_bank = [named(_select([d[k] for d in per_buf], buf_q, W), "grp_rdata") for k in range(B)]
            return [_select(by_bank, (base_q + i)[:max(1, s_b)], W) for i in range(width)]

        def write_group(buf, base, values: list, mask, en) -> None:
            """Write ``values[i]`` to word ``base + i`` of ``buf`` where ``en & mask[i]``."""
            slots = group_slots(base, len(values), en, mask)
            wdata = [named(_select(values, lane, W), "grp_wdata") for lane, _, _ in slots]
            for b, banks in enumerate(self.buffers):
                for bank, (_, addr, use), value in zip(banks, slots, wdata):
                    port = bank.write_port()
                    m.d.comb += [port.addr.eq(addr), port.data.eq(value), port.en.eq(use & (buf == b))]

        m.d.comb += self.host_rdata.eq(read_lane(self.host_buf, self.host_addr, Const(1)))
        write_group(self.host_buf, self.host_addr, [self.host_wdata], Cat(Const(1)), self.host_we)

        # ---------------------------------------------------------------- scoreboard counters
        def counters(name: str) -> list[list[Signal]]:
            return [[Signal(8, name=f"{name}_{p.buffers[b][0]}_{r}") for r in range(R)] for b in range(nb)]

        w_iss, w_done, r_iss, r_rel = (counters(n) for n in ("w_iss", "w_done", "r_iss", "r_rel"))
        rb = max(1, ceil_log2(R))

        def count_of(table: list[list[Signal]], ref) -> Value:
            """The counter of ``ref``'s (buffer, region): one complete case over the low
            region and buffer bits (regions padded to a power of two)."""
            flat = [c for row in table for c in row + [Const(0, 8)] * ((1 << rb) - R)]
            return _select(flat, Cat(ref.region[:rb], ref.buf[:max(1, ceil_log2(nb))]), 8)

        # increment events: (counter table, buf, region, enable), summed per counter
        events: dict[int, list] = {id(t): [] for t in (w_iss, w_done, r_iss, r_rel)}

        def bump(table, ref, en) -> None:
            events[id(table)].append((ref.buf, ref.region, en))

        # ---------------------------------------------------------------- decode register
        raw = Signal(DESCRIPTOR_BITS)
        held = Signal()
        err, err_code = Signal(), Signal(4)
        m.d.comb += [self.error.eq(err), self.error_code.eq(err_code)]

        def fld(name: str, fields=_GEMM):
            lo, bits = fields[name]
            return raw[lo:lo + bits]

        opcode = raw[:OPCODE_BITS]
        is_gemm = opcode == Gemm.OPCODE
        is_act = opcode == Act.OPCODE
        is_crop = opcode == Crop.OPCODE
        is_fft = opcode == Fft2d.OPCODE
        unit = Signal(2)          # the index in TOP_UNITS
        m.d.comb += unit.eq(Mux(is_fft, 3, Mux(is_crop, 2, is_act)))
        d = Signal(entry)
        refs = [("r0", "a", "src"), ("r1", "b", None), ("w", "c", "dst")]
        for slot, g, c in refs:
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
                     d.count.eq(Mux(is_fft, fld("images", _FFT), Mux(is_crop, fld("count", _CROP), fld("count", _ACT)))),
                     d.backward.eq(backward), d.adjoint.eq(fld("adjoint", _CROP))]
        for i, hit in enumerate(pool_hit):
            with m.If(is_crop & hit):
                m.d.comb += d.unit_shape.eq(i)
        for i, hit in enumerate(fft_hit):
            with m.If(is_fft & hit):
                m.d.comb += d.unit_shape.eq(i)
        # the queue entry: with the counters it waits on, snapshot at dispatch
        dq = Signal(entry)
        m.d.comb += [dq.eq(d), dq.wait_r0.eq(count_of(w_iss, d.r0)), dq.wait_r1.eq(count_of(w_iss, d.r1)),
                     dq.wait_w.eq(count_of(r_iss, d.w))]
        bad = Signal(4)
        active = [(d.r0, 1), (d.r1, d.r1_active), (d.w, 1)]
        checks = [
            (1, ~(is_gemm | is_act | is_crop | is_fft)),
            (2, Mux(is_gemm, (fld("kind") != GemmKind.CONV) | (d.phase == Phase.UPDATE),
                    (is_act & (fld("function", _ACT) != ActFunction.PWL)) | (is_fft & fld("inverse", _FFT)))),
            (3, Cat(*[en & (r.buf >= nb) for r, en in active]).any()),
            (4, Cat(*[en & (r.region >= R) for r, en in active]).any()),
            (5, Cat(*[en & (r.addr >= _select([Const(dp, aw + 1) for _, dp in p.buffers], r.buf, aw + 1))
                     for r, en in active]).any()),
            (6, Mux(is_gemm, (d.bins == 0) | (d.m == 0) | (d.n == 0) | (d.k == 0), d.count == 0)),
            (7, is_gemm & (d.shift >= p.acc_bits)),
            (8, is_gemm & ((fld("m0") != 0) | (fld("n0") != 0))),
            (9, (is_crop & ~pool_ok) | (is_fft & ~fft_ok)),
        ]
        for code, cond in reversed(checks):
            with m.If(cond):
                m.d.comb += bad.eq(code)

        # ---------------------------------------------------------------- unit queues
        D = QUEUE_DEPTH
        queues = []
        for u in TOP_UNITS:
            slots = [Signal(entry, name=f"q_{u}_{i}") for i in range(D)]
            count = Signal(range(D + 1), name=f"q_{u}_count")
            pop = Signal(name=f"q_{u}_pop")
            queues.append((slots, count, pop))
        go = Signal()              # dispatch this cycle
        space = _select([Mux(count < D, 1, pop) for _, count, pop in queues], unit, 1)
        m.d.comb += go.eq(held & ~err & (bad == 0) & space)
        with m.If(held & ~err & (bad != 0)):
            m.d.sync += [err.eq(1), err_code.eq(bad)]
        m.d.comb += [self.desc.ready.eq(~err & (~held | go)), self.dispatch.eq(go)]
        with m.If(self.desc.valid & self.desc.ready):
            m.d.sync += [raw.eq(self.desc.payload), held.eq(1)]
        with m.Elif(go):
            m.d.sync += held.eq(0)
        bump(w_iss, d.w, go)
        bump(r_iss, d.r0, go)
        bump(r_iss, d.r1, go & d.r1_active)
        for ui, (slots, count, pop) in enumerate(queues):
            push = go & (unit == ui)
            for i in range(D):
                shifted = slots[i + 1] if i + 1 < D else slots[i]
                with m.If(push & (Mux(pop, count - 1, count) == i)):
                    m.d.sync += slots[i].eq(dq)
                with m.Elif(pop):
                    m.d.sync += slots[i].eq(shifted)
            m.d.sync += count.eq(count + push - pop)

        def ready_to_start(slots, count) -> Signal:
            h = slots[0]
            ok = Signal()
            m.d.comb += ok.eq((count != 0)
                              & (count_of(w_done, h.r0) == h.wait_r0)
                              & (~h.r1_active | (count_of(w_done, h.r1) == h.wait_r1))
                              & (count_of(r_rel, h.w) == h.wait_w))
            return ok

        # ---------------------------------------------------------------- MAC unit
        # The address generator runs from the start cycle: in that cycle its state is the
        # queue head's initial state (``_e`` signals: the state in effect this cycle).
        m.submodules.cmac = cmac = ComplexMacArray(rows, cols, vb, vb, p.acc_bits, vb, p.rounding)
        m.d.comb += cmac.o.ready.eq(1)
        mslots, mcount, mpop = queues[0]
        head = mslots[0]
        busy = Signal(name="mac_busy")
        start_mac = Signal()
        m.d.comb += [start_mac.eq(~busy & ready_to_start(mslots, mcount)), mpop.eq(start_mac)]
        cur_r = Signal(entry, name="mac_cur")
        cur = Signal(entry, name="mac_cur_e")
        m.d.comb += cur.eq(Mux(start_mac, head.as_value(), cur_r.as_value()))
        state = {name: Signal(w, name=f"mac_{name}") for name, w in
                 (("f", 24), ("mi", 17), ("ni", 13), ("j", 17), ("a_bin", aw), ("a_tile", aw), ("a_beat", aw),
                  ("b_bin", aw), ("b_tile", aw), ("b_beat", aw), ("c_bin", aw), ("c_row", aw), ("c_tile", aw))}
        init = {"f": 0, "mi": 0, "ni": 0, "j": 0,
                "a_bin": head.r0.addr, "a_tile": head.r0.addr, "a_beat": head.r0.addr,
                "b_bin": head.r1.addr, "b_tile": head.r1.addr, "b_beat": head.r1.addr,
                "c_bin": head.w.addr, "c_row": head.w.addr, "c_tile": head.w.addr}
        e = {}
        for name, reg in state.items():
            e[name] = Signal(len(reg), name=f"mac_{name}_e")
            m.d.comb += e[name].eq(Mux(start_mac, init[name], reg))
        f, mi, ni, j = e["f"], e["mi"], e["ni"], e["j"]
        fwd, wg = cur.phase == Phase.FORWARD, cur.phase == Phase.WEIGHT_GRADIENT
        sa_m, sa_k = Mux(wg, 1, cur.k), Mux(wg, cur.m, 1)
        sb_k, sb_n = Mux(fwd, 1, cur.n), Mux(fwd, cur.k, 1)
        active = busy | start_mac
        with m.If(start_mac):
            m.d.sync += [busy.eq(1), cur_r.eq(head)]
        last_beat = j + 1 == cur.k
        last_n = ni + cols >= cur.n
        last_m = mi + rows >= cur.m
        last_bin = f + 1 == cur.bins
        last = active & last_beat & last_n & last_m & last_bin
        st = state
        with m.If(active):
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
                m.d.sync += busy.eq(0)
        bump(r_rel, cur.r0, last)
        bump(r_rel, cur.r1, last)
        rmask = Cat(*[mi + r < cur.m for r in range(rows)])
        cmask = Cat(*[ni + c < cur.n for c in range(cols)])
        a_data = [read_lane(cur.r0.buf, e["a_beat"] + r * sa_m, active & rmask[r]) for r in range(rows)]
        b_data = [read_lane(cur.r1.buf, e["b_beat"] + c * sb_n, active & cmask[c]) for c in range(cols)]
        # operand stage: the read data arrive one cycle after the addresses
        q_valid, q_rmask, q_cmask = Signal(), Signal(rows), Signal(cols)
        q_conj, q_shift, q_last = Signal(), Signal(6), Signal()
        m.d.sync += [q_valid.eq(active), q_rmask.eq(rmask), q_cmask.eq(cmask), q_conj.eq(cur.conj),
                     q_shift.eq(cur.shift), q_last.eq(last_beat)]
        cl = data.StructLayout({"re": signed(vb), "im": signed(vb)})
        m.d.comb += [cmac.i.valid.eq(q_valid), cmac.i.payload.conj.eq(q_conj),
                     cmac.i.payload.last.eq(q_last), cmac.i.payload.shift.eq(q_shift)]
        for r in range(rows):
            word = data.View(cl, a_data[r])
            m.d.comb += [cmac.i.payload.a[r].re.eq(Mux(q_rmask[r], word.re, 0)),
                         cmac.i.payload.a[r].im.eq(Mux(q_rmask[r], word.im, 0))]
        for c in range(cols):
            word = data.View(cl, b_data[c])
            m.d.comb += [cmac.i.payload.b[c].re.eq(Mux(q_cmask[c], word.re, 0)),
                         cmac.i.payload.b[c].im.eq(Mux(q_cmask[c], word.im, 0))]
        # tiles in flight: where each result tile goes, in order
        tile_layout = data.StructLayout({"addr": aw, "n": 13, "rmask": rows, "cmask": cols, "buf": 3,
                                         "region": 8, "last": 1})
        tq_depth = CMAC_LATENCY + 3                 # tiles of one beat: at most CMAC_LATENCY + 2 in flight
        tq = [Signal(tile_layout, name=f"tile_{i}") for i in range(tq_depth)]
        tq_count = Signal(range(tq_depth + 1))
        t_push = active & last_beat
        t_pop = cmac.o.valid
        t_new = Signal(tile_layout)
        m.d.comb += [t_new.addr.eq(e["c_tile"]), t_new.n.eq(cur.n), t_new.rmask.eq(rmask), t_new.cmask.eq(cmask),
                     t_new.buf.eq(cur.w.buf), t_new.region.eq(cur.w.region), t_new.last.eq(last)]
        self._fifo(m, tq, tq_count, t_push, t_pop, t_new)
        th = tq[0]
        for r in range(rows):
            row_words = [Cat(cmac.o.payload.c[r][c].re, cmac.o.payload.c[r][c].im) for c in range(cols)]
            write_group(th.buf, th.addr + r * th.n, row_words, th.cmask, t_pop & th.rmask[r])
        mac_done = t_pop & th.last
        bump(w_done, th, mac_done)

        # ---------------------------------------------------------------- activation unit
        m.submodules.pwl = pwl = PwlActivation(lanes, p.segments, vb, 16, 14, p.rounding)
        m.d.comb += [pwl.o.ready.eq(1), pwl.wr_en.eq(self.table_we), pwl.wr_addr.eq(self.table_addr),
                     pwl.wr_data.eq(self.table_data)]
        aslots, acount, apop = queues[1]
        ahead = aslots[0]
        abusy = Signal(name="act_busy")
        start_act = Signal()
        m.d.comb += [start_act.eq(~abusy & ready_to_start(aslots, acount)), apop.eq(start_act)]
        acur_r = Signal(entry, name="act_cur")
        acur = Signal(entry, name="act_cur_e")
        m.d.comb += acur.eq(Mux(start_act, ahead.as_value(), acur_r.as_value()))
        regs = {"left": Signal(32, name="act_left"), "x": Signal(aw, name="act_x"), "g": Signal(aw, name="act_g"),
                "y": Signal(aw, name="act_y")}
        ainit = {"left": ahead.count, "x": ahead.r0.addr, "g": ahead.r1.addr, "y": ahead.w.addr}
        ae = {}
        for name, reg in regs.items():
            ae[name] = Signal(len(reg), name=f"act_{name}_e")
            m.d.comb += ae[name].eq(Mux(start_act, ainit[name], reg))
        left, x_ptr, g_ptr, y_ptr = ae["left"], ae["x"], ae["g"], ae["y"]
        aactive = abusy | start_act
        alast = aactive & (left <= lanes)
        with m.If(start_act):
            m.d.sync += [abusy.eq(1), acur_r.eq(ahead)]
        with m.If(aactive):
            m.d.sync += [regs["left"].eq(left - lanes), regs["x"].eq(x_ptr + lanes), regs["g"].eq(g_ptr + lanes),
                         regs["y"].eq(y_ptr + lanes)]
            with m.If(alast):
                m.d.sync += abusy.eq(0)
        bump(r_rel, acur.r0, alast)
        bump(r_rel, acur.r1, alast & acur.r1_active)
        lmask = Cat(*[left > lane for lane in range(lanes)])
        x_data = read_group(acur.r0.buf, x_ptr, lanes, aactive)
        g_data = read_group(acur.r1.buf, g_ptr, lanes, aactive & acur.backward)
        aq_valid, aq_mask, aq_bwd = Signal(), Signal(lanes), Signal()
        m.d.sync += [aq_valid.eq(aactive), aq_mask.eq(lmask), aq_bwd.eq(acur.backward)]
        m.d.comb += [pwl.i.valid.eq(aq_valid), pwl.i.payload.backward.eq(aq_bwd)]
        for lane in range(lanes):
            xw = data.View(cl, x_data[lane])
            gw = data.View(cl, g_data[lane])
            m.d.comb += [pwl.i.payload.x[lane].re.eq(Mux(aq_mask[lane], xw.re, 0)),
                         pwl.i.payload.x[lane].im.eq(Mux(aq_mask[lane], xw.im, 0)),
                         pwl.i.payload.g[lane].re.eq(Mux(aq_mask[lane], gw.re, 0)),
                         pwl.i.payload.g[lane].im.eq(Mux(aq_mask[lane], gw.im, 0))]
        beat_layout = data.StructLayout({"addr": aw, "mask": lanes, "buf": 3, "region": 8, "last": 1})
        bq_depth = ACT_LATENCY + 3                  # at most ACT_LATENCY + 2 beats in flight
        bq = [Signal(beat_layout, name=f"beat_{i}") for i in range(bq_depth)]
        bq_count = Signal(range(bq_depth + 1))
        b_new = Signal(beat_layout)
        m.d.comb += [b_new.addr.eq(y_ptr), b_new.mask.eq(lmask), b_new.buf.eq(acur.w.buf),
                     b_new.region.eq(acur.w.region), b_new.last.eq(alast)]
        self._fifo(m, bq, bq_count, aactive, pwl.o.valid, b_new)
        bh = bq[0]
        write_group(bh.buf, bh.addr, [Cat(pwl.o.payload.y[i].re, pwl.o.payload.y[i].im) for i in range(lanes)],
                    bh.mask, pwl.o.valid)
        act_done = pwl.o.valid & bh.last
        bump(w_done, bh, act_done)

        # ---------------------------------------------------------------- crop unit
        crop_last, start_crop, crop_done, crop_idle = self._crop_unit(
            m, queues[2], ready_to_start, read_lane, write_group, bump, (r_rel, w_done), entry)
        fft_last, start_fft, fft_done, fft_idle = self._fft_unit(
            m, queues[3], ready_to_start, read_lane, write_group, bump, (r_rel, w_done), entry)

        # ---------------------------------------------------------------- counter updates
        # Each event is decoded once into a one-hot vector over (buffer, region) (only
        # dispatched, hence in-range, refs raise events); a counter adds its bit of each.
        bb = max(1, ceil_log2(nb))
        for table in (w_iss, w_done, r_iss, r_rel):
            hots = []
            for buf, region, en in events[id(table)]:
                hot = Signal(nb << rb)
                m.d.comb += hot.eq(en.as_unsigned() << Cat(region[:rb], buf[:bb]))
                hots.append(hot)
            for b in range(nb):
                for r in range(R):
                    m.d.sync += table[b][r].eq(table[b][r] + sum(h[(b << rb) | r] for h in hots))

        # ---------------------------------------------------------------- trace
        m.d.comb += [self.start.eq(Cat(start_mac, start_act, start_crop, start_fft)),
                     self.end.eq(Cat(last, alast, crop_last, fft_last)),
                     self.done.eq(Cat(mac_done, act_done, crop_done, fft_done)),
                     self.idle.eq((~held | err) & (mcount == 0) & (acount == 0) & ~busy & ~abusy & ~q_valid & ~aq_valid
                                  & (tq_count == 0) & (bq_count == 0) & crop_idle & fft_idle)]
        return m

    def _crop_unit(self, m: Module, queue, ready_to_start, read_lane, write_group, bump, tables,
                   entry: data.StructLayout) -> tuple[Value, Value, Value, Value]:
        """The crop unit: a walker that streams a :class:`~accel.program.Crop` descriptor's
        passes into the crop (forward) or pad (adjoint) instance built for its ``(n, m)``,
        and one output tracker per instance that writes the results back.

        Walker: one position of the n x (n/2 + 1) half spectrum per cycle, pass after pass
        (plane after plane), reading the operand words (bin major over ``count`` planes,
        ``accel.fixed.top``) one cycle ahead of the beat that carries them.  Forward, every
        position is a beat (the bins the crop drops are zeros, no read), and after each of
        the ``m/2 - 1`` bins whose folded Nyquist value the crop writes twice it waits one
        cycle, the cycle the crop's input is not ready: ``crop_pass_cycles`` per pass.  The
        pad walks its output order itself, one bin per cycle, and takes an input beat at
        each kept bin but the replayed row: ``pad_pass_cycles`` per pass.  The occupancy is
        the walker's cycles; the descriptor is done when its instance writes its last output
        (forward: ``m x (m/2 + 1)`` outputs per pass at the addresses the crop tags; adjoint:
        the kept bins of the pad's n x (n/2 + 1) outputs, the zeros it generates elsewhere
        are not stored).  Returns (last walker cycle, start, done, idle)."""
        p, aw, vb = self.p, self.aw, self.p.value_bits
        r_rel, w_done = tables
        head, count, busy, start, cur, active = self._walker_head(m, "crop", queue, ready_to_start, entry)
        regs = {"u": Signal(11, name="crop_u"), "v": Signal(11, name="crop_v"), "plane": Signal(32, name="crop_plane"),
                "base": Signal(aw, name="crop_base"), "ptr": Signal(aw, name="crop_ptr"),
                "bubble": Signal(name="crop_bubble")}
        e = self._in_effect(m, "crop", regs, start, {"base": head.r0.addr, "ptr": head.r0.addr})
        n, h, half = cur.n[:11], cur.m[1:12], cur.n[1:11]
        u, v = e["u"], e["v"]
        kept = ((u <= h) | (u >= n - h)) & (v <= h)
        replay = u == n - h
        beat = active & ~e["bubble"]
        read = beat & kept & ~(cur.adjoint & replay)
        end_row = v == half
        end_pass = end_row & (u == n - 1)
        last_plane = e["plane"] + 1 == cur.count
        last = Signal(name="crop_last")
        m.d.comb += last.eq(beat & end_pass & last_plane)
        word = read_lane(cur.r0.buf, e["ptr"], read)
        with m.If(active):
            m.d.sync += [reg.eq(e[name]) for name, reg in regs.items()]
            with m.If(e["bubble"]):
                m.d.sync += regs["bubble"].eq(0)
            with m.Else():
                m.d.sync += regs["bubble"].eq(~cur.adjoint & (u > n - h) & (v == h))
                with m.If(read):
                    m.d.sync += regs["ptr"].eq(e["ptr"] + cur.count[:aw])
                with m.If(end_pass):
                    m.d.sync += [regs["u"].eq(0), regs["v"].eq(0), regs["plane"].eq(e["plane"] + 1),
                                 regs["base"].eq(e["base"] + 1), regs["ptr"].eq(e["base"] + 1)]
                    with m.If(last_plane):
                        m.d.sync += busy.eq(0)
                with m.Elif(end_row):
                    m.d.sync += [regs["v"].eq(0), regs["u"].eq(u + 1)]
                with m.Else():
                    m.d.sync += regs["v"].eq(v + 1)
        bump(r_rel, cur.r0, last)
        # the beat stage: the read word arrives one cycle after its address
        b_valid, b_kept, b_adj = Signal(name="crop_beat"), Signal(), Signal()
        b_pool = Signal(len(cur.unit_shape))
        m.d.sync += [b_valid.eq(beat & (~cur.adjoint | read)), b_kept.eq(read), b_adj.eq(cur.adjoint),
                     b_pool.eq(cur.unit_shape)]
        cl = data.View(data.StructLayout({"re": signed(vb), "im": signed(vb)}), word)
        done_events, idle_terms = [], [~busy, count == 0, ~b_valid]
        for i, (pn, pm) in enumerate(p.pools):
            for adjoint in (False, True):
                kind = "pad" if adjoint else "crop"
                unit = (SpectralPad if adjoint else SpectralCrop)(pn, pm, vb, rounding=p.rounding)
                m.submodules[f"{kind}_{pn}_{pm}"] = unit
                m.d.comb += [unit.i.valid.eq(b_valid & (b_pool == i) & (b_adj == adjoint)),
                             unit.i.payload.re.eq(Mux(b_kept, cl.re, 0)), unit.i.payload.im.eq(Mux(b_kept, cl.im, 0)),
                             unit.o.ready.eq(1)]
                done = Signal(name=f"{kind}_{pn}_{pm}_done")
                if adjoint:
                    per_in, tail = pad_pass_cycles(pn, pm), CROP_LATENCY
                else:
                    per_in = crop_pass_cycles(pn, pm)
                    tail = crop_latency_cycles(pn, pm) - per_in
                fh, owed = self._owed(m, f"{kind}_{pn}_{pm}", head,
                                      start & (head.unit_shape == i) & (head.adjoint == adjoint), done,
                                      1 + -(-(tail + BUFFER_READ_CYCLES) // per_in))
                per = pn * (pn // 2 + 1) if adjoint else pm * (pm // 2 + 1)
                obin = Signal(range(per), name=f"{kind}_{pn}_{pm}_bin")
                oplane = Signal(32, name=f"{kind}_{pn}_{pm}_plane")
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
                    ov = Signal(range(pn // 2 + 1), name=f"pad_{pn}_{pm}_v")
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
                write_group(fh.buf, waddr[:aw], [Cat(unit.o.payload.x.re, unit.o.payload.x.im)], Cat(Const(1)), wen)
                bump(w_done, fh, done)
                done_events.append(done)
                idle_terms.append(owed == 0)
        crop_done = Signal(name="crop_done")
        idle = Signal(name="crop_idle")
        m.d.comb += [crop_done.eq(Cat(*done_events).any() if done_events else 0),
                     idle.eq(Cat(*idle_terms).all())]
        return last, start, crop_done, idle

    def _fft_unit(self, m: Module, queue, ready_to_start, read_lane, write_group, bump, tables,
                  entry: data.StructLayout) -> tuple[Value, Value, Value, Value]:
        """The FFT unit: a walker that streams a forward :class:`~accel.program.Fft2d`
        descriptor's images into the :class:`hdl.fft2d.FFT2D` engine built for its
        ``(size, keep)``, and one output tracker per engine.

        Walker: one sample of the ``size x size`` image per cycle, image after image; the
        ``n x n`` stored samples (plane major, two per word: even samples in the low half)
        are read one cycle ahead, the zero padding is not stored.  Tracker: the engine's
        bins leave column by column, rows bit-reversed; the kept ones (all rows, or the
        ``keep + 1`` a crop reads) are written bin major over the descriptor's planes, at
        ``dst + kept bin * images + plane``.  The engine's per-image block exponent (its
        normalization shift) is not stored: the top does not normalize
        (``accel.fixed.top``).  Returns (last walker cycle, start, done, idle)."""
        p, aw, vb = self.p, self.aw, self.p.value_bits
        r_rel, w_done = tables
        head, count, busy, start, cur, active = self._walker_head(m, "fft", queue, ready_to_start, entry)
        regs = {"r": Signal(11, name="fft_r"), "c": Signal(11, name="fft_c"), "plane": Signal(32, name="fft_plane"),
                "sample": Signal(aw + 1, name="fft_sample")}
        e = self._in_effect(m, "fft", regs, start, {})
        n, size = cur.n[:11], cur.m[:12]
        r, c = e["r"], e["c"]
        read = active & (r < n) & (c < n)
        end_row = c == size - 1
        end_image = end_row & (r == size - 1)
        last = Signal(name="fft_last")
        m.d.comb += last.eq(active & end_image & (e["plane"] + 1 == cur.count))
        word = read_lane(cur.r0.buf, (cur.r0.addr + (e["sample"] >> 1))[:aw], read)
        with m.If(active):
            m.d.sync += [reg.eq(e[name]) for name, reg in regs.items()]
            with m.If(read):
                m.d.sync += regs["sample"].eq(e["sample"] + 1)
            with m.If(end_image):
                m.d.sync += [regs["r"].eq(0), regs["c"].eq(0), regs["plane"].eq(e["plane"] + 1)]
                with m.If(e["plane"] + 1 == cur.count):
                    m.d.sync += busy.eq(0)
            with m.Elif(end_row):
                m.d.sync += [regs["c"].eq(0), regs["r"].eq(r + 1)]
            with m.Else():
                m.d.sync += regs["c"].eq(c + 1)
        bump(r_rel, cur.r0, last)
        b_valid, b_read, b_odd = Signal(name="fft_beat"), Signal(), Signal()
        b_shape = Signal(len(cur.unit_shape))
        m.d.sync += [b_valid.eq(active), b_read.eq(read), b_odd.eq(e["sample"][0]), b_shape.eq(cur.unit_shape)]
        sample = Mux(b_odd, word[vb:2 * vb], word[:vb])
        done_events, idle_terms = [], [~busy, count == 0, ~b_valid]
        for i, (fsize, keep) in enumerate(p.ffts):
            eng = FFT2D(fsize, keep=keep if keep < fsize else None, data_bits=vb, twiddle_bits=p.twiddle_bits)
            m.submodules[f"fft2d_{fsize}_{keep}"] = eng
            m.d.comb += [eng.i.valid.eq(b_valid & (b_shape == i)), eng.i.payload.eq(Mux(b_read, sample, 0)),
                         eng.o.ready.eq(1)]
            done = Signal(name=f"fft2d_{fsize}_{keep}_done")
            interval = fft2d_interval(fsize)
            tail = fft2d_latency(fsize) - interval + eng.cols * fsize + BUFFER_READ_CYCLES
            fh, owed = self._owed(m, f"fft2d_{fsize}_{keep}", head, start & (head.unit_shape == i), done,
                                  1 + -(-tail // interval))
            bits = fsize.bit_length() - 1
            cols = eng.cols
            j = Signal(bits, name=f"fft2d_{fsize}_{keep}_j")
            v = Signal(range(cols), name=f"fft2d_{fsize}_{keep}_v")
            plane = Signal(32, name=f"fft2d_{fsize}_{keep}_plane")
            u = Cat(*[j[k] for k in reversed(range(bits))])
            fire = eng.o.valid
            image_end = (j == fsize - 1) & (v == cols - 1)
            m.d.comb += done.eq(fire & image_end & (plane + 1 == fh.count))
            with m.If(fire):
                m.d.sync += j.eq(j + 1)
                with m.If(j == fsize - 1):
                    m.d.sync += v.eq(Mux(v == cols - 1, 0, v + 1))
                    with m.If(v == cols - 1):
                        m.d.sync += plane.eq(Mux(done, 0, plane + 1))
            if keep < fsize:
                h = keep // 2
                kept_row = (u <= h) | (u >= fsize - h)
                row = Mux(u <= h, u, u - (fsize - keep - 1))
            else:
                kept_row, row = Const(1), u
            kidx = Signal(aw, name=f"fft2d_{fsize}_{keep}_kidx")
            m.d.comb += kidx.eq(row * cols + v)
            waddr = fh.addr + (kidx * fh.count[:aw])[:aw] + plane
            write_group(fh.buf, waddr[:aw], [Cat(eng.o.payload.x.re, eng.o.payload.x.im)], Cat(Const(1)),
                        fire & kept_row)
            bump(w_done, fh, done)
            done_events.append(done)
            idle_terms.append(owed == 0)
        fft_done = Signal(name="fft_done")
        idle = Signal(name="fft_idle")
        m.d.comb += [fft_done.eq(Cat(*done_events).any() if done_events else 0),
                     idle.eq(Cat(*idle_terms).all())]
        return last, start, fft_done, idle

    @staticmethod
    def _walker_head(m: Module, name: str, queue, ready_to_start, entry: data.StructLayout):
        """A unit that runs one descriptor at a time from its queue: (queue head, queue count,
        busy, start, the descriptor in effect this cycle, active = busy or starting)."""
        slots, count, pop = queue
        head = slots[0]
        busy = Signal(name=f"{name}_busy")
        start = Signal(name=f"{name}_start")
        m.d.comb += [start.eq(~busy & ready_to_start(slots, count)), pop.eq(start)]
        cur_r = Signal(entry, name=f"{name}_cur")
        cur = Signal(entry, name=f"{name}_cur_e")
        m.d.comb += cur.eq(Mux(start, head.as_value(), cur_r.as_value()))
        with m.If(start):
            m.d.sync += [busy.eq(1), cur_r.eq(head)]
        return head, count, busy, start, cur, busy | start

    @staticmethod
    def _in_effect(m: Module, name: str, regs: dict[str, Signal], start, init: dict) -> dict[str, Signal]:
        """Per walker register, its value in effect this cycle: ``init`` (0 if absent) in
        the start cycle, else the register."""
        e = {}
        for key, reg in regs.items():
            e[key] = Signal(len(reg), name=f"{name}_{key}_e")
            m.d.comb += e[key].eq(Mux(start, init.get(key, 0), reg))
        return e

    def _owed(self, m: Module, name: str, head, push, done, depth: int) -> tuple[Value, Signal]:
        """The descriptors whose outputs an instance still owes, oldest first (pushed when
        one starts on it, popped on ``done``): (the oldest's destination and count, how
        many).  ``depth``: the most that can be owed at once, ``1 + ceil(tail / pass)``
        for an instance whose results trail its last input by ``tail`` cycles and whose
        shortest descriptor (one pass) occupies it ``pass`` cycles."""
        track = data.StructLayout({"buf": 3, "region": 8, "addr": self.aw, "count": 32})
        depth = max(2, depth)
        fq = [Signal(track, name=f"{name}_owed_{k}") for k in range(depth)]
        owed = Signal(range(depth + 1), name=f"{name}_owed")
        new = Signal(track)
        m.d.comb += [new.buf.eq(head.w.buf), new.region.eq(head.w.region), new.addr.eq(head.w.addr),
                     new.count.eq(head.count)]
        self._fifo(m, fq, owed, push, done, new)
        return fq[0], owed

    @staticmethod
    def _fifo(m: Module, slots: list[Signal], count: Signal, push, pop, new) -> None:
        """A shift-register FIFO: ``slots[0]`` is the head; push and pop in the same cycle."""
        for i in range(len(slots)):
            shifted = slots[i + 1] if i + 1 < len(slots) else slots[i]
            with m.If(push & (Mux(pop, count - 1, count) == i)):
                m.d.sync += slots[i].eq(new)
            with m.Elif(pop):
                m.d.sync += slots[i].eq(shifted)
        m.d.sync += count.eq(count + push - pop)


@dataclass
class TopRun:
    """A program's run on the top: per descriptor (program order) its dispatch, start, end
    (first cycle after its occupancy) and done (first cycle its results are readable)
    cycles, counted from the dispatch of descriptor 0 (the cycle model's time base); the
    buffers' words afterwards; the simulated cycles; the decoder's error code (0: none)."""
    dispatch: list[int]
    start: list[int]
    end: list[int]
    done: list[int]
    images: list[list[int]]
    cycles: int
    error: int


def trace_to_run(units: Sequence[str], dispatch: list[int], events: dict[str, dict[str, list[int]]],
                 images: list[list[int]], cycles: int, error: int) -> TopRun:
    """Assign each unit's start/end/done events (in order) to its descriptors in program
    order; ``end``/``done`` events are the last cycle of occupancy / the write cycle, so
    one is added.  Times are rebased on the first dispatch."""
    t0 = dispatch[0] if dispatch else 0
    n = len(units)
    start, end, done = [-1] * n, [-1] * n, [-1] * n
    for u in TOP_UNITS:
        mine = [i for i, x in enumerate(units) if x == u]
        for key, out, plus in (("start", start, 0), ("end", end, 1), ("done", done, 1)):
            for i, c in zip(mine, events[u][key]):
                out[i] = c + plus - t0
    return TopRun([c - t0 for c in dispatch], start, end, done, images, cycles - t0, error)


def simulate_top(params: TopParams, words: Sequence[int], units: Sequence[str], images: list[Sequence[int]],
                 table: Sequence[int], max_cycles: int = 1_000_000) -> TopRun:
    """Run descriptor beats ``words`` (units: the unit of each descriptor) on a :class:`Top`
    in Amaranth's simulator: buffers preloaded with ``images`` (words per buffer, from
    address 0), the PWL table written through ``table_*``, the descriptors offered back to
    back; stops when every descriptor is dispatched and the top is idle (or on a decoder
    error).  Slow (Python): for small programs; :func:`hdl.build.run_top` is the
    Verilator build of the same harness."""
    from amaranth.sim import Simulator
    top = Top(params)
    result: dict = {}

    async def bench(ctx) -> None:
        for b, image in enumerate(images):
            for a, w in enumerate(image):
                if w:
                    ctx.set(top.word(b, a), int(w))
        for a, w in enumerate(table):
            ctx.set(top.table_we, 1)
            ctx.set(top.table_addr, a)
            ctx.set(top.table_data, int(w))
            await ctx.tick()
        ctx.set(top.table_we, 0)
        events = {u: {"start": [], "end": [], "done": []} for u in TOP_UNITS}
        dispatch: list[int] = []
        sent, cycle = 0, 0
        while cycle < max_cycles:
            ctx.set(top.desc.valid, sent < len(words))
            if sent < len(words):
                ctx.set(top.desc.payload, int(words[sent]))
            *_, ready, disp, st, en, dn, idle, err = await ctx.tick().sample(
                top.desc.ready, top.dispatch, top.start, top.end, top.done, top.idle, top.error)
            if sent < len(words) and ready:
                sent += 1
            if disp:
                dispatch.append(cycle)
            for ui, u in enumerate(TOP_UNITS):
                for key, v in (("start", st), ("end", en), ("done", dn)):
                    if (v >> ui) & 1:
                        events[u][key].append(cycle)
            cycle += 1
            if idle and (sent == len(words) or err) and cycle > 1:
                break
        code = ctx.get(top.error_code)
        imgs = [[ctx.get(top.word(b, a)) for a in range(depth)] for b, (_, depth) in enumerate(params.buffers)]
        result["run"] = trace_to_run(units, dispatch, events, imgs, cycle, code)

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return result["run"]


_TOP_CPP = r"""// Generated by hdl/top.py: load buffers and the PWL table, stream descriptors back to back,
// log dispatch/start/end/done per cycle, dump the buffers.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "Vtop.h"
#include "verilated.h"

static const int UNITS = %(units)d;
static const int NBUF = %(nbuf)d;
static const long DEPTH[NBUF] = {%(depths)s};

int main(int argc, char** argv) {
    // args: input-file output-file max_cycles
    if (argc != 4) { fprintf(stderr, "usage: in out max_cycles\n"); return 2; }
    FILE* fin = fopen(argv[1], "r");
    FILE* fout = fopen(argv[2], "w");
    long max_cycles = atol(argv[3]);
    VerilatedContext ctx;
    Vtop top{&ctx};
    auto tick = [&]() { top.clk = 1; top.eval(); top.clk = 0; top.eval(); };
    top.clk = 0; top.rst = 1;
    for (int i = 0; i < 4; ++i) tick();
    top.rst = 0; top.eval();
    std::vector<std::vector<uint32_t>> descs;
    char kind;
    while (fscanf(fin, " %%c", &kind) == 1) {
        if (kind == 'w') {            // w buf addr word: host write
            unsigned b; unsigned long a, w;
            if (fscanf(fin, "%%u %%lu %%lx", &b, &a, &w) != 3) return 2;
            top.host_we = 1; top.host_buf = b; top.host_addr = a; top.host_wdata = w;
            tick();
        } else if (kind == 't') {     // t addr value: PWL table write
            unsigned long a; long v;
            if (fscanf(fin, "%%lu %%ld", &a, &v) != 2) return 2;
            top.table_we = 1; top.table_addr = a; top.table_data = (uint32_t)v & 0x1FFFFu;
            tick();
        } else if (kind == 'd') {     // d w0 .. w7: one descriptor
            std::vector<uint32_t> w(8);
            for (int i = 0; i < 8; ++i) { unsigned long x; if (fscanf(fin, "%%lx", &x) != 1) return 2; w[i] = x; }
            descs.push_back(w);
        }
    }
    fclose(fin);
    top.host_we = 0; top.table_we = 0;
    size_t sent = 0;
    long cycle = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (; cycle < max_cycles; ++cycle) {
        bool offer = sent < descs.size();
        top.desc___05Fvalid = offer;
        if (offer) for (int i = 0; i < 8; ++i) top.desc___05Fpayload[i] = descs[sent][i];
        top.eval();
        bool fire = offer && top.desc___05Fready;
        if (top.dispatch) fprintf(fout, "D %%ld\n", cycle);
        for (int u = 0; u < UNITS; ++u) {
            if ((top.start >> u) & 1) fprintf(fout, "S %%d %%ld\n", u, cycle);
            if ((top.end >> u) & 1) fprintf(fout, "E %%d %%ld\n", u, cycle);
            if ((top.done >> u) & 1) fprintf(fout, "F %%d %%ld\n", u, cycle);
        }
        bool stop = top.idle && (sent == descs.size() || top.error) && cycle > 0;
        tick();
        if (fire) ++sent;
        if (stop) { ++cycle; break; }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fprintf(fout, "C %%ld %%d %%.9f\n", cycle, (int)top.error_code, secs);
    top.desc___05Fvalid = 0;
    for (int b = 0; b < NBUF; ++b) {
        fprintf(fout, "B %%d\n", b);
        for (long a = 0; a < DEPTH[b]; ++a) {   // the read port registers address and buffer
            top.host_buf = b; top.host_addr = a;
            tick();
            fprintf(fout, "%%x\n", (unsigned)top.host_rdata);
        }
    }
    fclose(fout);
    top.final();
    return 0;
}
"""


def _build_top(params: TopParams) -> Path:
    """Compile (or reuse from the cache) the Verilator build of the top's harness."""
    from .build import verilator_build, verilog
    text = verilog(Top(params), "top")
    cpp = _TOP_CPP % {"units": len(TOP_UNITS), "nbuf": len(params.buffers),
                      "depths": ", ".join(str(d) for _, d in params.buffers)}
    return verilator_build({"top.v": text, "harness.cpp": cpp}, "top", "Vtop")


def run_top(params: TopParams, words: Sequence[int], units: Sequence[str], images: list[Sequence[int]],
            table: Sequence[int], max_cycles: int = 100_000_000) -> tuple[TopRun, float]:
    """:func:`simulate_top` on the Verilator build of the top (compiled once per design,
    cached): returns the run and the wall seconds of the program's execution alone (not
    the loading and dumping of the buffers)."""
    exe = _build_top(params)
    with tempfile.TemporaryDirectory(prefix="fdaccel-top-") as tmp:
        fin, fout = Path(tmp) / "in.txt", Path(tmp) / "out.txt"
        lines = [f"w {b} {a} {int(w):x}" for b, image in enumerate(images) for a, w in enumerate(image) if w]
        lines += [f"t {a} {int(v)}" for a, v in enumerate(table)]
        lines += ["d " + " ".join(f"{(int(w) >> (32 * i)) & 0xFFFFFFFF:x}" for i in range(8)) for w in words]
        fin.write_text("\n".join(lines) + "\n")
        proc = subprocess.run([str(exe), str(fin), str(fout), str(max_cycles)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"top harness failed (exit {proc.returncode}): {proc.stderr}")
        text = fout.read_text().split("\n")
    events = {u: {"start": [], "end": [], "done": []} for u in TOP_UNITS}
    dispatch: list[int] = []
    imgs: list[list[int]] = []
    cycles = error = 0
    secs = 0.0
    keys = {"S": "start", "E": "end", "F": "done"}
    for line in text:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "D":
            dispatch.append(int(parts[1]))
        elif parts[0] in keys:
            events[TOP_UNITS[int(parts[1])]][keys[parts[0]]].append(int(parts[2]))
        elif parts[0] == "C":
            cycles, error, secs = int(parts[1]), int(parts[2]), float(parts[3])
        elif parts[0] == "B":
            imgs.append([])
        else:
            imgs[-1].append(int(parts[0], 16))
    return trace_to_run(units, dispatch, events, imgs, cycles, error), secs
