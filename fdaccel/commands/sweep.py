"""``fdaccel sweep``: design-space exploration over accelerator parameters.

``--set KEY=V1,V2,...`` (repeatable; :mod:`fdaccel.sweep.grid`) names an accelerator key
and the values to try; the sweep runs the cartesian product.  Each point is one simulated
training iteration (``--timing-only``: without values) priced with the energy table and
compared with the spatial baseline on the same hardware.

Everything is checked before any point runs: the options, the output paths, the grid
(every point's configuration), and then, on the engine, every point's program, memory and
energy table -- a point that cannot run is a ConfigError (exit 2) and none runs.  The
points run as Dask tasks (:mod:`fdaccel.sweep.runner`), their results streaming back as
they finish, behind a progress bar on a terminal; with ``--store`` each is stored as it
arrives (:mod:`fdaccel.sweep.store`), points already stored are not run again, and an
interrupted sweep keeps every finished point: ``--resume STORE`` continues it.  The table
of every point is printed; ``--pareto`` marks, prints and (``--plot DIR``) writes and
plots the front (:mod:`fdaccel.sweep.pareto`).
"""
from __future__ import annotations

import dataclasses
import functools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accel.config import (
    AcceleratorConfig,
    ConfigError,
    TrainingConfig,
    as_dict,
    field_value,
    load_accelerator,
)
from accel.energy import load_table
from accel.network import load_network, require_hardware_support
from sim.values import iteration_batch

from ..options import SweepOptions
from ..report import check_outputs, table, write_csv, write_json
from ..sweep.grid import parse_sets, points
from ..sweep.pareto import OBJECTIVES, non_dominated, objective_matrix, parse_objectives, plot_front
from ..sweep.runner import ChunkResult, Context, Task, chunked, engine, table_named, table_source
from ..sweep.store import Store, canonical, export, point_key, store_paths
from ..version import code_version

#: Most workers a local cluster may have.
MAX_WORKERS = 256
#: Columns of a point's row after its swept values, in order.
RESULT_COLUMNS = ["cycles", "time_us", "energy_uj", "uj_per_image", "pj_per_cmac", "mac_util", "dram_bytes",
                  "spatial_over_freq_cycles", "spatial_over_freq_energy", "table", "loss", "saturations"]


@dataclass(frozen=True)
class Definition:
    """What a sweep is, resolved so that it runs again anywhere (``--resume``): the base
    accelerator and network as data, paths made absolute."""
    accel: dict[str, Any]
    network: dict[str, Any]
    batch: int | None
    sets: list[str]
    energy: str | None
    data: str | None
    timing_only: bool
    pareto: list[str] | None
    json: str | None
    csv: str | None
    plot: str | None
    store: str | None


def _absolute(path: str | None) -> str | None:
    """``path`` made absolute (an empty one stays empty: :func:`check_outputs` names it)."""
    return path if path is None or not path.strip() else os.path.abspath(path)


def _energy_source(energy: str | None) -> str | None:
    """A table file's absolute path (workers may run elsewhere); a built-in name as is."""
    from accel.energy import builtin_tables

    return energy if energy is None or energy in builtin_tables() else os.path.abspath(energy)


def _definition(opts: SweepOptions) -> Definition:
    """The sweep ``opts`` define, or the one the ``--resume`` store records."""
    if opts.resume is not None:
        given = [f.name for f in dataclasses.fields(opts)
                 if f.name not in ("resume", "workers", "scheduler") and getattr(opts, f.name) != f.default]
        if given:
            raise ConfigError(f"sweep --resume: the store records the sweep; give no --{given[0].replace('_', '-')} "
                              f"(only --workers or --scheduler)")
        check_outputs({"sweep --resume": opts.resume})
        db, _ = store_paths(opts.resume)
        with Store(db, create=False) as store:
            recorded = store.last_sweep()
        try:
            return Definition(**recorded)
        except TypeError:
            raise ConfigError(f"sweep --resume: {opts.resume!r} records a sweep of another fdaccel version") from None
    return Definition(
        accel=as_dict(load_accelerator(opts.accel)), network=as_dict(load_network(opts.network)), batch=opts.batch,
        sets=list(opts.sets), energy=_energy_source(opts.energy), data=_absolute(opts.data),
        timing_only=opts.timing_only, pareto=None if opts.pareto is None else list(opts.pareto),
        json=_absolute(opts.json), csv=_absolute(opts.csv), plot=_absolute(opts.plot), store=_absolute(opts.store))


