"""Generated configurations: real ones with keys dropped, added and retyped load or raise
ConfigError, and nothing else (issue 18: TypeError, OverflowError and RecursionError
escaped before)."""
from __future__ import annotations

import copy
import functools

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel.config import ConfigError, as_dict, builtin_networks, load_accelerator, parse_network
from accel.energy import load_table
from accel.network import load_network

BASES = [("accelerator", as_dict(load_accelerator()))] + [("network", as_dict(parse_network(n)))
                                                          for n in builtin_networks()]

# values of every YAML kind, and the awkward ones: huge integers, non-finite floats, deep lists
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.integers(10 ** 300, 10 ** 400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(["conv", "act", "pool", "dense", "sinc", "zero", "pwl", "digits", "half_up", "act", "weight"]),
    st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.sampled_from(["type", "name", "x"]),
                                                               st.integers(0, 3), max_size=2),
    st.integers(1, 60).map(lambda depth: functools.reduce(lambda inner, _: [inner], range(depth), [])),
)


def _paths(node, path=()):
    """Every (path, value) in a nested dict/list."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _mutate(data, draw):
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p, _ in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["drop", "add", "retype"]))
        if op == "drop":
            del parent[path[-1]]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "name", "type", "kind", "kernel", "size", "rows"]))] = draw(ODD)
        elif op == "add":
            parent.append(draw(ODD))
        else:
            parent[path[-1]] = draw(ODD)
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_configurations_raise_only_config_errors(data):
    kind, base = data.draw(st.sampled_from(BASES))
    mutated = _mutate(base, data.draw)
    loader = load_accelerator if kind == "accelerator" else load_network
    try:
        loader(mutated if isinstance(mutated, dict) else {"x": mutated})
    except ConfigError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_configuration_files_raise_only_config_errors(tmp_path, data):
    """The same through YAML files (also as energy tables)."""
    kind, base = data.draw(st.sampled_from(BASES))
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump(_mutate(base, data.draw)))
    for loader in ((load_accelerator if kind == "accelerator" else load_network), load_table):
        try:
            loader(f)
        except ConfigError:
            pass
