"""Generated command lines: exit 0 (help, version) or 2 with one line, never anything else
(issue 18, part 5).  Each generated command line holds at least one bad option, so every
run must stop before any work; the others are drawn from valid and unusual values."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fdaccel.cli import main

COMMANDS = ["train", "simulate", "sweep", "verilog", "synth"]
#: Options every command checks before work, with values it must reject.
BAD = {
    "train": [["--epochs", "0"], ["--batch", "-3"], ["--batch", "70000"], ["--lr", "-1"], ["--lr", "nan"],
              ["--seed", "-1"], ["--json", ""], ["--json", "missing/r.json"], ["--network", "nope"],
              ["--network", "bad.yaml"], ["--accel", "nope.yaml"], ["--epochs", "x"]],
    "simulate": [["--batch", "0"], ["--batch", "70000"], ["--seed", "-1"], ["--json", ""], ["--trace", "t.txt"],
                 ["--trace", "missing/t.json"], ["--csv", "."], ["--plot", "file.txt"], ["--accel", "bad.yaml"],
                 ["--network", "deep.yaml"], ["--energy", "nope.yaml"], ["--energy", "latin1.yaml"]],
    "sweep": [["--set", "mac_array.rows=[4"], ["--set", "mac_array.rowz=4"], ["--set", "mac_array.rows=4,4"],
              ["--set", "=4"], ["--workers", "-1"], ["--pareto", "area,energy"], ["--pareto", "energy"],
              ["--resume", "nope.sqlite"], ["--store", "missing/s.sqlite"], ["--batch", "0"],
              ["--json", ""], ["--accel", "dup.yaml"]],
    "verilog": [["-o", "file.txt"], ["-o", "missing/rtl"], ["-o", ""], ["--accel", "bad.yaml", "-o", "rtl"]],
    "synth": [["--unit", "nope"], ["--unit", ""], ["--target", "ice40"], ["--json", "."]],
}
#: Options a command accepts, with usual and unusual values.
OTHER = {
    "train": [["--epochs", "1"], ["--batch", "8"], ["--seed", "3"], ["--spatial"], ["--fixed"], ["--lr", "0.01"],
              ["--network", "lenet-digits"], ["--data", "."]],
    "simulate": [["--batch", "4"], ["--seed", "0"], ["--network", "lenet-digits"], ["--accel", "default"],
                 ["--json", "r.json"], ["--trace", "t.json"], ["--energy", "default-45nm"], ["--data", "."]],
    "sweep": [["--set", "mac_array.rows=4,8"], ["--set", "dram.bytes_per_cycle=8"], ["--timing-only"],
              ["--workers", "0"], ["--batch", "4"], ["--pareto", "energy,latency"], ["--json", "s.json"]],
    "verilog": [["--accel", "default"]],
    "synth": [["--accel", "default"], ["--target", "ecp5"]],
}
NOISE = [["--frobnicate"], ["--batch"], ["--", "x"], ["-"], ["--jsön=é"], ["--help"], ["--version"]]


@st.composite
def command_lines(draw):
    cmd = draw(st.sampled_from(COMMANDS))
    parts = [draw(st.sampled_from(BAD[cmd]))]
    # other options, each given once (argparse keeps the last of a repeated option: a good
    # value after the bad one would run the command)
    others = [o for o in OTHER[cmd] if o[0] != parts[0][0]]
    if others:
        parts += draw(st.lists(st.sampled_from(others), max_size=3, unique_by=lambda o: o[0]))
    parts += draw(st.lists(st.sampled_from(NOISE), max_size=1)) if draw(st.booleans()) else []
    order = draw(st.permutations(parts))
    prefix = draw(st.sampled_from([[], ["--version"]])) if draw(st.integers(0, 9)) == 0 else []
    return prefix + [cmd] + [token for part in order for token in part]


class WorkStarted(Exception):
    """A generated command line got past its checks: it should not have."""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    import fdaccel.commands.simulate
    import fdaccel.commands.sweep
    import fdaccel.commands.synth
    import fdaccel.commands.train
    import fdaccel.commands.verilog

    def started(*args, **kw):
        raise WorkStarted("the command started its work")

    for module, name in ((fdaccel.commands.simulate, "simulate"), (fdaccel.commands.sweep, "_run"),
                         (fdaccel.commands.synth, "synth_units"), (fdaccel.commands.train, "train"),
                         (fdaccel.commands.verilog, "write_verilog")):
        monkeypatch.setattr(module, name, started, raising=False)
    (tmp_path / "bad.yaml").write_text("fft: {max_points: [1, 2\n")
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 500 + "]" * 500 + "\n")
    (tmp_path / "dup.yaml").write_text("clock_mhz: 100\nclock_mhz: 200\n")
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (tmp_path / "file.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=command_lines())
def test_generated_command_lines_exit_0_or_2_with_one_line(workdir, capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    if status == 0:
        assert "--help" in argv or "--version" in argv, (argv, out[-500:])
    else:
        assert status == 2, (argv, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("fdaccel: error: "), (argv, err)
    left = sorted(p.name for p in workdir.iterdir())
    assert left == ["bad.yaml", "deep.yaml", "dup.yaml", "file.txt", "latin1.yaml"], (argv, left)
