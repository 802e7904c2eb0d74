"""Area and static power: the accelerator as a netlist of priced primitives.

Each hardware block of a design is described by what it is built of (:class:`Block`):
adders and multipliers of given widths, register bits and SRAM banks, as the energy model
(:mod:`accel.energy`) decomposes its actions.  A table (:class:`accel.energy.PrimitiveTable`)
prices them:

* **area** (um^2): adders and multipliers by width, register bits, SRAM banks by size;
* **leakage** (mW): each primitive's area times its leakage density, SRAM banks per bank;
* **clock** (pJ per cycle): every register bit of the block, clocked every cycle;
* **DRAM background** (mW): the devices that give the accelerator's DRAM bandwidth.

Static energy is power times time, so a design that runs longer pays for it:
``pJ per cycle = mW x 1000 / clock_MHz``.

Two designs share the accelerator's buffers, DRAM and control (:data:`DESIGNS`):

* ``frequency``: rows x cols complex MAC cells, the 2-D FFT engines, the crop unit with its
  buffer, the PWL lanes (which also run the SGD update);
* ``spatial``: rows x cols real MAC cells (the baseline accelerator of
  :func:`sim.baseline.baseline_accelerator`, 3x the columns), and activation lanes that
  do ReLU, average pooling and the update (a multiply-add, a compare, an accumulate).

An Accelergy ART (``energy.area_file``) replaces the area of the blocks it names (per
instance, um^2); leakage and clock still come from the netlist.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from accel.config import AcceleratorConfig, ConfigError
from accel.energy import EnergyItem, LayeredTable, PrimitiveTable, dram_setup

Design = Literal["frequency", "spatial"]
DESIGNS: tuple[Design, ...] = ("frequency", "spatial")


@dataclass(frozen=True)
class Block:
    """``count`` instances of one hardware block, each built of ``adders`` (bits, how many),
    ``mults`` (bits a, bits b, how many), ``register_bits`` and ``sram_banks`` (KB per bank,
    how many banks)."""
    name: str
    count: int
    adders: tuple[tuple[float, int], ...] = ()
    mults: tuple[tuple[float, float, int], ...] = ()
    register_bits: float = 0.0
    sram_banks: tuple[tuple[float, int], ...] = ()
    what: str = ""


def _log2(n: int) -> int:
    return max(1, int(round(math.log2(n))))


def blocks_of(accel: AcceleratorConfig, design: Design) -> list[Block]:
    """The blocks of ``design`` on ``accel`` (see the module docstring).  For ``spatial``,
    ``accel`` is the baseline accelerator (its ``mac_array`` is the real systolic array)."""
    f = accel.formats
    d, w, t = f.data_bits, f.weight_bits, f.twiddle_bits
    acc = accel.mac_array.acc_bits
    cells = accel.mac_array.rows * accel.mac_array.cols
    blocks: list[Block] = []
    lanes = accel.activation.lanes
    if design == "frequency":
        blocks.append(Block("cmac", cells, adders=((max(d, w) + 1, 3), (d + w + 1, 2), (acc, 2)),
                            mults=((d + 1, w + 1, 3),), register_bits=2 * d + 2 * w + 2 * acc,
                            what="complex MAC cell: 3 multipliers, 5 adders, 2 accumulators, operand registers"))
        n = accel.fft.max_points
        stages = _log2(n)
        twiddle_stages = stages - 1 if accel.fft.radix == 2 else math.ceil(stages / 2) - 1
        # one 2-D engine: a row and a column SDF pipeline, a transpose memory of n (n/2+1) words
        transpose_kb = n * (n // 2 + 1) * 2 * d / 8 / 1024
        rom_kb = n * 2 * t / 8 / 1024
        blocks.append(Block("fft", accel.fft.count,
                            adders=((d + 1, 2 * 4 * stages), (d + t, 2 * 5 * twiddle_stages)),
                            mults=((d + 1, t + 1, 2 * 3 * twiddle_stages),),
                            register_bits=2 * (n - 1) * 2 * d,
                            sram_banks=((transpose_kb, 1), (rom_kb, 2)),
                            what=f"2-D FFT engine: 2 radix-2^{2 if accel.fft.radix == 4 else 1} SDF pipelines of "
                                 f"{n} points, transpose memory, twiddle ROMs"))
        blocks.append(Block("crop", 1, adders=((d + 1, 2), (16, 2)), register_bits=4 * d,
                            sram_banks=((accel.crop_buffer.words * 2 * d / 8 / 1024, 1),),
                            what="crop/pad unit: fold adders, address counters, crop buffer"))
        s = accel.activation.segments
        blocks.append(Block("pwl", lanes, adders=((d, s), (d + 16, 1)), mults=((d, 16, 1),),
                            register_bits=s * (d + 32) + 2 * d,
                            what="PWL lane (also the SGD update): segment comparators, slope multiplier, "
                                 "intercept adder, segment table"))
    else:
        blocks.append(Block("cmac", cells, adders=((acc, 1),), mults=((d, w, 1),), register_bits=d + w + acc,
                            what="real MAC cell of the systolic array: multiplier, accumulator, operand registers"))
        blocks.append(Block("pwl", lanes, adders=((d + 16, 1), (d, 1), (d + 8, 1)), mults=((d, 16, 1),),
                            register_bits=2 * d + 32,
                            what="activation lane: ReLU compare, pooling accumulator, update multiply-add"))
    for sram in accel.sram:
        blocks.append(Block(f"{sram.name}_sram", 1, sram_banks=((sram.kbytes / sram.banks, sram.banks),),
                            what=f"{sram.kbytes:g} KB in {sram.banks} banks"))
    return blocks


def _control(table: PrimitiveTable) -> Block:
    return Block("control", 1, register_bits=table.control_register_bits,
                 what="sequencer: unit queues and region scoreboard")


# --------------------------------------------------------------------------- Accelergy ART

@dataclass(frozen=True)
class ArtTable:
    """An Accelergy area reference table: component (last name segment) -> um^2 per instance."""
    name: str
    areas: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | Path) -> ArtTable:
        try:
            data = yaml.safe_load(Path(path).read_text())
        except OSError as exc:
            raise ConfigError(f"energy.area_file: cannot read {str(path)!r}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"energy.area_file: malformed YAML in {str(path)!r}: "
                              f"{getattr(exc, 'problem', exc)}") from None
        art = data.get("ART") if isinstance(data, dict) else None
        if not isinstance(art, dict) or not isinstance(art.get("tables"), list):
            raise ConfigError(f"{path}.ART.tables: an Accelergy ART needs a list of tables")
        areas = {}
        for i, entry in enumerate(art["tables"]):
            where = f"{path}.ART.tables[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ConfigError(f"{where}.name: must be a string")
            a = entry.get("area")
            if isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a) or a < 0:
                raise ConfigError(f"{where}.area: must be a non-negative number (um^2), got {a!r}")
            areas[re.sub(r"\[[^\]]*\]", "", entry["name"]).split(".")[-1].lower()] = float(a)
        return cls(f"ART:{Path(path).name}", areas)


# --------------------------------------------------------------------------- area

@dataclass(frozen=True)
class AreaItem:
    """One block's area: ``count`` instances of ``um2_each``, from ``table``."""
    block: str
    count: int
    um2_each: float
    logic_um2_each: float
    sram_um2_each: float
    table: str
    what: str

    @property
    def mm2(self) -> float:
        return self.count * self.um2_each * 1e-6


