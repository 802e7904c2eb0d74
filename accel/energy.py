"""Energy tables and costing: what one action of one hardware component costs, in pJ.

The accelerator is a set of :class:`Component` s (the complex MAC array, the FFT
butterflies, the PWL lanes, the crop unit, the SGD update, one per SRAM buffer, DRAM),
each with attributes taken from the accelerator config (widths, sizes).  The simulator
counts *actions* per component ("cmac"/"mac", "act_sram"/"read", "dram"/"write", ...);
an :class:`EnergyTable` prices one action; :func:`price` multiplies and adds.

Tables, behind one small interface (``name`` and ``action_energy``), as in Accelergy:

- :class:`PrimitiveTable`: integer adders and multipliers, SRAM and DRAM accesses from
  published points, with the scaling rules of DESIGN.md — adders linear in width,
  multipliers quadratic (a w x v multiplier scales with w * v), SRAM interpolated
  piecewise-linearly in log(bank size) (power-law beyond the table's range), per 64-bit
  access scaled by word width.  The default is the 45 nm table of Horowitz (ISSCC 2014);
  a YAML file of our own format replaces any of its points.
- :class:`ErtTable`: an Accelergy energy reference table (ERT) YAML; components are
  matched by the last segment of the ERT table name (``system.chip.cmac[0..63]`` ->
  ``cmac``), actions by name (``mac_random`` counts as ``mac``).
- :class:`LayeredTable`: the first table that knows a component prices it (an ERT for
  some components, the default for the rest); reports name every table used.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
}

#: memory level of each component class, for the compute / SRAM / DRAM breakdown
LEVEL = {"complex_mac": "compute", "fft": "compute", "pwl": "compute", "crop": "compute",
         "sgd": "compute", "sram": "sram", "dram": "dram"}


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
        Component("dram", "dram", (("word_bits", 64),)),
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
    """Energies of primitive operations, with scaling rules between the published points.

    ``int_add`` / ``int_mult``: width (bits) -> pJ; ``sram_read_64b`` (and
    ``sram_write_64b``, default: the read figures): bank size in KB -> pJ per 64-bit
    access; ``dram_64b``: pJ per 64-bit DRAM transfer.
    """
    name: str
    source: str
    int_add: Mapping[float, float]
    int_mult: Mapping[float, float]
    sram_read_64b: Mapping[float, float]
    sram_write_64b: Mapping[float, float]
    dram_64b: float

    def add(self, bits: float) -> float:
        """One integer add of ``bits`` bits: linear in width."""
        return _interp(self.int_add, bits, lambda w: w, "linear")

    def mult(self, bits_a: float, bits_b: float) -> float:
        """One ``bits_a`` x ``bits_b`` integer multiply: linear in the product of widths."""
        return _interp({w * w: e for w, e in self.int_mult.items()}, bits_a * bits_b, lambda a: a, "linear")

    def sram(self, action: str, bank_kbytes: float, word_bits: float) -> float:
        points = self.sram_read_64b if action == "read" else self.sram_write_64b
        return _interp(points, bank_kbytes, math.log, "sqrt") * word_bits / 64.0

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
            return self.dram_64b * a("word_bits") / 64.0
        raise ConfigError(f"energy: unknown component class {comp.cls!r}")


def default_45nm() -> PrimitiveTable:
    """Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm, 0.9 V.

    DRAM: the midpoint of the quoted 1.3-2.6 nJ per 64-bit access.
    """
    return PrimitiveTable(
        name="default-45nm", source="Horowitz, ISSCC 2014 (45 nm)",
        int_add={8: 0.03, 32: 0.1}, int_mult={8: 0.2, 32: 3.1},
        sram_read_64b={8: 10.0, 32: 20.0, 1024: 100.0}, sram_write_64b={8: 10.0, 32: 20.0, 1024: 100.0},
        dram_64b=1950.0)


BUILTIN_TABLES = {"default-45nm": default_45nm}


#: The largest energy of one action a table may give, in pJ (1 mJ: a 64-bit DRAM access
#: costs about 2 nJ).  Beyond it, an iteration's totals could overflow to infinity.
MAX_ACTION_PJ = 1e9


def _energy(value: object, path: str, zero: bool = False) -> float:
    """``value`` as an energy in pJ: a finite number, positive (or >= 0 if ``zero``), at
    most :data:`MAX_ACTION_PJ`; ConfigError naming ``path`` otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and (0 <= value if zero else 0 < value) and value <= MAX_ACTION_PJ:
        return float(value)
    kind = "non-negative number" if zero else "positive energy"
    raise ConfigError(f"{path}: must be a {kind} (pJ, at most {MAX_ACTION_PJ:g}), got {value!r:.60}")


