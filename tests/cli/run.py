"""Running the command line in a subprocess, on this tree's code.

The editable install may point at another checkout, so every subprocess gets this
repository's root first on ``PYTHONPATH`` and runs ``python -m fdaccel``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess: this tree first on PYTHONPATH, plus ``extra``."""
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([e["PYTHONPATH"]] if e.get("PYTHONPATH") else []))
    e.update(extra)
    return e


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "fdaccel", *args]


def fdaccel(*args: str, cwd: Any = None, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess:
    """Run ``fdaccel ARGS`` to completion, output captured as text."""
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env(**extra), stdin=subprocess.DEVNULL)


def popen(*args: str, cwd: Any = None, **kw: Any) -> subprocess.Popen:
    """Start ``fdaccel ARGS`` (stdout and stderr piped, as text)."""
    return subprocess.Popen(command(*args), cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, **kw)


def one_line_error(proc: subprocess.CompletedProcess, *words: str, status: int = 2) -> str:
    """Assert ``proc`` failed with ``status`` and one stderr line holding every word, no
    traceback, nothing on stdout; return the line."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == status, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert proc.stdout == "", proc.stdout[-2000:]
    return lines[0]
