"""A comparison of one network: every design trained to the target and priced per iteration.

:func:`compare_network` returns a plain dict (the JSON record of ``fdaccel compare`` and
``benchmarks/compare.py``):

* ``designs``: per design (``frequency-pwl``, ``frequency-spatial``, ``frequency-linear``,
  ``spatial-cnn``): accuracy (median and range over seeds at the chosen learning rate,
  iterations to target, every run), the cost of one iteration on its accelerator, time and
  energy to the target (iterations x the cycle model's cycles and energy per iteration);
  frequency designs also carry the fixed-point check (``FixedNet`` at the chosen rate,
  first seed);
* ``spatial_equal_area``: the spatial CNN on the systolic array that fills the frequency
  design's area (same accuracy as ``spatial-cnn``, other costs);
* ``ratios``: spatial / frequency per kind, at equal multipliers and at equal area;
* ``mapping``, ``sweep``, ``zigzag``: None, room for the mapping search, sweeps and
  cross-checks still to come (issue 12, items 2 and 4).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from threadpoolctl import threadpool_limits

from accel.config import AcceleratorConfig, ConfigError, NetworkConfig, as_dict
from accel.data import load_dataset
from accel.energy import LayeredTable

from ..training import Trainable
from .accuracy import Run, Summary, sweep, train_to_target
from .cache import network_key
from .costs import IterationCost, area_budget, equal_area_input, frequency_cost, spatial_cost
from .designs import FREQUENCY_KINDS, Design, Kind, designs, make_model, network_of, with_training

DEFAULT_TARGET = 0.95
DEFAULT_SEEDS = (0, 1, 2, 3)
DEFAULT_LRS = (0.005, 0.01, 0.02, 0.05)
DEFAULT_MAX_EPOCHS = 20
DEFAULT_EVAL_EVERY = 10
NO_DATA = "accuracy not measured (no data)"


def check_target(target: float) -> float:
    """A target test accuracy in (0, 1]; anything else is a ConfigError."""
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target) \
            or not 0 < target <= 1:
        raise ConfigError(f"compare --target: must be a test accuracy in (0, 1], got {target}")
    return float(target)


@dataclass(frozen=True)
class Settings:
    """What a comparison trains: target, seeds, learning-rate grid, budget (epochs),
    evaluation interval, batch (None: the network's), activation kinds, the fixed-point
    check, the data folder."""
    target: float = DEFAULT_TARGET
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    lrs: tuple[float, ...] = DEFAULT_LRS
    max_epochs: int = DEFAULT_MAX_EPOCHS
    eval_every: int = DEFAULT_EVAL_EVERY
    batch: int | None = None
    kinds: tuple[Kind, ...] = FREQUENCY_KINDS
    fixed_check: bool = True
    data_dir: str | None = None

    def check(self) -> Settings:
        check_target(self.target)
        if not self.seeds or any(s < 0 for s in self.seeds):
            raise ConfigError(f"compare --seeds: need one or more seeds >= 0, got {self.seeds}")
        if not self.lrs or any(not (math.isfinite(x) and x > 0) for x in self.lrs):
            raise ConfigError(f"compare --lrs: need one or more positive learning rates, got {self.lrs}")
        for key, v in (("epochs", self.max_epochs), ("eval-every", self.eval_every)):
            if v < 1:
                raise ConfigError(f"compare --{key}: must be a positive integer, got {v}")
        if self.batch is not None and self.batch < 1:
            raise ConfigError(f"compare --batch: must be a positive integer, got {self.batch}")
        bad = [k for k in self.kinds if k not in FREQUENCY_KINDS]
        if not self.kinds or bad:
            raise ConfigError(f"compare --kinds: choose from {', '.join(FREQUENCY_KINDS)}, got {', '.join(self.kinds)}")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "seeds": list(self.seeds), "lr_grid": list(self.lrs),
                "max_epochs": self.max_epochs, "eval_every": self.eval_every, "kinds": list(self.kinds),
                "fixed_check": self.fixed_check, "lr_rule": "most seeds at target, then fewest median iterations, "
                                                             "then highest median accuracy"}


def measurable(net: NetworkConfig, data_dir: str | None) -> bool:
    """Whether the network's data are here: digits is bundled; mnist and cifar10 need ``--data``."""
    return net.dataset == "digits" or (net.dataset in ("mnist", "cifar10") and data_dir is not None)


def _to_target(acc: dict[str, Any] | None, cost: IterationCost) -> dict[str, Any]:
    its = acc.get("iterations_median") if acc else None
    if its is None:
        return {"reached": False, "iterations": None, "time_s": None, "energy_pj": None, "edp_js": None}
    time_s, energy = its * cost.time_s, its * cost.energy_pj
    return {"reached": True, "iterations": its, "time_s": time_s, "energy_pj": energy,
            "edp_js": energy * 1e-12 * time_s}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b is not None and b > 0 else None


def _ratios(freq: dict[str, Any], spatial: dict[str, Any]) -> dict[str, Any]:
    """spatial / frequency (above 1 the frequency design wins), per iteration and to target."""
    f, s = freq["cost"], spatial["cost"]
    ft, st = freq["to_target"], spatial["to_target"]
    return {"cycles_per_iteration": s["cycles"] / f["cycles"], "energy_per_iteration": s["energy_pj"] / f["energy_pj"],
            "edp_per_iteration": s["edp_js"] / f["edp_js"], "area": s["area_mm2"] / f["area_mm2"],
            "time_to_target": _ratio(st["time_s"], ft["time_s"]),
            "energy_to_target": _ratio(st["energy_pj"], ft["energy_pj"]),
            "edp_to_target": _ratio(st["edp_js"], ft["edp_js"]),
            "accuracy_frequency": freq["accuracy"]["accuracy_median"] if freq["accuracy"] else None,
            "accuracy_spatial": spatial["accuracy"]["accuracy_median"] if spatial["accuracy"] else None}


def _accuracy(chosen: Summary, grid: list[Summary], target: float) -> dict[str, Any]:
    return {**chosen.as_dict(), "target": target, "grid": [s.as_dict() | {"runs": None} for s in grid]}


def compare_network(accel: AcceleratorConfig, net: NetworkConfig, table: LayeredTable, settings: Settings,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train and price every design of ``net`` (see the module docstring)."""
    settings = settings.check()
    batch = settings.batch or net.training.batch
    cnn = Design("spatial-cnn", "spatial")
    all_designs = designs(settings.kinds)
    measured = measurable(net, settings.data_dir)
    # costs first: every configuration problem surfaces before any training
    records: dict[str, dict[str, Any]] = {}
    for d in all_designs:
        dnet = network_of(d, net)
        cost = (frequency_cost(accel, dnet, batch, table, d.key, settings.data_dir) if d.domain == "frequency"
                else spatial_cost(accel, dnet, batch, table, d.key))
        records[d.key] = {"label": d.label, "domain": d.domain, "kind": d.kind,
                          "network_key": network_key(dnet, d.domain), "cost": cost.as_dict(), "accuracy": None,
                          "fixed_check": None, "_cost": cost}
    budget = area_budget(accel, table)
    eq_in = equal_area_input(accel, table, budget)
    eq_cost = spatial_cost(eq_in, network_of(cnn, net), batch, table, "spatial-cnn-equal-area")
    log(f"{net.name}: costs per iteration done (equal-area systolic array {eq_cost.mac_array[0]} x "
        f"{eq_cost.mac_array[1]} for {budget:.3f} mm^2)")
    if measured:
        data = load_dataset(net, settings.data_dir, seed=0)
        epoch_iters = -(-len(data.y_train) // batch)
        max_iters = settings.max_epochs * epoch_iters
        with threadpool_limits(limits=1, user_api="blas"):
            for d in all_designs:
                dnet = network_of(d, net)

                def make(lr: float, seed: int, d: Design = d, dnet: NetworkConfig = dnet) -> Trainable:
                    return make_model(d, with_training(dnet, lr, seed, batch))

                swept = sweep(make, data, batch, settings.lrs, settings.seeds, settings.target, max_iters,
                              settings.eval_every)
                chosen = swept.chosen
                records[d.key]["accuracy"] = _accuracy(chosen, swept.summaries, settings.target)
                acc = records[d.key]["accuracy"]
                log(f"  {d.label:18s} lr {chosen.lr:g}: accuracy {acc['accuracy_median']:.4f} "
                    f"[{acc['accuracy_range'][0]:.4f}-{acc['accuracy_range'][1]:.4f}], "
                    f"{chosen.reached}/{len(chosen.runs)} seeds at {settings.target:g}, median iterations "
                    f"{acc['iterations_median']}")
                if settings.fixed_check and d.domain == "frequency":
                    seed = settings.seeds[0]
                    fnet = with_training(dnet, chosen.lr, seed, batch)
                    run: Run = train_to_target(make_model(d, fnet, accel, fixed=True), data, batch, seed, chosen.lr,
                                               settings.target, max_iters, settings.eval_every)
                    golden = next(r for r in chosen.runs if r.seed == seed)
                    records[d.key]["fixed_check"] = {
                        "model": "FixedNet (accel formats)", "seed": seed, "lr": chosen.lr,
                        "iterations_to_target": run.iterations, "accuracy": run.accuracy, "diverged": run.diverged,
                        "golden_iterations_to_target": golden.iterations, "golden_accuracy": golden.accuracy}
                    log(f"    fixed point (seed {seed}): accuracy {run.accuracy:.4f}, iterations to target "
                        f"{run.iterations} (golden {golden.iterations})")
    for rec in records.values():
        rec["to_target"] = _to_target(rec["accuracy"], rec.pop("_cost"))
    spatial_eq_area = {"label": "spatial CNN (equal area)", "domain": "spatial", "kind": None,
                       "cost": eq_cost.as_dict(), "accuracy": records["spatial-cnn"]["accuracy"],
                       "to_target": _to_target(records["spatial-cnn"]["accuracy"], eq_cost)}
    ratios = {}
    for d in all_designs:
        if d.domain == "frequency":
            ratios[d.key] = {"equal_multipliers": _ratios(records[d.key], records["spatial-cnn"]),
                             "equal_area": _ratios(records[d.key], spatial_eq_area)}
    return {"network": net.name, "dataset": net.dataset, "accuracy_measured": measured,
            "accuracy_note": None if measured else NO_DATA, "batch": batch, "settings": settings.as_dict(),
            "accelerator": as_dict(accel), "table": table.name, "dram_technology": accel.dram.technology,
            "area_budget_mm2": budget, "equal_area_mac_array": list(eq_cost.mac_array),
            "designs": records, "spatial_equal_area": spatial_eq_area, "ratios": ratios,
            "mapping": None, "sweep": None, "zigzag": None}


def cache_entries(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The accuracy-cache records of a comparison's measured designs (key -> record)."""
    out: dict[str, dict[str, Any]] = {}
    if not result["accuracy_measured"]:
        return out
    for rec in result["designs"].values():
        acc = rec["accuracy"]
        out[rec["network_key"]] = {
            "network": result["network"], "design": rec["label"], "target": acc["target"],
            "seeds": acc["seeds"], "lr": acc["lr"], "lr_grid": result["settings"]["lr_grid"],
            "accuracy_median": acc["accuracy_median"], "accuracy_range": acc["accuracy_range"],
            "iterations_median": acc["iterations_median"], "reached": acc["reached"],
            "max_epochs": result["settings"]["max_epochs"], "eval_every": result["settings"]["eval_every"]}
    return out
