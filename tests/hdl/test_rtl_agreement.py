"""Cycle model == RTL, to the cycle, on the same program; RTL values == accel.fixed bit for bit.

The program is a fragment of ``sim.schedule``'s iteration (one conv layer's forward,
backward-data and weight-gradient GEMMs, the PWL activation after it and the spectral
pooling after that: crop forward, pad backward; for the first layer, the input's forward
2-D FFT before it), run by ``sim.engine.execute`` and by
``hdl.top.Top``: in Amaranth's simulator for a tiny network, in the Verilator build for
lenet-digits' conv1 (input FFT 16 x 16, conv1, act1) and conv2 block (8x8 spectra
cropped to the pooled 5x3 bins, 8 -> 16 channels, pooled 8 -> 4, batch 32).  Every descriptor's dispatch, start, end and
done cycle must be equal; the buffers afterwards must equal ``accel.fixed.top.execute``
on the same images, and the GEMM outputs computed from ``sim.values``' operands must equal
``sim.values``' tensors (after the block normalization their readers apply).
"""
from __future__ import annotations

import numpy as np
import pytest

from accel.config import load_accelerator
from accel.fixed.net import FixedNet
from accel.fixed.top import execute as model_execute
from accel.layout import pack_complex as pack
from accel.layout import unpack_complex as unpack
from accel.network import load_network
from fdaccel.agreement import conv_fragment, model_times, normalized_equal, params_for
from hdl.tools.top_run import run_top, simulate_top
from hdl.top import program_words
from sim.run import simulate
from sim.values import iteration_batch

TINY = {"name": "tiny", "dataset": "random", "input": {"channels": 1, "size": 8},
        "layers": [{"type": "conv", "out_channels": 2, "kernel": 3, "bias": False},
                   {"type": "act", "kind": "pwl", "segments": 4},
                   {"type": "conv", "out_channels": 3, "kernel": 3, "bias": False},
                   {"type": "act", "kind": "pwl", "segments": 4},
                   {"type": "pool", "size": 4}, {"type": "dense", "classes": 3}]}


#: Buffers that hold a lenet-digits conv block on chip, with ports that never bind.
LENET_SRAM = [{"name": "act", "kbytes": 512, "banks": 64}, {"name": "weight", "kbytes": 256, "banks": 64},
              {"name": "grad", "kbytes": 512, "banks": 64}]


def _sim(accel, net, batch):
    b = iteration_batch(net, batch)
    fixed = FixedNet(net, accel, seed=net.training.seed)
    fixed.calibrate(b.calib_images, b.calib_labels)
    return simulate(accel, net, batch, fixed=fixed, images=b.images, labels=b.labels)


def _check(sim, fragment, top_run, accel):
    _, times = model_times(fragment.program, accel)
    assert top_run.error == 0
    for key in ("dispatch", "start", "end", "done"):
        assert getattr(top_run, key) == times[key], key
    vb = accel.formats.data_bits
    tables = sim.values.tables.get(fragment.layer + 1)
    images = [unpack(np.array(im), vb) for im in fragment.images]
    want = model_execute(fragment.program.descriptors, images, tables, accel.mac_array.acc_bits, vb,
                         accel.formats.rounding, accel.formats.twiddle_bits)
    for b, (re, im) in enumerate(want):
        assert top_run.images[b] == [int(w) for w in pack(re, im, vb)], f"buffer {b}"


def test_tiny_conv_layer_amaranth():
    """Forward GEMM, PWL forward, crop, pad, PWL backward, backward-data and weight-gradient
    GEMMs of the second conv layer and its activation and pooling (8 -> 4), on a 2x2 array
    with 2 lanes."""
    accel = load_accelerator({"mac_array": {"rows": 2, "cols": 2}, "activation": {"lanes": 2},
                              "sram": [{"name": n, "kbytes": 8, "banks": 64} for n in ("act", "weight", "grad")]})
    sim = _sim(accel, load_network(TINY), 3)
    fr = conv_fragment(sim, 2, with_act=True, with_pool=True)
    kinds = [(type(d).__name__, d.phase.label) for d in fr.program.descriptors]
    assert kinds == [("Gemm", "forward"), ("Act", "forward"), ("Crop", "forward"), ("Crop", "backward-data"),
                     ("Act", "backward-data"), ("Gemm", "backward-data"), ("Gemm", "weight-gradient")]
    p = params_for(accel, fr)
    run = simulate_top(p, program_words(fr.program, accel, p), [d.UNIT for d in fr.program.descriptors],
                       fr.images, fr.table)
    _check(sim, fr, run, accel)
    z = fr.program.descriptors[0].c
    assert normalized_equal(sim, 2, fr.tensors[(z.buf, z.region)].name, run.images[z.buf], z.addr)


def test_tiny_input_fft_conv_layer_amaranth():
    """The input's forward 2-D FFT (3 images, 8 x 8, only the columns a crop to 4 reads),
    then the first conv layer's forward GEMM, PWL forward and backward and weight-gradient
    GEMM, on one FFT engine, a 2x2 array and 2 lanes."""
    accel = load_accelerator({"fft": {"max_points": 8, "count": 1}, "mac_array": {"rows": 2, "cols": 2},
                              "activation": {"lanes": 2},
                              "sram": [{"name": n, "kbytes": 8, "banks": 64} for n in ("act", "weight", "grad")]})
    sim = _sim(accel, load_network(TINY), 3)
    fr = conv_fragment(sim, 0, with_act=True, with_fft=True)
    kinds = [(type(d).__name__, d.phase.label) for d in fr.program.descriptors]
    assert kinds == [("Fft2d", "forward"), ("Gemm", "forward"), ("Act", "forward"), ("Act", "backward-data"),
                     ("Gemm", "weight-gradient")]
    p = params_for(accel, fr)
    run = simulate_top(p, program_words(fr.program, accel, p), [d.UNIT for d in fr.program.descriptors],
                       fr.images, fr.table)
    _check(sim, fr, run, accel)


