"""The accelerator's instruction set: descriptors, their binary encoding and validation.

A program is a list of descriptors that the controller issues in order.  ``sim/schedule.py``
writes programs, ``sim/engine.py`` executes them cycle by cycle, and the RTL sequencer
(``hdl/top.py``) will execute the same words.  Each descriptor is one of nine kinds, each
served by one unit:

==========  ========  ========================================================================
kind        unit      what it does
==========  ========  ========================================================================
DramLoad    dram      copy ``words`` buffer words of DRAM tensor ``tensor`` (from ``offset``) into a buffer region
DramStore   dram      the reverse
Fft2d       fft       2-D transforms of ``images`` planes on the FFT engines (crop- and pad-aware)
Gemm        mac       per-bin complex GEMMs (conv) or the sinc interpolation/projection matmuls
Dense       mac       the classifier's real GEMM
Bias        mac       output-stage bias add at the DC bin, or the bias gradient (DC column sums)
Crop        crop      spectral-pooling crop/fold of ``count`` half spectra, or its adjoint
Act         act       PWL activation (forward/backward), spatial ReLU, loss, Hermitian projection
Update      act       SGD with momentum on ``count`` parameter values
==========  ========  ========================================================================

Buffer operands are :class:`Ref` (buffer index, region id, word address).  The region id is
what the controller's scoreboard tracks: a read waits for the region's last write, a
write waits for every earlier read of the region (bounded, double-buffered staging).
Buffer index :data:`ROM` is the coefficient ROM (sinc matrices, ones): never written.

Every descriptor encodes into :data:`DESCRIPTOR_WORDS` words of 32 bits: a 4-bit opcode in
the lowest bits of word 0, then the fields in declaration order, least significant first,
each in the width its ``LAYOUT`` gives.  :func:`validate` rejects descriptors whose fields
do not fit their widths or that an accelerator cannot execute.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from accel.config import AcceleratorConfig
from accel.layout import buffer_depth

WORD_BITS = 32
DESCRIPTOR_WORDS = 8
DESCRIPTOR_BITS = WORD_BITS * DESCRIPTOR_WORDS
OPCODE_BITS = 4
#: Buffer index of the read-only coefficient ROM (sinc interpolation matrices, ones).
ROM = 7
#: Layer index meaning "no network layer" (the input transform).
NO_LAYER = 255

# The controller's issue rules, shared by the cycle model (sim/engine.py) and the RTL
# sequencer (hdl/top.py), which agree on them cycle for cycle:
#: Descriptors a unit's queue holds (dispatched, not yet started).  The controller
#: dispatches in program order, at most one descriptor per cycle, and blocks while the
#: target unit's queue is full; a slot frees in the cycle its descriptor starts.
QUEUE_DEPTH = 4
#: A dispatched descriptor can start on its unit this many cycles after its dispatch (the
#: queue is a register stage).
DISPATCH_TO_START = 1
#: A unit presents buffer read addresses in the cycles of its occupancy; the synchronous
#: buffer read delivers the operands one cycle later, and a result written in cycle t is
#: readable from cycle t + 1.  The MAC array's and activation lanes' transaction tails
#: include it.
BUFFER_READ_CYCLES = 1


class ProgramError(ValueError):
    """A descriptor is malformed, out of range, or not executable on an accelerator."""


class Phase(IntEnum):
    """Training phase a descriptor belongs to (for accounting)."""
    FORWARD = 0
    BACKWARD_DATA = 1
    WEIGHT_GRADIENT = 2
    UPDATE = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class GemmKind(IntEnum):
    """What a :class:`Gemm` computes: the per-bin convolution GEMM, or one of the two sinc
    matmuls (rows: ``S V`` / ``S^H G``; cols: ``T S^T`` / ``T conj(S)``), one per channel pair."""
    CONV = 0
    SINC_ROWS = 1
    SINC_COLS = 2


class ActFunction(IntEnum):
    """Function an :class:`Act` descriptor applies."""
    PWL = 0            # the layer's piecewise-linear table (split complex)
    RELU = 1           # spatial ReLU (real samples)
    SOFTMAX_XENT = 2   # softmax cross-entropy gradient of the logits: x = logits, g = labels
    HERMITIAN = 3      # project half spectra onto Hermitian ones: columns 0 and n/2 with their mirrored rows


@dataclass(frozen=True)
class Ref:
    """A buffer operand: buffer index (into the accelerator's ``sram`` list, or :data:`ROM`),
    scoreboard region id, and first word address."""
    buf: int
    region: int
    addr: int = 0

    LAYOUT: ClassVar[tuple[tuple[str, int], ...]] = (("buf", 3), ("region", 8), ("addr", 22))


@dataclass(frozen=True)
class Descriptor:
    """Fields every descriptor has: the layer (index into the program's layer names, or
    :data:`NO_LAYER`) and the training phase it belongs to."""
    layer: int
    phase: Phase

    OPCODE: ClassVar[int] = -1
    UNIT: ClassVar[str] = ""
    LAYOUT: ClassVar[tuple[tuple[str, int], ...]] = ()

    def refs(self) -> tuple[tuple[str, Ref], ...]:
        """Buffer operands as (field name, ref)."""
        return tuple((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)
                     if isinstance(getattr(self, f.name), Ref))


_HEAD = (("layer", 8), ("phase", 2))


@dataclass(frozen=True)
class DramLoad(Descriptor):
    tensor: int
    dst: Ref
    offset: int
    words: int
    OPCODE: ClassVar[int] = 1
    UNIT: ClassVar[str] = "dram"
    LAYOUT: ClassVar = _HEAD + (("tensor", 8), ("dst", 0), ("offset", 32), ("words", 24))


@dataclass(frozen=True)
class DramStore(Descriptor):
    tensor: int
    src: Ref
    offset: int
    words: int
    OPCODE: ClassVar[int] = 2
    UNIT: ClassVar[str] = "dram"
    LAYOUT: ClassVar = _HEAD + (("tensor", 8), ("src", 0), ("offset", 32), ("words", 24))


@dataclass(frozen=True)
class Fft2d(Descriptor):
    """``images`` 2-D transforms of ``size`` points per axis.

    Forward: ``n`` rows of real input are non-zero (``n < size``: zero padding, the other
    rows are not transformed); only the columns surviving a crop to ``keep`` are
    transformed (``keep == size``: all ``size/2 + 1``).  Inverse: only the ``keep``-crop
    columns of the input are non-zero, and only ``n`` output rows are kept.  ``first`` is
    the index of the first plane (the slice, for values)."""
    src: Ref
    dst: Ref
    first: int
    images: int
    n: int
    size: int
    keep: int
    inverse: bool
    OPCODE: ClassVar[int] = 3
    UNIT: ClassVar[str] = "fft"
    LAYOUT: ClassVar = _HEAD + (("src", 0), ("dst", 0), ("first", 20), ("images", 20), ("n", 11),
                                ("size", 11), ("keep", 11), ("inverse", 1))


@dataclass(frozen=True)
class Gemm(Descriptor):
    """``C[f] = A[f] @ B'[f]`` for ``bins`` consecutive bins from ``bin0`` (channel pairs for
    the sinc kinds), output rows ``m0 .. m0+m``, columns ``n0 .. n0+n``, reduction ``k``;
    ``B' = conj(B)`` if ``conj_b``; accumulator -> output right ``shift``."""
    kind: GemmKind
    a: Ref
    b: Ref
    c: Ref
    bin0: int
    bins: int
    m0: int
    m: int
    n0: int
    n: int
    k: int
    conj_b: bool
    shift: int
    OPCODE: ClassVar[int] = 4
    UNIT: ClassVar[str] = "mac"
    LAYOUT: ClassVar = _HEAD + (("kind", 2), ("a", 0), ("b", 0), ("c", 0), ("bin0", 24), ("bins", 24),
                                ("m0", 17), ("m", 17), ("n0", 13), ("n", 13), ("k", 17),
                                ("conj_b", 1), ("shift", 6))


