"""Strict configuration loading: defaults, every kind of bad value, and fuzzed dicts."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.config import AcceleratorConfig, ConfigError, builtin_networks, load_accelerator
from accel.network import layer_shapes, load_network


def test_embedded_defaults_load():
    acc = load_accelerator()
    assert acc == load_accelerator("default")
    assert acc.fft.max_points == 64 and acc.formats.data_bits == 16
    assert {"lenet-digits", "lenet-mnist", "cifar-small"} <= set(builtin_networks())
    shapes = {n: [(s.out_channels, s.out_size) for s in layer_shapes(load_network(n))]
              for n in builtin_networks()}
    assert shapes["lenet-digits"][-1] == (10, 1)
    assert [s for s in shapes["cifar-small"] if s[1] == 4][0] == (128, 4)


def test_empty_accelerator_takes_every_default():
    assert load_accelerator({}) == AcceleratorConfig()


@pytest.mark.parametrize("data, message", [
    ({"fft": {"max_points": 48}}, "fft.max_points: must be a power of two, got 48"),
    ({"fft": {"max_points": 2048}}, "fft.max_points: must be between"),
    ({"fft": {"points": 64}}, "fft.points: unknown key"),
    ({"mac_array": {"rows": "8"}}, "mac_array.rows: must be an integer, got '8'"),
    ({"mac_array": {"rows": True}}, "mac_array.rows: must be an integer"),
    ({"mac_array": {"acc_bits": 64}}, "mac_array.acc_bits: must be between"),
    ({"formats": {"rounding": "even"}}, "formats.rounding: must be one of half_up, truncate"),
    ({"sram": {"name": "x"}}, "sram: must be a list"),
    ({"sram": [{"kbytes": 4}]}, "sram[0].name: required key is missing"),
    ({"sram": [{"name": "a"}, {"name": "a"}]}, "sram[1].name: duplicate buffer name 'a'"),
    ({"dram": {"bytes_per_cycle": float("nan")}}, "dram.bytes_per_cycle: must be finite"),
    ({"clock_mhz": -5}, "clock_mhz: must be between"),
    ({"formats": {"data_bits": 24}}, "mac_array.acc_bits: must hold one product of the widest operands "
                                     "(formats: 41 bits), got 40"),
    ({"energy": {"table": "x", "file": "y.yaml"}}, "energy: give either table or file"),
])
def test_bad_accelerator_values_name_their_key(data, message):
    with pytest.raises(ConfigError) as err:
        load_accelerator(data)
    assert str(err.value).startswith(message)


def _net(*layers, size=16, channels=1):
    return {"input": {"channels": channels, "size": size}, "layers": list(layers)}


DENSE = {"type": "dense", "classes": 10}


@pytest.mark.parametrize("data, message", [
    (_net({"type": "conv", "kernel": 17}, DENSE), "layers[0].kernel: kernel 17 is larger than its input"),
    (_net({"type": "pool", "size": 7}, DENSE), "layers[0].size: must be a positive even number, got 7"),
    (_net({"type": "pool", "size": 32}, DENSE), "layers[0].size: pool size 32 is larger than its input"),
    (_net({"type": "conv", "param": "spline"}, DENSE), "layers[0].param: must be one of sinc, full"),
    (_net({"type": "conv", "stride": 2}, DENSE), "layers[0].stride: unknown key"),
    (_net({"type": "relu"}, DENSE), "layers[0].type: must be one of conv, act, pool, dense"),
    (_net({"type": "conv"}), "layers[0].type: the last layer must be dense"),
    (_net(DENSE, {"type": "conv"}), "layers[0].type: dense must be the last layer"),
    (_net({"type": "pool", "size": 6}, {"type": "act", "kind": "spatial"}, DENSE),
     "layers[1].kind: spatial activation needs a power-of-two size"),
    (_net(DENSE, size=12), "input.size: must be a power of two, got 12"),
    ({"layers": []}, "layers: must be a non-empty list"),
    ({"inputs": {}}, "inputs: unknown key"),
])
def test_bad_network_values_name_their_key(data, message):
    with pytest.raises(ConfigError) as err:
        load_network(data)
    assert str(err.value).startswith(message)


def test_yaml_files_malformed_and_missing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("fft: {max_points: [1, 2\n")
    with pytest.raises(ConfigError, match=r"accelerator: malformed YAML .* line"):
        load_accelerator(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_accelerator(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="unknown network 'nope'"):
        load_network("nope")
    good = tmp_path / "acc.yaml"
    good.write_text(yaml.safe_dump({"fft": {"max_points": 256, "count": 4}}))
    assert load_accelerator(good).fft.max_points == 256


def test_zero_padding_grows_to_next_power_of_two():
    net = load_network(_net({"type": "conv", "kernel": 5, "padding": "zero"}, {"type": "pool", "size": 16}, DENSE))
    assert [(s.out_size) for s in layer_shapes(net)] == [32, 16, 1]


# A fuzzer: arbitrary (nested) YAML-like data must produce a config or a ConfigError, never
# any other exception.
_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True),
                  st.text(max_size=6), st.sampled_from(["sinc", "full", "zero", "pwl", "conv", "act", "pool",
                                                        "dense", "spatial", "default-45nm"]))
_keys = st.sampled_from(["fft", "max_points", "count", "radix", "mac_array", "rows", "sram", "name", "kbytes",
                         "layers", "type", "kernel", "size", "input", "channels", "classes", "segments",
                         "formats", "data_bits", "out_channels", "padding", "param", "kind", "training", "x"])
_data = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(_keys, inner, max_size=5)), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_data)
def test_fuzzed_config_dicts_raise_only_config_errors(data):
    for loader in (load_accelerator, load_network):
        try:
            loader(data if isinstance(data, dict) else {"x": data})
        except ConfigError:
            pass


@pytest.mark.parametrize("argv, key", [
    (["train", "--network", "nope"], "unknown network 'nope'"),
    (["verilog", "--accel", "{bad}.yaml", "-o", "x"], "cannot read"),
    (["train", "--frobnicate"], "unrecognized arguments"),
])
def test_cli_bad_input_is_one_line_exit_2(argv, key):
    proc = subprocess.run([sys.executable, "-m", "fdaccel", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_bad_yaml_keys_exit_2(tmp_path):
    f = tmp_path / "net.yaml"
    f.write_text("input: {size: 16}\nlayers:\n  - {type: pool, size: 5}\n  - {type: dense}\n")
    proc = subprocess.run([sys.executable, "-m", "fdaccel", "train", "--network", str(f)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip() == \
        "fdaccel: error: layers[0].size: must be a positive even number, got 5"


@pytest.mark.parametrize("text, message", [
    ("input: {size: 16}\nlayers: [\n", "network: malformed YAML"),
    ("input: {size: 16}\nlayers:\n  - {type: conv, kernal: 3}\n  - {type: dense}\n", "layers[0].kernal: unknown key"),
    ("input: {size: 8}\nlayers:\n  - {type: conv, kernel: 9}\n  - {type: dense}\n",
     "layers[0].kernel: kernel 9 is larger than its input (8x8)"),
    ("input: {size: 8}\nlayers:\n  - {type: pool, size: 16}\n  - {type: dense}\n",
     "layers[0].size: pool size 16 is larger than its input (8x8)"),
])
@pytest.mark.parametrize("command", ["train", "simulate"])
def test_cli_bad_network_files_exit_2_with_the_key(tmp_path, text, message, command):
    f = tmp_path / "net.yaml"
    f.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "fdaccel", command, "--network", str(f)],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
