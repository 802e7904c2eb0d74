"""PNG plots of a simulated iteration: energy breakdown, frequency vs spatial, unit timeline."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.costs import Comparison

from .report import write_atomic


def save_png(fig: Any, path: str | Path) -> Path:
    """Render a matplotlib figure to PNG bytes in memory, then write them atomically."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return write_atomic(path, buf.getvalue())


def figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def plot_stacked(path: str | Path, groups: Sequence[str], stacks: Mapping[str, Sequence[float]],
                 ylabel: str, title: str) -> Path:
    """Stacked bars: one bar per group (e.g. layer/phase), one colour per stack key (unit)."""
    import numpy as np

    fig, ax = figure(max(6.0, 0.45 * len(groups) + 2), 4.5)
    bottom = np.zeros(len(groups))
    for key, series in stacks.items():
        values = np.asarray(series, dtype=float)
        ax.bar(range(len(groups)), values, bottom=bottom, label=key)
        bottom += values
    ax.set_xticks(range(len(groups)), groups, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    return save_png(fig, path)


def plot_paired(path: str | Path, groups: Sequence[str], series: dict[str, Sequence[float]],
                ylabel: str, title: str, log: bool = True) -> Path:
    """Side-by-side bars per group, one per series (e.g. frequency vs spatial domain)."""
    import numpy as np

    fig, ax = figure(max(6.0, 0.6 * len(groups) + 2), 4.5)
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for i, (key, values) in enumerate(series.items()):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, np.asarray(values, dtype=float), width, label=key)
    ax.set_xticks(x, groups, rotation=45, ha="right", fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def plot_timeline(path: str | Path, spans: Sequence[tuple[str, int, int, str]], title: str,
                  max_spans: int = 20000) -> Path:
    """Unit-utilization timeline: one row per unit, a bar per (unit, start, end, phase) span,
    coloured by phase.  Above ``max_spans`` spans, adjacent spans of a unit and phase
    are merged where they touch, so big traces stay drawable."""
    units = sorted({s[0] for s in spans})
    phases = sorted({s[3] for s in spans})
    merged: dict[tuple[str, str], list[list[int]]] = {}
    for unit, start, end, phase in sorted(spans, key=lambda s: (s[0], s[3], s[1])):
        runs = merged.setdefault((unit, phase), [])
        if runs and len(spans) > max_spans and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    fig, ax = figure(10.0, 0.5 * len(units) + 1.5)
    colours = {p: f"C{i}" for i, p in enumerate(phases)}
    for (unit, phase), runs in merged.items():
        ax.broken_barh([(s, max(e - s, 1)) for s, e in runs], (units.index(unit) - 0.4, 0.8),
                       facecolors=colours[phase], label=phase)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="upper right")
    ax.set_yticks(range(len(units)), units)
    ax.set_xlabel("cycle")
    ax.set_title(title)
    return save_png(fig, path)


def write_plots(folder: str, cmp: Comparison, spans: list[tuple[str, int, int, str]], title: str) -> list[str]:
    """The three report plots: energy per layer x phase stacked by unit, frequency vs
    spatial (energy and cycles per layer), and the unit-utilization timeline."""
    out = Path(folder)
    groups = [f"{n}/{p}" for n, p, _ in cmp.freq.layers]
    comps = sorted({c for _, _, r in cmp.freq.layers for c in r.by("component")})
    stacks = {c: [r.by("component").get(c, 0.0) / 1e6 for _, _, r in cmp.freq.layers] for c in comps}
    rows = cmp.per_layer()
    names = [r["layer"] for r in rows]
    return [
        str(plot_stacked(out / "energy_breakdown.png", groups, stacks, "energy (uJ)",
                         f"{title}: energy per layer x phase, by unit ({cmp.freq.table})")),
        str(plot_paired(out / "frequency_vs_spatial.png", names,
                        {"frequency (uJ)": [r["frequency_pj"] / 1e6 for r in rows],
                         "spatial (uJ)": [r["spatial_pj"] / 1e6 for r in rows]},
                        "energy (uJ, log)", f"{title}: frequency vs spatial domain, per layer "
                        f"(cycles: {cmp.spatial_cycles} spatial / {cmp.freq_cycles} frequency)")),
        str(plot_timeline(out / "timeline.png", spans, f"{title}: unit timeline")),
    ]
