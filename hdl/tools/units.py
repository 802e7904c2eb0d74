"""The unit registry: what ``fdaccel verilog`` writes and ``fdaccel synth`` measures.

* :data:`UNITS` -- name -> factory(accelerator config, dsp) -> component;
* :func:`write_verilog` -- ``<unit>.v`` per unit and a ``filelist.f``, whole or not at all;
* :func:`synth_units` -- one synthesis row per unit; the top's at :func:`synth_top_params`.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from amaranth.lib import wiring

from accel.config import AcceleratorConfig

from ..act import PwlActivation
from ..cmac import ComplexMacArray
from ..crop import SpectralCrop, SpectralPad
from ..fft import FFT
from ..fft2d import FFT2D
from ..top import Top, TopParams
from .synth import synth
from .verilog import verilog


def _fft_unit(cfg: AcceleratorConfig, dsp: str = "generic") -> wiring.Component:
    return FFT(cfg.fft.max_points, data_bits=cfg.formats.data_bits,
               twiddle_bits=cfg.formats.twiddle_bits, dsp=dsp)


def _fft2d_unit(cfg: AcceleratorConfig, dsp: str = "generic") -> wiring.Component:
    return FFT2D(cfg.fft.max_points, data_bits=cfg.formats.data_bits,
                 twiddle_bits=cfg.formats.twiddle_bits, dsp=dsp)


def _cmac_unit(cfg: AcceleratorConfig, dsp: str = "generic") -> wiring.Component:
    f = cfg.formats
    return ComplexMacArray(cfg.mac_array.rows, cfg.mac_array.cols, f.data_bits, f.weight_bits,
                           cfg.mac_array.acc_bits, f.data_bits, f.rounding)


def _act_unit(cfg: AcceleratorConfig, dsp: str = "generic") -> wiring.Component:
    # a one-segment activation (identity) still gets a two-entry table: the unit needs a
    # breakpoint register to exist
    return PwlActivation(cfg.activation.lanes, max(2, cfg.activation.segments),
                         cfg.formats.data_bits, rounding=cfg.formats.rounding)


def _crop_unit(cfg: AcceleratorConfig, dsp: str = "generic") -> wiring.Component:
    n = cfg.fft.max_points
    return SpectralCrop(n, n // 2, cfg.formats.data_bits, rounding=cfg.formats.rounding)


def _pad_unit(cfg: AcceleratorConfig, dsp: str = "generic") -> wiring.Component:
    n = cfg.fft.max_points
    return SpectralPad(n, n // 2, cfg.formats.grad_bits, rounding=cfg.formats.rounding)


def _top_unit(cfg: AcceleratorConfig, dsp: str = "generic") -> wiring.Component:
    """The whole datapath and descriptor sequencer (:mod:`hdl.top`) of ``cfg`` as configured;
    ``dsp`` does not apply: its MAC array and lanes use inferred multipliers."""
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
SYNTH_TOP_DEVICE: dict[str, Any] = {"device": "85k", "package": "CABGA381", "out_of_context": True,
                                    "router": "router2", "freq_mhz": 50.0, "timeout_s": 1800.0}


def synth_top_params(cfg: AcceleratorConfig) -> TopParams:
    """:class:`hdl.top.TopParams` of ``cfg`` (its formats, rounding, accumulators, PWL
    segments, buffer names, crop/pad and FFT shapes) shrunk to :data:`SYNTH_TOP`.  The
    top's buffers let every MAC operand lane read any word in every cycle, so synthesis
    builds them from flip-flops and multiplexers whose size grows with words x ports (the
    :mod:`hdl.top` docstring says why): the default configuration's 192 KB of buffers fit no
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


def write_verilog(accel_cfg: AcceleratorConfig, outdir: str | os.PathLike,
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


_UNIT_LABELS: dict[str, Callable[[AcceleratorConfig], str]] = {
    # name -> the parameters its factory in UNITS takes from the configuration
    "fft": lambda c: f"n={c.fft.max_points}",
    "fft2d": lambda c: f"n={c.fft.max_points}",
    "cmac": lambda c: f"{c.mac_array.rows}x{c.mac_array.cols} acc={c.mac_array.acc_bits}",
    "act": lambda c: f"lanes={c.activation.lanes} segments={max(2, c.activation.segments)}",
    "crop": lambda c: f"{c.fft.max_points}->{c.fft.max_points // 2}",
    "pad": lambda c: f"{c.fft.max_points // 2}->{c.fft.max_points}",
}


def synth_units(accel_cfg: AcceleratorConfig, unit: str | None, target: str) -> list[dict[str, Any]]:
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