@dataclass(frozen=True)
class Dense(Descriptor):
    """Real GEMM of the classifier: ``C = A' @ B'`` with rows ``m0 .. m0+m``, columns
    ``n0 .. n0+n`` and reduction ``k``; ``trans_a``/``trans_b`` read the stored operand
    transposed (backward-data reads W^T, weight-gradient reads features^T)."""
    a: Ref
    b: Ref
    c: Ref
    m0: int
    m: int
    n0: int
    n: int
    k: int
    trans_a: bool
    trans_b: bool
    shift: int
    OPCODE: ClassVar[int] = 5
    UNIT: ClassVar[str] = "mac"
    LAYOUT: ClassVar = _HEAD + (("a", 0), ("b", 0), ("c", 0), ("m0", 24), ("m", 24), ("n0", 24),
                                ("n", 24), ("k", 24), ("trans_a", 1), ("trans_b", 1), ("shift", 6))


@dataclass(frozen=True)
class Crop(Descriptor):
    """Spectral pooling ``n -> m`` of ``count`` half spectra from plane ``first`` (adjoint:
    zero-pad and unfold ``m -> n``)."""
    src: Ref
    dst: Ref
    first: int
    count: int
    n: int
    m: int
    adjoint: bool
    OPCODE: ClassVar[int] = 6
    UNIT: ClassVar[str] = "crop"
    LAYOUT: ClassVar = _HEAD + (("src", 0), ("dst", 0), ("first", 24), ("count", 24), ("n", 11),
                                ("m", 11), ("adjoint", 1))


