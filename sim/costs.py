"""Energy of a simulated iteration: the counters' actions priced by an energy table.

``sim.stats`` turns counters into (component, action) counts; ``accel.energy`` prices
them.  This module does that per layer x phase and in total, so that the parts add up
to the whole, and derives the figures users compare accelerators by: energy per
iteration and per training image, pJ per complex MAC, and the breakdowns by unit and by
memory level (compute, SRAM, DRAM).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accel.area import Design, static_items
from accel.config import AcceleratorConfig
from accel.energy import EnergyReport, LayeredTable, components_of, price

from .stats import Stats, energy_actions


@dataclass(frozen=True)
class IterationEnergy:
    """One iteration's energy: per layer x phase reports and their sum."""
    table: str
    layers: tuple[tuple[str, str, EnergyReport], ...]     # (layer, phase, report)
    total: EnergyReport
    images: int
    complex_macs: int

    @property
    def total_pj(self) -> float:
        return self.total.total_pj

    def as_dict(self) -> dict[str, Any]:
        total = self.total_pj
        return {
            "table": self.table,
            "tables_used": self.total.as_dict()["tables_used"],
            "total_pj": total,
            "per_image_pj": total / self.images,
            "pj_per_complex_mac": total / self.complex_macs if self.complex_macs else None,
            "pj_per_complex_mac_array_only": (self.total.by("component").get("cmac", 0.0) / self.complex_macs
                                              if self.complex_macs else None),
            "by_component": self.total.by("component"),
            "by_level": self.total.by("level"),
            "items": self.total.as_dict()["items"],
            "layers": [{"name": n, "phase": p, "total_pj": r.total_pj, "by_component": r.by("component"),
                        "by_level": r.by("level")} for n, p, r in self.layers],
        }


def _with_static(report: EnergyReport, accel: AcceleratorConfig, design: Design, table: LayeredTable,
                 cycles: int) -> EnergyReport:
    """``report`` plus the static energy (leakage, clock, DRAM background) of ``cycles``."""
    return EnergyReport(report.table, report.items + tuple(static_items(accel, design, table, cycles)))


def iteration_energy(stats: Stats, accel: AcceleratorConfig, table: LayeredTable,
                     images: int, design: Design = "frequency") -> IterationEnergy:
    """Price every layer x phase row of ``stats``, dynamic actions plus the static energy
    of its cycles (:func:`accel.area.static_items` of ``design``); the total is priced
    from the summed actions and the total cycles, so it equals the sum of the rows."""
    comps = components_of(accel)
    rows = []
    summed: dict[tuple[str, str], int] = {}
    for row in stats.layers:
        actions = energy_actions(row["ops"], row["memory"], row["phase"])
        for k, v in actions.items():
            summed[k] = summed.get(k, 0) + v
        rows.append((row["name"], row["phase"],
                     _with_static(price(actions, comps, table), accel, design, table, row["cycles"])))
    cmacs = stats.ops.get("complex_macs", 0) + stats.ops.get("sinc_macs", 0)
    total = _with_static(price(summed, comps, table), accel, design, table, stats.total_cycles)
    return IterationEnergy(table.name, tuple(rows), total, images, cmacs)


# --------------------------------------------------------------------------- comparison

@dataclass(frozen=True)
class Comparison:
    """The frequency-domain iteration beside the spatial baseline on the same hardware."""
    freq_cycles: int
    spatial_cycles: int
    freq: IterationEnergy
    spatial: IterationEnergy
    freq_stats: Stats
    spatial_stats: Stats

    def ratios(self) -> dict[str, float]:
        """spatial / frequency: above 1, the frequency design wins."""
        return {"cycles": self.spatial_cycles / self.freq_cycles,
                "energy": self.spatial.total_pj / self.freq.total_pj}

    def per_layer(self) -> list[dict[str, Any]]:
        """Cycles and energy per layer (all phases), frequency vs spatial."""
        out: dict[str, dict[str, Any]] = {}

        def row(name: str) -> dict[str, Any]:
            return out.setdefault(name, {"layer": name, "frequency_pj": 0.0, "spatial_pj": 0.0,
                                         "frequency_cycles": 0, "spatial_cycles": 0})

        for energy, key in ((self.freq, "frequency"), (self.spatial, "spatial")):
            for name, _, rep in energy.layers:
                row(name)[f"{key}_pj"] += rep.total_pj
        for stats, key in ((self.freq_stats, "frequency"), (self.spatial_stats, "spatial")):
            for r in stats.layers:
                row(r["name"])[f"{key}_cycles"] += r["cycles"]
        return list(out.values())

    def as_dict(self) -> dict[str, Any]:
        return {"spatial_cycles": self.spatial_cycles, "frequency_cycles": self.freq_cycles,
                "ratios_spatial_over_frequency": self.ratios(), "spatial_energy": self.spatial.as_dict(),
                "spatial_units": self.spatial_stats.units, "spatial_memory": self.spatial_stats.memory,
                "spatial_ops": self.spatial_stats.ops}


def compare(stats: Stats, accel: AcceleratorConfig, net: Any, batch: int, table: LayeredTable) -> Comparison:
    """Run the spatial baseline of ``net`` on ``accel`` and price both iterations."""
    from .baseline import baseline_accelerator, build_baseline
    from .engine import execute
    from .stats import collect

    base = baseline_accelerator(accel)
    run = execute(build_baseline(accel, net, batch).program, base)
    spatial = collect(run, [s.name for s in accel.sram])
    return Comparison(stats.total_cycles, spatial.total_cycles, iteration_energy(stats, accel, table, batch),
                      iteration_energy(spatial, base, table, batch, "spatial"), stats, spatial)


def energy_rows(energy: IterationEnergy) -> list[list[Any]]:
    """CSV rows: layer, phase, component, level, pJ."""
    rows = []
    for name, phase, rep in energy.layers:
        for item in rep.items:
            rows.append([name, phase, item.component, item.action, item.level, item.count, item.pj_each, item.pj])
    return rows


ENERGY_CSV_HEADERS = ["layer", "phase", "component", "action", "level", "count", "pj_each", "pj"]
