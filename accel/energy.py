"""Energy tables and costing: what one action of one hardware component costs, in pJ.

The accelerator is a set of :class:`Component` s (the complex MAC array, the FFT
butterflies, the PWL lanes, the crop unit, the SGD update, one per SRAM buffer, DRAM),
each with attributes taken from the accelerator config (widths, sizes).  The simulator
counts *actions* per component ("cmac"/"mac", "act_sram"/"read", "dram"/"write", ...);
an :class:`EnergyTable` prices one action; :func:`price` multiplies and adds.  Area,
leakage, clock and DRAM background power are :mod:`accel.area`'s, priced by the same
tables.

Tables, behind one small interface (``name`` and ``action_energy``), as in Accelergy:

- :class:`PrimitiveTable`: integer adders and multipliers, SRAM accesses, and the area
  and static figures of the same primitives, from published points with the scaling rules
  of DESIGN.md -- adders linear in width, multipliers linear in the product of widths,
  SRAM interpolated piecewise-linearly in log(bank size) (power-law beyond the table's
  range), per 64-bit access scaled by word width.  Tables are YAML files in
  ``accel/configs/tables/`` (``default-45nm``: Horowitz, ISSCC 2014; CACTI 7 SRAM banks;
  Aladdin leakage; ``45nm-hp``: leaky SRAM) where every figure carries its ``source``; a
  user's file of the same format replaces any figure (with its source) over the default.
- DRAM energy per bit comes from the accelerator's ``dram.technology`` (lpddr4, ddr4,
  hbm2, ddr3: ``accel/configs/tables/dram.yaml``) or ``dram.pj_per_bit``, unless a table
  fixes ``dram_64b``.
- :class:`ErtTable`: an Accelergy energy reference table (ERT) YAML, the file being the
  source of its figures; components are matched by the last segment of the ERT table name
  (``system.chip.cmac[0..63]`` -> ``cmac``), actions by name (``mac_random`` counts as
  ``mac``).
- :class:`LayeredTable`: the first table that knows a component prices it (an ERT for
  some components, the default for the rest); reports name every table used.
"""
from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from accel.config import AcceleratorConfig, ConfigError, read_yaml_file

# --------------------------------------------------------------------------- components

#: actions each component class understands, and what one action is made of
ACTIONS: dict[str, tuple[str, ...]] = {
    "complex_mac": ("mac", "real_mac"),
    "fft": ("butterfly", "twiddle"),
    "pwl": ("eval", "slope"),
    "crop": ("fold",),
    "sgd": ("update",),
    "sram": ("read", "write"),
    "dram": ("read", "write"),
    "control": (),
}

#: memory level of each component class, for the compute / SRAM / DRAM breakdown
LEVEL = {"complex_mac": "compute", "fft": "compute", "pwl": "compute", "crop": "compute",
         "sgd": "compute", "sram": "sram", "dram": "dram", "control": "clock"}


@dataclass(frozen=True)
class Component:
    """One priced hardware component: a name, a class (key of ACTIONS) and attributes."""
    name: str
    cls: str
    attrs: tuple[tuple[str, float], ...] = ()

    def attr(self, key: str) -> float:
        return dict(self.attrs)[key]


def components_of(accel: AcceleratorConfig) -> dict[str, Component]:
    """The components of an accelerator, named as the simulator counts them.

    SRAM buffers are named ``<buffer>_sram`` (``act_sram``, ``weight_sram``, ...).
    """
    f = accel.formats
    comps = [
        Component("cmac", "complex_mac", (("data_bits", f.data_bits), ("weight_bits", f.weight_bits),
                                          ("acc_bits", accel.mac_array.acc_bits))),
        Component("fft", "fft", (("data_bits", f.data_bits), ("twiddle_bits", f.twiddle_bits))),
        Component("pwl", "pwl", (("data_bits", f.data_bits), ("segments", accel.activation.segments))),
        Component("crop", "crop", (("data_bits", f.data_bits),)),
        Component("sgd", "sgd", (("weight_bits", f.weight_bits), ("grad_bits", f.grad_bits))),
        Component("dram", "dram", (("word_bits", 64), ("pj_per_bit", dram_setup(accel).pj_per_bit))),
        Component("control", "control"),
    ]
    for s in accel.sram:
        comps.append(Component(f"{s.name}_sram", "sram", (("kbytes", s.kbytes), ("banks", s.banks),
                                                         ("word_bits", s.word_bits))))
    return {c.name: c for c in comps}