def _points(data: object, key: str, path: str) -> dict[float, float]:
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{path}.{key}: must be a non-empty mapping of size -> pJ")
    out: dict[float, float] = {}
    for k, v in data.items():
        if isinstance(k, bool) or not isinstance(k, (int, float)) or k <= 0:
            raise ConfigError(f"{path}.{key}: keys must be positive numbers, got {k!r}")
        out[float(k)] = _energy(v, f"{path}.{key}.{k}")
    xs = sorted(out)
    if any(out[b] < out[a] for a, b in zip(xs, xs[1:])):
        raise ConfigError(f"{path}.{key}: energies must not decrease with size, got {data}")
    return out


def primitive_table_from_yaml(data: dict, path: str) -> PrimitiveTable:
    """Our YAML table format: any of the keys of :class:`PrimitiveTable` over the default."""
    base = default_45nm()
    known = {"name", "source", "int_add", "int_mult", "sram_read_64b", "sram_write_64b", "dram_64b"}
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}.{key}: unknown key (known: {', '.join(sorted(known))})")
    fields: dict[str, Any] = {}
    for key in ("int_add", "int_mult", "sram_read_64b", "sram_write_64b"):
        if key in data:
            fields[key] = _points(data[key], key, path)
    if "sram_read_64b" in fields and "sram_write_64b" not in fields:
        fields["sram_write_64b"] = fields["sram_read_64b"]
    if "dram_64b" in data:
        fields["dram_64b"] = _energy(data["dram_64b"], f"{path}.dram_64b")
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str):
        raise ConfigError(f"{path}.name: must be a string, got {name!r}")
    return PrimitiveTable(name=name, source=str(data.get("source", path)),
                          **{k: fields.get(k, getattr(base, k)) for k in
                             ("int_add", "int_mult", "sram_read_64b", "sram_write_64b", "dram_64b")})


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
        return cls(name=f"ERT:{Path(path).name}", energies=energies)


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


def load_table(source: str | Path | None = None, accel: AcceleratorConfig | None = None) -> LayeredTable:
    """A table by built-in name or file (our YAML or an Accelergy ERT), over the default.

    With no ``source`` the accelerator's ``energy`` section decides.
    """
    if source is None and accel is not None:
        source = accel.energy.file or accel.energy.table
    source = source or "default-45nm"
    if str(source) in BUILTIN_TABLES:
        table = BUILTIN_TABLES[str(source)]()
        return LayeredTable((table,)) if table.name == "default-45nm" else LayeredTable((table, default_45nm()))
    path = Path(source)
    try:
        data = read_yaml_file(path, "energy")
    except ConfigError as exc:
        if "cannot read" not in str(exc):
            raise
        raise ConfigError(f"{exc} (built-in tables: {', '.join(BUILTIN_TABLES)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"energy: {str(path)!r} must hold a mapping")
    if "ERT" in data:
        ert = ErtTable.from_yaml(data, str(path))
        if accel is not None:
            ert.check_components(components_of(accel), str(path))
        layered = LayeredTable((ert, default_45nm()))
    else:
        layered = LayeredTable((primitive_table_from_yaml(data, str(path)),))
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
