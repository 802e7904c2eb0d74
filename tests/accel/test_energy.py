"""Energy tables: published points, scaling rules, YAML override, Accelergy ERT import, costing."""
from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.config import ConfigError, load_accelerator
from accel.energy import ACTIONS, Component, components_of, default_45nm, load_table, price


def test_default_table_reproduces_the_published_points():
    t = default_45nm()
    assert t.add(8) == pytest.approx(0.03) and t.add(32) == pytest.approx(0.1)
    assert t.mult(8, 8) == pytest.approx(0.2) and t.mult(32, 32) == pytest.approx(3.1)
    for kb, pj in [(8, 10.0), (32, 20.0), (1024, 100.0)]:
        assert t.sram("read", kb, 64) == pytest.approx(pj)
    # DRAM energy is the accelerator's technology now (default LPDDR4, 8 pJ/bit), not the
    # table's: the DDR3-era 1950 pJ per 64 bits (30.5 pJ/bit) is gone from the default
    assert t.dram_64b is None
    dram = components_of(load_accelerator())["dram"]
    assert t.action_energy(dram, "read") == pytest.approx(8.0 * 64)


def test_scaling_rules_between_points():
    t = default_45nm()
    # adders linear in width: 16 bits is a third of the way from 8 to 32
    assert t.add(16) == pytest.approx(0.03 + (0.1 - 0.03) * 8 / 24)
    # multipliers quadratic: 16x16 sits at (256 - 64) / (1024 - 64) of the 8..32 span
    assert t.mult(16, 16) == pytest.approx(0.2 + (3.1 - 0.2) * 192 / 960)
    # below the first point: proportional (adders) and quadratic (multipliers)
    assert t.add(4) == pytest.approx(0.03 / 2)
    assert t.mult(4, 4) == pytest.approx(0.2 / 4)
    # SRAM: 16 KB is halfway between 8 and 32 KB in log(size); 32-bit words cost half
    assert t.sram("read", 16, 64) == pytest.approx(15.0)
    assert t.sram("read", 16, 32) == pytest.approx(7.5)
    # below 8 KB energy falls as sqrt(size), never negative
    assert t.sram("read", 2, 64) == pytest.approx(10.0 * math.sqrt(2 / 8))


def _counts(accel):
    comps = components_of(accel)
    return comps, {(name, action): 1000 + 7 * i
                   for i, (name, c) in enumerate(sorted(comps.items())) for action in ACTIONS[c.cls]}


def test_price_is_counts_times_table_and_parts_add_up():
    accel = load_accelerator()
    comps, counts = _counts(accel)
    report = price(counts, comps, load_table())
    t = default_45nm()
    d, w, acc = 16, 16, 40
    mac = 3 * t.mult(d + 1, w + 1) + 3 * t.add(d + 1) + 2 * t.add(d + w + 1) + 2 * t.add(acc)
    act = accel.buffer("act")
    expected = {("cmac", "mac"): mac,
                ("act_sram", "read"): t.sram("read", act.kbytes / act.banks, act.word_bits),
                ("dram", "write"): 8.0 * 64}   # LPDDR4, 8 pJ/bit
    for key, pj in expected.items():
        item = next(i for i in report.items if (i.component, i.action) == key)
        assert item.pj == pytest.approx(counts[key] * pj)
    assert report.total_pj == pytest.approx(sum(report.by("component").values()))
    assert report.total_pj == pytest.approx(sum(report.by("level").values()))
    assert set(report.by("level")) == {"compute", "sram", "dram"}
    assert report.as_dict()["tables_used"] == ["default-45nm"]


def test_yaml_table_overrides_exactly_what_it_says(tmp_path):
    f = tmp_path / "my_table.yaml"
    f.write_text(yaml.safe_dump({"name": "my-7nm", "int_mult": {"points": {8: 0.05, 32: 0.8}, "source": "a test"},
                                 "dram_64b": {"value": 640.0, "source": "a test"}}))
    table = load_table(f)
    comps = components_of(load_accelerator())
    assert table.name == "my-7nm"
    assert table.action_energy(comps["dram"], "read") == pytest.approx(640.0)
    base = default_45nm()
    # adders untouched, multipliers replaced
    assert table.action_energy(comps["crop"], "fold") == pytest.approx(base.action_energy(comps["crop"], "fold"))
    assert table.tables[0].mult(8, 8) == pytest.approx(0.05)


