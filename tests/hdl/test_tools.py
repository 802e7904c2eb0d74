"""hdl/tools: deterministic Verilog, lint, the Verilator harness and models, synthesis, units."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from accel.fixed.fft import FFT_II, fft_latency, fft_mantissas
from accel.layout import pack_complex, unpack_complex
from hdl.fft import FFT
from hdl.tools.models import ECP5_PRIMITIVES, ecp5_models, lint_model
from hdl.tools.stream import run_stream, simulate_stream
from hdl.tools.synth import synth
from hdl.tools.units import UNITS, write_verilog
from hdl.tools.verilog import lint, verilog

FS = 1 << 15

_EMIT = ("import sys; from hdl.tools.verilog import verilog; from hdl.fft import FFT; "
         "sys.stdout.write(verilog(FFT(16), 'fft16'))")


def test_verilog_is_deterministic_across_processes() -> None:
    """Byte-identical text from two interpreters with different hash seeds."""
    texts = []
    for seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        texts.append(subprocess.run([sys.executable, "-c", _EMIT], env=env, check=True,
                                    capture_output=True, text=True,
                                    cwd=Path(__file__).resolve().parents[2]).stdout)
    assert texts[0] == texts[1]
    assert texts[0] == verilog(FFT(16), "fft16")
    assert "module fft16(" in texts[0]


@pytest.mark.verilator
@pytest.mark.parametrize("n", [8, 64])
def test_lint_clean(n: int) -> None:
    lint(verilog(FFT(n), f"fft{n}"))


def test_pack_unpack_round_trip() -> None:
    re = np.array([-FS, -1, 0, FS - 1])
    im = np.array([FS - 1, 0, -FS, 5])
    words = pack_complex(re, im, 16)
    assert words[1] == 0x0000FFFF
    back = unpack_complex(words, 16)
    assert np.array_equal(back[0], re) and np.array_equal(back[1], im)


@pytest.mark.verilator
def test_fft_verilator_100k_cycles_bit_exact() -> None:
    """>= 100 000 cycles of the 64-point FFT with random gaps and backpressure."""
    n, transforms = 64, 1600
    rng = np.random.default_rng(2024)
    re = rng.integers(-FS, FS, (transforms, n))
    im = rng.integers(-FS, FS, (transforms, n))
    # a share of full-scale corners exercises saturation
    re[::7] = rng.choice([-FS, FS - 1], re[::7].shape)
    im[::7] = rng.choice([-FS, FS - 1], im[::7].shape)
    run = simulate_stream(FFT(n), "fft64", pack_complex(re, im, 16), transforms * n,
                          gap_prob=0.1, stall_prob=0.1, seed=7)
    assert run.cycles >= 100_000
    got_re, got_im = unpack_complex(run.outputs, 16)
    exp_re, exp_im = fft_mantissas(re, im)
    assert np.array_equal(got_re, exp_re.ravel())
    assert np.array_equal(got_im, exp_im.ravel())


@pytest.mark.verilator
@pytest.mark.parametrize("n", [16, 128, 1024])
def test_fft_verilator_latency_matches_formula(n: int) -> None:
    transforms = 4
    rng = np.random.default_rng(n)
    re = rng.integers(-FS, FS, (transforms, n))
    im = rng.integers(-FS, FS, (transforms, n))
    text = verilog(FFT(n, inverse=True), f"ifft{n}")
    run = run_stream(text, f"ifft{n}", pack_complex(re, im, 16), transforms * n,
                     in_width=32, out_width=32)
    got_re, got_im = unpack_complex(run.outputs, 16)
    exp_re, exp_im = fft_mantissas(re, im, inverse=True)
    assert np.array_equal(got_re, exp_re.ravel()) and np.array_equal(got_im, exp_im.ravel())
    start = run.in_cycles[0]
    assert run.out_cycles == [start + fft_latency(n) + FFT_II * j for j in range(transforms * n)]


@pytest.mark.fpga
def test_synth_fft16_smoke() -> None:
    result = synth(verilog(FFT(16), "fft16"), "fft16")
    assert set(result) == {"LUT4", "FF", "MULT18X18D", "DP16KD", "fmax_mhz"}
    assert result["LUT4"] > 0 and result["FF"] > 0
    # one non-trivial twiddle multiplier: 3 real multipliers
    assert result["MULT18X18D"] == 3
    assert result["fmax_mhz"] > 0


UNIT_NAMES = ["fft", "fft2d", "cmac", "act", "crop", "pad"]
_EMIT_UNITS = ("import sys; from accel.config import load_accelerator; "
               "from hdl.tools.units import write_verilog; "
               "write_verilog(load_accelerator(), sys.argv[1], sys.argv[2:])")


@pytest.mark.slow
def test_units_and_write_verilog(tmp_path: Path) -> None:
    """The per-unit Verilog of the default configuration (what `fdaccel verilog` writes
    for these units): one file per unit plus filelist.f, byte-identical from another
    interpreter with another hash seed, each lint-clean."""
    from accel.config import load_accelerator
    cfg = load_accelerator()
    assert list(UNITS)[:len(UNIT_NAMES)] == UNIT_NAMES
    paths = write_verilog(cfg, tmp_path / "rtl", UNIT_NAMES)
    names = [Path(p).name for p in paths]
    assert names == [f"{u}.v" for u in UNIT_NAMES] + ["filelist.f"]
    listed = (tmp_path / "rtl" / "filelist.f").read_text().split()
    assert listed == [n for n in names if n.endswith(".v")]
    for unit in UNIT_NAMES:
        assert f"module {unit}(" in (tmp_path / "rtl" / f"{unit}.v").read_text()
    assert not [p for p in (tmp_path / "rtl").iterdir() if p.name.startswith(".")]
    subprocess.run([sys.executable, "-c", _EMIT_UNITS, str(tmp_path / "again"), *UNIT_NAMES],
                   check=True, env=dict(os.environ, PYTHONHASHSEED="4242"),
                   cwd=Path(__file__).resolve().parents[2])
    for n in names:
        assert (tmp_path / "again" / n).read_bytes() == (tmp_path / "rtl" / n).read_bytes(), n
    if shutil.which("verilator") is not None:
        for unit in UNIT_NAMES:
            lint(tmp_path / "rtl" / f"{unit}.v", unit)


@pytest.mark.verilator
def test_top_verilog_lint_clean(tmp_path: Path) -> None:
    """top.v as `fdaccel verilog` writes it for the default configuration (8 x 8 array,
    4 lanes, 192 KB of buffers, 64 scoreboard regions) passes the lint with no waiver
    beyond hdl/waivers/amaranth.vlt: every case statement of the decoder, the scoreboard lookups and
    the buffer bank and read-data selects covers all index values."""
    from accel.config import load_accelerator
    (path,) = [p for p in write_verilog(load_accelerator(), tmp_path, ["top"]) if p.endswith(".v")]
    lint(Path(path), "top")


@pytest.mark.verilator
@pytest.mark.parametrize("n,mults,brams", [(64, 6, 0), (256, 9, 3)])
def test_fft_ecp5_netlist_in_verilator(n: int, mults: int, brams: int) -> None:
    """FFT(dsp="ecp5") with MULT18X18D and DP16KD instances (models in hdl/models) in the
    Verilator harness: bit-exact with the model under gaps/backpressure, no read/write
    collision in a block RAM, and the same latency as the generic multipliers and
    memories that the Amaranth simulator runs."""
    transforms = 40
    rng = np.random.default_rng(5)
    re = rng.integers(-FS, FS, (transforms, n))
    im = rng.integers(-FS, FS, (transforms, n))
    re[::5] = rng.choice([-FS, FS - 1], re[::5].shape)
    text = verilog(FFT(n, dsp="ecp5"), f"fft{n}e")
    assert text.count("MULT18X18D #(") == mults
    assert text.count("DP16KD #(") == brams
    words = pack_complex(re, im, 16)
    exp_re, exp_im = fft_mantissas(re, im)
    for gap, stall in ((0.2, 0.3), (0.0, 0.0)):
        run = run_stream(text + ecp5_models(), f"fft{n}e", words, transforms * n,
                         in_width=32, out_width=32, gap_prob=gap, stall_prob=stall, seed=3)
        got_re, got_im = unpack_complex(run.outputs, 16)
        assert np.array_equal(got_re, exp_re.ravel()) and np.array_equal(got_im, exp_im.ravel())
    start = run.in_cycles[0]
    assert run.out_cycles == [start + fft_latency(n) + FFT_II * j for j in range(transforms * n)]


def test_ecp5_dsp_rejects_wide_operands() -> None:
    with pytest.raises(ValueError, match="MULT18X18D|ecp5"):
        FFT(16, data_bits=18, dsp="ecp5")
    with pytest.raises(ValueError, match="dsp"):
        FFT(16, dsp="xilinx")


@pytest.mark.verilator
@pytest.mark.parametrize("name", ECP5_PRIMITIVES)
def test_ecp5_models_lint_clean(name: str) -> None:
    """The behavioural models (hdl/models/*.v, package data) pass `verilator --lint-only
    -Wall` with only the waivers hdl/waivers/models.vlt names."""
    lint_model(name)
    assert f"module {name} #(" in ecp5_models()


@pytest.mark.verilator
def test_top_cache_key_needs_no_verilog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The top's Verilator build is keyed on its parameters and the sources' digest: the
    key is computed without generating Verilog, and differs between parameters."""
    from accel.config import load_accelerator
    from hdl.tools import top_run
    from hdl.top import TopParams

    def no_verilog(*args: object) -> str:
        raise AssertionError("the cache key generated Verilog")

    monkeypatch.setattr(top_run, "verilog", no_verilog)
    p = TopParams.from_accel(load_accelerator({"mac_array": {"rows": 2, "cols": 2}}), regions=8)
    keys = {top_run.top_key(p), top_run.top_key(p), top_run.top_key(TopParams.from_accel(load_accelerator()))}
    assert len(keys) == 2
