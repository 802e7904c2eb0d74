"""``fdaccel analyze KIND``: run one analysis, print its summary, write its JSON and PNGs.

Arguments are checked before any work (an unknown analysis or network, a bad epoch
count or seed, a plot folder that is a file: ConfigError, one line, exit 2).  Like
``train``, the analyses run with single-threaded BLAS (their GEMMs are small, and the
machine is shared).
"""
from __future__ import annotations

import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from accel.config import ConfigError
from accel.network import load_network

from ..analyze import analysis
from ..analyze.common import Context
from ..options import AnalyzeOptions
from ..report import write_json


def run_analyze(opts: AnalyzeOptions) -> int:
    """The body of ``fdaccel analyze``."""
    module = analysis(opts.kind)
    if opts.epochs is not None and opts.epochs <= 0:
        raise ConfigError(f"analyze --epochs: must be a positive integer, got {opts.epochs}")
    if opts.seed is not None and opts.seed < 0:
        raise ConfigError(f"analyze --seed: must be >= 0, got {opts.seed}")
    if opts.plot is not None and Path(opts.plot).exists() and not Path(opts.plot).is_dir():
        raise ConfigError(f"analyze --plot: {opts.plot!r} is a file, not a folder")
    if opts.network is not None:
        load_network(opts.network)
    ctx = Context(network=opts.network, epochs=opts.epochs, seed=opts.seed or 0)
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        data = module.run(ctx)
    report = {"analysis": opts.kind, "seed": ctx.seed, "seconds": round(time.perf_counter() - start, 2), **data}
    for line in module.summary(report):
        print(line)
    print(f"{opts.kind}: {report['seconds']:.1f} s")
    if opts.json:
        write_json(opts.json, report)
    if opts.plot:
        for path in module.plot(report, opts.plot):
            print(f"wrote {path}")
    return 0
