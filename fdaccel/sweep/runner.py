"""Running sweep points: one point's simulation and pricing, on an engine.

:func:`evaluate` simulates one point (timing only, or with values), prices it with the
energy table and compares it with the spatial baseline on the same hardware; its row is
plain data.  Points run in chunks (a few points per task, so that the scheduler's
per-task cost stays small beside a point's few milliseconds), on

* :class:`SerialEngine`: this process, one chunk after another (``--workers 0``);
* :class:`DaskEngine`: a ``distributed.LocalCluster`` of worker processes
  (``--workers N``) or an existing cluster (``--scheduler ADDRESS``), results streamed
  back with ``as_completed`` as they finish.

Every run has two passes over the same engine: first every point is *checked* (its
schedule built, its memory estimated, its energy table priced), so that a point that
cannot run stops the sweep with a ConfigError before any runs; then the points run.
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from accel.config import AcceleratorConfig, ConfigError, NetworkConfig
from accel.energy import LayeredTable, check_prices, load_table
from sim.costs import compare
from sim.run import simulate

from ..resources import check_memory
from ..signals import deferred_interrupts, ignored_interrupts


@dataclass(frozen=True)
class Context:
    """What every point of a sweep shares: the network, batch, energy table (None: each
    accelerator's own), whether values are computed and their data folder."""
    net: NetworkConfig
    batch: int
    energy: str | None
    timing_only: bool
    data: str | None


@dataclass(frozen=True)
class Task:
    """One point to run: its index in the grid, swept values and accelerator."""
    index: int
    chosen: dict[str, Any]
    accel: AcceleratorConfig


def table_source(ctx: Context, accel: AcceleratorConfig) -> str:
    """The energy table a point is priced with: a built-in name or a file."""
    return ctx.energy or accel.energy.file or accel.energy.table


@functools.lru_cache(maxsize=32)
def table_named(source: str) -> LayeredTable:
    """The energy table ``source`` (read once per process)."""
    return load_table(source)


def table_of(ctx: Context, accel: AcceleratorConfig) -> LayeredTable:
    """The energy table a point is priced with."""
    return table_named(table_source(ctx, accel))


def check(ctx: Context, task: Task) -> None:
    """ConfigError if the point cannot run: its program cannot be built, it would not fit
    the memory limit, or its energy table cannot price one of its components' actions."""
    check_memory(task.accel, ctx.net, ctx.batch, not ctx.timing_only, f"sweep point {task.accel.name}")
    check_prices(table_of(ctx, task.accel), task.accel)


def evaluate(ctx: Context, task: Task) -> dict[str, Any]:
    """One point's row: cycles, time, energy (per iteration, per image, per complex MAC),
    MAC utilization, DRAM traffic, the spatial baseline's ratios and the table used; with
    values, the batch loss and saturations too."""
    accel = task.accel
    sim = simulate(accel, ctx.net, ctx.batch, data_dir=ctx.data, values=not ctx.timing_only)
    cmp = compare(sim.stats, accel, ctx.net, ctx.batch, table_of(ctx, accel))
    e = cmp.freq.as_dict()
    st = sim.stats
    ratios = cmp.ratios()
    row = {"cycles": st.total_cycles, "time_us": st.total_cycles / accel.clock_mhz,
           "energy_uj": e["total_pj"] / 1e6, "uj_per_image": e["per_image_pj"] / 1e6,
           "pj_per_cmac": e["pj_per_complex_mac"],
           "mac_util": st.units["mac"]["busy"] / st.total_cycles,
           "dram_bytes": st.memory["dram"]["read_bytes"] + st.memory["dram"]["write_bytes"],
           "spatial_over_freq_cycles": ratios["cycles"], "spatial_over_freq_energy": ratios["energy"],
           "table": e["table"]}
    if sim.values is not None:
        row.update(loss=sim.values.loss, saturations=sim.values.sat.total)
    return row


ChunkResult = list[tuple[int, dict[str, Any] | None]]


def run_chunk(ctx: Context, tasks: Sequence[Task], check_only: bool) -> ChunkResult:
    """(index, row) for each task of a chunk (row None when ``check_only``)."""
    if check_only:
        for t in tasks:
            check(ctx, t)
        return [(t.index, None) for t in tasks]
    return [(t.index, evaluate(ctx, t)) for t in tasks]


ResultFn = Callable[[ChunkResult], None]


class SerialEngine:
    """Chunks in this process, in order (a context manager, like :class:`DaskEngine`)."""

    workers = 1

    def __enter__(self) -> SerialEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def map(self, ctx: Context, chunks: Sequence[Sequence[Task]], check_only: bool, on_result: ResultFn) -> None:
        """``on_result`` of each chunk's results, in order; a chunk that finished is
        handed over even if an interruption lands as it finishes."""
        for chunk in chunks:
            result = None
            try:
                result = run_chunk(ctx, chunk, check_only)
                with deferred_interrupts():
                    on_result(result)
                    result = None
            except KeyboardInterrupt:
                if result is not None:
                    with deferred_interrupts():
                        on_result(result)
                raise


class DaskEngine:
    """Chunks as Dask tasks on a ``LocalCluster`` of ``workers`` processes (one thread
    each, started with SIGINT ignored: only this process handles Ctrl-C) or on the
    cluster at ``scheduler``; a context manager (closing it closes the local cluster)."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 connect_timeout: float = 10.0) -> None:
        from distributed import Client, LocalCluster

        self.cluster = None
        try:
            if scheduler is not None:
                self.client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
            else:
                with ignored_interrupts():
                    self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise ConfigError(f"sweep --scheduler: cannot reach {scheduler!r}: {exc}") from None
        self.workers = max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def map(self, ctx: Context, chunks: Sequence[Sequence[Task]], check_only: bool, on_result: ResultFn) -> None:
        """``on_result`` of each chunk's results as it finishes.  Interrupted, it still
        hands over every chunk that had finished (on the workers), then re-raises."""
        from distributed import as_completed

        shared = self.client.scatter(ctx, broadcast=True, hash=False)
        futures = self.client.map(run_chunk, [shared] * len(chunks), chunks, [check_only] * len(chunks),
                                  pure=False)
        handled: set[Any] = set()
        try:
            for future in as_completed(futures, loop=self.client.loop):
                with deferred_interrupts():
                    on_result(future.result())
                    handled.add(future)
        except KeyboardInterrupt:
            with deferred_interrupts():
                for future in futures:
                    if future not in handled and future.status == "finished":
                        on_result(future.result(timeout=5))
                        handled.add(future)
            raise
        finally:
            self.client.cancel([f for f in futures if f not in handled])


def engine(workers: int | None, scheduler: str | None) -> SerialEngine | DaskEngine:
    """The engine for ``--workers`` / ``--scheduler`` (``workers == 0``: serial)."""
    if workers == 0:
        return SerialEngine()
    return DaskEngine(workers=workers or os.cpu_count() or 1, scheduler=scheduler)


def chunked(tasks: Sequence[Task], workers: int, largest: int = 16) -> list[list[Task]]:
    """``tasks`` in chunks: about eight per worker, at most ``largest`` points each."""
    size = max(1, min(largest, len(tasks) // (8 * workers)))
    return [list(tasks[i:i + size]) for i in range(0, len(tasks), size)]

