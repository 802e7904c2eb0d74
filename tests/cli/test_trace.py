"""``fdaccel simulate --trace run.json``: Chrome / Perfetto trace-event JSON (issue 18, part 4).

The file is validated against the Trace Event Format's JSON Object Format (Google's
"Trace Event Format" document, the format ``chrome://tracing`` and Perfetto's JSON importer
read): a ``traceEvents`` array of events, each with ``name``, ``ph``, ``pid``, ``tid``;
complete events (``X``) with ``ts`` and ``dur`` in microseconds; metadata events (``M``)
naming processes and threads.  Events on one thread must nest (a viewer draws them as a
stack), so no two complete events of a track may partly overlap.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict

import jsonschema
import pytest

from .run import fdaccel

NUMBER = {"type": "number"}
EVENT_SCHEMA = {
    "type": "object",
    "required": ["traceEvents"],
    "properties": {
        "displayTimeUnit": {"enum": ["ms", "ns"]},
        "otherData": {"type": "object"},
        "traceEvents": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "ph", "pid", "tid"],
            "properties": {"name": {"type": "string"}, "cat": {"type": "string"},
                           "ph": {"enum": ["X", "M"]}, "pid": {"type": "integer"}, "tid": {"type": "integer"},
                           "ts": {**NUMBER, "minimum": 0}, "dur": {**NUMBER, "minimum": 0},
                           "args": {"type": "object"}},
            "allOf": [
                {"if": {"properties": {"ph": {"const": "X"}}},
                 "then": {"required": ["ts", "dur", "args"]}},
                {"if": {"properties": {"ph": {"const": "M"}}},
                 "then": {"required": ["args"], "properties": {
                     "name": {"enum": ["process_name", "thread_name", "thread_sort_index"]}}}},
            ]}},
    },
}


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    d = tmp_path_factory.mktemp("trace")
    p = fdaccel("simulate", "--batch", "8", "--trace", "run.json", "--json", "r.json", cwd=d)
    assert p.returncode == 0, p.stderr
    q = fdaccel("simulate", "--batch", "8", "--trace", "run.csv", cwd=d)
    assert q.returncode == 0, q.stderr
    return (json.loads((d / "run.json").read_text()), list(csv.DictReader((d / "run.csv").open())),
            json.loads((d / "r.json").read_text()))


def test_trace_is_valid_trace_event_json(traces):
    trace, _, _ = traces
    jsonschema.validate(trace, EVENT_SCHEMA)
    by_track = defaultdict(list)
    for e in trace["traceEvents"]:
        if e["ph"] == "X":
            by_track[e["tid"]].append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_track.values():          # complete events of a track nest: none partly overlaps another
        spans.sort(key=lambda s: (s[0], -s[1]))
        open_ends: list[float] = []
        for start, end in spans:
            while open_ends and open_ends[-1] <= start + 1e-9:
                open_ends.pop()
            assert not open_ends or end <= open_ends[-1] + 1e-9, (start, end, open_ends[-1])
            open_ends.append(end)


def test_one_track_per_unit_and_drains_beside(traces):
    trace, rows, report = traces
    names = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert {"dram", "fft", "mac", "crop", "act"} <= set(names.values())
    assert all(n in ("dram", "fft", "mac", "crop", "act") or " drain" in n for n in names.values())
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    occupancy = [e for e in slices if " drain" not in names[e["tid"]]]
    drains = [e for e in slices if " drain" in names[e["tid"]]]
    assert len(occupancy) == len(rows) == report["transactions"]
    assert len(drains) == sum(int(r["done"]) > int(r["end"]) for r in rows) > 0
    assert all(e["name"].endswith(" drain") for e in drains)


def test_slices_carry_descriptor_layer_and_phase_in_microseconds(traces):
    trace, rows, report = traces
    clock = report["clock_mhz"]
    names = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    occupancy = [e for e in trace["traceEvents"] if e["ph"] == "X" and " drain" not in names[e["tid"]]]
    for e, r in zip(occupancy, rows):              # both in transaction order
        assert names[e["tid"]] == r["unit"]
        assert e["ts"] == pytest.approx(int(r["start"]) / clock) and \
            e["dur"] == pytest.approx((int(r["end"]) - int(r["start"])) / clock)
        assert e["args"]["descriptor"] == int(r["descriptor"]) and e["args"]["kind"] == r["kind"]
        assert e["args"]["layer"] == r["layer"] and e["args"]["phase"] == r["phase"] == e["cat"]
    end = max(e["ts"] + e["dur"] for e in trace["traceEvents"] if e["ph"] == "X")
    assert end == pytest.approx(report["total_cycles"] / clock)
