"""Energy to accuracy: frequency designs (every activation kind) vs the spatial CNN.

For the digits-trained networks (lenet-digits, the default comparison, and
cifar-small-digits, cifar-small's layer stack on 1 x 16 x 16 digits): every design trained
with the golden models to test accuracy 0.95 over seeds 0-3 and a learning-rate grid,
iterations to target, cycles and energy per iteration on the default accelerator, time,
energy and EDP to target, area, at equal multipliers and at equal area, and the
fixed-point check.  For lenet-mnist and cifar-small (no data here): the per-iteration
costs, with "accuracy not measured (no data)".

Prints the tables and writes benchmarks/results/compare.json (one record per network, as
``fdaccel compare --json`` writes).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel.config import load_accelerator
from accel.energy import load_table
from accel.network import load_network
from fdaccel.compare.report import text_report
from fdaccel.compare.run import Settings, compare_network
from fdaccel.report import write_json

MEASURED = ("lenet-digits", "cifar-small-digits")
COSTS_ONLY = ("lenet-mnist", "cifar-small")
OUT = Path(__file__).resolve().parent / "results" / "compare.json"


def main() -> None:
    accel = load_accelerator()
    table = load_table(None, accel)
    results = []
    for name in MEASURED + COSTS_ONLY:
        t0 = time.perf_counter()
        result = compare_network(accel, load_network(name), table, Settings(),
                                 log=lambda line: print(line, file=sys.stderr, flush=True))
        result["seconds"] = round(time.perf_counter() - t0, 1)
        results.append(result)
        print(text_report(result) + "\n", flush=True)
        write_json(OUT, {"benchmark": "compare", "default_network": "lenet-digits", "networks": results})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
