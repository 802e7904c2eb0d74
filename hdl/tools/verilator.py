"""Verilator builds and their cache.

A build is an executable compiled from Verilog and a C++ harness (``hdl/harness``), kept
in a cache folder (``$FDACCEL_CACHE``, default ``<tmp>/fdaccel-cache``) under a key:

* :func:`verilator_build` keys a build on its source texts (for designs given as Verilog);
* :func:`cached_executable` takes the key from the caller, who can then compute it without
  generating the Verilog (:func:`hdl.tools.top_run.build_top` keys the top on its
  parameters and :func:`source_digest`) and generate it only on a miss.

Builds go to a temporary folder renamed into place, so concurrent processes never see a
half-built cache entry.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import amaranth

import accel

from .verilog import tool

#: Suffixes of the hdl package's files a build depends on: Python sources and package data.
HDL_SUFFIXES = (".py", ".cpp", ".v", ".vlt")


def cache_root() -> Path:
    """The cache folder (created if absent)."""
    root = Path(os.environ.get("FDACCEL_CACHE", Path(tempfile.gettempdir()) / "fdaccel-cache"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@functools.cache
def verilator_version() -> str:
    """``verilator --version``, e.g. ``Verilator 5.006 2023-01-22 rev (Debian 5.006-3)``."""
    return subprocess.run([tool("verilator"), "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _tree_files(root: Path, suffixes: Sequence[str]) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes
                  and "__pycache__" not in p.parts)


@functools.cache
def source_digest() -> str:
    """SHA-256 of every file the gateware is built from: the hdl package's Python sources and
    package data (:data:`HDL_SUFFIXES`) and every Python source of ``accel`` (whose modules
    the units import), each with its path; plus the Amaranth and Verilator versions."""
    sha = hashlib.sha256()
    for package in (Path(__file__).resolve().parents[1], Path(accel.__file__).resolve().parent):
        suffixes = HDL_SUFFIXES if package.name == "hdl" else (".py",)
        for path in _tree_files(package, suffixes):
            sha.update(f"{package.name}/{path.relative_to(package).as_posix()}\0".encode())
            sha.update(path.read_bytes() + b"\0")
    sha.update(f"amaranth {amaranth.__version__}\0{verilator_version()}".encode())
    return sha.hexdigest()


def cached_executable(key: str, name: str, build: Callable[[Path], None]) -> Path:
    """Executable ``name`` of cache entry ``key``; on a miss, ``build(folder)`` makes it in an
    empty folder that then becomes the entry."""
    final = cache_root() / key
    exe = final / name
    if exe.exists():
        return exe
    tmp = Path(tempfile.mkdtemp(prefix=f"build-{key[:32]}-", dir=cache_root()))
    try:
        build(tmp)
        try:
            tmp.rename(final)
        except OSError:  # another process finished the same build first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return exe


def compile_in(folder: Path, sources: Mapping[str, str], top: str, prefix: str,
               defines: Mapping[str, object] | None = None) -> None:
    """Write ``sources`` (name -> text: ``.v`` files and one ``.cpp`` harness) into ``folder``
    and compile them with Verilator, top module ``top``, into executable ``folder/prefix``
    (the model's class is ``prefix`` too); ``defines`` are C++ macro definitions for the
    harness."""
    for name, text in sources.items():
        (folder / name).write_text(text)
    cflags = [arg for k, v in (defines or {}).items() for arg in ("-CFLAGS", f"-D{k}={v}")]
    proc = subprocess.run(
        [tool("verilator"), "--cc", "--exe", "--build", "-O2", "-j", "2", "-Wno-fatal",
         "-Wno-lint", "-Wno-style", "--top-module", top, "--prefix", prefix, *cflags, "-Mdir", "obj",
         "-o", f"../{prefix}", *sorted(sources)],
        cwd=folder, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"verilator build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    shutil.rmtree(folder / "obj")


def verilator_build(sources: Mapping[str, str], top: str, prefix: str,
                    defines: Mapping[str, object] | None = None) -> Path:
    """Compile (or reuse from the cache) :func:`compile_in`'s executable; the cache key
    hashes every source, the definitions and the Verilator version, so any change rebuilds."""
    parts = [f"{n}\0{t}" for n, t in sorted(sources.items())]
    parts += [f"-D{k}={v}" for k, v in sorted((defines or {}).items())] + [prefix, verilator_version()]
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]
    return cached_executable(f"verilator-{top}-{key}", prefix,
                             lambda folder: compile_in(folder, sources, top, prefix, defines))