def _check_engine_options(opts: SweepOptions) -> None:
    if opts.workers is not None and not 0 <= opts.workers <= MAX_WORKERS:
        raise ConfigError(f"sweep --workers: must be between 0 and {MAX_WORKERS}, got {opts.workers}")
    if opts.scheduler is not None:
        if opts.workers is not None:
            raise ConfigError("sweep --scheduler: the cluster has its own workers; give --workers or --scheduler")
        if not opts.scheduler.strip():
            raise ConfigError("sweep --scheduler: empty address")


def _key_parts(ctx: Context, accel: AcceleratorConfig) -> dict[str, Any]:
    """Everything that decides a point's results (the accelerator's name, a label, does not)."""
    return {"accelerator": {k: v for k, v in as_dict(accel).items() if k != "name"},
            "network": as_dict(ctx.net), "batch": ctx.batch, "energy": _table_contents(table_source(ctx, accel)),
            "values": not ctx.timing_only, "data": None if ctx.timing_only else ctx.data, "code": code_version()}


@functools.lru_cache(maxsize=32)
def _table_contents(source: str) -> str:
    """The energy table ``source`` as canonical JSON: its every figure."""
    return canonical(dataclasses.asdict(table_named(source)))


def run_sweep(opts: SweepOptions) -> int:
    """The body of ``fdaccel sweep``."""
    _check_engine_options(opts)
    d = _definition(opts)
    db, exported = store_paths(d.store) if d.store is not None else (None, None)
    check_outputs({"sweep --json": d.json, "sweep --csv": d.csv, "sweep --store": None if db is None else str(db),
                   "sweep --store (export)": None if exported is None else str(exported)}, {"sweep --plot": d.plot})
    objectives = parse_objectives(d.pareto) if d.pareto is not None else None
    if d.plot is not None and objectives is None:
        raise ConfigError("sweep --plot: plots the Pareto front; give --pareto too")
    base = load_accelerator(d.accel)
    net = load_network(d.network)
    require_hardware_support(net, "the cycle model")
    batch = net.training.batch if d.batch is None else field_value(TrainingConfig, "batch", d.batch, "sweep --batch")
    sets = parse_sets(d.sets)
    grid = points(base, sets)
    if d.energy is not None:
        load_table(d.energy, base)
    if not d.timing_only:
        iteration_batch(net, batch, d.data)          # the batch fits the dataset
    ctx = Context(net, batch, d.energy, d.timing_only, d.data)
    keys = [point_key(_key_parts(ctx, p.accel)) for p in grid]

    results: dict[int, dict[str, Any]] = {}
    store = None if db is None else Store(db)
    try:
        if store is not None:
            store.record_sweep(dataclasses.asdict(d))
            stored = store.results(keys)
            results = {i: stored[k] for i, k in enumerate(keys) if k in stored}
        todo = [Task(i, p.chosen, p.accel) for i, p in enumerate(grid) if i not in results]
        seconds, workers = _run(ctx, todo, opts, store, keys, results)
    except KeyboardInterrupt:
        if store is None:
            raise
        done = len(store.results(keys))
        raise KeyboardInterrupt(f"{done} of {len(grid)} points are in {str(store.path)!r}; "
                                f"fdaccel sweep --resume {d.store} continues") from None
    finally:
        if store is not None:
            store.close()

    rows = [{**p.chosen, **results[i]} for i, p in enumerate(grid)]
    swept = [k for k, _ in sets]
    columns = swept + [c for c in RESULT_COLUMNS if any(c in r for r in rows)]
    front = None
    if objectives is not None:
        front = non_dominated(objective_matrix(rows, objectives))
        for r, f in zip(rows, front):
            r["pareto"] = bool(f)
        columns.append("pareto")
    cached = len(grid) - len(todo)
    print(f"{net.name}, batch {batch}{', timing only' if d.timing_only else ''}: {len(rows)} points "
          f"({len(todo)} simulated in {seconds:.1f} s on {workers} worker{'s' * (workers != 1)}"
          f"{f', {cached} from the store' if cached else ''})")
    print(table(columns, [[round(r[k], 4) if isinstance(r.get(k), float) else r.get(k, "") for k in columns]
                          for r in rows]))
    if objectives is not None and front is not None:
        _report_front(rows, front, objectives, swept, columns, d.plot, f"{net.name}, batch {batch}")
    if d.json:
        write_json(d.json, {"network": net.name, "batch": batch, "timing_only": d.timing_only,
                            "base_accelerator": as_dict(base), "swept": swept, "pareto": objectives, "points": rows})
    if d.csv:
        write_csv(d.csv, columns, [[r.get(k, "") for k in columns] for r in rows])
    if exported is not None:
        print(f"wrote {export(exported, columns, rows)}")
    return 0