@dataclass(frozen=True)
class Act(Descriptor):
    """``count`` values from element ``first``: forward ``y = f(x)``; backward
    ``y = f'(x) * g`` (``g`` unused forward, the labels for softmax cross-entropy)."""
    function: ActFunction
    x: Ref
    g: Ref
    y: Ref
    first: int
    count: int
    backward: bool
    OPCODE: ClassVar[int] = 7
    UNIT: ClassVar[str] = "act"
    LAYOUT: ClassVar = _HEAD + (("function", 2), ("x", 0), ("g", 0), ("y", 0), ("first", 32),
                                ("count", 32), ("backward", 1))


@dataclass(frozen=True)
class Update(Descriptor):
    """SGD with momentum on ``count`` parameter values from ``first``: ``v = mu v + g``,
    ``w = w - lr v`` (w and v in place)."""
    w: Ref
    v: Ref
    g: Ref
    first: int
    count: int
    OPCODE: ClassVar[int] = 8
    UNIT: ClassVar[str] = "act"
    LAYOUT: ClassVar = _HEAD + (("w", 0), ("v", 0), ("g", 0), ("first", 32), ("count", 32))


@dataclass(frozen=True)
class Bias(Descriptor):
    """The MAC array's bias step on the DC bin (bin 0) of ``y``, rows ``m0 .. m0+m``,
    columns ``n0 .. n0+n``.  Forward (``grad=0``): the output stage adds
    ``2**scale * b[n0 .. n0+n]`` to every row (``scale = 2 log2 N`` for a conv's N x N DC
    bin, 0 for the classifier's logits), aligned to y's exponent, saturating.  Gradient
    (``grad=1``): ``b[n0 .. n0+n]`` = the column sums of the ``m`` rows (the whole batch),
    a GEMM with a ROM row of ones as the A operand, rounded to the gradient width.
    ``real``: y holds real values (the logits), else complex spectra."""
    y: Ref
    b: Ref
    m0: int
    m: int
    n0: int
    n: int
    scale: int
    real: bool
    grad: bool
    OPCODE: ClassVar[int] = 9
    UNIT: ClassVar[str] = "mac"
    LAYOUT: ClassVar = _HEAD + (("y", 0), ("b", 0), ("m0", 17), ("m", 17), ("n0", 17), ("n", 17),
                                ("scale", 5), ("real", 1), ("grad", 1))


KINDS: dict[int, type[Descriptor]] = {k.OPCODE: k for k in (DramLoad, DramStore, Fft2d, Gemm, Dense,
                                                           Crop, Act, Update, Bias)}
_ENUMS = {"phase": Phase, "kind": GemmKind, "function": ActFunction}


def _fields(d_type: type[Descriptor]) -> list[tuple[str, int]]:
    """The flat (name, bits) layout; Ref fields (width 0 in LAYOUT) expand to their parts."""
    out = []
    for name, bits in d_type.LAYOUT:
        if bits == 0:
            out += [(f"{name}.{part}", w) for part, w in Ref.LAYOUT]
        else:
            out.append((name, bits))
    return out


for _k in KINDS.values():  # the layouts are data: check once that each fits its words
    assert OPCODE_BITS + sum(w for _, w in _fields(_k)) <= DESCRIPTOR_BITS, _k.__name__
    assert [n for n, _ in _k.LAYOUT] == [f.name for f in dataclasses.fields(_k)], _k.__name__


