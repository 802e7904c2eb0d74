"""Robustness in the frequency domain (Yin et al., "A Fourier perspective on model
robustness", 2019): Fourier heat maps, and accuracy on low- and high-pass filtered inputs.

Models: the classifier (``lenet-digits``) as a frequency network with each activation
kind (``pwl``, ``linear``, ``spatial``, ``quadratic``) and the spatial reference
(:class:`accel.spatial_net.SpatialNet`: direct convolution, ReLU, average pooling), each
trained (seeded).

Perturbations are made on the digits at their native 8 x 8 (pixels in [0, 1]), then
mapped to the networks' input (nearest upsampling to 16 x 16, the dataset's
standardization), so that they live on the frequencies the data has:

* Fourier heat map: for every bin (u, v) of the 8 x 8 grid, the test error when the
  real Fourier basis image of (u, v) (cosine phase, unit L2 norm) times ``EPS`` (L2 norm
  in native pixel units; a random sign per image) is added to every test image;
* filtered inputs: accuracy when only the bins with ``max(|u|, |v|) <= r`` (low-pass) or
  ``>= r`` (high-pass) of each test image are kept, r = 0 .. 4, no renormalization.

Independent reference (tests): the filters against a direct spatial circular convolution
with their impulse responses (``scipy.ndimage.convolve``, ``mode="wrap"``), the basis
images against their DFT (two bins), the accuracies against the models' predictions.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from accel.config import ActKind
from accel.data import load_dataset

from .common import CLASSIFIER, Context, Model, NativeDigits, fit, require_digits, with_activation
from .figures import figure, save_png, spectrum_image
from .receptive import basis

KINDS: tuple[ActKind, ...] = ("pwl", "linear", "spatial", "quadratic")
EPOCHS = 10
EPS = 2.0
NATIVE = 8


def chebyshev_radius(n: int) -> np.ndarray:
    """``max(|u|, |v|)`` of every bin of an n x n grid (signed frequencies)."""
    k = np.abs(np.fft.fftfreq(n, 1.0 / n)).astype(int)
    return np.maximum(k[:, None], k[None, :])


def filtered(x: np.ndarray, r: int, low: bool) -> np.ndarray:
    """Images with only the bins ``max(|u|, |v|) <= r`` (low) or ``>= r`` (high) kept."""
    R = chebyshev_radius(x.shape[-1])
    mask = R <= r if low else R >= r
    return np.fft.ifft2(np.fft.fft2(x) * mask).real


def error(net: Model, d: NativeDigits, x8: np.ndarray) -> float:
    """Test error of ``net`` on native images x8 (the test labels)."""
    return float(np.mean(net.predict(d.to_input(x8)) != d.y_test))


def heat_map(net: Model, d: NativeDigits, rng: np.random.Generator) -> np.ndarray:
    """Test error per added Fourier basis image (8 x 8 grid; mirrored bins equal)."""
    n = NATIVE
    out = np.zeros((n, n))
    for u in range(n):
        for v in range(n // 2 + 1):
            sign = rng.choice([-1.0, 1.0], size=(len(d.x_test), 1, 1, 1))
            out[u, v] = out[(-u) % n, (-v) % n] = error(net, d, d.x_test + sign * EPS * basis(n, u, v, "cos"))
    return out


def run(ctx: Context) -> dict[str, Any]:
    base = ctx.config(CLASSIFIER, EPOCHS)
    require_digits(base, "robustness")
    data = load_dataset(base, seed=ctx.seed)
    d = NativeDigits.load()
    models: list[tuple[str, Model]] = [(k, fit(with_activation(base, k), data)) for k in KINDS]
    models.append(("spatial reference", fit(base, data, spatial=True)))
    rows = []
    for name, net in models:
        rng = np.random.default_rng(ctx.seed)
        hm = heat_map(net, d, rng)
        R = chebyshev_radius(NATIVE)
        rows.append({"model": name, "clean_error": error(net, d, d.x_test), "heat_map": hm,
                     "mean_error_low": float(hm[R <= 1].mean()), "mean_error_high": float(hm[R >= 3].mean()),
                     "low_pass_accuracy": [1 - error(net, d, filtered(d.x_test, r, True)) for r in range(5)],
                     "high_pass_accuracy": [1 - error(net, d, filtered(d.x_test, r, False)) for r in range(5)]})
    return {"network": base.name, "epochs": base.training.epochs, "eps": EPS, "radii": list(range(5)),
            "models": rows}


def summary(data: dict[str, Any]) -> list[str]:
    lines = [f"{data['network']}, {data['epochs']} epochs, Fourier basis of L2 norm {data['eps']} on the native 8 x 8 "
             f"digits: test error clean | mean over bins max(|u|,|v|) <= 1 | >= 3; accuracy low-pass r = 0..4 | "
             f"high-pass r = 0..4"]
    for r in data["models"]:
        lp = " ".join(f"{a:.2f}" for a in r["low_pass_accuracy"])
        hp = " ".join(f"{a:.2f}" for a in r["high_pass_accuracy"])
        lines.append(f"  {r['model']:18s} {r['clean_error']:.3f} | {r['mean_error_low']:.3f} | "
                     f"{r['mean_error_high']:.3f};  {lp} | {hp}")
    return lines


def plot(data: dict[str, Any], folder: str | Path) -> list[Path]:
    rows = data["models"]
    fig, axes = figure(1, len(rows), 2.9 * len(rows), 2.8)
    for ax, r in zip(axes[0], rows):
        im = spectrum_image(ax, np.asarray(r["heat_map"]), f"{r['model']}: test error", log=False,
                            vmin=0, vmax=1, cmap="magma")
    fig.colorbar(im, ax=axes[0, -1], fraction=0.046)
    paths = [save_png(fig, Path(folder) / "robustness_heatmap.png")]
    fig, axes = figure(1, 2, 10, 3.6)
    for j, key in enumerate(("low_pass_accuracy", "high_pass_accuracy")):
        for r in rows:
            axes[0, j].plot(data["radii"], r[key], "o-", label=r["model"])
        axes[0, j].set_xlabel("r (bins kept: max(|u|,|v|) " + ("<= r)" if j == 0 else ">= r)"))
        axes[0, j].set_ylabel("test accuracy")
        axes[0, j].set_title(key.replace("_", " ") + " (native 8x8)", fontsize=9)
        axes[0, j].legend(fontsize=7)
    paths.append(save_png(fig, Path(folder) / "robustness_filtered.png"))
    return paths
