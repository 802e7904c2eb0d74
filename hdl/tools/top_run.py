"""Running the top: in Amaranth's simulator (:func:`simulate_top`) or in its Verilator
harness (:func:`run_top`, ``hdl/harness/top.cpp``), with the same stimulus and trace.

The Verilator build is cached under a key of the top's parameters and
:func:`hdl.tools.verilator.source_digest` (every hdl and accel source, the harness, the
Amaranth and Verilator versions), so a warm run generates no Verilog.
"""
from __future__ import annotations

import hashlib
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from amaranth.hdl import Shape

from ..top import TOP_UNITS, Top, TopParams
from ..top.act import table_signature
from .files import data_text
from .verilator import cached_executable, compile_in, source_digest
from .verilog import verilog


@dataclass
class TopRun:
    """A program's run on the top: per descriptor (program order) its dispatch, start, end
    (first cycle after its occupancy) and done (first cycle its results are readable)
    cycles, counted from the dispatch of descriptor 0 (the cycle model's time base); the
    buffers' words afterwards; the simulated cycles; the decoder's error code (0: none)."""
    dispatch: list[int]
    start: list[int]
    end: list[int]
    done: list[int]
    images: list[list[int]]
    cycles: int
    error: int


def trace_to_run(units: Sequence[str], dispatch: list[int], events: dict[str, dict[str, list[int]]],
                 images: list[list[int]], cycles: int, error: int) -> TopRun:
    """Assign each unit's start/end/done events (in order) to its descriptors in program
    order; ``end``/``done`` events are the last cycle of occupancy / the write cycle, so
    one is added.  Times are rebased on the first dispatch."""
    t0 = dispatch[0] if dispatch else 0
    n = len(units)
    start, end, done = [-1] * n, [-1] * n, [-1] * n
    for u in TOP_UNITS:
        mine = [i for i, x in enumerate(units) if x == u]
        for key, out, plus in (("start", start, 0), ("end", end, 1), ("done", done, 1)):
            for i, c in zip(mine, events[u][key]):
                out[i] = c + plus - t0
    return TopRun([c - t0 for c in dispatch], start, end, done, images, cycles - t0, error)


def _no_events() -> dict[str, dict[str, list[int]]]:
    return {u: {"start": [], "end": [], "done": []} for u in TOP_UNITS}


def simulate_top(params: TopParams, words: Sequence[int], units: Sequence[str], images: list[Sequence[int]],
                 table: Sequence[int], max_cycles: int = 1_000_000) -> TopRun:
    """Run descriptor beats ``words`` (units: the unit of each descriptor) on a
    :class:`hdl.top.Top` in Amaranth's simulator: buffers preloaded with ``images`` (words
    per buffer, from address 0), the PWL table written through ``table``, the descriptors
    offered back to back; stops when every descriptor is dispatched and the top is idle
    (or on a decoder error).  Slow (Python): for small programs; :func:`run_top` is the
    Verilator build of the same harness."""
    from amaranth.sim import Simulator
    top = Top(params)
    result: dict[str, TopRun] = {}

    async def bench(ctx) -> None:
        for b, image in enumerate(images):
            for a, w in enumerate(image):
                if w:
                    ctx.set(top.word(b, a), int(w))
        for a, w in enumerate(table):
            ctx.set(top.table.we, 1)
            ctx.set(top.table.addr, a)
            ctx.set(top.table.data, int(w))
            await ctx.tick()
        ctx.set(top.table.we, 0)
        events = _no_events()
        dispatch: list[int] = []
        sent, cycle = 0, 0
        tr = top.trace
        while cycle < max_cycles:
            ctx.set(top.desc.valid, sent < len(words))
            if sent < len(words):
                ctx.set(top.desc.payload, int(words[sent]))
            *_, ready, disp, st, en, dn, idle, err = await ctx.tick().sample(
                top.desc.ready, tr.dispatch, tr.start, tr.end, tr.done, tr.idle, tr.error)
            if sent < len(words) and ready:
                sent += 1
            if disp:
                dispatch.append(cycle)
            for ui, u in enumerate(TOP_UNITS):
                for key, v in (("start", st), ("end", en), ("done", dn)):
                    if (v >> ui) & 1:
                        events[u][key].append(cycle)
            cycle += 1
            if idle and (sent == len(words) or err) and cycle > 1:
                break
        code = ctx.get(tr.error_code)
        imgs = [[ctx.get(top.word(b, a)) for a in range(depth)] for b, (_, depth) in enumerate(params.buffers)]
        result["run"] = trace_to_run(units, dispatch, events, imgs, cycle, code)

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return result["run"]


