"""The top's data layouts, every width read from :mod:`accel.program`'s descriptor layouts.

* :func:`ref_layout` -- a buffer operand (buffer, region, word address);
* :func:`entry_layout` -- a decoded descriptor as it waits in a unit queue: its operands,
  the scoreboard counts it waits for, and the fields of every kind the top runs, each as
  wide as the widest descriptor field it holds (:data:`ENTRY_FIELDS`);
* :func:`dispatch_layout` -- an entry on its way to a queue, with the unit it goes to;
* :func:`owed_layout` -- where a descriptor still owed by an instance writes.
"""
from __future__ import annotations

from amaranth.lib import data
from amaranth.utils import ceil_log2

from accel.program import Act, Crop, Descriptor, Fft2d, Gemm, Ref, field_bits

from .params import TopParams

#: Units of the top, in trace order (bit i of ``start``/``end``/``done``); the index a
#: decoded descriptor's ``unit`` holds.
TOP_UNITS = ("mac", "act", "crop", "fft")
#: The descriptor kind each unit runs (``KIND.UNIT`` names the unit).
UNIT_KINDS: dict[str, type[Descriptor]] = {k.UNIT: k for k in (Gemm, Act, Crop, Fft2d)}
assert tuple(UNIT_KINDS) == TOP_UNITS
UNIT_BITS = ceil_log2(len(TOP_UNITS))

#: Widths of a buffer operand's buffer index and region id.
BUF_BITS, REGION_BITS = dict(Ref.LAYOUT)["buf"], dict(Ref.LAYOUT)["region"]
#: Width of a scoreboard counter (writes or reads of a region, wrapping): more than any
#: region has outstanding.
COUNTER_BITS = 8


def bits(kind: type[Descriptor], name: str) -> int:
    """Width of field ``name`` of descriptor ``kind`` (``"a.addr"`` for a Ref's part)."""
    return field_bits(kind)[name][1]


#: The descriptor fields each scalar entry field holds, per kind.
ENTRY_FIELDS: dict[str, tuple[tuple[type[Descriptor], str], ...]] = {
    "phase": ((Gemm, "phase"), (Act, "phase"), (Crop, "phase"), (Fft2d, "phase")),
    "bins": ((Gemm, "bins"),),
    "m": ((Gemm, "m"), (Crop, "m"), (Fft2d, "size")),
    "n": ((Gemm, "n"), (Crop, "n"), (Fft2d, "n")),
    "k": ((Gemm, "k"), (Fft2d, "keep")),
    "conj": ((Gemm, "conj_b"),),
    "shift": ((Gemm, "shift"),),
    "count": ((Act, "count"), (Crop, "count"), (Fft2d, "images")),
    "backward": ((Act, "backward"),),
    "adjoint": ((Crop, "adjoint"),),
}


def entry_bits(name: str) -> int:
    """Width of scalar entry field ``name``: the widest descriptor field it holds."""
    return max(bits(kind, field) for kind, field in ENTRY_FIELDS[name])


def ref_layout(addr_bits: int) -> data.StructLayout:
    """A buffer operand, with word addresses of ``addr_bits``."""
    return data.StructLayout({"buf": BUF_BITS, "region": REGION_BITS, "addr": addr_bits})


def entry_layout(p: TopParams) -> data.StructLayout:
    """A queued descriptor: operands ``r0`` (GEMM ``a``, PWL ``x``, crop/FFT ``src``),
    ``r1`` (``b``, ``g``; read only if ``r1_active``) and ``w`` (``c``, ``y``, ``dst``); the
    writes (``wait_r0``, ``wait_r1``) and reads (``wait_w``) of their regions dispatched
    before it; the kinds' fields (:data:`ENTRY_FIELDS`); the crop/pad pair or FFT engine
    it runs on (``unit_shape``)."""
    ref = ref_layout(p.addr_bits)
    fields: dict[str, object] = {"r0": ref, "r1": ref, "w": ref, "r1_active": 1,
                                 "wait_r0": COUNTER_BITS, "wait_r1": COUNTER_BITS, "wait_w": COUNTER_BITS}
    fields.update({name: entry_bits(name) for name in ENTRY_FIELDS})
    fields["unit_shape"] = p.shape_bits
    return data.StructLayout(fields)


def dispatch_layout(p: TopParams) -> data.StructLayout:
    """An entry and the index (in :data:`TOP_UNITS`) of the unit whose queue it goes to."""
    return data.StructLayout({"entry": entry_layout(p), "unit": UNIT_BITS})


def owed_layout(p: TopParams) -> data.StructLayout:
    """A descriptor an instance owes results for: its destination and plane count."""
    return data.StructLayout({"buf": BUF_BITS, "region": REGION_BITS, "addr": p.addr_bits,
                              "count": entry_bits("count")})