def field_bits(d_type: type[Descriptor]) -> dict[str, tuple[int, int]]:
    """Where each field of ``d_type`` sits in the :data:`DESCRIPTOR_BITS`-bit descriptor:
    name (``"a.addr"`` for a Ref's part) -> (least significant bit, width).  The RTL
    decoder (``hdl/top.py``) slices the descriptor word with these."""
    out, pos = {}, OPCODE_BITS
    for name, bits in _fields(d_type):
        out[name] = (pos, bits)
        pos += bits
    return out


def _get(d: Descriptor, name: str) -> object:
    if "." in name:
        ref, part = name.split(".")
        return getattr(getattr(d, ref), part)
    return getattr(d, name)


def _check_fields(d: Descriptor) -> None:
    kind = type(d).__name__
    if type(d) not in KINDS.values():
        raise ProgramError(f"{kind}: not a descriptor kind")
    for name, bits in _fields(type(d)):
        v = _get(d, name)
        if isinstance(v, bool):
            v = int(v)
        if not isinstance(v, int):
            raise ProgramError(f"{kind}.{name}: must be an integer, got {v!r}")
        if not 0 <= v < (1 << bits):
            raise ProgramError(f"{kind}.{name}: {v} does not fit {bits} bits (0..{(1 << bits) - 1})")
        base = name.split(".")[0]
        if base in _ENUMS and v not in set(_ENUMS[base]):
            raise ProgramError(f"{kind}.{name}: {v} is not a valid {_ENUMS[base].__name__}")


def encode(d: Descriptor) -> list[int]:
    """Pack a descriptor into :data:`DESCRIPTOR_WORDS` 32-bit words (raises ProgramError if a
    field does not fit its width)."""
    _check_fields(d)
    value, pos = d.OPCODE, OPCODE_BITS
    for name, bits in _fields(type(d)):
        value |= int(_get(d, name)) << pos  # type: ignore[call-overload]  # fields are ints, checked above
        pos += bits
    return [(value >> (WORD_BITS * i)) & ((1 << WORD_BITS) - 1) for i in range(DESCRIPTOR_WORDS)]


def decode(words: Sequence[int]) -> Descriptor:
    """Unpack :data:`DESCRIPTOR_WORDS` words into the descriptor :func:`encode` made."""
    if len(words) != DESCRIPTOR_WORDS:
        raise ProgramError(f"decode: expected {DESCRIPTOR_WORDS} words, got {len(words)}")
    value = 0
    for i, w in enumerate(words):
        if not 0 <= int(w) < (1 << WORD_BITS):
            raise ProgramError(f"decode: word {i} = {w} is not a {WORD_BITS}-bit word")
        value |= int(w) << (WORD_BITS * i)
    opcode = value & ((1 << OPCODE_BITS) - 1)
    if opcode not in KINDS:
        raise ProgramError(f"decode: unknown opcode {opcode}")
    d_type = KINDS[opcode]
    raw: dict[str, int] = {}
    pos = OPCODE_BITS
    for name, bits in _fields(d_type):
        raw[name] = (value >> pos) & ((1 << bits) - 1)
        pos += bits
    if value >> pos:
        raise ProgramError(f"decode: {d_type.__name__} has non-zero bits past its last field")
    kwargs: dict[str, Any] = {}
    types = {f.name: f.type for f in dataclasses.fields(d_type)}
    for name, _ in d_type.LAYOUT:
        if f"{name}.buf" in raw:
            kwargs[name] = Ref(*(raw[f"{name}.{p}"] for p, _ in Ref.LAYOUT))
        elif name in _ENUMS:
            if raw[name] not in set(_ENUMS[name]):
                raise ProgramError(f"decode: {d_type.__name__}.{name} = {raw[name]} is not valid")
            kwargs[name] = _ENUMS[name](raw[name])
        elif types[name] in ("bool", bool):
            kwargs[name] = bool(raw[name])
        else:
            kwargs[name] = raw[name]
    return d_type(**kwargs)


def _pow2(v: int) -> bool:
    return v > 0 and v & (v - 1) == 0