def _run(ctx: Context, todo: list[Task], opts: SweepOptions, store: Store | None, keys: list[str],
         results: dict[int, dict[str, Any]]) -> tuple[float, int]:
    """Check, then run, the ``todo`` points on the engine of ``opts``; each finished point
    goes into ``results`` (and the store) as it arrives.  Returns (seconds, workers)."""
    if not todo:
        return 0.0, 0
    from tqdm import tqdm

    code = code_version()
    with engine(opts.workers, opts.scheduler) as eng:
        chunks = chunked(todo, eng.workers)
        t0 = time.perf_counter()
        with tqdm(total=len(todo), desc="check", unit="point", file=sys.stderr, leave=False, disable=None) as bar:
            eng.map(ctx, chunks, True, lambda res: bar.update(len(res)))
        by_index = {t.index: t for t in todo}

        with tqdm(total=len(todo), desc="sweep", unit="point", file=sys.stderr, leave=False, disable=None,
                  smoothing=0.05) as bar:
            def arrived(res: ChunkResult) -> None:
                finished = [(i, r) for i, r in res if r is not None]
                if store is not None:
                    store.add([(keys[i], by_index[i].chosen, r) for i, r in finished], code)
                results.update(finished)
                bar.update(len(finished))

            eng.map(ctx, chunks, False, arrived)
        return time.perf_counter() - t0, eng.workers


def _report_front(rows: list[dict[str, Any]], front: Any, objectives: list[str], swept: list[str],
                  columns: list[str], plot: str | None, title: str) -> None:
    """Print the front (sorted by the second objective) and, with ``plot``, write its CSV
    and PNG there."""
    second = OBJECTIVES[objectives[1]][0]
    on_front = sorted((r for r, f in zip(rows, front) if f), key=lambda r: r[second])
    shown = swept + [OBJECTIVES[o][0] for o in objectives if OBJECTIVES[o][0] not in swept]
    print()
    print(f"Pareto front ({', '.join(objectives)}; all minimized): {len(on_front)} of {len(rows)} points")
    print(table(shown, [[round(r[k], 4) if isinstance(r[k], float) else r[k] for k in shown] for r in on_front]))
    if plot is not None:
        folder = Path(plot)
        csv_path = write_csv(folder / "pareto.csv", columns, [[r.get(k, "") for k in columns] for r in on_front])
        png = plot_front(folder / "pareto.png", rows, swept, objectives, front,
                         f"{title}: {objectives[0]} against {objectives[1]}")
        print(f"wrote {csv_path}\nwrote {png}")
