"""Verilog of an Amaranth component, and its Verilator lint.

* :func:`verilog` -- deterministic Verilog text of a component;
* :func:`lint` -- ``verilator --lint-only -Wall`` with the waivers of
  ``hdl/waivers/amaranth.vlt`` (:func:`lint_waivers`), each with its reason.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from amaranth.back import verilog as amaranth_verilog
from amaranth.hdl import Const, Value
from amaranth.lib import wiring

from .files import data_text


class LintError(RuntimeError):
    """Verilator reported warnings or errors that no waiver covers."""


def ports(component: wiring.Component) -> list[Value]:
    """Port signals of ``component``; constants (always_ready / always_valid) are skipped
    because ``verilog.convert`` rejects them (amaranth issue 1574)."""
    out = []
    for _path, _member, value in component.signature.flatten(component):
        value = Value.cast(value)
        if not isinstance(value, Const):
            out.append(value)
    return out


def verilog(component: wiring.Component, name: str) -> str:
    """Verilog for ``component`` as module ``name``.

    Byte-identical across runs and Python hash seeds (``tests/hdl/test_tools.py`` checks).
    """
    return amaranth_verilog.convert(component, name=name, ports=ports(component), emit_src=False)


def tool(name: str) -> str:
    """The path of executable ``name`` (FileNotFoundError, saying what to install, if absent)."""
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name} is not on PATH (install Verilator >= 5.0)")
    return path


def lint_waivers() -> str:
    """The Verilator configuration :func:`lint` applies (``hdl/waivers/amaranth.vlt``)."""
    return data_text("waivers", "amaranth.vlt")


def lint_files(files: list[Path], top: str, waivers: str) -> str:
    """``verilator --lint-only -Wall`` of ``files`` with top module ``top`` and the
    Verilator configuration text ``waivers``; returns its output, raises
    :class:`LintError` if a warning or error remains."""
    with tempfile.TemporaryDirectory(prefix="fdaccel-lint-") as tmp:
        vlt = Path(tmp) / "waivers.vlt"
        vlt.write_text(waivers)
        proc = subprocess.run([tool("verilator"), "--lint-only", "-Wall", "--top-module", top, str(vlt),
                               *map(str, files)], capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 or "%Warning" in output or "%Error" in output:
        raise LintError(output)
    return output


def lint(source: str | os.PathLike, top: str | None = None) -> str:
    """Run ``verilator --lint-only -Wall`` on Verilog text or a file; return its output.

    ``top`` defaults to the first module of the text.  Raises :class:`LintError` with
    Verilator's messages if any warning or error remains after :func:`lint_waivers`.
    """
    text = Path(source).read_text() if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and Path(source).is_file()) else source
    top = top or text.split("module ", 1)[1].split("(", 1)[0].strip()
    with tempfile.TemporaryDirectory(prefix="fdaccel-lint-") as tmp:
        vfile = Path(tmp) / f"{top}.v"
        vfile.write_text(text)
        return lint_files([vfile], top, lint_waivers())
