"""Cycle model vs RTL on the same program: shared by tests/hdl/test_rtl_agreement.py and
benchmarks/sim_speed.py.

A *fragment* is the part of a schedule (``sim.schedule.build_schedule``) that the top runs
on chip: one conv layer's conv GEMMs (forward, backward-data, weight-gradient) and,
optionally, the PWL activation after it (forward and backward) and the spectral pooling
after that (crop forward, pad backward), in program order, with the descriptors unchanged.
Its operands are the tensors ``sim.values`` computed in the same iteration, laid out bin
major (``accel.fixed.top``) at the addresses the schedule placed them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.config import AcceleratorConfig, ConvLayer
from accel.fixed.core import CTensor
from accel.fixed.layers import normalize
from accel.fixed.top import table_words
from accel.layout import buffer_depth, kept_index, pack_complex, unpack_complex
from accel.program import Act, ActFunction, Crop, Descriptor, Fft2d, Gemm, GemmKind, Program
from hdl.top import TopParams
from sim.engine import Run, execute
from sim.run import Simulation
from sim.schedule import FIRST_RESIDENT_REGION, Tensor
from sim.values import Values


@dataclass
class Fragment:
    """A conv layer's on-chip program, what it reads (buffer images) and its tensors."""
    program: Program
    images: list[list[int]]
    table: list[int]
    tensors: dict[tuple[int, int], Tensor]     # (buf, region) -> tensor
    layer: int


def _values(sim: Simulation) -> Values:
    """The values of a simulation that computed them."""
    if sim.values is None:
        raise ValueError("the simulation ran timing only (values=False): it has no values to compare")
    return sim.values

