"""``fdaccel sweep``: design-space exploration over accelerator parameters.

``--set KEY=V1,V2,...`` (repeatable) names an accelerator key by its dotted path
(``mac_array.rows``, ``dram.bytes_per_cycle``, ``fft.count``, ``formats.data_bits``; SRAM
buffers by name: ``sram.act.kbytes``) and the values to try; the sweep runs the cartesian
product.  Every point is built and checked first, so a bad key or value stops the sweep
with a ConfigError before any simulation.  Each point is one simulated training
iteration (values included) priced with the energy table and compared with the spatial
baseline on the same hardware.
"""
from __future__ import annotations

import copy
import itertools
import sys
from typing import Any

import yaml

from accel.config import AcceleratorConfig, ConfigError, as_dict, load_accelerator
from accel.energy import load_table
from accel.network import load_network, require_hardware_support
from sim.costs import compare
from sim.run import simulate
from sim.schedule import build_schedule

from ..options import SweepOptions
from ..report import table, write_csv, write_json


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2`` -> (key, [values]); values parse as YAML scalars (numbers, booleans)."""
    key, sep, values = text.partition("=")
    if not sep or not key or not values:
        raise ConfigError(f"sweep --set: expected KEY=V1,V2,..., got {text!r}")
    return key.strip(), [yaml.safe_load(v) for v in values.split(",")]


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


def points(base: AcceleratorConfig, sets: list[tuple[str, list[Any]]]) -> list[tuple[dict, AcceleratorConfig]]:
    """Every combination of the swept values, each checked into a config."""
    out = []
    for combo in itertools.product(*[values for _, values in sets]):
        data = copy.deepcopy(as_dict(base))
        chosen = {}
        for (key, _), value in zip(sets, combo):
            _assign(data, key, value)
            chosen[key] = value
        data["name"] = ",".join(f"{k}={v}" for k, v in chosen.items()) or base.name
        out.append((chosen, load_accelerator(data)))
    return out


def run_sweep(opts: SweepOptions) -> int:
    """The body of ``fdaccel sweep``."""
    base = load_accelerator(opts.accel)
    net = load_network(opts.network)
    require_hardware_support(net, "the cycle model")
    batch = opts.batch if opts.batch is not None else net.training.batch
    sets = [parse_set(s) for s in opts.sets]
    grid = points(base, sets)
    for _, accel in grid:                 # every point runs, or none does
        build_schedule(accel, net, batch)
        load_table(opts.energy, accel)
    rows = []
    from tqdm import tqdm

    for chosen, accel in tqdm(grid, desc="sweep", unit="point", file=sys.stderr, leave=False, disable=None):
        sim = simulate(accel, net, batch, data_dir=opts.data)
        cmp = compare(sim.stats, accel, net, batch, load_table(opts.energy, accel))
        e = cmp.freq.as_dict()
        st = sim.stats
        rows.append({**chosen, "cycles": st.total_cycles, "time_us": st.total_cycles / accel.clock_mhz,
                     "energy_uj": e["total_pj"] / 1e6, "uj_per_image": e["per_image_pj"] / 1e6,
                     "pj_per_cmac": e["pj_per_complex_mac"],
                     "mac_util": st.units["mac"]["busy"] / st.total_cycles,
                     "dram_bytes": st.memory["dram"]["read_bytes"] + st.memory["dram"]["write_bytes"],
                     "spatial_over_freq_cycles": cmp.ratios()["cycles"],
                     "spatial_over_freq_energy": cmp.ratios()["energy"], "table": e["table"]})
    keys = list(rows[0]) if rows else []
    print(f"{net.name}, batch {batch}: {len(rows)} points")
    print(table(keys, [[round(r[k], 4) if isinstance(r[k], float) else r[k] for k in keys] for r in rows]))
    if opts.json:
        write_json(opts.json, {"network": net.name, "batch": batch, "base_accelerator": as_dict(base),
                               "swept": [k for k, _ in sets], "points": rows})
    if opts.csv:
        write_csv(opts.csv, keys, [[r[k] for k in keys] for r in rows])
    return 0
