"""``fdaccel analyze KIND``: measurements of the three background texts' claims.

One module per analysis, each with a docstring that states its method and the
independent reference its tests hold it to, and the same three functions:

* ``run(ctx: Context) -> dict``: train what it needs (seeded) and measure; the JSON report;
* ``summary(data) -> list[str]``: the lines printed, the number that matters first;
* ``plot(data, folder) -> list[Path]``: its PNG figures, written whole.

=============  ==================================================================
propagation    per-bin rule h = T g + delta n^2 b on the spatial reference's convs
attenuation    gain per radial band of every conv layer, circular vs zero padding
upsampling     replicated spectra of zeros / nearest / spectral upsampling
fprinciple     relative error per frequency band over training (F-principle)
receptive      which input bins can change the output, per activation kind
pooling        spectral vs max vs average pooling: information kept
robustness     Fourier heat maps and low/high-pass accuracy per activation kind
=============  ==================================================================
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType

from accel.config import ConfigError

ANALYSES = ("propagation", "attenuation", "upsampling", "fprinciple", "receptive", "pooling", "robustness")


def analysis(kind: str) -> ModuleType:
    """The module of analysis ``kind``; ConfigError for an unknown one."""
    if kind not in ANALYSES:
        raise ConfigError(f"analyze: unknown analysis {kind!r} (known: {', '.join(ANALYSES)})")
    return import_module(f"{__name__}.{kind}")
