"""Pareto fronts of a sweep: the points no other point beats on every objective.

Objectives are minimized and named by what they measure (:data:`OBJECTIVES` maps each
name to its column of a sweep row).  A point is *dominated* if another is at least as good
on every objective and better on one; the front is the points that are not.  The plot
puts the first objective against the second (energy against latency: energy up, latency
across), colours the points by the third where there is one, draws the front and labels
each front point with its swept values.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from accel.config import ConfigError

#: Objective name -> (row column, axis label); all minimized.
OBJECTIVES: dict[str, tuple[str, str]] = {
    "energy": ("energy_uj", "energy per iteration (uJ)"),
    "latency": ("time_us", "latency per iteration (us)"),
    "cycles": ("cycles", "cycles per iteration"),
    "dram": ("dram_bytes", "DRAM traffic per iteration (bytes)"),
    "energy_per_image": ("uj_per_image", "energy per image (uJ)"),
}


def parse_objectives(names: Sequence[str]) -> list[str]:
    """Two or three known, distinct objective names; ConfigError otherwise."""
    names = [n.strip() for n in names]
    if not 2 <= len(names) <= 3:
        raise ConfigError(f"sweep --pareto: give two or three objectives, got {','.join(names)!r}")
    for i, n in enumerate(names):
        if n not in OBJECTIVES:
            extra = " (the accelerator has no area model yet)" if n == "area" else ""
            raise ConfigError(f"sweep --pareto: unknown objective {n!r}{extra}; objectives: {', '.join(OBJECTIVES)}")
        if names.index(n) != i:
            raise ConfigError(f"sweep --pareto: objective {n!r} is given twice")
    return names


def objective_matrix(rows: Sequence[dict[str, Any]], objectives: Sequence[str]) -> np.ndarray:
    """(points, objectives) float array of ``rows``' objective columns."""
    return np.array([[float(r[OBJECTIVES[o][0]]) for o in objectives] for r in rows], dtype=float).reshape(
        len(rows), len(objectives))


def non_dominated(values: np.ndarray, block: int = 1024) -> np.ndarray:
    """Boolean mask of the rows of ``values`` (points x objectives, minimized) that no
    other row dominates; equal rows do not dominate each other."""
    n = len(values)
    keep = np.ones(n, bool)
    for lo in range(0, n, block):
        v = values[lo:lo + block, None, :]                    # (b, 1, k) candidates
        le = np.all(values[None, :, :] <= v, axis=2)          # (b, n): row j at least as good everywhere
        lt = np.any(values[None, :, :] < v, axis=2)           # (b, n): and better somewhere
        keep[lo:lo + block] = ~np.any(le & lt, axis=1)
    return keep


def label(chosen: dict[str, Any]) -> str:
    """Swept values as a short label (the last part of each key): ``rows=8, kbytes=64``."""
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in chosen.items())


def plot_front(path: str | Path, rows: Sequence[dict[str, Any]], swept: Sequence[str], objectives: Sequence[str],
               front: np.ndarray, title: str) -> Path:
    """PNG: objective 1 against objective 2 for every point, coloured by objective 3
    where given, the front drawn as its staircase and each front point labelled."""
    from ..plots import figure, save_png

    values = objective_matrix(rows, objectives)
    fig, ax = figure(8.0, 5.5)
    x, y = values[:, 1], values[:, 0]
    if len(objectives) == 3:
        sc = ax.scatter(x, y, c=values[:, 2], cmap="viridis", s=36, zorder=2)
        fig.colorbar(sc, ax=ax, label=OBJECTIVES[objectives[2]][1])
    else:
        ax.scatter(x[~front], y[~front], s=28, color="0.65", label="dominated", zorder=2)
    ax.scatter(x[front], y[front], s=70, facecolors="none", edgecolors="C3", linewidths=1.6,
               label="Pareto front", zorder=3)
    order = np.flatnonzero(front)[np.argsort(x[front], kind="stable")]
    best = np.minimum.accumulate(y[order]) if len(order) else y[order]
    ax.step(x[order], best, where="post", color="C3", linewidth=1.2, zorder=1)
    for i in order:
        ax.annotate(label({k: rows[i][k] for k in swept}), (x[i], y[i]), xytext=(5, 5),
                    textcoords="offset points", fontsize=7)
    ax.set_xlabel(OBJECTIVES[objectives[1]][1])
    ax.set_ylabel(OBJECTIVES[objectives[0]][1])
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_png(fig, path)