@pytest.mark.verilator
def test_lenet_conv1_block_verilator():
    """lenet-digits' input FFT (32 images, 16 x 16, columns for a crop to 8), conv1's
    forward and weight-gradient GEMMs and act1 (forward and backward) at batch 32, on one
    FFT engine, a 4x4 array and 4 lanes.  (pool1 is left out: its pooled side is conv2's
    input, which holds only conv2's 15 kept bins of the 40, a layout the top's crop does
    not write; see hdl/top.)"""
    accel = load_accelerator({"fft": {"max_points": 16, "count": 1}, "mac_array": {"rows": 4, "cols": 4},
                              "activation": {"lanes": 4},
                              "sram": LENET_SRAM})
    sim = _sim(accel, load_network("lenet-digits"), 32)
    fr = conv_fragment(sim, 0, with_act=True, with_fft=True)
    kinds = [(type(d).__name__, d.phase.label) for d in fr.program.descriptors]
    assert kinds == [("Fft2d", "forward"), ("Gemm", "forward"), ("Act", "forward"), ("Act", "backward-data"),
                     ("Gemm", "weight-gradient")]
    p = params_for(accel, fr)
    run, _ = run_top(p, program_words(fr.program, accel, p), [d.UNIT for d in fr.program.descriptors],
                     fr.images, fr.table)
    _check(sim, fr, run, accel)


@pytest.mark.verilator
def test_lenet_conv2_verilator():
    """lenet-digits conv2's three GEMMs, act2 and pool2 (forward and backward) at batch 32
    on a 4x4 array with 4 lanes; then the three GEMMs alone on operands sim.values
    normalized (the top does not block-normalize: in the chain, the PWL, the crop and the
    GEMMs after them read unnormalized outputs, so there only ``accel.fixed.top`` and the
    first GEMM's output compare): every GEMM output equals sim.values' bit for bit."""
    accel = load_accelerator({"mac_array": {"rows": 4, "cols": 4}, "activation": {"lanes": 4},
                              "sram": LENET_SRAM})
    sim = _sim(accel, load_network("lenet-digits"), 32)
    fr = conv_fragment(sim, 3, with_act=True, with_pool=True)
    kinds = [(type(d).__name__, d.phase.label) for d in fr.program.descriptors]
    assert kinds == [("Gemm", "forward"), ("Act", "forward"), ("Crop", "forward"), ("Crop", "backward-data"),
                     ("Act", "backward-data"), ("Gemm", "backward-data"), ("Gemm", "weight-gradient")]
    p = params_for(accel, fr)
    run, _ = run_top(p, program_words(fr.program, accel, p), [d.UNIT for d in fr.program.descriptors],
                     fr.images, fr.table)
    _check(sim, fr, run, accel)
    z = fr.program.descriptors[0].c
    assert normalized_equal(sim, 3, fr.tensors[(z.buf, z.region)].name, run.images[z.buf], z.addr)
    # the three GEMMs alone, every operand as sim.values normalized it: every output equal
    gemms = conv_fragment(sim, 3, with_act=False)
    run, _ = run_top(p, program_words(gemms.program, accel, p), [d.UNIT for d in gemms.program.descriptors],
                     gemms.images, gemms.table)
    _check(sim, gemms, run, accel)
    for d in gemms.program.descriptors:
        name = gemms.tensors[(d.c.buf, d.c.region)].name
        assert normalized_equal(sim, 3, name, run.images[d.c.buf], d.c.addr), name


def test_fft2d_descriptor_amaranth():
    """A forward Fft2d descriptor of 3 images (8 x 8, crop to 4 follows) on one engine:
    each image's transaction in ``sim.engine`` starts and ends its occupancy (address
    cycles; the samples follow after the buffers' one-cycle read) when ``hdl/fft2d.py``
    in Amaranth's simulator takes that image's first and last sample, and completes when
    it emits the image's last bin (readable the next cycle).  The RTL transforms every row
    of the plane; the descriptor says 5 of the 8 rows are non-zero, which changes nothing
    in either."""
    from accel.fixed.fft2d import column_count
    from accel.program import BUFFER_READ_CYCLES, Fft2d, Phase, Program, Ref, TensorInfo
    from sim.engine import execute

    from .test_fft2d import images, run_fft2d

    n, keep, count = 8, 4, 3
    accel = load_accelerator({"fft": {"max_points": n, "count": 1},
                              "sram": [{"name": b, "kbytes": 16, "banks": 64} for b in ("act", "weight", "grad")]})
    d = Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, count, 5, n, keep, False)
    tx = execute(Program((d,), (TensorInfo("t", 0, 1 << 20),), ("l0",)), accel).tx
    x = images(np.random.default_rng(3), count, n)
    x[:, 5:] = 0
    *_, in_cyc, out_cyc = run_fft2d(n, keep, x, 0.0, 0.0, seed=1)
    t0 = in_cyc[0] - int(tx["start"][0]) - BUFFER_READ_CYCLES       # RTL cycle of model time 0
    per = column_count(n, keep) * n
    assert [int(s) + BUFFER_READ_CYCLES for s in tx["start"]] == [in_cyc[k * n * n] - t0 for k in range(count)]
    assert [int(e) + BUFFER_READ_CYCLES for e in tx["end"]] == [in_cyc[(k + 1) * n * n - 1] + 1 - t0
                                                             for k in range(count)]
    assert [int(f) for f in tx["done"]] == [out_cyc[(k + 1) * per - 1] + 1 - t0 for k in range(count)]
