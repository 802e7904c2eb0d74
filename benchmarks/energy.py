"""Energy and cycles per training image: frequency-domain accelerator vs spatial baseline.

For lenet-digits, lenet-mnist and cifar-small at batch 32 on the default accelerator:
cycles and energy per training image of the frequency design and of the spatial
baseline (same multipliers, SRAM, DRAM and energy table), their ratios, per layer, and
the operation counts checked two ways:

* exactly, against the per-bin count of the network (complex MACs = sum over GEMMs of
  kept bins x B x Ci x Co; the simulator must reproduce it);
* against the Fourier-domain cost model of Mathieu, Henaff & LeCun, "Fast training of
  convolutional networks through FFTs" (ICLR 2014): a 2-D transform of an n x n plane
  costs 2 C n^2 log2 n (C = 1 here), a pointwise product 4 n^2 real multiplies per
  (input, output) channel pair, and every layer transforms inputs, kernels and outputs
  in each of its three passes.  The ratios show what half spectra (n (n/2+1) bins),
  3-multiplier complex MACs, crop skipping and never leaving the frequency domain save.

Prints tables and writes benchmarks/results/energy.json.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel.config import ConvLayer, load_accelerator
from accel.energy import load_table
from accel.layout import kept_count
from accel.network import (
    layer_shapes,
    load_network,
    read_sizes,
)
from fdaccel.report import table, write_json
from sim.costs import compare
from sim.run import simulate

NETWORKS = ("lenet-digits", "lenet-mnist", "cifar-small")
BATCH = 32
OUT = Path(__file__).resolve().parent / "results" / "energy.json"


def per_bin_macs(net, batch: int) -> int:
    """Complex MACs of the conv GEMMs, computed from the shapes: forward, weight gradient
    and (except for the first conv) backward-data, each kept bins x B x Ci x Co, plus the
    bias gradients (a sum over the batch of each output channel's DC bin, B x Co)."""
    shapes = layer_shapes(net)
    keep = read_sizes(shapes)
    total, seen = 0, False
    for i, s in enumerate(shapes):
        if not isinstance(s.layer, ConvLayer):
            continue
        kp = keep[i + 1] if i + 1 < len(shapes) else s.out_size
        bins = kept_count(s.out_size, kp)
        total += (3 if seen else 2) * bins * batch * s.in_channels * s.out_channels
        total += batch * s.out_channels if s.layer.bias else 0
        seen = True
    return total


def mathieu(net, batch: int) -> dict[str, float]:
    """Mathieu et al.'s operation counts for the conv layers of one training iteration:
    per layer and pass, transforms of the two operands and the result (B Ci, Ci Co and
    B Co planes of n x n at 2 n^2 log2 n each) and 4 n^2 real multiplies per pair."""
    transforms = products = 0.0
    for s in layer_shapes(net):
        if not isinstance(s.layer, ConvLayer):
            continue
        n = s.out_size
        planes = batch * s.in_channels + s.in_channels * s.out_channels + batch * s.out_channels
        transforms += 3 * planes * 2 * n * n * math.log2(n)
        products += 3 * 4 * n * n * batch * s.in_channels * s.out_channels
    return {"transform_ops": transforms, "pointwise_real_mults": products}


def measure(name: str, accel, table_) -> dict:
    net = load_network(name)
    t0 = time.perf_counter()
    sim = simulate(accel, net, BATCH)
    cmp = compare(sim.stats, accel, net, BATCH, table_)
    seconds = time.perf_counter() - t0
    ops = sim.stats.ops
    m = mathieu(net, BATCH)
    ours_mults = 3 * ops["complex_macs"]
    ours_transform_ops = 2 * ops["butterflies"]   # C = 1: a radix-2 butterfly ~ two complex ops
    expected = per_bin_macs(net, BATCH)
    assert ops["complex_macs"] == expected, (name, ops["complex_macs"], expected)
    f, s = cmp.freq.as_dict(), cmp.spatial.as_dict()
    return {
        "network": name, "batch": BATCH, "table": f["table"], "seconds": round(seconds, 3),
        "frequency": {"cycles": cmp.freq_cycles, "cycles_per_image": cmp.freq_cycles / BATCH,
                      "energy_pj": f["total_pj"], "energy_per_image_pj": f["per_image_pj"],
                      "by_level_pj": f["by_level"], "pj_per_complex_mac": f["pj_per_complex_mac"]},
        "spatial": {"cycles": cmp.spatial_cycles, "cycles_per_image": cmp.spatial_cycles / BATCH,
                    "energy_pj": s["total_pj"], "energy_per_image_pj": s["per_image_pj"],
                    "by_level_pj": s["by_level"], "real_macs": cmp.spatial_stats.ops["real_macs"]},
        "ratios_spatial_over_frequency": cmp.ratios(),
        "layers": cmp.per_layer(),
        "ops": {"complex_macs": ops["complex_macs"], "complex_macs_expected_per_bin": expected,
                "sinc_macs": ops["sinc_macs"], "butterflies": ops["butterflies"],
                "pointwise_real_mults": ours_mults, "transform_ops": ours_transform_ops,
                "mathieu_pointwise_real_mults": m["pointwise_real_mults"],
                "mathieu_transform_ops": m["transform_ops"],
                "pointwise_vs_mathieu": ours_mults / m["pointwise_real_mults"],
                "transforms_vs_mathieu": ours_transform_ops / m["transform_ops"]},
    }


def main() -> None:
    accel = load_accelerator()
    table_ = load_table(None, accel)
    rows = [measure(n, accel, table_) for n in NETWORKS]
    print(f"default accelerator, batch {BATCH}, energy table {rows[0]['table']}\n")
    print(table(["network", "freq cyc/img", "spatial cyc/img", "cycles x", "freq uJ/img", "spatial uJ/img",
                 "energy x"],
                [[r["network"], round(r["frequency"]["cycles_per_image"]), round(r["spatial"]["cycles_per_image"]),
                  round(r["ratios_spatial_over_frequency"]["cycles"], 2),
                  round(r["frequency"]["energy_per_image_pj"] / 1e6, 3),
                  round(r["spatial"]["energy_per_image_pj"] / 1e6, 3),
                  round(r["ratios_spatial_over_frequency"]["energy"], 2)] for r in rows]))
    print("\n(x: spatial / frequency; above 1 the frequency design wins)\n")
    print(table(["network", "layer", "freq uJ", "spatial uJ", "energy x", "freq cycles", "spatial cycles"],
                [[r["network"], l["layer"], round(l["frequency_pj"] / 1e6, 3), round(l["spatial_pj"] / 1e6, 3),
                  round(l["spatial_pj"] / l["frequency_pj"], 2) if l["frequency_pj"] else "-",
                  l["frequency_cycles"], l["spatial_cycles"]] for r in rows for l in r["layers"]]))
    print()
    print(table(["network", "cMACs", "= per-bin", "real mults", "Mathieu mults", "ratio", "transform ops",
                 "Mathieu transforms", "ratio"],
                [[r["network"], r["ops"]["complex_macs"], r["ops"]["complex_macs_expected_per_bin"],
                  r["ops"]["pointwise_real_mults"], int(r["ops"]["mathieu_pointwise_real_mults"]),
                  round(r["ops"]["pointwise_vs_mathieu"], 3), r["ops"]["transform_ops"],
                  int(r["ops"]["mathieu_transform_ops"]), round(r["ops"]["transforms_vs_mathieu"], 4)]
                 for r in rows]))
    write_json(OUT, {"benchmark": "energy", "accelerator": accel.name, "batch": BATCH, "rows": rows})
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