# --------------------------------------------------------------------------- interface

class EnergyTable(Protocol):
    """Prices one action of one component, in pJ.  ``name`` is shown in every report."""

    @property
    def name(self) -> str: ...

    def action_energy(self, comp: Component, action: str) -> float | None:
        """pJ for one ``action`` of ``comp``; None if this table does not know the component."""


# --------------------------------------------------------------------------- primitives

def _interp(points: Mapping[float, float], x: float, transform, below: str) -> float:
    """Piecewise-linear interpolation of ``points`` in ``transform(x)``.

    Below the first point the energy scales as ``below`` says ("linear": E0 * x / x0,
    "square": E0 * (x / x0)^2, "sqrt": E0 * sqrt(x / x0)); above the last it continues the
    last segment.  Positive, non-decreasing points give positive energies everywhere.
    """
    xs = sorted(points)
    if x <= xs[0]:
        ratio = x / xs[0]
        return points[xs[0]] * {"linear": ratio, "square": ratio ** 2, "sqrt": math.sqrt(ratio)}[below]
    if len(xs) == 1:
        return points[xs[0]] * {"linear": x / xs[0], "square": (x / xs[0]) ** 2,
                                "sqrt": math.sqrt(x / xs[0])}[below]
    for lo, hi in zip(xs, xs[1:]):
        if x <= hi or hi == xs[-1]:
            t = (transform(x) - transform(lo)) / (transform(hi) - transform(lo))
            return points[lo] + t * (points[hi] - points[lo])
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class PrimitiveTable:
    """Energies, areas and static power of primitives, with scaling rules between points.

    Energy (pJ): ``int_add`` / ``int_mult`` width (bits) -> pJ; ``sram_read_64b`` /
    ``sram_write_64b`` bank size in KB -> pJ per 64-bit access; ``dram_64b`` pJ per
    64-bit DRAM transfer, or None: the accelerator's ``dram.technology`` decides.
    Area (um^2): ``area_add`` / ``area_mult`` by width as the energies, ``area_register_bit``,
    ``area_sram_bank`` KB -> um^2 per bank.  Static: leakage densities (nW/um^2) of adders,
    multipliers and registers, ``sram_bank_leak_uw`` KB -> uW per bank, the clock energy
    of one register bit per cycle (fJ) and the control registers clocked every cycle.
    ``sources`` names the source of every figure (key path -> text).
    """
    name: str
    source: str
    int_add: Mapping[float, float]
    int_mult: Mapping[float, float]
    sram_read_64b: Mapping[float, float]
    sram_write_64b: Mapping[float, float]
    dram_64b: float | None = None
    area_add: Mapping[float, float] = field(default_factory=dict)
    area_mult: Mapping[float, float] = field(default_factory=dict)
    area_register_bit: float = 0.0
    area_sram_bank: Mapping[float, float] = field(default_factory=dict)
    leak_add: float = 0.0
    leak_mult: float = 0.0
    leak_register: float = 0.0
    sram_bank_leak_uw: Mapping[float, float] = field(default_factory=dict)
    clock_fj_per_bit: float = 0.0
    control_register_bits: float = 0.0
    sources: Mapping[str, str] = field(default_factory=dict)

    def add(self, bits: float) -> float:
        """One integer add of ``bits`` bits: linear in width."""
        return _interp(self.int_add, bits, lambda w: w, "linear")

    def mult(self, bits_a: float, bits_b: float) -> float:
        """One ``bits_a`` x ``bits_b`` integer multiply: linear in the product of widths."""
        return _interp({w * w: e for w, e in self.int_mult.items()}, bits_a * bits_b, lambda a: a, "linear")

    def sram(self, action: str, bank_kbytes: float, word_bits: float) -> float:
        points = self.sram_read_64b if action == "read" else self.sram_write_64b
        return _interp(points, bank_kbytes, math.log, "sqrt") * word_bits / 64.0

    # -- area (um^2) and static power ------------------------------------------------
    def adder_area(self, bits: float) -> float:
        """Area of a ``bits``-bit adder (linear in width)."""
        return _interp(self.area_add, bits, lambda w: w, "linear")

    def mult_area(self, bits_a: float, bits_b: float) -> float:
        """Area of a ``bits_a`` x ``bits_b`` multiplier (linear in the product of widths)."""
        return _interp({w * w: a for w, a in self.area_mult.items()}, bits_a * bits_b, lambda a: a, "linear")

    def sram_bank_area(self, kbytes: float) -> float:
        """Area of one SRAM bank of ``kbytes`` (log-size interpolation; linear below the table)."""
        return _interp(self.area_sram_bank, kbytes, math.log, "linear")

    def sram_bank_leakage_mw(self, kbytes: float) -> float:
        """Leakage of one SRAM bank of ``kbytes``, mW."""
        return _interp(self.sram_bank_leak_uw, kbytes, math.log, "linear") * 1e-3

    def action_energy(self, comp: Component, action: str) -> float | None:
        a = comp.attr
        if action not in ACTIONS.get(comp.cls, ()):
            raise ConfigError(f"energy: component {comp.name!r} ({comp.cls}) has no action {action!r}")
        if comp.cls == "complex_mac":
            d, w, acc = a("data_bits"), a("weight_bits"), a("acc_bits")
            if action == "mac":  # 3-multiplier complex multiply: 3 mults, 5 adds; 2 accumulates
                return 3 * self.mult(d + 1, w + 1) + 3 * self.add(max(d, w) + 1) + 2 * self.add(d + w + 1) \
                    + 2 * self.add(acc)
            return self.mult(d, w) + self.add(acc)
        if comp.cls == "fft":
            d, t = a("data_bits"), a("twiddle_bits")
            if action == "butterfly":  # two complex adds (a+b, a-b), scaled by a shift
                return 4 * self.add(d + 1)
            return 3 * self.mult(d + 1, t + 1) + 5 * self.add(d + t)
        if comp.cls == "pwl":
            d, s = a("data_bits"), a("segments")
            if action == "eval":  # segment search, slope multiply, intercept add
                return math.ceil(math.log2(max(s, 2))) * self.add(d) + self.mult(d, 16) + self.add(d + 16)
            return self.mult(d, 16)
        if comp.cls == "crop":
            return 2 * self.add(a("data_bits") + 1)
        if comp.cls == "sgd":  # v = mu v + g; w = w - lr v, per real value
            w, g = a("weight_bits"), a("grad_bits")
            return 2 * self.mult(g, 16) + self.add(g + 1) + self.add(w + 1)
        if comp.cls == "sram":
            bank = a("kbytes") / a("banks")
            return self.sram(action, bank, a("word_bits"))
        if comp.cls == "dram":
            if self.dram_64b is not None:
                return self.dram_64b * a("word_bits") / 64.0
            return a("pj_per_bit") * a("word_bits")
        raise ConfigError(f"energy: unknown component class {comp.cls!r}")