@dataclass(frozen=True)
class AreaReport:
    """Area of one design, block by block; ``total_mm2`` is their sum."""
    design: str
    items: tuple[AreaItem, ...]

    @property
    def total_mm2(self) -> float:
        return sum(i.mm2 for i in self.items)

    def by_block(self) -> dict[str, float]:
        return {i.block: i.mm2 for i in self.items}

    def as_dict(self) -> dict[str, Any]:
        return {"design": self.design, "total_mm2": self.total_mm2, "by_block_mm2": self.by_block(),
                "tables_used": sorted({i.table for i in self.items}),
                "blocks": [{"block": i.block, "count": i.count, "um2_each": i.um2_each, "mm2": i.mm2,
                            "logic_um2_each": i.logic_um2_each, "sram_um2_each": i.sram_um2_each,
                            "table": i.table, "what": i.what} for i in self.items]}


def _logic_um2(b: Block, t: PrimitiveTable) -> float:
    return (sum(n * t.adder_area(bits) for bits, n in b.adders)
            + sum(n * t.mult_area(x, y) for x, y, n in b.mults) + b.register_bits * t.area_register_bit)


def _sram_um2(b: Block, t: PrimitiveTable) -> float:
    return sum(n * t.sram_bank_area(kb) for kb, n in b.sram_banks)


