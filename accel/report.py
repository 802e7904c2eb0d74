"""Reports: text tables, and files written whole or not at all."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename: whole or not at all."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    """Serialize first (a failure writes nothing), then write atomically."""
    return write_atomic(path, json.dumps(obj, indent=2, sort_keys=False, default=_jsonable) + "\n")


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], floatfmt: str = ".4g") -> str:
    """A plain aligned text table; numbers right-aligned."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [all(_is_num(r[i]) for r in body) if body else False for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in body]
    return "\n".join(out)


def _is_num(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- CSV and plots

def write_csv(path: str | Path, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """A CSV file, built in memory first, then written atomically."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return write_atomic(path, buf.getvalue())


def _save_png(fig: Any, path: str | Path) -> Path:
    """Render a matplotlib figure to PNG bytes in memory, then write them atomically."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return write_atomic(path, buf.getvalue())


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def plot_stacked(path: str | Path, groups: Sequence[str], stacks: dict[str, Sequence[float]],
                 ylabel: str, title: str) -> Path:
    """Stacked bars: one bar per group (e.g. layer/phase), one colour per stack key (unit)."""
    import numpy as np

    fig, ax = _figure(max(6.0, 0.45 * len(groups) + 2), 4.5)
    bottom = np.zeros(len(groups))
    for key, values in stacks.items():
        values = np.asarray(values, dtype=float)
        ax.bar(range(len(groups)), values, bottom=bottom, label=key)
        bottom += values
    ax.set_xticks(range(len(groups)), groups, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    return _save_png(fig, path)


def plot_paired(path: str | Path, groups: Sequence[str], series: dict[str, Sequence[float]],
                ylabel: str, title: str, log: bool = True) -> Path:
    """Side-by-side bars per group, one per series (e.g. frequency vs spatial domain)."""
    import numpy as np

    fig, ax = _figure(max(6.0, 0.6 * len(groups) + 2), 4.5)
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
    return _save_png(fig, path)


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
    fig, ax = _figure(10.0, 0.5 * len(units) + 1.5)
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
    return _save_png(fig, path)
