"""What the schedule's stages pass between them: tensors, operands, operations, the schedule.

A lowering (:mod:`sim.schedule.frequency`, :mod:`sim.schedule.spatial`) turns a network
into a list of :class:`Op`; placement (:mod:`sim.schedule.placement`) decides which
tensors stay on chip; emission (:mod:`sim.schedule.emission`) cuts every op into chunks
and writes their descriptors.

An op kind is a subclass of :class:`Op` whose :class:`Operand` fields *name* its
operands: the order they are declared in is the order of the op's staging regions, and
the names are what its :meth:`Op.emit` and :meth:`Op.compute` bind -- no position and
no label string identifies a tensor.  Every op is built with keyword arguments.

Value kernels compute against a :class:`ValueStore` (implemented by
:class:`sim.values.Values`), so the schedule does not depend on the layer that drives it.
"""
from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple, Protocol, TypeVar

import numpy as np

from accel.fixed.act import PwlTable
from accel.fixed.core import CTensor, Saturations
from accel.fixed.layers import Widths
from accel.fixed.net import FixedNet
from accel.program import Descriptor, Phase, Program, Ref

#: (M, N, K) of a GEMM: output rows and columns and reduction length, per bin.
GemmShape = tuple[int, int, int]
#: How an op accesses an operand: reads it, writes it, or updates it in place.
Mode = Literal["r", "w", "rw"]
#: Which GEMM operand an operand is (A, B or the output C); "" for non-GEMM operands.
Role = Literal["", "a", "b", "c"]
D = TypeVar("D", bound=Descriptor)


class Block(NamedTuple):
    """The output block of a GEMM chunk: rows ``m0 .. m0+m``, columns ``n0 .. n0+n``."""
    m0: int
    m: int
    n0: int
    n: int


@dataclass(frozen=True)
class Chunk:
    """One chunk of an op: ``count`` units from unit ``first``, on output block ``block``."""
    first: int
    count: int
    block: Block


@dataclass(eq=False)
class Tensor:
    """A tensor of the iteration: home buffer, size in values, format, and where placement
    put it (``resident``: on chip in ``region`` from word ``addr``; else ``dram_id``)."""
    name: str
    buf: int
    values: int
    complex_: bool = True
    bits: int | None = None        # value width, if not the home buffer's
    persistent: bool = False       # lives in DRAM before and after the iteration
    scratch: bool = False          # per-chunk intermediate: staging only, never in DRAM
    param: str = ""                # the accel.fixed.net parameter it holds (persistent parameters)
    resident: bool = False
    region: int = -1
    addr: int = 0
    dram_id: int = -1


