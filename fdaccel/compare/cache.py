"""The accuracy cache: what ``fdaccel compare`` measured, for commands that do not train.

``simulate`` and ``sweep`` print accuracies from here, or "not measured".  One JSON file,
``accuracy.json`` in the user cache folder (``$FDACCEL_CACHE_DIR``, else
``$XDG_CACHE_HOME/fdaccel``, else ``~/.cache/fdaccel``), written whole by ``compare``
(:func:`store`).  Entries are keyed by :func:`network_key`: the network's dataset, input
and layers (as given, names aside) and the training settings that are not searched (batch,
momentum, weight scale), plus the domain the network is trained in (``frequency``: the
network as given; ``spatial``: the ReLU CNN of its layer shapes, whatever the activation
kinds say).  Each entry records the comparison's target, grid, seeds and results.

For the sweep engineer: :func:`accuracy_line` (one line for a report) and
:func:`lookup_accuracy` (the entry, or None).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from accel.config import ActLayer, NetworkConfig, as_dict

from ..report import write_json

CACHE_FILE = "accuracy.json"
CACHE_VERSION = 1


def cache_path() -> Path:
    """Where the accuracy cache lives (see the module docstring)."""
    folder = os.environ.get("FDACCEL_CACHE_DIR")
    if folder:
        return Path(folder) / CACHE_FILE
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fdaccel" / CACHE_FILE


def network_key(net: NetworkConfig, domain: str) -> str:
    """The cache key of ``net`` trained in ``domain`` (``frequency`` or ``spatial``)."""
    layers = []
    for layer in net.layers:
        if domain == "spatial" and isinstance(layer, ActLayer):
            layer = dataclasses.replace(layer, kind="pwl")     # the CNN reads every activation as ReLU
        d = as_dict(layer)
        d.pop("name", None)
        layers.append(d)
    t = net.training
    data = {"domain": domain, "dataset": net.dataset, "input": as_dict(net.input), "layers": layers,
            "batch": t.batch, "momentum": t.momentum, "weight_scale": t.weight_scale}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:20]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("entries"), dict):
        return {}
    return data


def store(entries: dict[str, dict[str, Any]], path: Path | None = None) -> Path:
    """Add or replace ``entries`` (key -> record) and write the cache file whole."""
    path = path or cache_path()
    data = _read(path) or {"version": CACHE_VERSION, "entries": {}}
    data["entries"].update(entries)
    return write_json(path, data)


def lookup_accuracy(net: NetworkConfig, domain: str, path: Path | None = None) -> dict[str, Any] | None:
    """The cached record of ``net`` trained in ``domain``, or None if not measured."""
    return _read(path or cache_path()).get("entries", {}).get(network_key(net, domain))


def _describe(rec: dict[str, Any]) -> str:
    acc = rec["accuracy_median"]
    lo, hi = rec.get("accuracy_range") or (acc, acc)
    its = rec.get("iterations_median")
    reach = (f"{its:g} iterations to {rec['target']:g}" if its is not None
             else f"target {rec['target']:g} not reached")
    return f"{acc:.3f} [{lo:.3f}-{hi:.3f}], {reach}, lr {rec['lr']:g}"


def accuracy_line(net: NetworkConfig, path: Path | None = None) -> str:
    """One line for a report: the cached test accuracies (median [range] over seeds) of the
    frequency network and of the spatial CNN of its layer shapes, or "not measured"."""
    parts = []
    for domain, label in (("frequency", "frequency"), ("spatial", "spatial CNN")):
        rec = lookup_accuracy(net, domain, path)
        parts.append(f"{label} {_describe(rec)}" if rec else f"{label} not measured")
    measured = any(lookup_accuracy(net, d, path) for d in ("frequency", "spatial"))
    return "accuracy: " + "; ".join(parts) + ("" if measured else " (fdaccel compare measures them)")