def test_accelergy_ert_import(tmp_path):
    ert = {"ERT": {"version": 0.3, "tables": [
        {"name": "system.chip.cmac[0..63]", "actions": [
            {"name": "mac_random", "arguments": None, "energy": 4.0},
            {"name": "mac_reused", "arguments": None, "energy": 2.0},
            {"name": "real_mac", "energy": 1.5},
            {"name": "idle", "energy": 0.0}]},
        {"name": "system.chip.act_sram", "actions": [
            {"name": "read", "arguments": {"data_delta": 0}, "energy": 3.0},
            {"name": "write", "energy": 5.0}]},
    ]}}
    f = tmp_path / "ert.yaml"
    f.write_text(yaml.safe_dump(ert))
    accel = load_accelerator()
    comps, counts = _counts(accel)
    report = price(counts, comps, load_table(f))
    by = {(i.component, i.action): i for i in report.items}
    assert by[("cmac", "mac")].pj_each == pytest.approx(3.0)  # mean of the two mac variants
    assert by[("act_sram", "write")].pj_each == pytest.approx(5.0)
    assert by[("cmac", "mac")].table == "ERT:ert.yaml"
    assert by[("dram", "read")].table == "default-45nm"  # not in the ERT: the default prices it
    assert report.as_dict()["tables_used"] == ["ERT:ert.yaml", "default-45nm"]


@pytest.mark.parametrize("content, message", [
    ({"int_add": {"points": {8: -1}, "source": "s"}}, "int_add.points.8: must be a positive figure"),
    ({"int_add": {"points": {8: 0.5, 32: 0.1}, "source": "s"}}, "int_add.points: figures must not decrease"),
    ({"int_add": {8: 0.03}}, "int_add: no source for this figure"),
    ({"sram": 3}, "sram: unknown key"),
    ({"ERT": {"tables": [{"name": "x.cmac", "actions": [{"name": "mac", "energy": "big"}]}]}},
     "ERT.tables[0].actions[0].energy: must be a non-negative number"),
])
def test_bad_tables_are_config_errors(tmp_path, content, message):
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(content))
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_table(f)
    with pytest.raises(ConfigError, match="cannot read"):
        load_table(tmp_path / "missing.yaml")


@settings(max_examples=200, deadline=None)
@given(data_bits=st.integers(4, 23), weight_bits=st.integers(4, 23), data=st.data(),
       kbytes=st.floats(0.25, 65536), banks=st.integers(1, 256), word_bits=st.integers(8, 1024),
       segments=st.integers(1, 64))
def test_energies_are_finite_and_positive_for_any_config(data_bits, weight_bits, data, kbytes, banks,
                                                         word_bits, segments):
    grad = 16   # default grad_bits; the config rejects accumulators narrower than a product
    widest = max(data_bits + weight_bits, grad + weight_bits, grad + data_bits, 2 * weight_bits) + 1
    acc_bits = data.draw(st.integers(max(16, widest), 48), label="acc_bits")
    accel = load_accelerator({"formats": {"data_bits": data_bits, "weight_bits": weight_bits},
                              "mac_array": {"acc_bits": acc_bits}, "activation": {"segments": segments},
                              "sram": [{"name": "x", "kbytes": kbytes, "banks": banks, "word_bits": word_bits}]})
    table = load_table()
    for comp in components_of(accel).values():
        for action in ACTIONS[comp.cls]:
            e = table.action_energy(comp, action)
            assert math.isfinite(e) and e > 0, (comp, action, e)


def test_unknown_component_or_action_is_reported():
    comps = components_of(load_accelerator())
    with pytest.raises(ConfigError, match="'warp'"):
        price({("warp", "read"): 1}, comps, load_table())
    with pytest.raises(ConfigError, match="no action 'fly'"):
        price({("cmac", "fly"): 1}, comps, load_table())
    assert Component("x", "sram", (("kbytes", 1),)).attr("kbytes") == 1