# --------------------------------------------------------------------------- sourced figures

#: figure key paths of a table file -> (PrimitiveTable field, kind): "points" (size -> figure)
#: or "value"; energies in pJ, areas in um^2, leakage densities in nW/um^2
FIGURES: dict[str, tuple[str, str]] = {
    "int_add": ("int_add", "points"),
    "int_mult": ("int_mult", "points"),
    "sram_read_64b": ("sram_read_64b", "points"),
    "sram_write_64b": ("sram_write_64b", "points"),
    "dram_64b": ("dram_64b", "value"),
    "area.int_add": ("area_add", "points"),
    "area.int_mult": ("area_mult", "points"),
    "area.register_bit": ("area_register_bit", "value"),
    "area.sram_bank": ("area_sram_bank", "points"),
    "static.leakage_int_add": ("leak_add", "value"),
    "static.leakage_int_mult": ("leak_mult", "value"),
    "static.leakage_register": ("leak_register", "value"),
    "static.sram_bank_leakage_uw": ("sram_bank_leak_uw", "points"),
    "static.clock_fj_per_register_bit": ("clock_fj_per_bit", "value"),
    "static.control_register_bits": ("control_register_bits", "value"),
}
TABLE_KEYS = {"name", "node_nm", "source", "area", "static"} | {k for k in FIGURES if "." not in k}
TABLES_DIR = "tables"