def all_blocks(accel: AcceleratorConfig, design: Design, table: PrimitiveTable) -> list[Block]:
    """:func:`blocks_of` plus the control block."""
    return blocks_of(accel, design) + [_control(table)]


def area_of(accel: AcceleratorConfig, design: Design, table: LayeredTable) -> AreaReport:
    """The area of ``design`` on ``accel`` (blocks priced by the table's primitives, or by
    the accelerator's ART where it names a block)."""
    t = table.primitive
    art = ArtTable.from_file(accel.energy.area_file) if accel.energy.area_file else None
    items = []
    for b in all_blocks(accel, design, t):
        logic, sram = _logic_um2(b, t), _sram_um2(b, t)
        if art is not None and b.name in art.areas:
            items.append(AreaItem(b.name, b.count, art.areas[b.name], art.areas[b.name], 0.0, art.name, b.what))
        else:
            items.append(AreaItem(b.name, b.count, logic + sram, logic, sram, t.name, b.what))
    return AreaReport(design, tuple(items))


def real_mac_cell_um2(accel: AcceleratorConfig, table: LayeredTable) -> float:
    """Area of one real MAC cell of the spatial design (um^2)."""
    cell = next(b for b in blocks_of(accel, "spatial") if b.name == "cmac")
    return _logic_um2(cell, table.primitive)


# --------------------------------------------------------------------------- static power

def _leakage_mw(b: Block, t: PrimitiveTable) -> float:
    nw = (sum(n * t.adder_area(bits) for bits, n in b.adders) * t.leak_add
          + sum(n * t.mult_area(x, y) for x, y, n in b.mults) * t.leak_mult
          + b.register_bits * t.area_register_bit * t.leak_register)
    return nw * 1e-6 + sum(n * t.sram_bank_leakage_mw(kb) for kb, n in b.sram_banks)


@dataclass(frozen=True)
class StaticPower:
    """Static power of a design: leakage per block (mW), clock per block (pJ per cycle), DRAM
    background (mW)."""
    leakage_mw: dict[str, float]
    clock_pj_per_cycle: dict[str, float]
    dram_background_mw: float
    dram_devices: int
    clock_mhz: float

    def pj_per_cycle(self) -> float:
        """Everything static, per cycle."""
        mw = sum(self.leakage_mw.values()) + self.dram_background_mw
        return mw * 1e3 / self.clock_mhz + sum(self.clock_pj_per_cycle.values())

    def as_dict(self) -> dict[str, Any]:
        return {"leakage_mw": self.leakage_mw, "clock_pj_per_cycle": self.clock_pj_per_cycle,
                "dram_background_mw": self.dram_background_mw, "dram_devices": self.dram_devices,
                "total_pj_per_cycle": self.pj_per_cycle()}


def static_power(accel: AcceleratorConfig, design: Design, table: LayeredTable) -> StaticPower:
    """Leakage and clock power of every block of ``design``, and the DRAM's background."""
    t = table.primitive
    blocks = all_blocks(accel, design, t)
    dram = dram_setup(accel)
    return StaticPower({b.name: b.count * _leakage_mw(b, t) for b in blocks},
                       {b.name: b.count * b.register_bits * t.clock_fj_per_bit * 1e-3 for b in blocks},
                       dram.background_mw, dram.devices, accel.clock_mhz)


def static_items(accel: AcceleratorConfig, design: Design, table: LayeredTable, cycles: int) -> list[EnergyItem]:
    """Static energy of ``cycles`` cycles as energy items (count = cycles, pJ per cycle):
    ``leak`` (level ``static``) and ``clock`` (level ``clock``) per block, and the DRAM's
    ``background`` (level ``static``)."""
    p = static_power(accel, design, table)
    name = table.primitive.name
    items = []
    for block, mw in p.leakage_mw.items():
        if mw > 0:
            items.append(EnergyItem(block, "leak", "static", float(cycles), mw * 1e3 / accel.clock_mhz, name))
    for block, pj in p.clock_pj_per_cycle.items():
        if pj > 0:
            items.append(EnergyItem(block, "clock", "clock", float(cycles), pj, name))
    items.append(EnergyItem("dram", "background", "static", float(cycles),
                            p.dram_background_mw * 1e3 / accel.clock_mhz, name))
    return items
