"""Figures of the analyses: matplotlib (Agg) figures rendered to PNG in memory, then
written whole (:func:`fdaccel.report.write_atomic`), as :mod:`fdaccel.plots` does."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from ..report import write_atomic


def figure(rows: int = 1, cols: int = 1, width: float = 6.0, height: float = 4.0) -> tuple[Any, Any]:
    """A figure and its axes, always a rows x cols array."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(rows, cols, figsize=(width, height), squeeze=False)


def save_png(fig: Any, path: str | Path) -> Path:
    """Render ``fig`` to PNG bytes in memory, close it, write the bytes atomically."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return write_atomic(path, buf.getvalue())


def spectrum_image(ax: Any, values: np.ndarray, title: str, log: bool = True, **kw: Any) -> Any:
    """An n x n map over (u, v) with DC in the centre (fftshift), axes in signed bins."""
    n = values.shape[-1]
    shown = np.fft.fftshift(values)
    if log:
        shown = np.log10(np.maximum(shown, 1e-4 * max(float(np.max(shown)), 1e-300)))
    half = n // 2
    im = ax.imshow(shown, origin="lower", extent=(-half - 0.5, half - 0.5, -half - 0.5, half - 0.5), **kw)
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("v", fontsize=7)
    ax.set_ylabel("u", fontsize=7)
    ax.tick_params(labelsize=6)
    return im