def top_key(params: TopParams) -> str:
    """The cache key of the top's Verilator build: its parameters and
    :func:`~hdl.tools.verilator.source_digest` -- no Verilog is generated to compute it."""
    return hashlib.sha256(f"{params!r}\0{source_digest()}".encode()).hexdigest()[:24]


def build_top(params: TopParams) -> Path:
    """Compile (or reuse from the cache) the Verilator build of the top's harness; the top's
    Verilog is generated only when the cache has no build for :func:`top_key`."""
    def build(folder: Path) -> None:
        sources = {"top.v": verilog(Top(params), "top"), "harness.cpp": data_text("harness", "top.cpp")}
        compile_in(folder, sources, "top", "Vtop")
    return cached_executable(f"verilator-top-{top_key(params)}", "Vtop", build)


def _stimulus(params: TopParams, words: Sequence[int], images: list[Sequence[int]], table: Sequence[int]) -> str:
    """The harness's input file (``hdl/harness/top.cpp`` says its lines)."""
    table_mask = (1 << Shape.cast(table_signature(params).members["data"].shape).width) - 1
    lines = [f"u {len(TOP_UNITS)}"]
    lines += [f"w {b} {a} {int(w):x}" for b, image in enumerate(images) for a, w in enumerate(image) if w]
    lines += [f"t {a} {int(v) & table_mask:x}" for a, v in enumerate(table)]
    lines += ["d " + " ".join(f"{(int(w) >> (32 * i)) & 0xFFFFFFFF:x}" for i in range(8)) for w in words]
    lines += [f"r {b} {depth}" for b, (_, depth) in enumerate(params.buffers)]
    return "\n".join(lines) + "\n"


def _parse(units: Sequence[str], text: list[str]) -> tuple[TopRun, float]:
    events = _no_events()
    dispatch: list[int] = []
    imgs: list[list[int]] = []
    cycles = error = 0
    secs = 0.0
    keys = {"S": "start", "E": "end", "F": "done"}
    for line in text:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "D":
            dispatch.append(int(parts[1]))
        elif parts[0] in keys:
            events[TOP_UNITS[int(parts[1])]][keys[parts[0]]].append(int(parts[2]))
        elif parts[0] == "C":
            cycles, error, secs = int(parts[1]), int(parts[2]), float(parts[3])
        elif parts[0] == "B":
            imgs.append([])
        else:
            imgs[-1].append(int(parts[0], 16))
    return trace_to_run(units, dispatch, events, imgs, cycles, error), secs


def run_top(params: TopParams, words: Sequence[int], units: Sequence[str], images: list[Sequence[int]],
            table: Sequence[int], max_cycles: int = 100_000_000) -> tuple[TopRun, float]:
    """:func:`simulate_top` on the Verilator build of the top (compiled once per design,
    cached): returns the run and the wall seconds of the program's execution alone (not
    the loading and dumping of the buffers)."""
    exe = build_top(params)
    with tempfile.TemporaryDirectory(prefix="fdaccel-top-") as tmp:
        fin, fout = Path(tmp) / "in.txt", Path(tmp) / "out.txt"
        fin.write_text(_stimulus(params, words, images, table))
        proc = subprocess.run([str(exe), str(fin), str(fout), str(max_cycles)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"top harness failed (exit {proc.returncode}): {proc.stderr}")
        text = fout.read_text().split("\n")
    return _parse(units, text)
