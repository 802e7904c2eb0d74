"""Cost of one training iteration of each design on the cycle model: cycles, time, energy
(dynamic + static), area, energy-delay product.

* the frequency design: :func:`sim.run.simulate` on the accelerator, priced by
  :func:`sim.costs.iteration_energy`;
* the spatial design at **equal multipliers**: :func:`sim.baseline.build_baseline` on the
  same accelerator (a real systolic array of rows x 3 cols, same buffers, DRAM, table);
* the spatial design at **equal area**: the systolic array that fills the frequency
  design's total area (array, SRAM, FFT engines, crop unit, PWL lanes) once the spatial
  design's own buffers, lanes and control are placed (:func:`equal_area_input`).

``build_baseline(accel, net, batch)`` builds its program on
``baseline_accelerator(accel)``, which triples ``mac_array.cols`` and keeps everything
else; so the equal-area baseline is built from an input accelerator whose ``cols`` is a
third of the systolic array's columns, and the array's columns are a multiple of 3.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from accel.area import Design as AreaDesign
from accel.area import area_of, real_mac_cell_um2, static_power
from accel.config import AcceleratorConfig, NetworkConfig
from accel.energy import LayeredTable
from sim.baseline import baseline_accelerator, build_baseline
from sim.costs import IterationEnergy, iteration_energy
from sim.engine import execute
from sim.run import simulate
from sim.stats import collect


@dataclass(frozen=True)
class IterationCost:
    """One design's training iteration on one accelerator."""
    design: str
    accelerator: str
    mac_array: tuple[int, int]
    batch: int
    cycles: int
    clock_mhz: float
    energy: IterationEnergy
    area_mm2: float
    area_by_block_mm2: dict[str, float]

    @property
    def time_s(self) -> float:
        return self.cycles / (self.clock_mhz * 1e6)

    @property
    def energy_pj(self) -> float:
        return self.energy.total_pj

    @property
    def static_pj(self) -> float:
        levels = self.energy.total.by("level")
        return levels.get("static", 0.0) + levels.get("clock", 0.0)

    @property
    def edp_js(self) -> float:
        """Energy-delay product of one iteration, J s."""
        return self.energy_pj * 1e-12 * self.time_s

    def as_dict(self) -> dict[str, Any]:
        return {"design": self.design, "accelerator": self.accelerator, "mac_array": list(self.mac_array),
                "batch": self.batch, "cycles": self.cycles, "time_s": self.time_s, "energy_pj": self.energy_pj,
                "energy_per_image_pj": self.energy_pj / self.batch, "static_pj": self.static_pj,
                "by_level_pj": self.energy.total.by("level"), "edp_js": self.edp_js,
                "area_mm2": self.area_mm2, "area_by_block_mm2": self.area_by_block_mm2,
                "table": self.energy.table}


def _cost(name: str, accel: AcceleratorConfig, design: AreaDesign, energy: IterationEnergy, cycles: int,
          batch: int, table: LayeredTable) -> IterationCost:
    area = area_of(accel, design, table)
    return IterationCost(name, accel.name, (accel.mac_array.rows, accel.mac_array.cols), batch, cycles,
                         accel.clock_mhz, energy, area.total_mm2, area.by_block())


def frequency_cost(accel: AcceleratorConfig, net: NetworkConfig, batch: int, table: LayeredTable,
                   name: str = "frequency", data_dir: str | None = None) -> IterationCost:
    """One simulated iteration of the frequency network ``net`` on ``accel``."""
    sim = simulate(accel, net, batch, data_dir=data_dir)
    energy = iteration_energy(sim.stats, accel, table, batch, "frequency")
    return _cost(name, accel, "frequency", energy, sim.stats.total_cycles, batch, table)


def spatial_cost(accel_in: AcceleratorConfig, net: NetworkConfig, batch: int, table: LayeredTable,
                 name: str = "spatial") -> IterationCost:
    """One iteration of the spatial baseline built from ``accel_in`` (its array is
    ``baseline_accelerator(accel_in)``'s: rows x 3 cols real MAC cells)."""
    base = baseline_accelerator(accel_in)
    run = execute(build_baseline(accel_in, net, batch).program, base)
    stats = collect(run, [s.name for s in accel_in.sram])
    energy = iteration_energy(stats, base, table, batch, "spatial")
    return _cost(name, base, "spatial", energy, stats.total_cycles, batch, table)


def equal_area_input(accel: AcceleratorConfig, table: LayeredTable, budget_mm2: float) -> AcceleratorConfig:
    """The input accelerator whose spatial baseline fills ``budget_mm2``: its systolic array
    has as many real MAC cells as fit once the spatial design's buffers, lanes and control
    are placed, with rows x (3 c) cells, rows and c at most 256, shaped like the
    equal-multiplier baseline's array (aspect rows : 3 cols) among the shapes within 3 %
    of the most cells."""
    base = baseline_accelerator(accel)
    fixed_mm2 = area_of(base, "spatial", table).total_mm2 - area_of(base, "spatial", table).by_block()["cmac"]
    cell_mm2 = real_mac_cell_um2(base, table) * 1e-6
    cells = max(3, int((budget_mm2 - fixed_mm2) / cell_mm2))
    target_aspect = math.log(base.mac_array.rows / base.mac_array.cols)
    shapes = []
    for rows in range(1, 257):
        c = min(256, cells // (3 * rows))
        if c >= 1:
            shapes.append((rows, c))
    most = max(r * 3 * c for r, c in shapes)
    rows, c = min((s for s in shapes if s[0] * 3 * s[1] >= 0.97 * most),
                  key=lambda s: (abs(math.log(s[0] / (3 * s[1])) - target_aspect), -s[0] * s[1]))
    mac = dataclasses.replace(accel.mac_array, rows=rows, cols=c)
    return dataclasses.replace(accel, name=f"{accel.name}-equal-area", mac_array=mac)


def area_budget(accel: AcceleratorConfig, table: LayeredTable) -> float:
    """The frequency design's total area, mm^2."""
    return area_of(accel, "frequency", table).total_mm2


def static_summary(accel: AcceleratorConfig, design: AreaDesign, table: LayeredTable) -> dict[str, Any]:
    """Static power of a design (leakage and DRAM background in mW, clock in pJ per cycle)."""
    return static_power(accel, design, table).as_dict()
