"""fdaccel, the application: the command line, command bodies, reports and training.

This package sits above the three layers it drives -- ``accel`` (what is computed and
what it costs), ``sim`` (the cycle-level model) and ``hdl`` (the RTL) -- and is the only
place that imports more than one of them.  Importing it imports nothing else (the
command line's start-up stays short: see :mod:`fdaccel.cli`); ``fdaccel.__version__``
is looked up on first use (:mod:`fdaccel.version`).
"""
from typing import Any


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from .version import version
        return version()
    raise AttributeError(f"module 'fdaccel' has no attribute {name!r}")
