"""The spectrum of upsampling layers' outputs: where the strong bins repeat, how strongly.

Method.  Upsampling m -> M = f m splits the M x M output spectrum into f x f tiles of
m x m bins centred on the copies of DC at ``(a m, b m)``.  For each tile: its energy
(mean ``|Y|^2`` summed over its bins) relative to the centre tile's, and its peak (the
bin of largest mean ``|Y|``, with its amplitude relative to DC's).  Measured on

* the native 8 x 8 digits (pixels in [0, 1], test split) upsampled to 16 x 16 by each
  kind with the golden model's layer (:func:`accel.upsample.upsample`), and
* every upsampling layer of the decoder (``autoencoder-digits``) trained with each kind
  in turn, on the test images, over channels.

Closed forms the measurements are compared against (computed from the layer's input
spectrum X alone, without the layer's code): ``zeros``: ``|Y(u, v)| = |X(u mod m, v mod
m)|``, every tile as strong as the centre; ``nearest``: the same times the box envelope
``|D(u) D(v)|``, ``D(u) = sin(pi u / m) / sin(pi u / M)`` (``D(0) = f``), zero on the other
copies of DC, so the replicas survive only off their centres, weakened; ``spectral``:
``scipy.signal.resample`` of the input's signal (zero padding of the spectrum), no
replica beyond half of the Nyquist bins.  The report gives the largest deviation of the
measured mean ``|Y|`` map from the closed form's, relative to its peak.

Independent reference (tests): the closed forms above against the layer's output, and
the tile statistics against a direct sum over the tile's bins.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.signal

from accel.data import load_dataset
from accel.golden import GoldenNet
from accel.spectral import to_full
from accel.upsample import KINDS, upsample

from ..training import evaluate
from .common import DECODER, Context, NativeDigits, fit, with_upsampling
from .figures import figure, save_png, spectrum_image

#: decoder training epochs per kind (three trainings; --epochs overrides)
EPOCHS = 6


def closed_form(X: np.ndarray, M: int, kind: str) -> np.ndarray:
    """``|Y|`` of upsampling full spectra X ``(..., m, m)`` to M, from the closed forms."""
    m = X.shape[-1]
    f = M // m
    if kind == "spectral":
        x = np.fft.ifft2(X).real
        return np.abs(np.fft.fft2(scipy.signal.resample(scipy.signal.resample(x, M, axis=-2), M, axis=-1)))
    tiled = np.abs(np.tile(X, (1,) * (X.ndim - 2) + (f, f)))
    if kind == "zeros":
        return tiled
    u = np.arange(M)
    with np.errstate(invalid="ignore", divide="ignore"):
        D = np.where(u == 0, f, np.abs(np.sin(np.pi * u / m) / np.sin(np.pi * u / M)))
    return tiled * D[:, None] * D[None, :]


def tiles(amplitude: np.ndarray, power: np.ndarray, m: int) -> list[dict[str, Any]]:
    """Per tile (a, b): energy relative to the centre tile, peak bin and its amplitude
    relative to the centre tile's peak, from the mean ``|Y|`` and mean ``|Y|^2`` maps
    (M x M)."""
    M = amplitude.shape[-1]
    f = M // m
    g = np.arange(-(m // 2), m - m // 2)
    centre = peak = None
    out = []
    for a in range(f):
        for b in range(f):
            rows, cols = (a * m + g) % M, (b * m + g) % M
            block = amplitude[np.ix_(rows, cols)]
            energy = float(power[np.ix_(rows, cols)].sum())
            i, j = np.unravel_index(int(np.argmax(block)), block.shape)
            centre = energy if centre is None else centre
            peak = float(block[i, j]) if peak is None else peak
            out.append({"tile": [a, b], "energy_ratio": energy / centre, "peak": [int(rows[i]), int(cols[j])],
                        "peak_ratio": float(block[i, j]) / peak})
    return out


def _layer_report(X: np.ndarray, Y: np.ndarray, kind: str) -> dict[str, Any]:
    """Statistics of one upsampling of full spectra X (B, C, m, m) -> Y (B, C, M, M)."""
    amplitude = np.abs(Y).mean(axis=(0, 1))
    power = (np.abs(Y) ** 2).mean(axis=(0, 1))
    predicted = closed_form(X, Y.shape[-1], kind)
    deviation = float(np.abs(np.abs(Y) - predicted).max() / np.abs(Y).max())
    t = tiles(amplitude, power, X.shape[-1])
    return {"kind": kind, "in_size": X.shape[-1], "out_size": Y.shape[-1], "tiles": t,
            "replica_energy": float(np.mean([x["energy_ratio"] for x in t[1:]])),
            "strongest_replica_peak": float(max(x["peak_ratio"] for x in t[1:])),
            "closed_form_deviation": deviation, "mean_amplitude": amplitude}


def native(d: NativeDigits) -> list[dict[str, Any]]:
    """Each kind on the native test digits, 8 -> 16."""
    X = np.fft.fft2(d.x_test)
    return [_layer_report(X, upsample(X, 16, kind, half=False), kind) for kind in KINDS]


def _full(net: GoldenNet, S: np.ndarray) -> np.ndarray:
    return to_full(S, S.shape[-2]) if net.half else S


def in_network(ctx: Context) -> list[dict[str, Any]]:
    """Every upsampling layer of the decoder trained with each kind, on the test set."""
    base = ctx.config(DECODER, EPOCHS)
    data = load_dataset(base)
    out = []
    for kind in KINDS:
        cfg = with_upsampling(base, kind)
        net = fit(cfg, data)
        assert isinstance(net, GoldenNet)
        _, traces = net.forward(data.x_test)
        layers = [dict(_layer_report(_full(net, tr.x), _full(net, tr.y), kind), layer=tr.name)
                  for tr, op in zip(traces, net.ops) if op.layer.type == "upsample"]
        out.append({"kind": kind, "network": cfg.name, "epochs": cfg.training.epochs,
                    "test_mse": evaluate(net, data, cfg), "layers": layers})
    return out


def run(ctx: Context) -> dict[str, Any]:
    return {"native": native(NativeDigits.load()), "network": in_network(ctx)}


def summary(data: dict[str, Any]) -> list[str]:
    lines = ["native 8 x 8 digits upsampled to 16 x 16: replica tiles' energy / centre tile's, "
             "strongest replica peak / centre tile's peak (closed form: largest deviation)"]
    for r in data["native"]:
        lines.append(f"  {r['kind']:8s} replica energy {r['replica_energy']:.3g}, strongest replica peak "
                     f"{r['strongest_replica_peak']:.3g} at "
                     f"{max(r['tiles'][1:], key=lambda t: t['peak_ratio'])['peak']} "
                     f"(closed form {r['closed_form_deviation']:.1e})")
    for n in data["network"]:
        lines.append(f"{n['network']}, {n['epochs']} epochs: test mse {n['test_mse']:.4f}")
        for L in n["layers"]:
            lines.append(f"  {L['layer']} {L['in_size']} -> {L['out_size']}: replica energy {L['replica_energy']:.3g}, "
                         f"strongest replica peak {L['strongest_replica_peak']:.3g} "
                         f"(closed form {L['closed_form_deviation']:.1e})")
    return lines


def plot(data: dict[str, Any], folder: str | Path) -> list[Path]:
    out = Path(folder)
    fig, axes = figure(1, 3, 11, 3.4)
    for ax, r in zip(axes[0], data["native"]):
        im = spectrum_image(ax, np.asarray(r["mean_amplitude"]), f"{r['kind']}: log10 mean |Y|, 8 -> 16")
        fig.colorbar(im, ax=ax, fraction=0.046)
    paths = [save_png(fig, out / "upsampling_native.png")]
    layers = [(n["kind"], L) for n in data["network"] for L in n["layers"]]
    cols = max(1, len({L["layer"] for _, L in layers}))
    fig, axes = figure(len(data["network"]), cols, 3.8 * cols, 3.2 * len(data["network"]))
    for i, n in enumerate(data["network"]):
        for j, L in enumerate(n["layers"]):
            im = spectrum_image(axes[i, j], np.asarray(L["mean_amplitude"]),
                                f"{n['kind']} {L['layer']} {L['in_size']}->{L['out_size']}: log10 mean |Y|")
            fig.colorbar(im, ax=axes[i, j], fraction=0.046)
    paths.append(save_png(fig, out / "upsampling_network.png"))
    return paths