@dataclass(eq=False)
class Operand:
    """A tensor an op reads (``r``), writes (``w``) or updates in place (``rw``).

    ``per_unit``: values per unit of the op's axis; a GEMM operand (``role`` a, b or c)
    gets them from the chunk's block instead.  ``real``: values counted as reals (the
    classifier's view of a spectrum).  ``view``: the operand is an im2col view of the
    tensor (the spatial baseline's convolutions), with ``view`` tensor values per view
    value: the array streams the view, while staging and DRAM move the tensor itself.
    """
    tensor: Tensor
    mode: Mode
    per_unit: int = 0
    role: Role = ""
    real: bool = False
    view: float | None = None

    @property
    def complex_(self) -> bool:
        return self.tensor.complex_ and not self.real

    def values_per_unit(self, block: Block, k: int) -> int:
        """Values of the tensor one unit of a chunk on ``block`` moves (reduction ``k``)."""
        if not self.role:
            base = self.per_unit
        else:
            base = {"a": block.m * k, "b": k * block.n, "c": block.m * block.n}[self.role]
        if self.view is None:
            return base
        return max(1, -(-int(base * self.view * 1e6) // 1_000_000))

    def first_value(self, first: int, block: Block, gemm: GemmShape | None) -> int:
        """Index of the first value of a chunk's slice of the tensor (bin-major layouts)."""
        if not self.role:
            base = first * self.per_unit
        else:
            assert gemm is not None, "a GEMM operand of an op without a GEMM shape"
            M, N, K = gemm
            base = {"a": first * M * K + block.m0 * K, "b": first * K * N + block.n0,
                    "c": first * M * N + block.m0 * N + block.n0}[self.role]
        return base if self.view is None else int(base * self.view)


#: The buffer operands of one chunk, by operand.
Refs = Mapping[Operand, Ref]


@dataclass(eq=False, kw_only=True)
class Op(ABC):
    """One operation over ``units`` (planes, bins, channel pairs, values), chunked at emission.

    Subclasses declare their operands as :class:`Operand` fields and implement
    :meth:`emit` (the compute descriptors of one chunk) and, if the schedule carries
    values, :meth:`compute` (the values one of those descriptors produces).  ``label``
    names the op in reports and error messages only."""
    layer: int
    phase: Phase
    units: int
    label: str = ""

    @cached_property
    def operands(self) -> tuple[Operand, ...]:
        """The operand fields, in declaration order (the order of their staging regions)."""
        found = (getattr(self, f.name) for f in dataclasses.fields(self))
        return tuple(o for o in found if isinstance(o, Operand))

    def gemm(self) -> GemmShape | None:
        """(M, N, K) per unit if the op is a GEMM whose output the emission may split into blocks."""
        return None

    @abstractmethod
    def emit(self, chunk: Chunk, refs: Refs) -> list[Descriptor]:
        """The compute descriptors of one chunk, ``refs`` giving each operand's buffer ref."""

    def compute(self, d: Descriptor, store: ValueStore) -> None:
        """Compute the values descriptor ``d`` (one that :meth:`emit` wrote) produces."""
        raise NotImplementedError(f"{type(self).__name__} carries no values")

    def outputs(self) -> tuple[Operand, ...]:
        """The operands whose tensors this op produces (finalized once it has run)."""
        return tuple(o for o in self.operands if o.mode != "r")

    def gradient(self) -> tuple[Tensor, str] | None:
        """(gradient tensor, parameter name) if this op consumes a parameter's gradient."""
        return None


def expect(d: Descriptor, kind: type[D]) -> D:
    """``d`` as a descriptor of ``kind`` (an op's kernel receives the descriptors it emitted)."""
    if not isinstance(d, kind):
        raise TypeError(f"expected a {kind.__name__} descriptor, got {type(d).__name__}")
    return d


#: How a tensor is finished once its last writer has run: block-normalized, its planes'
#: exponents aligned (FFT outputs), Hermitian-completed, or left as written.
Final = Literal["normalize", "align", "hermitian", "none"]


@dataclass
class Slot:
    """A tensor's mantissas (its whole logical shape), per-plane exponent offsets for FFT
    outputs (else None), how it is finalized and whether it is final."""
    t: CTensor
    off: np.ndarray | None
    final: Final
    done: bool = False

    def offsets(self) -> np.ndarray:
        """The per-plane exponent offsets (a tensor written with ``planes``)."""
        if self.off is None:
            raise RuntimeError("the tensor has no per-plane exponent offsets")
        return self.off


class ValueStore(Protocol):
    """The tensors of one iteration and the fixed-point context they are computed in."""
    #: the fixed-point network (formats, crop masks, PWL tables' source, the host's loss)
    net: FixedNet
    w: Widths
    sat: Saturations
    #: PWL tables by layer (built by the forward activation, reused backward)
    tables: dict[int, PwlTable]
    #: the batch's labels
    labels: np.ndarray

    def get(self, t: Tensor) -> Slot:
        """A final tensor's slot (RuntimeError if a writer is still to run)."""
        ...

    def pending(self, t: Tensor) -> Slot:
        """A tensor's slot before it is final (an epilogue on a GEMM output)."""
        ...

    def out(self, t: Tensor, shape: tuple[int, ...], exp: int, bits: int, final: Final,
            planes: int | None = None) -> Slot:
        """The slot a descriptor writes, allocated by its first writer."""
        ...

    def host_gradient(self, logits: CTensor) -> CTensor:
        """The host's dL/dlogits of the whole batch (computed once, from the labels)."""
        ...


@dataclass
class Schedule:
    """A program with what was decided to build it (for reports, tests and the value layer):
    the operations, which operation each descriptor belongs to (-1: a DRAM transfer), the
    tensors by name, and where they were placed."""
    program: Program
    resident: dict[str, str] = field(default_factory=dict)    # tensor -> buffer, if on chip
    in_dram: list[str] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    op_of: list[int] = field(default_factory=list)
    tensors: dict[str, Tensor] = field(default_factory=dict)
