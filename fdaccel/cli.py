"""The ``fdaccel`` command line: train | simulate | compare | sweep | verilog | synth.

Bad input (a ConfigError, a missing file, a bad argument) prints one line and exits with
status 2, before any work; no traceback.
"""
from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Sequence
from typing import Any, NoReturn

from accel.config import ConfigError

from .options import (
    ActKind,
    CompareOptions,
    SimulateOptions,
    SweepOptions,
    SynthOptions,
    TrainMode,
    TrainOptions,
    VerilogOptions,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage too)
        raise ConfigError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="fdaccel", description="Frequency-domain CNN training accelerators: "
                "golden model, cycle-level simulator, RTL.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a network with the golden (or fixed-point) model")
    t.add_argument("--network", default=None, help="built-in name or YAML file (default lenet-digits)")
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--batch", type=int, default=None)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--json", default=None, help="write a JSON report here")
    t.add_argument("--data", default=None, help="folder with MNIST IDX or CIFAR-10 binary files")
    mode = t.add_mutually_exclusive_group()
    mode.add_argument("--spatial", action="store_true", help="train the spatial-domain reference instead")
    mode.add_argument("--fixed", action="store_true", help="train with the bit-accurate fixed-point model")
    t.add_argument("--accel", default=None, help="accelerator YAML (number formats for --fixed)")

    m = sub.add_parser("simulate", help="time one training iteration on the cycle-level model")
    m.add_argument("--accel", default=None, help="accelerator YAML (default: the embedded default)")
    m.add_argument("--network", default=None, help="built-in name or YAML file (default lenet-digits)")
    m.add_argument("--batch", type=int, default=None, help="batch size (default: the network's)")
    m.add_argument("--seed", type=int, default=None, help="initial weights and the shuffle that picks the batch")
    m.add_argument("--data", default=None, help="folder with MNIST IDX or CIFAR-10 binary files "
                   "(without it those networks simulate on seeded random images)")
    m.add_argument("--json", default=None, help="write a JSON report here")
    m.add_argument("--trace", default=None, help="write every transaction here (CSV)")
    m.add_argument("--energy", default=None,
                   help="energy table: built-in name, our YAML table or an Accelergy ERT (default: the accelerator's)")
    m.add_argument("--csv", default=None, help="write the energy breakdown (layer x phase x component) here")
    m.add_argument("--plot", default=None, metavar="DIR", help="write energy, comparison and timeline PNGs here")

    c = sub.add_parser("compare", help="energy to accuracy: frequency designs vs the spatial CNN, trained to a target")
    c.add_argument("--network", default=None, help="built-in name or YAML file (default lenet-digits)")
    c.add_argument("--accel", default=None, help="accelerator YAML (default: the embedded default)")
    c.add_argument("--target", type=float, default=0.95, help="target test accuracy in (0, 1] (default 0.95)")
    c.add_argument("--seeds", default="0,1,2,3", help="training seeds, comma separated (default 0,1,2,3)")
    c.add_argument("--lrs", default="0.005,0.01,0.02,0.05", help="learning-rate grid, comma separated")
    c.add_argument("--epochs", type=int, default=20, help="training budget per run, in epochs (default 20)")
    c.add_argument("--eval-every", type=int, default=10, help="evaluate the test accuracy every N iterations")
    c.add_argument("--batch", type=int, default=None, help="batch size (default: the network's)")
    c.add_argument("--kinds", default="pwl,spatial,linear", help="activation kinds of the frequency network")
    c.add_argument("--no-fixed", action="store_true", help="skip the fixed-point (FixedNet) check")
    c.add_argument("--no-cache", action="store_true", help="do not update the accuracy cache")
    c.add_argument("--data", default=None, help="folder with MNIST IDX or CIFAR-10 binary files")
    c.add_argument("--energy", default=None, help="energy table (default: the accelerator's)")
    c.add_argument("--json", default=None, help="write the comparison record here")

    w = sub.add_parser("sweep", help="simulate a grid of accelerator variants (design-space exploration)")
    w.add_argument("--accel", default=None, help="base accelerator YAML (default: the embedded default)")
    w.add_argument("--network", default=None, help="built-in name or YAML file (default lenet-digits)")
    w.add_argument("--batch", type=int, default=None)
    w.add_argument("--set", action="append", metavar="KEY=V1,V2",
                   help="accelerator key (dotted path; sram.<buffer>.<field>) and values; repeat for a grid")
    w.add_argument("--energy", default=None, help="energy table (default: the accelerator's)")
    w.add_argument("--data", default=None, help="folder with MNIST IDX or CIFAR-10 binary files")
    w.add_argument("--json", default=None)
    w.add_argument("--csv", default=None)

    v = sub.add_parser("verilog", help="emit Verilog for every unit of an accelerator")
    v.add_argument("--accel", default=None)
    v.add_argument("-o", "--output", required=True, help="output folder")

    s = sub.add_parser("synth", help="synthesize units for an FPGA and report resources and Fmax")
    s.add_argument("--accel", default=None)
    s.add_argument("--unit", default=None, help="one unit (default: all)")
    s.add_argument("--target", default="ecp5", choices=["ecp5"])
    s.add_argument("--json", default=None)
    return p