def validate(d: Descriptor, accel: AcceleratorConfig) -> None:
    """Reject a descriptor that is malformed, out of field range, or that ``accel`` cannot
    execute (unknown buffer, FFT larger than ``fft.max_points``, shift past the accumulator,
    empty work).  Raises :class:`ProgramError` naming the descriptor kind and field."""
    _check_fields(d)
    kind = type(d).__name__

    def need(ok: bool, field: str, why: str) -> None:
        if not ok:
            raise ProgramError(f"{kind}.{field}: {why}")

    for name, ref in d.refs():
        need(ref.buf == ROM or ref.buf < len(accel.sram), f"{name}.buf",
             f"buffer {ref.buf} does not exist (have {len(accel.sram)})")
        if ref.buf != ROM:
            cap = buffer_depth(accel.sram[ref.buf].kbytes, accel.sram[ref.buf].word_bits)
            need(ref.addr < cap, f"{name}.addr", f"address {ref.addr} is past the buffer ({cap} words)")
    writes = {DramLoad: ("dst",), Fft2d: ("dst",), Gemm: ("c",), Dense: ("c",), Crop: ("dst",),
              Act: ("y",), Update: ("w", "v")}.get(type(d), ())
    if isinstance(d, Bias):
        writes = ("b",) if d.grad else ("y",)
    for name in writes:
        need(getattr(d, name).buf != ROM, f"{name}.buf", "the coefficient ROM cannot be written")
    if isinstance(d, (DramLoad, DramStore)):
        need(d.words > 0, "words", "must be >= 1")
    elif isinstance(d, Fft2d):
        need(_pow2(d.size) and 4 <= d.size <= accel.fft.max_points, "size",
             f"must be a power of two from 4 to fft.max_points={accel.fft.max_points}, got {d.size}")
        need(1 <= d.n <= d.size, "n", f"must be 1..size={d.size}, got {d.n}")
        need(2 <= d.keep <= d.size and d.keep % 2 == 0, "keep", f"must be even, 2..size={d.size}, got {d.keep}")
        need(d.images >= 1, "images", "must be >= 1")
    elif isinstance(d, Gemm):
        for f in ("bins", "m", "n", "k"):
            need(getattr(d, f) >= 1, f, "must be >= 1")
        need(d.shift < accel.mac_array.acc_bits, "shift",
             f"must be below mac_array.acc_bits={accel.mac_array.acc_bits}, got {d.shift}")
    elif isinstance(d, Dense):
        for f in ("m", "n", "k"):
            need(getattr(d, f) >= 1, f, "must be >= 1")
        need(d.shift < accel.mac_array.acc_bits, "shift",
             f"must be below mac_array.acc_bits={accel.mac_array.acc_bits}, got {d.shift}")
    elif isinstance(d, Crop):
        need(d.n >= 4 and d.n % 2 == 0, "n", f"must be even and >= 4, got {d.n}")
        need(2 <= d.m < d.n and d.m % 2 == 0, "m", f"must be even, 2..n-1={d.n - 1}, got {d.m}")
        need(d.count >= 1, "count", "must be >= 1")
    elif isinstance(d, Act):
        need(d.count >= 1, "count", "must be >= 1")
        need(not (d.function == ActFunction.SOFTMAX_XENT and not d.backward), "backward",
             "softmax cross-entropy only exists as a gradient (backward=1)")
    elif isinstance(d, Update):
        need(d.count >= 1, "count", "must be >= 1")
    elif isinstance(d, Bias):
        for f in ("m", "n"):
            need(getattr(d, f) >= 1, f, "must be >= 1")
        need(d.scale % 2 == 0, "scale", f"must be even (2 log2 N), got {d.scale}")


@dataclass(frozen=True)
class TensorInfo:
    """A tensor the program moves to or from DRAM: name, DRAM base address (bytes) and size
    in DRAM (bytes)."""
    name: str
    base: int
    nbytes: int


@dataclass(frozen=True)
class Program:
    """A complete program: the descriptors in issue order, the DRAM tensors (indexed by
    ``DramLoad.tensor``) and the layer names (indexed by ``Descriptor.layer``)."""
    descriptors: tuple[Descriptor, ...]
    tensors: tuple[TensorInfo, ...]
    layers: tuple[str, ...]

    def encode(self) -> list[int]:
        """All descriptors as one flat word list."""
        return [w for d in self.descriptors for w in encode(d)]

    def layer_name(self, index: int) -> str:
        return "input" if index == NO_LAYER else self.layers[index]
