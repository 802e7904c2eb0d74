"""The points of a sweep: ``--set KEY=V1,V2`` settings over a base accelerator.

``KEY`` is an accelerator key by its dotted path (``mac_array.rows``, ``dram.bytes_per_cycle``,
``fft.count``, ``formats.data_bits``; SRAM buffers by name: ``sram.act.kbytes``); each value
is a YAML scalar (a number, a boolean or a word).  The points are the cartesian product,
each a checked :class:`AcceleratorConfig`.  A key given twice, a value given twice for a
key, a value that is not a scalar, an unknown key and a value the configuration rejects
are ConfigErrors, before any point runs.
"""
from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from typing import Any

from accel.config import AcceleratorConfig, ConfigError, as_dict, load_accelerator, parse_yaml

#: The largest grid a sweep takes (a million points run for days even at thousands an hour).
MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class Point:
    """One point of the grid: the swept values (key -> value, in ``--set`` order) and the
    accelerator they give."""
    chosen: dict[str, Any]
    accel: AcceleratorConfig


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2`` -> (key, [values]); each value must be a YAML scalar, given once."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise ConfigError(f"sweep --set: expected KEY=V1,V2,..., got {text!r}")
    out: list[Any] = []
    for raw in values.split(","):
        where = f"sweep --set {key}"
        if not raw.strip():
            raise ConfigError(f"{where}: empty value in {values!r}")
        value = parse_yaml(raw, repr(raw), where)
        if isinstance(value, (dict, list)) or value is None:
            raise ConfigError(f"{where}: {raw!r} is not a YAML scalar (a number, true/false or a word); "
                              f"values are separated by commas")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{where}: {raw!r} is not a finite number")
        if any(type(v) is type(value) and v == value for v in out):
            raise ConfigError(f"{where}: value {raw.strip()!r} is given twice")
        out.append(value)
    return key, out


def parse_sets(texts: tuple[str, ...] | list[str]) -> list[tuple[str, list[Any]]]:
    """Every ``--set``, parsed; ConfigError if a key is given twice."""
    sets = [parse_set(t) for t in texts]
    keys = [k for k, _ in sets]
    for i, k in enumerate(keys):
        if keys.index(k) != i:
            raise ConfigError(f"sweep --set {k}: given twice (give all its values in one --set {k}=V1,V2)")
    return sets


def _assign(data: dict, key: str, value: Any) -> None:
    """Set a dotted key in an accelerator dict; ``sram.<name>.<field>`` picks a buffer."""
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):       # the sram list, addressed by buffer name
            match = [b for b in node if b.get("name") == part]
            if not match:
                raise ConfigError(f"{'.'.join(parts[:i + 1])}: no buffer named {part!r} "
                                  f"(have {', '.join(b['name'] for b in node)})")
            node = match[0]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise ConfigError(f"{'.'.join(parts[:i + 1])}: unknown key in sweep --set {key}")
    if not isinstance(node, dict) or parts[-1] not in node:
        raise ConfigError(f"{key}: unknown key in sweep --set")
    node[parts[-1]] = value


def points(base: AcceleratorConfig, sets: list[tuple[str, list[Any]]]) -> list[Point]:
    """Every combination of the swept values, each checked into a config (named by its
    values), in ``--set`` order (the last key varies fastest)."""
    size = math.prod(len(values) for _, values in sets)
    if size > MAX_POINTS:
        raise ConfigError(f"sweep --set: {size} points, more than {MAX_POINTS}")
    base_data = as_dict(base)
    out = []
    for combo in itertools.product(*[values for _, values in sets]):
        data = copy.deepcopy(base_data)
        chosen = {}
        for (key, _), value in zip(sets, combo):
            _assign(data, key, value)
            chosen[key] = value
        data["name"] = ",".join(f"{k}={v}" for k, v in chosen.items()) or base.name
        out.append(Point(chosen, load_accelerator(data)))
    return out
