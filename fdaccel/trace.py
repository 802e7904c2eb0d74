"""Transaction traces of a simulated iteration: a CSV table, or a Chrome / Perfetto trace.

The trace-event JSON (the "JSON Object Format" of Chrome's Trace Event Format, which
https://ui.perfetto.dev and ``chrome://tracing`` open) has one process, the
accelerator, with one track (thread) per unit and, beside each, the unit's drain: every
transaction is a complete event (``"ph": "X"``) on its unit's track from its start to the
end of its occupancy, and, if its results complete later, another on the drain track from
that end to ``done``.  Drains of one unit may overlap each other (a pipeline's tail
outlasts the next transaction's occupancy); a track's events must nest, so overlapping
drains go to further drain tracks (``fft drain 2``...), as few as needed.  Timestamps and
durations are microseconds at the accelerator's ``clock_mhz``.  Each event's ``args``
carry the descriptor (index, kind and, under ``fields``, its fields), its layer and phase, and what the
transaction waited for.
"""
from __future__ import annotations

import dataclasses
from enum import IntEnum
from typing import Any

from accel.program import Descriptor, Phase, Program, Ref
from sim.engine import LABELS, UNITS, Run

TRACE_HEADERS = ["unit", "start", "end", "done", "layer", "phase", "descriptor", "kind", "waited", "waited_for"]


def trace_rows(run: Run) -> list[list[Any]]:
    """One CSV row per transaction (:data:`TRACE_HEADERS`)."""
    program = run.program
    tx = run.tx
    out = []
    for j in range(len(tx["start"])):
        d = program.descriptors[int(tx["desc"][j])]
        cause = int(tx["cause"][j])
        out.append([UNITS[int(tx["unit"][j])], int(tx["start"][j]), int(tx["end"][j]), int(tx["done"][j]),
                    program.layer_name(d.layer), Phase(d.phase).label, int(tx["desc"][j]), type(d).__name__,
                    LABELS[cause] if cause else "", run.waited_for[j]])
    return out


def _fields(d: Descriptor) -> dict[str, Any]:
    """A descriptor's fields as JSON values (enums by name, buffer refs as buf:region+addr)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(d):
        if f.name in ("layer", "phase"):
            continue
        v = getattr(d, f.name)
        if isinstance(v, Ref):
            v = f"{v.buf}:{v.region}+{v.addr}"
        elif isinstance(v, IntEnum):
            v = v.name.lower()
        elif not isinstance(v, (bool, int, float, str)):
            v = str(v)
        out[f.name] = v
    return out


def chrome_trace(run: Run, clock_mhz: float, title: str) -> dict[str, Any]:
    """The trace-event JSON object of ``run`` (see the module docstring)."""
    program: Program = run.program
    tx = run.tx
    us = 1.0 / clock_mhz
    events: list[dict[str, Any]] = [{"ph": "M", "name": "process_name", "pid": 1, "tid": 0,
                                     "args": {"name": title}}]
    tids: dict[str, int] = {}

    def track(name: str, order: int) -> int:
        """The tid of track ``name``, declared (named, placed at ``order``) on first use."""
        if name not in tids:
            tids[name] = len(tids) + 1
            events.append({"ph": "M", "name": "thread_name", "pid": 1, "tid": tids[name], "args": {"name": name}})
            events.append({"ph": "M", "name": "thread_sort_index", "pid": 1, "tid": tids[name],
                           "args": {"sort_index": order}})
        return tids[name]

    for i, u in enumerate(UNITS):
        track(u, 100 * i)
    drain_ends: dict[str, list[int]] = {u: [] for u in UNITS}   # per drain track: its last end
    cache: dict[int, dict[str, Any]] = {}
    for j in range(len(tx["start"])):
        di = int(tx["desc"][j])
        unit = UNITS[int(tx["unit"][j])]
        start, end, done = int(tx["start"][j]), int(tx["end"][j]), int(tx["done"][j])
        args = cache.get(di)
        if args is None:
            d = program.descriptors[di]
            args = cache[di] = {"descriptor": di, "kind": type(d).__name__, "layer": program.layer_name(d.layer),
                                "phase": Phase(d.phase).label, "fields": _fields(d)}
        cause = int(tx["cause"][j])
        waited = {"waited": LABELS[cause], "waited_for": run.waited_for[j]} if cause else {}
        events.append({"ph": "X", "name": f"{args['kind']} {args['layer']}", "cat": args["phase"], "pid": 1,
                       "tid": tids[unit], "ts": start * us, "dur": (end - start) * us, "args": {**args, **waited}})
        if done > end:
            lanes = drain_ends[unit]
            lane = next((k for k, last in enumerate(lanes) if last <= end), len(lanes))
            if lane == len(lanes):
                lanes.append(done)
            lanes[lane] = done
            events.append({"ph": "X", "name": f"{args['kind']} {args['layer']} drain", "cat": args["phase"],
                           "pid": 1, "tid": track(f"{unit} drain" + (f" {lane + 1}" if lane else ""),
                                                  100 * UNITS.index(unit) + lane + 1),
                           "ts": end * us, "dur": (done - end) * us, "args": args})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"clock_mhz": clock_mhz, "total_cycles": run.total_cycles, "title": title}}
