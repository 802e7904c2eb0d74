"""Static power, area and DRAM technologies: sourced figures, scaling with time, netlists."""
from __future__ import annotations

import math

import pytest
import yaml

from accel.area import area_of, blocks_of, real_mac_cell_um2, static_items, static_power
from accel.config import ConfigError, load_accelerator
from accel.energy import (
    FIGURES,
    components_of,
    default_45nm,
    dram_setup,
    dram_technologies,
    load_table,
    primitive_table_from_yaml,
)


def test_static_energy_scales_with_cycles():
    accel, table = load_accelerator(), load_table()
    for design in ("frequency", "spatial"):
        short = {(i.component, i.action): i.pj for i in static_items(accel, design, table, 1000)}
        long = {(i.component, i.action): i.pj for i in static_items(accel, design, table, 3000)}
        assert short.keys() == long.keys() and len(short) > 3
        for key, pj in short.items():
            assert pj > 0 and long[key] == pytest.approx(3 * pj)
        per_cycle = static_power(accel, design, table).pj_per_cycle()
        assert sum(long.values()) == pytest.approx(3000 * per_cycle)


def test_static_power_from_first_principles():
    """Leakage (mW) = area x density, clock = register bits x fJ, DRAM = devices x IDD3N power."""
    accel, table = load_accelerator(), load_table()
    t = default_45nm()
    p = static_power(accel, "frequency", table)
    d, w, acc = 16, 16, 40
    cell_mults = 3 * t.mult_area(d + 1, w + 1)
    cell_adds = 3 * t.adder_area(17) + 2 * t.adder_area(33) + 2 * t.adder_area(acc)
    cell_regs = (2 * d + 2 * w + 2 * acc) * 5.98
    leak_nw = cell_mults * 12.27 + cell_adds * 8.09 + cell_regs * 12.37
    assert p.leakage_mw["cmac"] == pytest.approx(64 * leak_nw * 1e-6)
    assert p.clock_pj_per_cycle["cmac"] == pytest.approx(64 * (2 * d + 2 * w + 2 * acc) * 7.94e-3)
    assert p.clock_pj_per_cycle["control"] == pytest.approx(7168 * 7.94e-3)
    # 16 B/cycle at 200 MHz = 3.2 GB/s: one LPDDR4-3200 x16 channel (6.4 GB/s), IDD3N 37.9 mW
    assert p.dram_devices == 1 and p.dram_background_mw == pytest.approx(37.9)
    # a 16 KB bank (act: 128 KB in 8 banks) leaks CACTI's 0.320751 uW (itrs-lstp)
    assert p.leakage_mw["act_sram"] == pytest.approx(8 * 0.320751e-3)
    hp = static_power(accel, "frequency", load_table("45nm-hp"))
    assert hp.leakage_mw["act_sram"] == pytest.approx(8 * 8.14585)


def test_area_from_first_principles():
    accel, table = load_accelerator(), load_table()
    t = default_45nm()
    # Horowitz 45 nm: 8b add 36 um^2, 32b add 137; 8b mult 282, 32b mult 3495 (linear in w^2)
    assert t.adder_area(8) == pytest.approx(36) and t.adder_area(32) == pytest.approx(137)
    assert t.mult_area(16, 16) == pytest.approx(282 + (3495 - 282) * (256 - 64) / (1024 - 64))
    freq = area_of(accel, "frequency", table)
    assert freq.total_mm2 == pytest.approx(sum(freq.by_block().values()))
    # SRAM: CACTI's 16 KB bank is 50742 um^2; act is 8 of them
    assert freq.by_block()["act_sram"] == pytest.approx(8 * 50742e-6)
    assert {"cmac", "fft", "crop", "pwl", "control"} <= set(freq.by_block())
    from sim.baseline import baseline_accelerator

    base = baseline_accelerator(accel)
    spatial = area_of(base, "spatial", table)
    assert "fft" not in spatial.by_block() and "crop" not in spatial.by_block()
    cell = real_mac_cell_um2(base, table)
    assert cell == pytest.approx(t.mult_area(16, 16) + t.adder_area(40) + (16 + 16 + 40) * 5.98)
    assert spatial.by_block()["cmac"] == pytest.approx(8 * 24 * cell * 1e-6)


