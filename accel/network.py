"""Layer shapes of a network and the piecewise-linear activation tables.

Shapes are (channels, size): every frequency-domain tensor between layers is a
``channels x size x size`` spectrum (stored as a half spectrum in hardware).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel.config import (
    ActLayer,
    ConfigError,
    ConvLayer,
    DenseLayer,
    Layer,
    NetworkConfig,
    PoolLayer,
    UpsampleLayer,
    parse_network,
)

#: activation kinds whose output bins depend on other input bins (the rest act bin by bin)
MIXING_ACTS = ("spatial", "quadratic")


def next_pow2(n: int) -> int:
    """Smallest power of two >= n."""
    return 1 << max(0, int(n - 1).bit_length())


def conv_output_size(n: int, layer: ConvLayer) -> int:
    """Spectrum size after a conv layer: n (circular) or next_pow2(n + k - 1) (zero padding)."""
    return n if layer.padding == "circular" else next_pow2(n + layer.kernel - 1)


@dataclass(frozen=True)
class LayerShape:
    """One layer with the shapes it reads and writes: (channels, size)."""
    index: int
    layer: Layer
    in_channels: int
    in_size: int
    out_channels: int
    out_size: int


def upsample_output_size(n: int, layer: UpsampleLayer, path: str = "upsample") -> int:
    """Output size of an upsampling layer on an n x n input: ``size``, or ``factor * n``
    (``2 n`` if neither is given); ConfigError (at ``path``) if it does not fit."""
    if layer.size is not None and layer.factor is not None:
        raise ConfigError(f"{path}.factor: give either size or factor, not both")
    m = layer.size if layer.size is not None else (layer.factor or 2) * n
    if m <= n:
        raise ConfigError(f"{path}.size: upsampling to {m} must exceed its input ({n}x{n})")
    if layer.kind != "spectral" and m % n:
        raise ConfigError(f"{path}.size: {layer.kind} upsampling needs a whole factor, {m} is not a "
                          f"multiple of its input size {n}")
    return m


def layer_shapes(net: NetworkConfig) -> list[LayerShape]:
    """Propagate (channels, size) through the layers, raising ConfigError where they don't fit.

    A classifier (``loss: xent``) ends with its one dense layer; an autoencoder
    (``loss: mse``) has none and ends at its input's shape."""
    c, n = net.input.channels, net.input.size
    shapes = []
    last = len(net.layers) - 1
    for i, layer in enumerate(net.layers):
        path = f"layers[{i}]"
        if isinstance(layer, ConvLayer):
            if layer.kernel > n:
                raise ConfigError(f"{path}.kernel: kernel {layer.kernel} is larger than its input ({n}x{n})")
            co, m = layer.out_channels, conv_output_size(n, layer)
        elif isinstance(layer, ActLayer):
            if layer.kind == "spatial" and n & (n - 1):
                raise ConfigError(f"{path}.kind: spatial activation needs a power-of-two size for its "
                                  f"IFFT/FFT, input is {n}x{n}")
            if layer.kind == "pwl" and layer.segments < 2:
                raise ConfigError(f"{path}.segments: a pwl activation needs at least 2 segments, got {layer.segments}")
            if layer.kind == "quadratic" and 2 * layer.band > n:
                raise ConfigError(f"{path}.band: the band |u|, |v| <= {layer.band} does not fit its input "
                                  f"({n}x{n}: at most {n // 2})")
            co, m = c, n
        elif isinstance(layer, PoolLayer):
            if layer.size > n:
                raise ConfigError(f"{path}.size: pool size {layer.size} is larger than its input ({n}x{n})")
            co, m = c, layer.size
        elif isinstance(layer, UpsampleLayer):
            co, m = c, upsample_output_size(n, layer, path)
        elif isinstance(layer, DenseLayer):
            if net.loss == "mse":
                raise ConfigError(f"{path}.type: an mse network (an autoencoder) has no classifier; "
                                  f"dense needs loss: xent")
            if i != last:
                raise ConfigError(f"{path}.type: dense must be the last layer")
            co, m = layer.classes, 1
        else:  # pragma: no cover - config.py builds only the five kinds
            raise ConfigError(f"{path}.type: unknown layer {layer!r}")
        shapes.append(LayerShape(i, layer, c, n, co, m))
        c, n = co, m
    if net.loss == "xent" and not isinstance(net.layers[-1], DenseLayer):
        raise ConfigError(f"layers[{last}].type: the last layer must be dense (the classifier)")
    if net.loss == "mse" and (c, n) != (net.input.channels, net.input.size):
        raise ConfigError(f"layers[{last}]: an mse network reconstructs its input "
                          f"({net.input.channels} x {net.input.size} x {net.input.size}); "
                          f"the last layer writes {c} x {n} x {n}")
    return shapes


