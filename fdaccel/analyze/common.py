"""What the analyses share: the command's context, networks with overrides and variants,
quiet seeded training, radial frequency bands, and the digits at native resolution."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accel.config import (
    ActKind,
    ActLayer,
    ConfigError,
    ConvLayer,
    NetworkConfig,
    Padding,
    UpsampleKind,
    UpsampleLayer,
    as_dict,
)
from accel.data import Dataset, native_digits
from accel.golden import GoldenNet
from accel.network import load_network
from accel.spatial_net import SpatialNet

from ..training import train

#: the analyses' classifier and decoder when --network does not name one
CLASSIFIER, DECODER = "lenet-digits", "autoencoder-digits"


@dataclass(frozen=True)
class Context:
    """The options every analysis takes: a network (None: its own), epochs (None: its
    default) and the seed of every initialization, shuffle and random draw."""
    network: str | None = None
    epochs: int | None = None
    seed: int = 0

    def config(self, default: str, epochs: int) -> NetworkConfig:
        """``--network`` (or ``default``) with the analysis's epochs (``--epochs`` wins) and
        the seed applied."""
        cfg = load_network(self.network or default)
        t = dataclasses.replace(cfg.training, epochs=self.epochs or epochs, seed=self.seed)
        return dataclasses.replace(cfg, training=t)

    def roles(self, epochs: int) -> dict[str, NetworkConfig]:
        """``{"classifier": ..., "decoder": ...}``: both built-ins, or only ``--network``
        in the role its loss gives it."""
        if self.network:
            cfg = self.config(self.network, epochs)
            return {"decoder" if cfg.loss == "mse" else "classifier": cfg}
        return {"classifier": self.config(CLASSIFIER, epochs), "decoder": self.config(DECODER, epochs)}


def with_activation(cfg: NetworkConfig, kind: ActKind) -> NetworkConfig:
    """The network with every activation of kind ``kind`` (other settings kept)."""
    layers = tuple(dataclasses.replace(L, kind=kind) if isinstance(L, ActLayer) else L for L in cfg.layers)
    return dataclasses.replace(cfg, layers=layers, name=f"{cfg.name} ({kind})")


def with_upsampling(cfg: NetworkConfig, kind: UpsampleKind) -> NetworkConfig:
    """The network with every upsampling layer of kind ``kind``."""
    layers = tuple(dataclasses.replace(L, kind=kind) if isinstance(L, UpsampleLayer) else L for L in cfg.layers)
    return dataclasses.replace(cfg, layers=layers, name=f"{cfg.name} ({kind} upsampling)")


def with_padding(cfg: NetworkConfig, padding: Padding) -> NetworkConfig:
    """The network with every convolution padded ``padding`` (checked again: zero padding
    grows the sizes, which not every network accepts)."""
    layers = tuple(dataclasses.replace(L, padding=padding) if isinstance(L, ConvLayer) else L for L in cfg.layers)
    return load_network(as_dict(dataclasses.replace(cfg, layers=layers, name=f"{cfg.name} ({padding})")))


Model = GoldenNet | SpatialNet


def fit(cfg: NetworkConfig, data: Dataset, spatial: bool = False,
        on_step: Callable[[int], None] | None = None) -> Model:
    """A network trained quietly with the golden model (half spectra) or the spatial
    reference; ``on_step(steps)`` after every update."""
    net: Model = SpatialNet(cfg) if spatial else GoldenNet(cfg, half=True)
    train(net, data, cfg, log=lambda _: None, on_step=on_step)
    return net


def require_digits(cfg: NetworkConfig, what: str) -> None:
    """ConfigError unless ``cfg`` trains on the bundled digits at 16 x 16 (``what`` needs
    the native 8 x 8 images under them)."""
    if cfg.dataset != "digits" or cfg.input.size != 16:
        raise ConfigError(f"network: {what} perturbs the native 8 x 8 digits; {cfg.name!r} trains on "
                          f"{cfg.dataset} at {cfg.input.size} x {cfg.input.size} (use a digits network at 16)")


# --------------------------------------------------------------------------- frequency bands


def radial_bands(n: int, count: int) -> np.ndarray:
    """Band index (0..count-1) of every bin of an n x n spectrum: the radius
    ``sqrt(u^2 + v^2) / (n/2)`` of its signed frequency in ``count`` equal steps of
    [0, 1); the corners beyond the Nyquist circle fall in the last band.  Normalized,
    so spectra of different sizes share bands."""
    k = np.fft.fftfreq(n, 1.0 / n)
    rho = np.hypot(k[:, None], k[None, :]) / (n / 2)
    return np.minimum((rho * count).astype(int), count - 1)


def band_means(values: np.ndarray, bands: np.ndarray, count: int) -> np.ndarray:
    """Mean of ``values (..., n, n)`` over the bins of each band: ``(..., count)``."""
    flat = values.reshape(values.shape[:-2] + (-1,))
    idx = bands.ravel()
    sums = np.stack([flat[..., idx == b].sum(axis=-1) for b in range(count)], axis=-1)
    return sums / np.bincount(idx, minlength=count)


# --------------------------------------------------------------------------- native digits


@dataclass(frozen=True)
class NativeDigits:
    """The digits at 8 x 8 in [0, 1] (the split of the ``digits`` dataset), and the map
    to what a 16 x 16 digits network reads: nearest upsampling, then the dataset's
    standardization (training mean and standard deviation, which upsampling keeps)."""
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    @classmethod
    def load(cls) -> NativeDigits:
        x_tr, x_te, y_tr, y_te = native_digits()
        return cls(x_tr, x_te, y_tr, y_te)

    def to_input(self, x8: np.ndarray) -> np.ndarray:
        """8 x 8 images (B, 1, 8, 8) in the units of the 16 x 16 network input."""
        x = np.repeat(np.repeat(x8, 2, axis=-2), 2, axis=-1)
        return (x - self.x_train.mean()) / self.x_train.std()