def test_every_builtin_figure_has_a_source():
    t = default_45nm()
    assert set(t.sources) == set(FIGURES) - {"dram_64b"}
    assert all(s.strip() for s in t.sources.values())
    techs = dram_technologies()
    assert set(techs) == {"lpddr4", "ddr4", "hbm2", "ddr3"}
    for tech in techs.values():
        assert set(tech.sources) == {"pj_per_bit", "device_gbytes_per_s", "background_mw"}
    assert techs["hbm2"].pj_per_bit == pytest.approx(3.9) and techs["lpddr4"].pj_per_bit == pytest.approx(8.0)


@pytest.mark.parametrize("key, data", [
    ("area.register_bit", {"area": {"register_bit": {"value": 4.5}}}),
    ("int_mult", {"int_mult": {"points": {8: 0.1}}}),
    ("static.clock_fj_per_register_bit", {"static": {"clock_fj_per_register_bit": {"value": 1.0, "source": " "}}}),
])
def test_a_figure_without_a_source_is_a_config_error_naming_it(tmp_path, key, data):
    with pytest.raises(ConfigError, match=f"t.yaml.{key.replace('.', '[.]')}: no source for this figure"):
        primitive_table_from_yaml(data, "t.yaml", default_45nm())
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="no source for this figure"):
        load_table(f)


def test_a_sourced_override_changes_exactly_its_figure(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(yaml.safe_dump({"area": {"register_bit": {"value": 2.99, "source": "half of Aladdin's"}}}))
    mine, base = load_table(f).primitive, default_45nm()
    assert mine.area_register_bit == pytest.approx(2.99) and mine.sources["area.register_bit"] == "half of Aladdin's"
    assert mine.adder_area(16) == base.adder_area(16) and mine.clock_fj_per_bit == base.clock_fj_per_bit


def test_dram_technology_and_direct_pj_per_bit():
    table = load_table()
    for tech, pj in (("lpddr4", 8.0), ("ddr4", 12.9), ("hbm2", 3.9), ("ddr3", 26.0)):
        accel = load_accelerator({"dram": {"technology": tech}})
        assert table.action_energy(components_of(accel)["dram"], "read") == pytest.approx(pj * 64)
    accel = load_accelerator({"dram": {"technology": "ddr4", "pj_per_bit": 5.0}})
    assert table.action_energy(components_of(accel)["dram"], "write") == pytest.approx(5.0 * 64)
    # 64 B/cycle at 200 MHz = 12.8 GB/s: 2 LPDDR4 channels, 6 DDR4 x8 devices, 1 HBM2 channel
    for tech, devices in (("lpddr4", 2), ("ddr4", 6), ("hbm2", 1), ("ddr3", 4)):
        setup = dram_setup(load_accelerator({"dram": {"technology": tech, "bytes_per_cycle": 64}}))
        assert setup.devices == devices
    with pytest.raises(ConfigError, match="dram.technology: must be one of"):
        load_accelerator({"dram": {"technology": "ddr9"}})
    with pytest.raises(ConfigError, match="dram.pj_per_bit"):
        load_accelerator({"dram": {"pj_per_bit": -1}})


def test_accelergy_art_replaces_the_area_of_named_blocks(tmp_path):
    art = tmp_path / "art.yaml"
    art.write_text(yaml.safe_dump({"ART": {"version": 0.3, "tables": [
        {"name": "system.chip.cmac[0..63]", "area": 1000.0}]}}))
    accel = load_accelerator({"energy": {"area_file": str(art)}})
    report = area_of(accel, "frequency", load_table())
    item = next(i for i in report.items if i.block == "cmac")
    assert item.um2_each == 1000.0 and item.table == "ART:art.yaml"
    assert report.by_block()["cmac"] == pytest.approx(64 * 1000e-6)
    assert next(i for i in report.items if i.block == "fft").table == "default-45nm"


def test_fft_netlist_follows_the_rtl_multiplier_count():
    """README: 3 multipliers per non-trivial twiddle stage, 2 stages at n = 64 (radix 2^2)."""
    accel = load_accelerator()
    fft = next(b for b in blocks_of(accel, "frequency") if b.name == "fft")
    assert sum(n for _, _, n in fft.mults) == 2 * 3 * 2      # row and column pipelines
    assert fft.register_bits == 2 * 63 * 2 * 16
    assert math.isclose(sum(n for _, n in fft.sram_banks), 3)
