"""Energy to accuracy: frequency designs (every activation kind) vs the spatial CNN.

For the digits-trained networks (lenet-digits, the default comparison, and
cifar-small-digits, cifar-small's layer stack on 1 x 16 x 16 digits): every design trained
with the golden models to test accuracy 0.95 over seeds 0-3 and a learning-rate grid
(cifar-small-digits, about 10x the training cost: a reduced protocol, see REDUCED),
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

#: cifar-small-digits takes 78 ms a step and 0.6 s an evaluation here: the full protocol
#: (4 rates x 4 seeds x 4 designs, FixedNet checks) would take over an hour
REDUCED = Settings(lrs=(0.02, 0.05), eval_every=20, max_epochs=10, fixed_check=False)
RUNS = (("lenet-digits", Settings()), ("lenet-mnist", Settings()), ("cifar-small", Settings()),
        ("cifar-small-digits", REDUCED))
OUT = Path(__file__).resolve().parent / "results" / "compare.json"


def main() -> None:
    accel = load_accelerator()
    table = load_table(None, accel)
    results = []
    for name, settings in RUNS:
        t0 = time.perf_counter()
        result = compare_network(accel, load_network(name), table, settings,
                                 log=lambda line: print(line, file=sys.stderr, flush=True))
        result["seconds"] = round(time.perf_counter() - t0, 1)
        if settings is REDUCED:
            result["protocol_note"] = ("reduced protocol for time (2-core machine): lr grid 0.02,0.05, evaluated "
                                       "every 20 iterations, at most 10 epochs, no fixed-point check")
        results.append(result)
        print(text_report(result) + "\n", flush=True)
        write_json(OUT, {"benchmark": "compare", "default_network": "lenet-digits", "networks": results})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
