"""The spatial-domain baseline: analytic MAC counts, accounting identities, same machine."""
from __future__ import annotations

import pytest

from accel.config import ConvLayer, DenseLayer, load_accelerator
from accel.network import layer_shapes, load_network
from sim.baseline import baseline_accelerator, build_baseline
from sim.engine import UNITS, execute
from sim.stats import collect


def _analytic_macs(net, batch: int) -> int:
    """Direct-convolution training: forward, backward-data (not for the first conv, whose
    input gradient nobody needs) and weight gradient, B Co Ci k^2 out^2 each; the
    classifier's three GEMMs."""
    total = 0
    seen_conv = False
    for s in layer_shapes(net):
        L = s.layer
        if isinstance(L, ConvLayer):
            fwd = batch * s.out_channels * s.in_channels * L.kernel ** 2 * s.out_size ** 2
            bwd = batch * s.out_channels * s.in_channels * L.kernel ** 2 * s.in_size ** 2
            total += 2 * fwd + (bwd if seen_conv else 0)
            seen_conv = True
        elif isinstance(L, DenseLayer):
            total += 3 * batch * s.out_channels * s.in_channels * s.in_size ** 2
    return total


@pytest.mark.parametrize("name", ["lenet-digits", "lenet-mnist", "cifar-small"])
def test_baseline_macs_equal_direct_convolution_training(name):
    net = load_network(name)
    accel = load_accelerator()
    run = execute(build_baseline(accel, net, 32).program, baseline_accelerator(accel))
    st = collect(run, [s.name for s in accel.sram])
    assert st.ops["real_macs"] == _analytic_macs(net, 32)
    assert st.ops["complex_macs"] == st.ops["butterflies"] == 0
    for u in UNITS:
        b = st.units[u]
        assert b["busy"] + b["idle"] + sum(b["stall"].values()) == st.total_cycles
    assert sum(row["cycles"] for row in st.layers) == st.total_cycles
    for row in st.layers:
        for u in UNITS:
            b = row["units"][u]
            assert b["busy"] + b["idle"] + sum(b["stall"].values()) == row["cycles"]


def test_baseline_has_as_many_real_multipliers_as_the_complex_array():
    accel = load_accelerator({"mac_array": {"rows": 4, "cols": 6}})
    base = baseline_accelerator(accel)
    assert base.mac_array.rows * base.mac_array.cols == 3 * 4 * 6
    assert base.sram == accel.sram and base.dram == accel.dram and base.energy == accel.energy


def test_small_buffers_give_dram_traffic_not_errors():
    net = load_network("lenet-digits")
    big = load_accelerator()
    small = load_accelerator({"sram": [{"name": "act", "kbytes": 4}, {"name": "weight", "kbytes": 4},
                                       {"name": "grad", "kbytes": 4}]})
    traffic = {}
    for key, accel in (("big", big), ("small", small)):
        run = execute(build_baseline(accel, net, 32).program, baseline_accelerator(accel))
        st = collect(run, [s.name for s in accel.sram])
        traffic[key] = st.memory["dram"]["read_bytes"] + st.memory["dram"]["write_bytes"]
        assert st.ops["real_macs"] == _analytic_macs(net, 32)
    assert traffic["small"] > traffic["big"]
