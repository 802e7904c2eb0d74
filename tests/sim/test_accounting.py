"""Counters: every unit's cycles add up, and the operation counts equal the network's
analytic counts (computed here from the layer list, independently of sim/schedule.py)."""
from __future__ import annotations

from math import log2

import pytest

from accel.config import load_accelerator
from accel.network import load_network
from sim.run import simulate
from sim.stats import STALL_CAUSES
from tests.nets import SMALL_NET

B = 8


def _pow2_at_least(x: int) -> int:
    p = 1
    while p < x:
        p *= 2
    return p


def analytic(net) -> dict[str, int]:
    """Complex/sinc/real MACs (bias gradients: B x channels DC sums), butterflies (circular
    nets: the input FFT's rows and kept columns), crop-skipped bins, values through the
    activation lanes (PWL forward and backward, the classifier gradient's Hermitian
    projection) and updated parameters (sinc kernels in half storage, biases, dense weights)."""
    c, n = net.input.channels, net.input.size
    layers = net.layers
    counts = dict(complex_macs=0, sinc_macs=0, real_macs=0, crop_skipped_bins=0, activations=0, butterflies=0,
                  updates=0)
    seen_conv = False
    bins_of_last_conv = None
    for i, l in enumerate(layers):
        if l.type == "conv":
            size = n if l.padding == "circular" else _pow2_at_least(n + l.kernel - 1)
            crop = size
            for nxt in layers[i + 1:]:
                if nxt.type == "act" and nxt.kind in ("pwl", "linear"):
                    continue
                if nxt.type == "pool":
                    crop = nxt.size
                break
            rows, cols = (crop + 1, crop // 2 + 1) if crop < size else (size, size // 2 + 1)
            bins = rows * cols
            gemms = 3 if seen_conv else 2      # forward, weight-gradient (+ backward-data)
            counts["complex_macs"] += gemms * bins * B * c * l.out_channels + B * l.out_channels
            k, hk = l.kernel, l.kernel // 2 + 1
            counts["updates"] += c * l.out_channels * k * hk + l.out_channels
            # S V, (S V) S^T on the kept rows/columns; S^H G and (S^H G) conj(S) over the
            # gradient's rows x rows non-zero full-spectrum bins, k/2+1 output columns
            counts["sinc_macs"] += c * l.out_channels * (rows * k * k + rows * cols * k
                                                         + k * rows * rows + k * hk * rows)
            if i == 0:     # the input FFT: every row of the (padded) plane, the kept columns
                counts["butterflies"] += B * c * (size + cols) * (size // 2) * int(log2(size))
            bins_of_last_conv = bins
            seen_conv = True
            c, n = l.out_channels, size
        elif l.type == "act":
            if l.kind == "pwl":
                counts["activations"] += 2 * B * c * bins_of_last_conv
        elif l.type == "pool":
            if l.size < n:
                counts["crop_skipped_bins"] += B * c * (n * (n // 2 + 1) - (l.size + 1) * (l.size // 2 + 1))
            n = l.size
        elif l.type == "dense":
            feats = 2 * c * n * (n // 2 + 1)
            counts["real_macs"] += 3 * B * feats * l.classes + B * l.classes
            counts["updates"] += feats * l.classes + l.classes
            counts["activations"] += B * c * n * (n // 2 + 1)
    return counts


@pytest.fixture(scope="module", params=["lenet-digits", "cifar-small"])
def sim(request):
    return simulate(load_accelerator(), load_network(request.param), B)


def test_unit_cycles_add_up(sim):
    st = sim.stats
    for u, blk in st.units.items():
        assert blk["idle"] >= 0 and all(v >= 0 for v in blk["stall"].values())
        assert blk["busy"] + blk["idle"] + sum(blk["stall"].values()) == st.total_cycles, u
    assert sum(l["cycles"] for l in st.layers) == st.total_cycles
    for l in st.layers:
        for u, blk in l["units"].items():
            assert blk["idle"] >= 0
            assert blk["busy"] + blk["idle"] + sum(blk["stall"].values()) == l["cycles"], (l["name"], l["phase"], u)
    for u in st.units:
        assert sum(l["units"][u]["busy"] for l in st.layers) == st.units[u]["busy"]
        for cause in STALL_CAUSES:
            assert sum(l["units"][u]["stall"][cause] for l in st.layers) == st.units[u]["stall"][cause]


def test_op_counts_match_the_network(sim):
    want = analytic(sim.net)
    got = sim.stats.ops
    for key, value in want.items():
        assert got[key] == value, key


def test_traffic_is_consistent(sim):
    st = sim.stats
    for key in ("read_bytes", "write_bytes"):
        assert sum(l["memory"]["dram"][key] for l in st.layers) == st.memory["dram"][key]
    # every DRAM byte passes through a buffer port: loads write it, stores read it
    assert st.memory["dram"]["read_bytes"] > 0 and st.memory["dram"]["write_bytes"] > 0
    tx = sim.run.tx
    # (a crop pass's last output can precede its last input beat: the dropped tail rows)
    assert (tx["start"] < tx["end"]).all() and (tx["start"] < tx["done"]).all()
    assert int(tx["done"].max()) == st.total_cycles


def test_spatial_activation_and_zero_padding_transforms():
    """Every transform of the small network, counted by hand (B = 8 images): forward
    transforms run every row (as hdl/fft2d.py does), inverse ones are pruned."""
    net = load_network(SMALL_NET)
    accel = load_accelerator({"fft": {"max_points": 32}})
    st = simulate(accel, net, B).stats

    def bf(n: int) -> int:
        return (n // 2) * int(log2(n))

    planes1, planes2 = B * 2, B * 6     # input planes, conv1 output planes
    planes3 = B * 8                     # conv2 output planes (spatial activation)
    want = (planes1 * (16 + 5) * bf(16)            # input FFT: 16 rows, 5 columns kept for the crop to 8
            + planes2 * (5 + 8) * bf(8)            # conv2 padding: inverse 8-point (5 columns, 8 rows)
            + planes2 * (16 + 9) * bf(16)          #   forward 16-point (all 16 rows, 8 of them zero; 9 columns)
            + planes3 * (9 + 16) * bf(16)          # spatial act forward: inverse (9 cols, 16 rows)
            + planes3 * (16 + 3) * bf(16)          #   forward, 3 columns kept for the crop to 4
            + planes3 * (3 + 16) * bf(16)          # backward: inverse of a gradient with 3 non-zero columns
            + planes3 * (16 + 9) * bf(16)          #   forward, all columns
            + planes2 * (9 + 8) * bf(16)           # conv2 backward-data un-padding: inverse 16 (8 rows kept)
            + planes2 * (8 + 5) * bf(8))           #   forward 8-point
    assert st.ops["butterflies"] == want
    # PWL forward and backward on the kept bins, ReLU forward and backward, and the
    # classifier gradient's Hermitian projection (8 channels of 4 x 3)
    assert st.ops["activations"] == 2 * planes2 * 9 * 5 + 2 * planes3 * 16 * 16 + planes3 * 4 * 3
    for blk in st.units.values():
        assert blk["busy"] + blk["idle"] + sum(blk["stall"].values()) == st.total_cycles