def conv_fragment(sim: Simulation, layer: int, with_act: bool, with_pool: bool = False,
                  with_fft: bool = False) -> Fragment:
    """The fragment of conv layer ``layer`` (and its PWL activation, ``layer + 1``, its
    pooling, ``layer + 2``, and for the first layer the input's forward FFT) of a
    simulated iteration; every operand must be resident (on chip), else AssertionError --
    but the FFT's input, which the schedule loads from DRAM: it is preloaded where that
    load puts it."""
    assert isinstance(sim.net.layers[layer], ConvLayer)
    descs: list[Descriptor] = []
    for d in sim.schedule.program.descriptors:
        if with_fft and isinstance(d, Fft2d) and not d.inverse and layer == 0:
            descs.append(d)
        elif isinstance(d, Gemm) and d.kind == GemmKind.CONV and d.layer == layer:
            descs.append(d)
        elif with_act and isinstance(d, Act) and d.function == ActFunction.PWL and d.layer == layer + 1:
            descs.append(d)
        elif with_pool and isinstance(d, Crop) and d.layer == layer + 2:
            descs.append(d)
    program = Program(tuple(descs), (), sim.schedule.program.layers)
    by_region = {(t.buf, t.region): t for t in sim.schedule.tensors.values() if t.resident}
    vb = sim.accel.formats.data_bits
    images = [np.zeros(buffer_depth(s.kbytes, s.word_bits), np.int64) for s in sim.accel.sram]
    written: set[tuple[int, int]] = set()
    for d in descs:
        if isinstance(d, Fft2d):                    # n x n real samples, plane major, two per word
            x = _values(sim).slots["x"].t.re.reshape(-1, d.n * d.n)[d.first:d.first + d.images].ravel()
            x = np.concatenate([x, np.zeros(len(x) % 2, np.int64)])
            images[d.src.buf][d.src.addr:d.src.addr + len(x) // 2] = pack_complex(x[0::2], x[1::2], vb)
            written.add((d.dst.buf, d.dst.region))
            continue
        for name, ref in d.refs():
            key = (ref.buf, ref.region)
            assert ref.region >= FIRST_RESIDENT_REGION and key in by_region, f"{name} is staged through DRAM"
            reads = name in ("a", "b", "x", "src") or (name == "g" and isinstance(d, Act) and d.backward)
            if reads and key not in written:
                t = by_region[key]
                pooled = isinstance(d, Crop) and d.adjoint        # the pad reads the pooled gradient
                re, im = physical(sim, layer, t.name, d.m if isinstance(d, Crop) and pooled else None)
                images[ref.buf][t.addr:t.addr + len(re)] = pack_complex(re, im, vb)
        written.add((d.refs()[-1][1].buf, d.refs()[-1][1].region))
    table = table_words(_values(sim).tables[layer + 1], sim.accel.activation.segments) if with_act else []
    return Fragment(program, [[int(w) for w in im] for im in images], table, by_region, layer)


def _bins(sim: Simulation, layer: int, pooled: int | None) -> tuple[int, np.ndarray, np.ndarray]:
    """(n, rows, columns) of a tensor's stored bins: conv layer ``layer``'s kept bins, or all
    bins of a pooled ``pooled``-point half spectrum."""
    if pooled is not None:
        return (pooled, *kept_index(pooled, None))
    n = _values(sim).shapes[layer].out_size
    return (n, *kept_index(n, _values(sim).net.keeps[layer]))


def physical(sim: Simulation, layer: int, name: str, pooled: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Tensor ``name`` of ``sim.values`` in the top's layout: ``[bin][plane]`` over the kept
    bins of conv layer ``layer`` (all bins of the ``pooled``-point spectrum if given)."""
    t = _values(sim).slots[name].t
    n, rr, cc = _bins(sim, layer, pooled)
    shape = (-1, n, n // 2 + 1)
    return t.re.reshape(shape)[:, rr, cc].T.ravel(), t.im.reshape(shape)[:, rr, cc].T.ravel()


def normalized_equal(sim: Simulation, layer: int, name: str, image: list[int], addr: int,
                     pooled: int | None = None) -> bool:
    """Whether the words at ``addr`` of a buffer image, read as tensor ``name`` in the top's
    layout (:func:`physical`) and block-normalized as its reader does
    (``accel.fixed.net.normalize``), equal ``sim.values``' mantissas bit for bit."""
    ref = _values(sim).slots[name].t
    n, rr, cc = _bins(sim, layer, pooled)
    P = ref.re.size // (n * (n // 2 + 1))
    re, im = unpack_complex(image[addr:addr + P * len(rr)], sim.accel.formats.data_bits)
    full = [np.zeros((P, n, n // 2 + 1), np.int64) for _ in range(2)]
    full[0][:, rr, cc], full[1][:, rr, cc] = re.reshape(len(rr), P).T, im.reshape(len(rr), P).T
    got = normalize(CTensor(full[0], full[1], 0, ref.bits))
    return (np.array_equal(got.re, ref.re.reshape(full[0].shape))
            and np.array_equal(got.im, ref.im.reshape(full[0].shape)))


def model_times(program: Program, accel: AcceleratorConfig) -> tuple[Run, dict[str, list[int]]]:
    """The cycle model's run of ``program`` and, per descriptor, its dispatch, start, end
    and done cycles (one transaction per descriptor for the top's units).  Asserts that no
    transaction is port-bound (the top gives each lane its own buffer port)."""
    run = execute(program, accel)
    assert all(w.occupancy == w.compute for e in run.expansions for w in e.works), \
        "port-bound descriptor: raise the buffers' banks"
    n = len(program.descriptors)
    desc, start, end = run.tx["desc"], run.tx["start"], run.tx["end"]
    first = [int(start[desc == i].min()) for i in range(n)]     # a descriptor's transactions (an FFT's
    final = [int(end[desc == i].max()) for i in range(n)]       # images) run back to back
    assert run.desc_issue is not None, "execute records every dispatch"
    return run, {"dispatch": [int(t) for t in run.desc_issue], "start": first, "end": final,
                 "done": [int(t) for t in run.desc_done]}


def params_for(accel: AcceleratorConfig, fragment: Fragment) -> TopParams:
    """The top for ``accel`` with a scoreboard just big enough for the fragment's regions."""
    regions = max(ref.region for d in fragment.program.descriptors for _, ref in d.refs()) + 1
    pools = sorted({(d.n, d.m) for d in fragment.program.descriptors if isinstance(d, Crop)})
    ffts = sorted({(d.size, min(d.keep, d.size)) for d in fragment.program.descriptors if isinstance(d, Fft2d)})
    return TopParams.from_accel(accel, regions=regions, pools=pools or None, ffts=ffts or None)
