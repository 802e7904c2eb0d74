"""Does every frequency bin propagate independently through a trained convolution?

Tang et al.'s rule for one conv layer: ``h(u, v) = T(u, v) g(u, v) + delta(u, v) n^2 b``,
with g and h the DFTs of the layer's input and output maps, T(u, v) the Co x Ci matrix
of the kernels' DFTs and b the bias.  In the frequency model it holds by construction (it
is how a conv is computed), so it is measured where it is a claim: on the spatial
reference network (:class:`accel.spatial_net.SpatialNet`, direct convolution), trained.

Method.  For every conv layer, on the test images' feature maps: the largest residual
``|h - T g - delta n^2 b|`` over bins, channels and images, relative to the largest
``|h|``, and the residual's share of the output energy, for

* the convolution as the network computes it: circular on n x n, or (``padding: zero``)
  linear on the N x N grid it pads to, with g the padded input's DFT;
* the same weights as a "same"-size zero-padded convolution (the usual CNN's: output
  cropped to n x n, kernel centred), measured on the n x n grid against the rule with
  the centred kernel's T -- the boundary the paper's setting does not have.

Networks: the classifier (``lenet-digits``) as built (circular) and with every conv
zero-padded, and the decoder (``autoencoder-digits``); zero padding grows its sizes past
its upsampling, so its zero-padding row is the "same" one only.

Independent reference (tests): the residuals are computed from ``numpy.fft`` of the
spatial maps and the kernels, never from the frequency model; the "same" convolution is
checked against ``scipy.signal.convolve2d(mode="same")``-style cropping of a direct
linear convolution.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from accel.config import ConfigError, ConvLayer
from accel.data import load_dataset
from accel.spatial_net import SpatialNet

from .common import Context, band_means, fit, radial_bands, with_padding
from .figures import figure, save_png

EPOCHS = 3
IMAGES = 128
BANDS = 4


def rule_residual(h: np.ndarray, g: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                  shift: int = 0) -> dict[str, Any]:
    """Residual of output maps h ``(B, Co, N, N)`` against the per-bin rule for input maps
    g ``(B, Ci, N, N)``, kernels w ``(Co, Ci, k, k)`` (at the origin, moved ``shift``
    samples back: a centred kernel) and bias b.  All on the N x N grid of h."""
    N = h.shape[-1]
    H = np.fft.fft2(h)
    G = np.fft.fft2(g)
    T = np.fft.fft2(w, s=(N, N))
    if shift:
        f = np.arange(N)
        T = T * np.exp(2j * np.pi * shift * (f[:, None] + f[None, :]) / N)
    R = H - np.einsum("oiuv,biuv->bouv", T, G)
    if b is not None:
        R[:, :, 0, 0] -= N * N * b
    energy = np.abs(R) ** 2
    return {"max_residual": float(np.abs(R).max() / np.abs(H).max()),
            "residual_energy": float(energy.sum() / (np.abs(H) ** 2).sum()),
            "residual_energy_per_band": band_means(energy.sum(axis=(0, 1)), radial_bands(N, BANDS), BANDS)
            / band_means((np.abs(H) ** 2).sum(axis=(0, 1)), radial_bands(N, BANDS), BANDS)}


def same_convolution(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The usual zero-padded "same" convolution of maps x ``(B, Ci, n, n)``: the linear
    convolution with the kernel centred (``(k - 1) // 2`` samples back), cropped to n x n."""
    n, k = x.shape[-1], w.shape[-1]
    L = n + k - 1
    full = np.fft.ifft2(np.einsum("oiuv,biuv->bouv", np.fft.fft2(w, s=(L, L)), np.fft.fft2(x, s=(L, L)))).real
    c = (k - 1) // 2
    y = full[..., c:c + n, c:c + n]
    return y + (b[None, :, None, None] if b is not None else 0.0)


def layers(net: SpatialNet, x: np.ndarray) -> list[dict[str, Any]]:
    """Both residuals of every conv layer of a trained spatial network on images x."""
    _, traces = net.forward(x)
    out = []
    for s, tr in zip(net.shapes, traces):
        L = s.layer
        if not isinstance(L, ConvLayer):
            continue
        w, b = net.params[f"{L.name}.weight"], net.params.get(f"{L.name}.bias")
        N = s.out_size
        g = np.pad(tr.x, ((0, 0), (0, 0), (0, N - s.in_size), (0, N - s.in_size)))
        same = same_convolution(tr.x, w, b)
        out.append({"layer": L.name, "padding": L.padding, "in_size": s.in_size, "grid": N, "kernel": L.kernel,
                    "as_computed": rule_residual(tr.y, g, w, b),
                    "same_zero_padding": rule_residual(same, tr.x, w, b, shift=(L.kernel - 1) // 2)})
    return out


def run(ctx: Context) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for role, cfg in ctx.roles(EPOCHS).items():
        variants = [cfg]
        try:
            variants.append(with_padding(cfg, "zero"))
        except ConfigError as exc:
            results.append({"role": role, "network": f"{cfg.name} (zero)", "skipped": str(exc)})
        for v in variants:
            data = load_dataset(v, seed=ctx.seed)
            net = fit(v, data, spatial=True)
            assert isinstance(net, SpatialNet)
            results.append({"role": role, "network": v.name, "epochs": v.training.epochs,
                            "layers": layers(net, data.x_test[:IMAGES])})
    return {"images": IMAGES, "bands": BANDS, "networks": results}


def summary(data: dict[str, Any]) -> list[str]:
    lines = ["per-bin rule h = T g + delta n^2 b on the trained spatial reference: largest residual / largest "
             "|h| (residual energy share); as computed | as a 'same' zero-padded conv"]
    for r in data["networks"]:
        if "skipped" in r:
            lines.append(f"  {r['network']}: not trained ({r['skipped']})")
            continue
        for L in r["layers"]:
            a, z = L["as_computed"], L["same_zero_padding"]
            lines.append(f"  {r['network']:28s} {L['layer']:6s} {L['padding']:8s} {L['in_size']:2d}->{L['grid']:2d}: "
                         f"{a['max_residual']:.1e} ({a['residual_energy']:.1e}) | "
                         f"{z['max_residual']:.3f} ({z['residual_energy']:.3f})")
    return lines


def plot(data: dict[str, Any], folder: str | Path) -> list[Path]:
    rows = [(r["network"], L) for r in data["networks"] if "layers" in r for L in r["layers"]]
    fig, axes = figure(1, 1, 7.5, 4.0)
    ax = axes[0, 0]
    width = 0.8 / data["bands"]
    for b in range(data["bands"]):
        ax.bar(np.arange(len(rows)) + (b - (data["bands"] - 1) / 2) * width,
               [L["same_zero_padding"]["residual_energy_per_band"][b] for _, L in rows], width,
               label=f"band {b / data['bands']:.2f}-{(b + 1) / data['bands']:.2f} Nyquist")
    ax.set_xticks(range(len(rows)), [f"{n.split(' ')[0][:12]}{' (zero)' if 'zero' in n else ''}\n{L['layer']}"
                                     for n, L in rows], fontsize=6)
    ax.set_yscale("log")
    ax.set_ylabel("residual energy / output energy")
    ax.set_title("per-bin rule violated by 'same' zero padding, per radial band "
                 "(circular and padded-grid residuals: < 1e-25)", fontsize=8)
    ax.legend(fontsize=6)
    return [save_png(fig, Path(folder) / "propagation.png")]