def _figure(data: object, key: str, kind: str, path: str) -> tuple[Any, str]:
    """One sourced figure: ``{value: x, source: text}`` or ``{points: {size: x}, source: text}``."""
    where = f"{path}.{key}"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a figure must be a mapping with '{kind}' and 'source', got {data!r}")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{where}: no source for this figure (every figure needs '{kind}: ...' and 'source: ...')")
    unknown = set(data) - {kind, "source", "unit"}
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown, key=str)[0]}: unknown key (a figure has {kind}, source, unit)")
    if kind not in data:
        raise ConfigError(f"{where}.{kind}: required key is missing")
    if kind == "value":
        return _energy(data["value"], f"{where}.value"), source
    return _points(data["points"], f"{key}.points", path), source


#: The largest figure a table may give (an action's energy in pJ -- 1 mJ, where a 64-bit
#: DRAM access costs about 2 nJ --, an area in um^2, a power).  Beyond it, an iteration's
#: totals could overflow to infinity.
MAX_ACTION_PJ = 1e9


def _energy(value: object, path: str, zero: bool = False) -> float:
    """``value`` as an energy in pJ: a finite number, positive (or >= 0 if ``zero``), at
    most :data:`MAX_ACTION_PJ`; ConfigError naming ``path`` otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and (0 <= value if zero else 0 < value) and value <= MAX_ACTION_PJ:
        return float(value)
    kind = "non-negative number" if zero else "positive figure"
    raise ConfigError(f"{path}: must be a {kind}, at most {MAX_ACTION_PJ:g}, got {value!r:.60}")


def _points(data: object, key: str, path: str) -> dict[float, float]:
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{path}.{key}: must be a non-empty mapping of size -> figure")
    out: dict[float, float] = {}
    for k, v in data.items():
        if isinstance(k, bool) or not isinstance(k, (int, float)) or k <= 0:
            raise ConfigError(f"{path}.{key}: keys must be positive numbers, got {k!r}")
        out[float(k)] = _energy(v, f"{path}.{key}.{k}")
    xs = sorted(out)
    if any(out[b] < out[a] for a, b in zip(xs, xs[1:])):
        raise ConfigError(f"{path}.{key}: figures must not decrease with size, got {data}")
    return out


def primitive_table_from_yaml(data: dict, path: str, base: PrimitiveTable | None = None) -> PrimitiveTable:
    """A table file (see accel/configs/tables/default-45nm.yaml): every figure it gives
    replaces ``base``'s (the default table's unless given), each with its source; a
    figure without a source is a ConfigError naming it."""
    for key in data:
        if key not in TABLE_KEYS:
            raise ConfigError(f"{path}.{key}: unknown key (known: {', '.join(sorted(TABLE_KEYS))})")
    for section in ("area", "static"):
        sub = data.get(section, {})
        if not isinstance(sub, dict):
            raise ConfigError(f"{path}.{section}: must be a mapping of figures")
        for key in sub:
            if f"{section}.{key}" not in FIGURES:
                known = sorted(k.split(".", 1)[1] for k in FIGURES if k.startswith(section + "."))
                raise ConfigError(f"{path}.{section}.{key}: unknown figure (known: {', '.join(known)})")
    fields: dict[str, Any] = {}
    sources: dict[str, str] = dict(base.sources) if base is not None else {}
    for key, (attr, kind) in FIGURES.items():
        section, _, leaf = key.rpartition(".")
        node = data.get(section, {}) if section else data
        if leaf in node:
            fields[attr], sources[key] = _figure(node[leaf], key, kind, path)
        elif base is not None:
            fields[attr] = getattr(base, attr)
        elif key != "dram_64b":
            raise ConfigError(f"{path}.{key}: required figure is missing")
    if "sram_read_64b" in fields and "sram_write_64b" not in fields:
        fields["sram_write_64b"] = fields["sram_read_64b"]
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str):
        raise ConfigError(f"{path}.name: must be a string, got {name!r}")
    return PrimitiveTable(name=name, source=str(data.get("source", path)), sources=sources, **fields)


def _read_table_file(path: Path) -> dict:
    try:
        data = read_yaml_file(path, "energy")
    except ConfigError as exc:
        if "cannot read" not in str(exc):
            raise
        raise ConfigError(f"{exc} (built-in tables: {', '.join(builtin_tables())})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"energy: {str(path)!r} must hold a mapping")
    return data


def _embedded_table(name: str) -> Path:
    return Path(str(resources.files("accel") / "configs" / TABLES_DIR / f"{name}.yaml"))


def builtin_tables() -> list[str]:
    """Names of the embedded energy tables (accel/configs/tables/, DRAM technologies aside)."""
    folder = resources.files("accel") / "configs" / TABLES_DIR
    return sorted(Path(p.name).stem for p in folder.iterdir() if p.name.endswith(".yaml") and p.name != "dram.yaml")


@functools.cache
def default_45nm() -> PrimitiveTable:
    """The default table, accel/configs/tables/default-45nm.yaml: Horowitz (ISSCC 2014,
    45 nm) energies and areas, CACTI 7 SRAM banks, Aladdin leakage; every figure sourced."""
    path = _embedded_table("default-45nm")
    return primitive_table_from_yaml(_read_table_file(path), "default-45nm")


def _builtin(name: str) -> PrimitiveTable:
    if name == "default-45nm":
        return default_45nm()
    return primitive_table_from_yaml(_read_table_file(_embedded_table(name)), name, default_45nm())


# --------------------------------------------------------------------------- DRAM technologies

DRAM_FIGURES = ("pj_per_bit", "device_gbytes_per_s", "background_mw")


@dataclass(frozen=True)
class DramTechnology:
    """One DRAM technology of accel/configs/tables/dram.yaml, each figure with its source."""
    name: str
    pj_per_bit: float
    device_gbytes_per_s: float
    background_mw: float
    sources: Mapping[str, str]


@functools.cache
def dram_technologies() -> dict[str, DramTechnology]:
    """Every DRAM technology of the embedded table, checked (a figure without a source is a
    ConfigError naming it)."""
    path = "dram"
    data = _read_table_file(_embedded_table("dram"))
    techs = data.get("technologies")
    if not isinstance(techs, dict) or not techs:
        raise ConfigError(f"{path}.technologies: must be a mapping of technologies")
    out = {}
    for name, figs in techs.items():
        if not isinstance(figs, dict):
            raise ConfigError(f"{path}.technologies.{name}: must be a mapping of figures")
        values, sources = {}, {}
        for key in DRAM_FIGURES:
            if key not in figs:
                raise ConfigError(f"{path}.technologies.{name}.{key}: required figure is missing")
            values[key], sources[key] = _figure(figs[key], f"technologies.{name}.{key}", "value", path)
        out[name] = DramTechnology(name, sources=sources, **values)
    return out


@dataclass(frozen=True)
class DramSetup:
    """The DRAM of an accelerator: technology, energy per bit, devices and background power."""
    technology: DramTechnology
    pj_per_bit: float
    pj_source: str
    devices: int

    @property
    def background_mw(self) -> float:
        return self.devices * self.technology.background_mw


def dram_setup(accel: AcceleratorConfig) -> DramSetup:
    """``accel.dram``'s technology, its pJ/bit (or the config's ``pj_per_bit``) and how many
    devices give its bandwidth (``bytes_per_cycle x clock``)."""
    techs = dram_technologies()
    tech = techs[accel.dram.technology]
    pj, source = tech.pj_per_bit, tech.sources["pj_per_bit"]
    if accel.dram.pj_per_bit is not None:
        pj, source = accel.dram.pj_per_bit, "dram.pj_per_bit of the accelerator config"
    bandwidth = accel.dram.bytes_per_cycle * accel.clock_mhz * 1e6 / 1e9   # GB/s
    devices = max(1, math.ceil(bandwidth / tech.device_gbytes_per_s - 1e-9))
    return DramSetup(tech, pj, source, devices)


# --------------------------------------------------------------------------- Accelergy ERT

ERT_ACTION_ALIASES = {"mac_random": "mac", "mac_reused": "mac", "mac_gated": None, "idle": None,
                      "read_random": "read", "write_random": "write"}


@dataclass(frozen=True)
class ErtTable:
    """An Accelergy energy reference table: component -> action -> pJ.

    Several entries of one action (different arguments) are averaged, as Accelergy's ERT
    summary does.
    """
    name: str
    energies: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    source: str = ""

    def action_energy(self, comp: Component, action: str) -> float | None:
        actions = self.energies.get(comp.name.lower())
        if actions is None:
            return None
        if action not in actions:
            raise ConfigError(f"energy: ERT {self.name!r} has component {comp.name!r} but no action "
                              f"{action!r} (has {', '.join(sorted(actions))})")
        return actions[action]

    def check_components(self, components: Mapping[str, Component], path: str) -> None:
        """ConfigError for an ERT entry that names no component of the accelerator (a
        misspelt component would otherwise be priced by the default table, silently)."""
        for name in self.energies:
            if name not in components:
                raise ConfigError(f"{path}.ERT: component {name!r} is not in the accelerator "
                                  f"(have {', '.join(sorted(components))})")

    @classmethod
    def from_yaml(cls, data: dict, path: str) -> ErtTable:
        ert = data.get("ERT")
        if not isinstance(ert, dict) or not isinstance(ert.get("tables"), list):
            raise ConfigError(f"{path}.ERT.tables: an Accelergy ERT needs a list of tables")
        sums: dict[str, dict[str, list[float]]] = {}
        for i, table in enumerate(ert["tables"]):
            where = f"{path}.ERT.tables[{i}]"
            if not isinstance(table, dict) or not isinstance(table.get("name"), str):
                raise ConfigError(f"{where}.name: must be a string")
            comp = re.sub(r"\[[^\]]*\]", "", table["name"]).split(".")[-1].lower()
            actions = table.get("actions")
            if not isinstance(actions, list):
                raise ConfigError(f"{where}.actions: must be a list")
            for j, act in enumerate(actions):
                if not isinstance(act, dict) or not isinstance(act.get("name"), str):
                    raise ConfigError(f"{where}.actions[{j}].name: must be a string")
                energy = _energy(act.get("energy"), f"{where}.actions[{j}].energy", zero=True)
                name = ERT_ACTION_ALIASES.get(act["name"], act["name"])
                if name is not None:
                    sums.setdefault(comp, {}).setdefault(name, []).append(energy)
        if not sums:
            raise ConfigError(f"{path}.ERT.tables: no priced actions found")
        energies = {c: {a: sum(v) / len(v) for a, v in acts.items()} for c, acts in sums.items()}
        return cls(name=f"ERT:{Path(path).name}", energies=energies, source=str(path))


@dataclass(frozen=True)
class LayeredTable:
    """Tables in priority order: the first that knows a component prices all its actions."""
    tables: tuple[EnergyTable, ...]

    @property
    def name(self) -> str:
        return " + ".join(t.name for t in self.tables)

    def pick(self, comp: Component, action: str) -> tuple[float, str]:
        for t in self.tables:
            e = t.action_energy(comp, action)
            if e is not None:
                return e, t.name
        raise ConfigError(f"energy: no table prices component {comp.name!r}")

    def action_energy(self, comp: Component, action: str) -> float | None:
        return self.pick(comp, action)[0]

    @property
    def primitive(self) -> PrimitiveTable:
        """The first primitive table of the layers: it prices area and static power (an ERT
        has neither; the default table below it does)."""
        for t in self.tables:
            if isinstance(t, PrimitiveTable):
                return t
        return default_45nm()


def load_table(source: str | Path | None = None, accel: AcceleratorConfig | None = None) -> LayeredTable:
    """A table by built-in name (:func:`builtin_tables`) or file (our YAML over the default,
    or an Accelergy ERT over the default: the ERT's file is the source of its figures).

    With no ``source`` the accelerator's ``energy`` section decides.
    """
    if source is None and accel is not None:
        source = accel.energy.file or accel.energy.table
    source = source or "default-45nm"
    if str(source) in builtin_tables():
        table = _builtin(str(source))
        return LayeredTable((table,))
    path = Path(source)
    data = _read_table_file(path)
    if "ERT" in data:
        ert = ErtTable.from_yaml(data, str(path))
        if accel is not None:
            ert.check_components(components_of(accel), str(path))
        layered = LayeredTable((ert, default_45nm()))
    else:
        layered = LayeredTable((primitive_table_from_yaml(data, str(path), default_45nm()),))
    if accel is not None:
        check_prices(layered, accel)
    return layered


def check_prices(table: LayeredTable, accel: AcceleratorConfig) -> None:
    """Price one of every action of every component of ``accel``, so that a table that
    cannot price one (an ERT that has a component but not all its actions) is a
    ConfigError before any simulation, not after it."""
    for comp in components_of(accel).values():
        for action in ACTIONS[comp.cls]:
            table.pick(comp, action)


# --------------------------------------------------------------------------- costing

@dataclass(frozen=True)
class EnergyItem:
    component: str
    action: str
    level: str
    count: float
    pj_each: float
    table: str

    @property
    def pj(self) -> float:
        return self.count * self.pj_each


@dataclass(frozen=True)
class EnergyReport:
    """Priced action counts; every sum below is over ``items``, so the parts add up."""
    table: str
    items: tuple[EnergyItem, ...]

    @property
    def total_pj(self) -> float:
        return sum(i.pj for i in self.items)

    def by(self, key: str) -> dict[str, float]:
        """Total pJ grouped by ``component``, ``action``, ``level`` or ``table``."""
        out: dict[str, float] = {}
        for i in self.items:
            k = getattr(i, key)
            out[k] = out.get(k, 0.0) + i.pj
        return out

    def as_dict(self) -> dict:
        return {"table": self.table, "total_pj": self.total_pj,
                "by_component": self.by("component"), "by_level": self.by("level"),
                "tables_used": sorted(set(i.table for i in self.items)),
                "items": [{"component": i.component, "action": i.action, "level": i.level, "count": i.count,
                           "pj_each": i.pj_each, "pj": i.pj, "table": i.table} for i in self.items]}


def price(counts: Mapping[tuple[str, str], float], components: Mapping[str, Component],
          table: LayeredTable) -> EnergyReport:
    """Energy of action ``counts`` keyed (component name, action)."""
    items = []
    for (name, action), count in sorted(counts.items()):
        if name not in components:
            raise ConfigError(f"energy: counted component {name!r} is not in the accelerator "
                              f"(have {', '.join(sorted(components))})")
        comp = components[name]
        if action not in ACTIONS[comp.cls]:
            raise ConfigError(f"energy: component {name!r} has no action {action!r}")
        pj, used = table.pick(comp, action)
        items.append(EnergyItem(name, action, LEVEL[comp.cls], float(count), float(pj), used))
    return EnergyReport(table.name, tuple(items))
