"""Information kept by spectral, average and max pooling at the same output size.

Method (Rippel, Snoek & Adams 2015, Fig. 3, on the digits).  Every digit at its native
8 x 8 (pixels in [0, 1]) is pooled to m x m -- spectral pooling (the network's operator,
:func:`accel.spectral.spectral_pool`, m = 2, 4, 6), average and max pooling over
non-overlapping (8/m) x (8/m) windows (m = 2, 4) -- and reconstructed at 8 x 8 from the
pooled map alone: the spectrum zero-padded back (:func:`accel.upsample.upsample`,
``spectral``) for spectral pooling, each cell repeated for the others.  Reported per
method and size: the relative reconstruction error ``||x - x^||^2 / ||x||^2`` (and
against the image's energy around its mean, which the digits' large mean otherwise
hides), and the energy of the reconstruction ``||x^||^2 / ||x||^2`` -- the energy
retained for the two projections (spectral: the energy of the kept bins; average).

Native resolution: the bundled 16 x 16 digits are 8 x 8 ones with every pixel repeated,
which average and max pooling to 8 x 8 undo exactly; that would bias the comparison.

Independent reference (tests): the same numbers from a direct spatial computation,
``scipy.signal.resample`` down and up, window means and maxima by reshaping.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from accel.spectral import spectral_pool
from accel.upsample import upsample

from .common import Context, NativeDigits
from .figures import figure, save_png

NATIVE = 8
SIZES = {"spectral": (2, 4, 6), "average": (2, 4), "max": (2, 4)}


def pool_and_reconstruct(x: np.ndarray, method: str, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(pooled m x m maps, reconstructions at the input size) of images ``(..., n, n)``."""
    n = x.shape[-1]
    if method == "spectral":
        P = spectral_pool(np.fft.fft2(x), m)
        return np.fft.ifft2(P).real, np.fft.ifft2(upsample(P, n, "spectral", half=False)).real
    f = n // m
    windows = x.reshape(x.shape[:-2] + (m, f, m, f))
    pooled = windows.mean(axis=(-3, -1)) if method == "average" else windows.max(axis=(-3, -1))
    return pooled, np.repeat(np.repeat(pooled, f, axis=-2), f, axis=-1)


def measure(x: np.ndarray, method: str, m: int) -> dict[str, float]:
    """Mean over images of the relative error, the error against the energy around the
    mean, and the reconstruction's relative energy."""
    _, r = pool_and_reconstruct(x, method, m)
    energy = np.sum(x ** 2, axis=(-2, -1))
    ac = np.sum((x - x.mean(axis=(-2, -1), keepdims=True)) ** 2, axis=(-2, -1))
    err = np.sum((x - r) ** 2, axis=(-2, -1))
    return {"relative_error": float(np.mean(err / energy)), "error_vs_ac_energy": float(np.mean(err / ac)),
            "energy_ratio": float(np.mean(np.sum(r ** 2, axis=(-2, -1)) / energy))}


def run(ctx: Context) -> dict[str, Any]:
    d = NativeDigits.load()
    x = np.concatenate([d.x_train, d.x_test])[:, 0]
    rows = [{"method": method, "size": m, **measure(x, method, m)} for method, sizes in SIZES.items() for m in sizes]
    rng = np.random.default_rng(ctx.seed)
    examples = x[rng.choice(len(x), 4, replace=False)]
    return {"images": len(x), "resolution": NATIVE, "results": rows,
            "examples": {"original": examples,
                         **{f"{method}@{m}": pool_and_reconstruct(examples, method, m)[1]
                            for method, sizes in SIZES.items() for m in sizes}}}


def _row(data: dict[str, Any], method: str, m: int) -> dict[str, float]:
    return next(r for r in data["results"] if r["method"] == method and r["size"] == m)


def summary(data: dict[str, Any]) -> list[str]:
    lines = [f"pooling {data['resolution']} x {data['resolution']} digits ({data['images']} images), "
             f"reconstructed from the pooled map: relative error (error / energy around the mean) "
             f"[reconstruction energy / input energy]"]
    for m in (4, 2, 6):
        cells = [f"{method} {(r := _row(data, method, m))['relative_error']:.4f} "
                 f"({r['error_vs_ac_energy']:.3f}) [{r['energy_ratio']:.3f}]"
                 for method in SIZES if m in SIZES[method]]
        lines.append(f"  to {m} x {m}: " + ", ".join(cells))
    best = all(_row(data, "spectral", m)["relative_error"] < min(_row(data, o, m)["relative_error"]
                                                                 for o in ("average", "max")) for m in (2, 4))
    lines.append("spectral pooling keeps the most information at every common size" if best else
                 "spectral pooling does NOT keep the most information at every common size")
    return lines


def plot(data: dict[str, Any], folder: str | Path) -> list[Path]:
    out = Path(folder)
    fig, axes = figure(1, 1, 5.5, 3.8)
    ax = axes[0, 0]
    for method, sizes in SIZES.items():
        ax.plot([8 / m for m in sizes][::-1], [_row(data, method, m)["relative_error"] for m in sizes][::-1],
                "o-", label=method)
    ax.set_xlabel("reduction factor per axis (8 / output size)")
    ax.set_ylabel("relative reconstruction error")
    ax.set_yscale("log")
    ax.set_title("pooling native 8x8 digits and reconstructing them", fontsize=9)
    ax.legend(fontsize=8)
    paths = [save_png(fig, out / "pooling_error.png")]
    ex = data["examples"]
    keys = list(ex)
    fig, axes = figure(len(ex["original"]), len(keys), 1.1 * len(keys), 1.2 * len(ex["original"]))
    for j, key in enumerate(keys):
        for i, img in enumerate(np.asarray(ex[key])):
            axes[i, j].imshow(img, cmap="gray_r", vmin=0, vmax=1)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
        axes[0, j].set_title(key, fontsize=7)
    paths.append(save_png(fig, out / "pooling_examples.png"))
    return paths
