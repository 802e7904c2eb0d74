"""The ``fdaccel`` command line: train | simulate | sweep | verilog | synth | analyze.

Bad input (a ConfigError, a missing file, a bad argument) prints one line and exits with
status 2, before any work; no traceback.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from accel.config import ConfigError

from .options import (
    AnalyzeOptions,
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

    a = sub.add_parser("analyze", help="measure a frequency-domain effect (propagation, attenuation, upsampling, "
                       "fprinciple, receptive, pooling, robustness)")
    a.add_argument("kind", help="the analysis")
    a.add_argument("--network", default=None, help="built-in name or YAML file (default: the analysis's own)")
    a.add_argument("--epochs", type=int, default=None, help="training epochs (default: the analysis's)")
    a.add_argument("--seed", type=int, default=None, help="initial weights, shuffles and random draws (default 0)")
    a.add_argument("--json", default=None, help="write the measurements here")
    a.add_argument("--plot", default=None, metavar="DIR", help="write the figures (PNG) here")
    return p


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
    if args.command == "sweep":
        return SweepOptions(accel=a["accel"], network=a["network"], batch=a["batch"], sets=tuple(a["set"] or ()),
                            energy=a["energy"], data=a["data"], json=a["json"], csv=a["csv"])
    if args.command == "verilog":
        return VerilogOptions(output=a["output"], accel=a["accel"])
    if args.command == "analyze":
        return AnalyzeOptions(**{k: a[k] for k in ("kind", "network", "epochs", "seed", "json", "plot")})
    return SynthOptions(accel=a["accel"], unit=a["unit"], target=a["target"], json=a["json"])


def _run(command: str, opts: Any) -> int:
    """Import the command's body only when it runs (``train`` needs no Amaranth)."""
    if command == "train":
        from .commands.train import run_train
        return run_train(opts)
    if command == "simulate":
        from .commands.simulate import run_simulate
        return run_simulate(opts)
    if command == "sweep":
        from .commands.sweep import run_sweep
        return run_sweep(opts)
    if command == "verilog":
        from .commands.verilog import run_verilog
        return run_verilog(opts)
    if command == "analyze":
        from .commands.analyze import run_analyze
        return run_analyze(opts)
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
