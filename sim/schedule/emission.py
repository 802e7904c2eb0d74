"""Tiling and emission: ops -> chunks -> descriptors (with their DRAM transfers) -> a program.

Each op is cut into chunks whose staged operands (those placement left in DRAM or that
are per-chunk scratches) fit half of the staging area of every buffer (two slots: the
next chunk loads while this one computes), else all of it (one slot: loads wait for the
previous chunk), splitting a GEMM's output rows and columns when one bin does not fit.
A chunk is: DRAM loads of its staged inputs, the op's compute descriptors
(:meth:`sim.schedule.ir.Op.emit`), DRAM stores of its staged outputs; with two slots the
loads of chunk c + 1 are issued before the compute of chunk c.  If one bin (one plane,
one value) of an op does not fit even one slot the accelerator is too small: ConfigError.

:func:`check` then validates every descriptor against the instruction set and the
accelerator, before anything runs.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from accel.config import AcceleratorConfig, ConfigError
from accel.program import NO_LAYER, Descriptor, DramLoad, DramStore, Program, ProgramError, Ref, TensorInfo, validate

from ..units import Machine
from .ir import Block, Chunk, Op, Operand, Schedule, Tensor
from .placement import STAGING_OPERANDS, resident_words, staging_words


@dataclass
class Emitted:
    """The program of a list of ops, the op each descriptor belongs to (-1: a DRAM
    transfer) and the tensors that live in DRAM, in program order of first transfer."""
    program: Program
    op_of: list[int]
    dram: list[Tensor]


class Tiling(NamedTuple):
    """How an op is cut: ``slots`` staging slots (2: double buffered), ``per_chunk`` units
    per chunk, ``block`` the largest GEMM output block."""
    slots: int
    per_chunk: int
    block: Block


def _staged(op: Op) -> list[Operand]:
    return [o for o in op.operands if not o.tensor.resident]


def _fits(op: Op, machine: Machine, units: int, blk: Block, k: int, slots: int) -> bool:
    need: dict[int, int] = {}
    for o in _staged(op):
        t = o.tensor
        need[t.buf] = need.get(t.buf, 0) + machine.words(t.buf, units * o.values_per_unit(blk, k), o.complex_, t.bits)
    return all(w <= staging_words(machine, b) // slots for b, w in need.items())


def tile(op: Op, machine: Machine, layer_names: Sequence[str]) -> Tiling:
    """The tiling of ``op``: double buffered if one unit fits half the staging, else
    single; GEMM blocks halve until one bin fits; then as many units per chunk as fit."""
    M, N, K = op.gemm() or (1, 1, 0)
    for slots in (2, 1):
        mb, nb = M, N
        while True:
            blk = Block(0, mb, 0, nb)
            if _fits(op, machine, 1, blk, K, slots):
                lo, hi = 1, op.units
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if _fits(op, machine, mid, blk, K, slots):
                        lo = mid
                    else:
                        hi = mid - 1
                return Tiling(slots, lo, blk)
            if nb == 1 and mb == 1:
                break
            if nb >= mb:
                nb = -(-nb // 2)
            else:
                mb = -(-mb // 2)
    one = Block(0, 1, 0, 1)
    worst = max(_staged(op), key=lambda o: machine.words(o.tensor.buf, o.values_per_unit(one, K), o.complex_))
    b = worst.tensor.buf
    name = layer_names[op.layer] if op.layer != NO_LAYER else "input"
    raise ConfigError(f"sram[{b}].kbytes: buffer {machine.names[b]!r} is too small to hold one block of "
                      f"{name} {op.phase.label} ({op.label}); its staging half has {staging_words(machine, b)} words")


def _emit_op(op: Op, k: int, machine: Machine, layer_names: Sequence[str], out: list[Descriptor],
             op_of: list[int], dram: list[Tensor]) -> None:
    """Append op ``k``'s chunks (transfers and compute) to ``out``."""
    tiling = tile(op, machine, layer_names)
    slots, chunk = tiling.slots, tiling.per_chunk
    gemm = op.gemm()
    M, N, K = gemm or (1, 1, 0)
    mb, nb = tiling.block.m, tiling.block.n
    blocks = [Block(m0, min(mb, M - m0), n0, min(nb, N - n0)) for m0 in range(0, M, mb) for n0 in range(0, N, nb)]
    chunks = [Chunk(u0, min(chunk, op.units - u0), blk) for blk in blocks for u0 in range(0, op.units, chunk)]
    operands = op.operands
    # staging layout: per buffer, operands packed in a slot sized for the largest chunk
    offsets: dict[int, int] = {}
    slot_words: dict[int, int] = {}
    for j, o in enumerate(operands):
        t = o.tensor
        if t.resident:
            continue
        w = machine.words(t.buf, chunk * o.values_per_unit(tiling.block, K), o.complex_, t.bits)
        offsets[j] = slot_words.get(t.buf, 0)
        slot_words[t.buf] = offsets[j] + w
    for o in _staged(op):
        t = o.tensor
        if not t.scratch and t.dram_id < 0:
            t.dram_id = len(dram)
            dram.append(t)

    def refs(c: int) -> dict[Operand, Ref]:
        s = c % slots
        u0, blk = chunks[c].first, chunks[c].block
        r: dict[Operand, Ref] = {}
        for j, o in enumerate(operands):
            t = o.tensor
            if t.resident:
                first = o.first_value(u0, blk, gemm)
                r[o] = Ref(buf=t.buf, region=t.region, addr=t.addr + machine.words(t.buf, first, o.complex_, t.bits))
            else:
                base = resident_words(machine, t.buf) + s * (staging_words(machine, t.buf) // slots)
                r[o] = Ref(buf=t.buf, region=s * STAGING_OPERANDS + j, addr=base + offsets[j])
        return r

    def transfers(c: int, load: bool) -> list[Descriptor]:
        u0, cnt, blk = chunks[c].first, chunks[c].count, chunks[c].block
        r = refs(c)
        res: list[Descriptor] = []
        for o in operands:
            t = o.tensor
            if t.resident or t.scratch or (load and o.mode == "w") or (not load and o.mode == "r"):
                continue
            words = machine.words(t.buf, cnt * o.values_per_unit(blk, K), o.complex_, t.bits)
            if words == 0:
                continue
            offset = machine.words(t.buf, o.first_value(u0, blk, gemm), o.complex_, t.bits)
            if load:
                res.append(DramLoad(layer=op.layer, phase=op.phase, tensor=t.dram_id, dst=r[o], offset=offset,
                                    words=words))
            else:
                res.append(DramStore(layer=op.layer, phase=op.phase, tensor=t.dram_id, src=r[o], offset=offset,
                                     words=words))
        return res

    def add(descs: list[Descriptor], owner: int) -> None:
        out.extend(descs)
        op_of.extend([owner] * len(descs))

    if slots == 2:
        add(transfers(0, True), -1)
    for c in range(len(chunks)):
        if slots == 2:
            if c + 1 < len(chunks):
                add(transfers(c + 1, True), -1)
        else:
            add(transfers(c, True), -1)
        add(op.emit(chunks[c], refs(c)), k)
        add(transfers(c, False), -1)


def emit(ops: Sequence[Op], machine: Machine, layer_names: Sequence[str]) -> Emitted:
    """Tile every op and emit its chunks in op order (see the module docstring); the DRAM
    tensors are laid out one after the other, each from a 64-byte boundary."""
    out: list[Descriptor] = []
    op_of: list[int] = []
    dram: list[Tensor] = []
    for k, op in enumerate(ops):
        _emit_op(op, k, machine, layer_names, out, op_of, dram)
    infos = []
    base = 0
    for t in dram:
        nbytes = machine.dram_bytes(t.buf, machine.words(t.buf, t.values, t.complex_, t.bits))
        infos.append(TensorInfo(name=t.name, base=base, nbytes=nbytes))
        base += -(-nbytes // 64) * 64
    program = Program(descriptors=tuple(out), tensors=tuple(infos), layers=tuple(layer_names))
    return Emitted(program=program, op_of=op_of, dram=dram)


def check(program: Program, accel: AcceleratorConfig, what: str = "") -> None:
    """Validate every descriptor of ``program`` on ``accel``: a ConfigError naming the
    layer (``what`` prefixing its name) for the first that does not fit."""
    for d in program.descriptors:
        try:
            validate(d, accel)
        except ProgramError as exc:
            raise ConfigError(f"layers: {what}{program.layer_name(d.layer)} {d.phase.label} does not fit "
                              f"the instruction set: {exc}") from None


def schedule_of(ops: Sequence[Op], emitted: Emitted, machine: Machine) -> Schedule:
    """The :class:`Schedule` of emitted ops: the tensors by name, which are resident, which in DRAM."""
    tensors = {o.tensor.name: o.tensor for op in ops for o in op.operands}
    return Schedule(program=emitted.program,
                    resident={n: machine.names[t.buf] for n, t in tensors.items() if t.resident},
                    in_dram=[n for n, t in tensors.items() if t.dram_id >= 0], ops=list(ops), op_of=emitted.op_of,
                    tensors=tensors)
