"""Values through the simulator: after one simulated iteration the weights, momenta and
gradients equal accel.fixed.net.FixedNet's bit for bit (mantissas and exponents), however the
program is tiled."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from accel.config import load_accelerator
from accel.data import load_dataset
from accel.fixed.core import CTensor
from accel.fixed.net import FixedNet
from accel.network import load_network
from fdaccel.commands.simulate import report
from sim.run import simulate

ACCEL = load_accelerator({"fft": {"max_points": 64}})
#: tiny buffers: every intermediate spills to DRAM, GEMMs split into many small blocks
TINY = load_accelerator({"fft": {"max_points": 64, "count": 3}, "mac_array": {"rows": 3, "cols": 5},
                         "sram": [{"name": n, "kbytes": kb, "banks": 2}
                                  for n, kb in (("act", 4), ("weight", 2), ("grad", 4))]})


def mixed(first_padding: str) -> dict:
    """param: full, zero padding and a spatial activation (tests/test_fixed_net.py's mix)."""
    return {"name": "mixed", "dataset": "random", "input": {"channels": 2, "size": 8},
            "layers": [{"type": "conv", "out_channels": 4, "kernel": 3, "param": "full", "padding": first_padding},
                       {"type": "act", "kind": "spatial"}, {"type": "pool", "size": 8},
                       {"type": "conv", "out_channels": 3, "kernel": 3, "padding": "zero"},
                       {"type": "act", "kind": "pwl"}, {"type": "pool", "size": 4},
                       {"type": "dense", "classes": 5}]}


def _same(a: CTensor, b: CTensor, what: str) -> None:
    assert a.exp == b.exp, (what, a.exp, b.exp)
    assert a.bits == b.bits, what
    assert np.array_equal(a.re, b.re) and np.array_equal(a.im, b.im), what


def _batches(net, batch: int):
    if net.dataset == "random":
        rng = np.random.default_rng(7)
        shape = (2, batch, net.input.channels, net.input.size, net.input.size)
        x, calib = rng.standard_normal(shape)
        return x, rng.integers(0, net.layers[-1].classes, batch), calib, rng.integers(0, net.layers[-1].classes, batch)
    data = load_dataset(net)
    return (data.x_train[:batch], data.y_train[:batch],
            data.x_train[batch:2 * batch], data.y_train[batch:2 * batch])


def check_iteration(accel, net, batch: int) -> None:
    x, y, cx, cy = _batches(net, batch)
    ref = FixedNet(net, accel, seed=0)
    ref.calibrate(cx, cy)
    start = copy.deepcopy(ref)
    sat0 = dict(ref.sat.counts)
    loss, grads, _ = ref.loss_and_grads(x, y)
    ref.step(grads)
    sim = simulate(accel, net, batch, fixed=start, images=x, labels=y)
    v = sim.values
    assert v.loss == loss
    assert set(v.grads) == set(grads)
    for name, g in grads.items():
        _same(v.grads[name], g, f"gradient {name}")
    for name, p in ref.params.items():
        q = v.net.params[name]
        _same(q.value, p.value, f"weight {name}")
        _same(q.momentum, p.momentum, f"momentum {name}")
        assert q.fmt == p.fmt, name
    want = {k: n - sat0.get(k, 0) for k, n in ref.sat.counts.items() if n - sat0.get(k, 0)}
    assert v.sat.counts == want
    # the starting network is not changed
    for p in start.params.values():
        assert p.fmt is None


@pytest.mark.parametrize("accel", [ACCEL, TINY], ids=["default", "tiny"])
def test_lenet_digits_bit_exact(accel):
    check_iteration(accel, load_network("lenet-digits"), 16)


@pytest.mark.parametrize("first_padding", ["circular", "zero"])
@pytest.mark.parametrize("accel", [ACCEL, TINY], ids=["default", "tiny"])
def test_full_param_zero_padding_spatial_bit_exact(accel, first_padding):
    check_iteration(accel, load_network(mixed(first_padding)), 6)


def test_tiny_buffers_spill_and_tile():
    """The tiny configuration really does split the work: more descriptors, DRAM traffic."""
    net = load_network("lenet-digits")
    big, tiny = simulate(ACCEL, net, 16), simulate(TINY, net, 16)
    assert len(tiny.schedule.program.descriptors) > 3 * len(big.schedule.program.descriptors)
    assert tiny.stats.memory["dram"]["read_bytes"] > 2 * big.stats.memory["dram"]["read_bytes"]
    assert tiny.values.loss == big.values.loss


def test_report_has_values():
    sim = simulate(ACCEL, load_network("lenet-digits"), 8)
    rep = report(sim)["values"]
    assert rep["dataset"] == "digits" and np.isfinite(rep["loss"]) and isinstance(rep["saturations"], dict)


def test_files_datasets_fall_back_to_random():
    sim = simulate(load_accelerator(), load_network("lenet-mnist"), 4)
    assert sim.dataset == "random" and np.isfinite(sim.values.loss)
