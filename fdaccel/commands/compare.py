"""``fdaccel compare``: energy to accuracy, the frequency designs against the spatial CNN.

Checks every option and builds every program first (a bad target, seed, rate, network or
accelerator is a ConfigError before any work), then prices one iteration of each design
on the cycle model, trains each design to the target test accuracy on the network's data
(digits is bundled; other datasets need ``--data``, else "accuracy not measured (no
data)"), prints the tables, writes the JSON record and updates the accuracy cache that
``simulate`` reads (:mod:`fdaccel.compare.cache`).
"""
from __future__ import annotations

import sys

from accel.config import load_accelerator
from accel.energy import load_table
from accel.network import load_network

from ..compare.cache import store
from ..compare.report import text_report
from ..compare.run import Settings, cache_entries, check_target, compare_network
from ..options import CompareOptions
from ..report import write_json


def settings_of(opts: CompareOptions) -> Settings:
    """The comparison settings the options ask for, checked."""
    check_target(opts.target)
    return Settings(target=opts.target, seeds=opts.seeds, lrs=opts.lrs, max_epochs=opts.epochs,
                    eval_every=opts.eval_every, batch=opts.batch, kinds=opts.kinds, fixed_check=opts.fixed_check,
                    data_dir=opts.data).check()


def run_compare(opts: CompareOptions) -> int:
    """The body of ``fdaccel compare``."""
    settings = settings_of(opts)
    accel = load_accelerator(opts.accel)
    net = load_network(opts.network)
    table = load_table(opts.energy, accel)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = compare_network(accel, net, table, settings, log)
    print(text_report(result))
    if opts.json:
        write_json(opts.json, {"benchmark": "compare", "networks": [result]})
    entries = cache_entries(result)
    if entries and opts.cache:
        path = store(entries)
        print(f"\naccuracies cached in {path} (fdaccel simulate prints them)")
    return 0