def _items(text: str, kind: type, what: str) -> list[Any]:
    """``a,b,c`` -> a list of ``kind``; a bad item is a ConfigError naming the option."""
    try:
        return [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"compare --{what}: expected comma-separated {kind.__name__}s, got {text!r}") from None


def _options(args: argparse.Namespace) -> Any:
    """The typed options of the parsed command (see :mod:`fdaccel.options`)."""
    a = vars(args)
    if args.command == "train":
        mode: TrainMode = "fixed" if args.fixed else "spatial" if args.spatial else "frequency"
        return TrainOptions(network=a["network"], epochs=a["epochs"], batch=a["batch"], lr=a["lr"],
                            seed=a["seed"], json=a["json"], data=a["data"], mode=mode, accel=a["accel"])
    if args.command == "simulate":
        return SimulateOptions(**{k: a[k] for k in ("accel", "network", "batch", "seed", "data", "json", "trace",
                                                    "energy", "csv", "plot")})
    if args.command == "compare":
        kinds = tuple(_items(a["kinds"], str, "kinds"))
        for k in kinds:
            if k not in ("pwl", "spatial", "linear"):
                raise ConfigError(f"compare --kinds: choose from pwl, spatial, linear, got {k!r}")
        return CompareOptions(network=a["network"], accel=a["accel"], target=a["target"],
                              seeds=tuple(_items(a["seeds"], int, "seeds")), lrs=tuple(_items(a["lrs"], float, "lrs")),
                              epochs=a["epochs"], eval_every=a["eval_every"], batch=a["batch"],
                              kinds=typing.cast(tuple[ActKind, ...], kinds), fixed_check=not a["no_fixed"],
                              data=a["data"], energy=a["energy"], json=a["json"], cache=not a["no_cache"])
    if args.command == "sweep":
        return SweepOptions(accel=a["accel"], network=a["network"], batch=a["batch"], sets=tuple(a["set"] or ()),
                            energy=a["energy"], data=a["data"], json=a["json"], csv=a["csv"])
    if args.command == "verilog":
        return VerilogOptions(output=a["output"], accel=a["accel"])
    return SynthOptions(accel=a["accel"], unit=a["unit"], target=a["target"], json=a["json"])


def _run(command: str, opts: Any) -> int:
    """Import the command's body only when it runs (``train`` needs no Amaranth)."""
    if command == "train":
        from .commands.train import run_train
        return run_train(opts)
    if command == "simulate":
        from .commands.simulate import run_simulate
        return run_simulate(opts)
    if command == "compare":
        from .commands.compare import run_compare
        return run_compare(opts)
    if command == "sweep":
        from .commands.sweep import run_sweep
        return run_sweep(opts)
    if command == "verilog":
        from .commands.verilog import run_verilog
        return run_verilog(opts)
    from .commands.synth import run_synth
    return run_synth(opts)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return _run(args.command, _options(args))
    except ConfigError as exc:
        print(f"fdaccel: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fdaccel: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
