"""fdaccel, the application: the command line, command bodies, reports and training.

This package sits above the three layers it drives -- ``accel`` (what is computed and
what it costs), ``sim`` (the cycle-level model) and ``hdl`` (the RTL) -- and is the only
place that imports more than one of them.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fdaccel")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
