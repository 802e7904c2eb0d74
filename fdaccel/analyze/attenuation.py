"""Do convolution and zero padding weaken high frequencies (Tang et al.)?  Gain per radial
band of every conv layer, at initialization and after training.

Method.  Bins are grouped into ``BANDS`` radial bands of normalized frequency
(:func:`fdaccel.analyze.common.radial_bands`; DC, which carries the bias and the mean, is
left out).  For every conv layer of the frequency model (golden, half spectra), on the
test images, at initialization and after training:

* ``mean |T|``: the mean magnitude of the layer's transfer matrix T(u, v) (its spectral
  weights, Co x Ci per bin) over the band;
* ``gain``: output energy over input energy per band (mean ``|h|^2`` over ``|g|^2``, per
  channel), the layer as the network computes it (circular convolution);
* ``gain_same``: the same with the layer's kernels applied as a "same"-size zero-padded
  convolution (:func:`fdaccel.analyze.propagation.same_convolution`) to the same input
  maps: what zero padding changes, with the weights fixed;
* the tilt of each, ``10 log10(highest band / lowest band)`` dB: negative where high
  frequencies are weakened.

For the decoder also the whole network: reconstruction energy over input energy per
band.  Networks: the classifier ``lenet-digits`` and the decoder ``autoencoder-digits``
(``--network`` picks one).

Independent reference (tests): the gains against band energies computed by looping over
the bins of direct spatial convolutions (``scipy.signal.convolve2d``), and ``mean |T|``
against the DFT of the spatial kernels.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from accel.config import ConvLayer, NetworkConfig
from accel.data import Dataset, load_dataset
from accel.golden import ConvOp, GoldenNet
from accel.spectral import to_full

from .common import Context, fit, radial_bands
from .figures import figure, save_png
from .propagation import same_convolution

EPOCHS = 8
BANDS = 3
IMAGES = 256


def ac_bands(n: int) -> np.ndarray:
    """:func:`radial_bands` with DC marked -1 (left out)."""
    bands = radial_bands(n, BANDS)
    bands[0, 0] = -1
    return bands


def band_energy(S: np.ndarray) -> np.ndarray:
    """Mean ``|S|^2`` per band (DC left out) over images, channels and the band's bins of
    full spectra ``(..., n, n)``."""
    bands = ac_bands(S.shape[-1])
    power = (np.abs(S) ** 2).reshape(-1, S.shape[-2], S.shape[-1]).mean(axis=0)
    return np.array([power[bands == b].mean() for b in range(BANDS)])


def tilt_db(per_band: np.ndarray) -> float:
    """``10 log10(last band / first band)``: negative where high frequencies are weaker."""
    return float(10 * np.log10(per_band[-1] / per_band[0]))


def conv_layers(net: GoldenNet, x: np.ndarray) -> list[dict[str, Any]]:
    """``mean |T|``, ``gain`` and ``gain_same`` per band of every conv layer on images x."""
    _, traces = net.forward(x)
    out = []
    for op, tr in zip(net.ops, traces):
        if not isinstance(op, ConvOp):
            continue
        L: ConvLayer = op.layer
        N = op.N
        T = to_full(tr.aux["W"], N)
        G = to_full(tr.aux["x_conv"], N)
        H = to_full(tr.y, N)
        bands = ac_bands(N)
        mag = np.abs(T).mean(axis=(0, 1))
        mean_T = np.array([mag[bands == b].mean() for b in range(BANDS)])
        gain = band_energy(H) / band_energy(G)
        w = np.fft.ifft2(to_full(net.params[f"{L.name}.weight"], net.params[f"{L.name}.weight"].shape[-2])).real
        g = np.fft.ifft2(G).real
        same = same_convolution(g, w, net.params.get(f"{L.name}.bias"))
        gain_same = band_energy(np.fft.fft2(same)) / band_energy(G)
        out.append({"layer": L.name, "size": N, "kernel": L.kernel, "mean_T": mean_T, "gain": gain,
                    "gain_same": gain_same, "tilt_T_db": tilt_db(mean_T ** 2), "tilt_db": tilt_db(gain),
                    "tilt_same_db": tilt_db(gain_same)})
    return out


def network_gain(net: GoldenNet, cfg: NetworkConfig, x: np.ndarray) -> np.ndarray | None:
    """Reconstruction energy over input energy per band (decoders), None for classifiers."""
    if cfg.loss != "mse":
        return None
    return band_energy(np.fft.fft2(net.reconstruct(x))) / band_energy(np.fft.fft2(x))


def measure(cfg: NetworkConfig, data: Dataset) -> dict[str, Any]:
    """Both states of one network: at initialization and after training."""
    x = data.x_test[:IMAGES]
    init = GoldenNet(cfg, half=True)
    states = {"init": {"layers": conv_layers(init, x), "network_gain": network_gain(init, cfg, x)}}
    trained = fit(cfg, data)
    assert isinstance(trained, GoldenNet)
    states["trained"] = {"layers": conv_layers(trained, x), "network_gain": network_gain(trained, cfg, x)}
    return {"network": cfg.name, "epochs": cfg.training.epochs, **states}


def run(ctx: Context) -> dict[str, Any]:
    networks = {role: measure(cfg, load_dataset(cfg, seed=ctx.seed)) for role, cfg in ctx.roles(EPOCHS).items()}
    return {"bands": BANDS, "images": IMAGES, "networks": networks}


def summary(data: dict[str, Any]) -> list[str]:
    lines = [f"tilt = 10 log10(highest / lowest of {data['bands']} radial bands, DC left out), dB, per conv layer: "
             "|T|^2 | gain circular | gain 'same' zero padding; init -> trained"]
    for role, r in data["networks"].items():
        lines.append(f"  {role} {r['network']} ({r['epochs']} epochs):")
        for a, b in zip(r["init"]["layers"], r["trained"]["layers"]):
            cells = " | ".join(f"{a[key]:+6.1f} -> {b[key]:+6.1f}" for key in ("tilt_T_db", "tilt_db", "tilt_same_db"))
            lines.append(f"    {a['layer']:6s} {a['size']:2d}x{a['size']:<2d} k{a['kernel']}: {cells}")
        if r["trained"]["network_gain"] is not None:
            g0, g1 = np.asarray(r["init"]["network_gain"]), np.asarray(r["trained"]["network_gain"])
            lines.append(f"    whole network, output / input energy per band: init {np.round(g0, 3).tolist()}, "
                         f"trained {np.round(g1, 3).tolist()} (tilt {tilt_db(g1):+.1f} dB)")
    return lines


def plot(data: dict[str, Any], folder: str | Path) -> list[Path]:
    nets = list(data["networks"].items())
    fig, axes = figure(len(nets), 2, 11, 3.6 * len(nets))
    centres = (np.arange(data["bands"]) + 0.5) / data["bands"]
    for i, (role, r) in enumerate(nets):
        for j, key in enumerate(("gain", "mean_T")):
            ax = axes[i, j]
            for k, layer in enumerate(r["trained"]["layers"]):
                ax.plot(centres, layer[key], "o-", color=f"C{k}", label=f"{layer['layer']} trained")
                ax.plot(centres, r["init"]["layers"][k][key], ":", color=f"C{k}")
                if key == "gain":
                    ax.plot(centres, layer["gain_same"], "x--", color=f"C{k}")
            ax.set_yscale("log")
            ax.set_xlabel("radial frequency / Nyquist")
            what = "output/input energy (o circular, x same zero-pad)" if key == "gain" else "mean |T|"
            ax.set_title(f"{role}: {what} (dotted: init)", fontsize=8)
            ax.legend(fontsize=6, ncol=2)
    return [save_png(fig, Path(folder) / "attenuation.png")]
