"""The designs a comparison trains and prices: the frequency network per activation kind,
and the spatial CNN of the same layer shapes.

* ``frequency-<kind>``: the network with every activation layer's ``kind`` set to
  ``pwl`` (split-complex piecewise linear, bin-local), ``spatial`` (IFFT -> ReLU -> FFT,
  mixes frequencies) or ``linear`` (identity), trained with the golden model
  (:class:`accel.golden.GoldenNet`, half spectra as in hardware) or the fixed-point model,
  run on the frequency accelerator;
* ``spatial-cnn``: the same layer shapes as a ReLU CNN with average pooling
  (:class:`accel.spatial_net.SpatialNet` on the ``pwl`` variant, whose activations it reads as
  ReLU), run on the spatial baseline (:mod:`sim.baseline`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from accel.config import AcceleratorConfig, ActLayer, NetworkConfig
from accel.golden import GoldenNet
from accel.spatial_net import SpatialNet

from ..training import Trainable

Kind = Literal["pwl", "spatial", "linear"]
#: every activation kind the frequency network offers (accel.config.ActLayer.kind)
FREQUENCY_KINDS: tuple[Kind, ...] = ("pwl", "spatial", "linear")
Domain = Literal["frequency", "spatial"]


@dataclass(frozen=True)
class Design:
    """One design of a comparison: its key, the domain it computes in and, for the
    frequency network, the activation kind."""
    key: str
    domain: Domain
    kind: Kind | None = None

    @property
    def label(self) -> str:
        return f"frequency ({self.kind})" if self.domain == "frequency" else "spatial CNN"


def designs(kinds: tuple[Kind, ...] = FREQUENCY_KINDS) -> list[Design]:
    """The frequency network for each of ``kinds``, then the spatial CNN."""
    return [Design(f"frequency-{k}", "frequency", k) for k in kinds] + [Design("spatial-cnn", "spatial")]


def with_kind(net: NetworkConfig, kind: Kind) -> NetworkConfig:
    """``net`` with every activation layer of kind ``kind`` (other layer fields kept)."""
    layers = tuple(dataclasses.replace(l, kind=kind) if isinstance(l, ActLayer) else l for l in net.layers)
    return dataclasses.replace(net, layers=layers)


def network_of(design: Design, net: NetworkConfig) -> NetworkConfig:
    """The network a design trains and runs: the kind variant, or the ReLU (``pwl``) variant
    for the spatial CNN."""
    return with_kind(net, design.kind if design.kind is not None else "pwl")


def with_training(net: NetworkConfig, lr: float, seed: int, batch: int) -> NetworkConfig:
    """``net`` with the learning rate, seed and batch of one training run."""
    return dataclasses.replace(net, training=dataclasses.replace(net.training, lr=lr, seed=seed, batch=batch))


def make_model(design: Design, net: NetworkConfig, accel: AcceleratorConfig | None = None,
               fixed: bool = False) -> Trainable:
    """A fresh model of ``design`` for ``net`` (training settings already applied):
    golden model, fixed-point model (``fixed``, frequency only, formats from ``accel``) or
    the spatial reference."""
    if design.domain == "spatial":
        return SpatialNet(net)
    if fixed:
        from accel.fixed.net import FixedNet

        if accel is None:
            raise ValueError("make_model: the fixed-point model needs an accelerator (number formats)")
        return FixedNet(net, accel)
    return GoldenNet(net, half=True)