#: what the fixed-point and cycle models cannot run yet, per layer type / activation kind
_NOT_IN_HARDWARE = {"upsample": "upsample layers", "quadratic": "quadratic (frequency-mixing) activations"}


def require_hardware_support(net: NetworkConfig, model: str) -> None:
    """Raise ConfigError if ``model`` (``"the fixed-point model"``, ``"the cycle model"``)
    cannot run ``net``: upsample layers, quadratic activations, the mse loss and Adam run
    in the golden model only, until their schedule, integer models and timing exist."""
    for i, layer in enumerate(net.layers):
        key = "kind" if isinstance(layer, ActLayer) else "type"
        what = _NOT_IN_HARDWARE.get(getattr(layer, key))
        if what:
            raise ConfigError(f"layers[{i}].{key}: {model} does not run {what} yet "
                              f"(the golden model does: fdaccel train without --fixed)")
    if net.training.optimizer != "sgd":
        raise ConfigError(f"training.optimizer: {model} runs SGD with momentum; {net.training.optimizer} "
                          f"runs in the golden model only (fdaccel train without --fixed)")
    if net.loss != "xent":
        raise ConfigError(f"loss: {model} does not run {net.loss} (regression) networks yet "
                          f"(the golden model does: fdaccel train without --fixed)")


def latent_size(net: NetworkConfig) -> int:
    """Real values in a network's narrowest layer output (channels x size x size): an
    autoencoder's bottleneck, the component count of the PCA it is compared with."""
    return min(s.out_channels * s.out_size ** 2 for s in layer_shapes(net))


def load_network(source: str | Path | dict | None = None) -> NetworkConfig:
    """Load a network by built-in name, YAML path or dict (None: lenet-digits), and check
    that its layers fit together (:func:`layer_shapes`); ConfigError otherwise."""
    cfg = parse_network(source)
    layer_shapes(cfg)
    return cfg


def pwl_table(layer: ActLayer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Breakpoints (S-1), slopes (S) and intercepts (S) of the odd PWL activation.

    Knots at ``2 * knee * linspace(-1, 1, S - 1)`` on ``g(x) = knee * tanh(x / knee)``;
    inner segments interpolate g, the two outer segments continue with slope ``leak``.
    Segment s covers [b[s-1], b[s]) (b[-1] = -inf, b[S-1] = +inf).  The function is odd,
    so split-complex application keeps Hermitian symmetry.
    """
    s = layer.segments
    if s < 2:
        raise ConfigError(f"{layer.name or 'act'}.segments: pwl needs at least 2 segments, got {s}")
    if s == 2:
        return np.zeros(1), np.ones(2), np.zeros(2)
    b = 2.0 * layer.knee * np.linspace(-1.0, 1.0, s - 1)
    g = layer.knee * np.tanh(b / layer.knee)
    inner = np.diff(g) / np.diff(b)
    slopes = np.concatenate([[layer.leak], inner, [layer.leak]])
    x0 = np.concatenate([[b[0]], b[:-1], [b[-1]]])
    y0 = np.concatenate([[g[0]], g[:-1], [g[-1]]])
    intercepts = y0 - slopes * x0
    return b, slopes, intercepts


def pwl_apply(x: np.ndarray, breakpoints: np.ndarray, slopes: np.ndarray,
              intercepts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate the PWL on a real array: (values, slopes used), for forward and backward."""
    seg = np.searchsorted(breakpoints, x, side="right")
    return slopes[seg] * x + intercepts[seg], slopes[seg]


def read_sizes(shapes: list[LayerShape]) -> list[int]:
    """For every layer, the crop size at which its input is read (its input size: all bins).

    A cropping pool reads its input at its output size; bin-local layers (circular convs,
    pwl and linear activations, pools that do not crop) read their input at the size their
    own output is read at; frequency-mixing activations (:data:`MIXING_ACTS`), zero-padded
    convs (their IFFT), upsampling and the classifier read every bin.  Producers compute
    only the bins their reader reads (the schedule, ``sim/schedule.py``, uses the same
    sizes)."""
    keep = [s.in_size for s in shapes]
    for i in range(len(shapes) - 1, -1, -1):
        s = shapes[i]
        layer = s.layer
        nxt = keep[i + 1] if i + 1 < len(shapes) else s.out_size
        if isinstance(layer, PoolLayer):
            keep[i] = layer.size if layer.size < s.in_size else nxt
        elif isinstance(layer, ConvLayer):
            keep[i] = nxt if layer.padding == "circular" else s.in_size
        elif isinstance(layer, ActLayer) and layer.kind not in MIXING_ACTS:
            keep[i] = nxt
    return keep
