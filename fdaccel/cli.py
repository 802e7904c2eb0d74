"""The ``fdaccel`` command line: train | simulate | compare | sweep | verilog | synth | analyze.

Bad input (a ConfigError, a missing file, a bad argument) prints one line and exits with
status 2, before any work; no traceback.  An interruption -- Ctrl-C (SIGINT) or SIGTERM,
at any instant from start-up on -- prints one line (``fdaccel: interrupted``) and exits
with status 130; output files are whole or absent.  A closed standard output
(``fdaccel ... | head -1``) ends the command quietly with status 141, as SIGPIPE would.
An unexpected exception prints one line and exits with status 1 (``FDACCEL_DEBUG=1``
shows its traceback).

This module imports only the standard library at import time, so that the window
before the handlers are in place is as short as Python allows; each command body is
imported when it runs (``train`` needs no Amaranth, ``simulate`` no Dask).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import typing
from collections.abc import Sequence
from typing import Any, NoReturn

#: Exit statuses.
EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE, EXIT_INTERNAL = 2, 130, 141, 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage too)
        from accel.config import ConfigError
        raise ConfigError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    from .version import code_version

    p = _Parser(prog="fdaccel", description="Frequency-domain CNN training accelerators: "
                "golden model, cycle-level simulator, RTL.")
    p.add_argument("--version", action="version", version=f"fdaccel {code_version()}")
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
    m.add_argument("--trace", default=None, help="write every transaction here: F.json a Chrome / Perfetto "
                   "trace (ui.perfetto.dev, chrome://tracing), F.csv a table")
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
    w.add_argument("--timing-only", action="store_true",
                   help="time each point without computing its values (the cycles do not depend on them)")
    w.add_argument("--workers", type=int, default=None, metavar="N",
                   help="points run on a local Dask cluster of N worker processes (default: one per CPU; "
                        "0: in this process, one after another)")
    w.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the points on an existing Dask cluster (tcp://host:8786) instead")
    w.add_argument("--store", default=None, metavar="FILE",
                   help="keep every finished point in this SQLite store (F.parquet / F.csv: the store F.sqlite "
                        "and that export of the sweep's points); points already there are not run again")
    w.add_argument("--resume", default=None, metavar="STORE",
                   help="continue the sweep recorded in STORE (its options; nothing else may be given)")
    w.add_argument("--pareto", default=None, metavar="OBJ,OBJ[,OBJ]",
                   help="mark the points no other point beats on every objective (energy, latency, cycles, "
                        "dram, energy_per_image), print them, and with --plot write pareto.csv and pareto.png")
    w.add_argument("--plot", default=None, metavar="DIR", help="folder for the Pareto front's CSV and PNG")
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


def _items(text: str, kind: type, what: str) -> list[Any]:
    """``a,b,c`` -> a list of ``kind``; a bad item is a ConfigError naming the option."""
    from accel.config import ConfigError

    try:
        return [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"compare --{what}: expected comma-separated {kind.__name__}s, got {text!r}") from None


def _options(args: argparse.Namespace) -> Any:
    """The typed options of the parsed command (see :mod:`fdaccel.options`)."""
    from accel.config import ConfigError

    from .options import (
        ActKind,
        AnalyzeOptions,
        CompareOptions,
        SimulateOptions,
        SweepOptions,
        SynthOptions,
        TrainMode,
        TrainOptions,
        VerilogOptions,
    )

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
                            energy=a["energy"], data=a["data"], json=a["json"], csv=a["csv"],
                            timing_only=a["timing_only"], workers=a["workers"], scheduler=a["scheduler"],
                            store=a["store"], resume=a["resume"],
                            pareto=None if a["pareto"] is None else tuple(a["pareto"].split(",")), plot=a["plot"])
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
    if command == "compare":
        from .commands.compare import run_compare
        return run_compare(opts)
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


def say(message: str) -> None:
    """Print one line on stderr; on a terminal, first clear the line a progress bar may
    still hold (an interruption can land while a bar is being drawn)."""
    clear = "\r\x1b[K" if sys.stderr.isatty() else ""
    print(f"{clear}{message}", file=sys.stderr)


def interrupted(exc: BaseException | None = None) -> int:
    """Print the one line of an interruption (with what ``exc`` says, if anything) and
    return its exit status; further signals are ignored while it is printed."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    detail = str(exc) if exc is not None else ""
    say(f"fdaccel: interrupted{': ' + detail if detail else ''}")
    return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``argv``: the arguments, default ``sys.argv[1:]``); returns the
    exit status.  SIGTERM is handled as SIGINT while it runs."""
    previous: dict[int, Any] = {}
    try:
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        from accel.config import ConfigError

        try:
            args = _parser().parse_args(argv)
            return _run(args.command, _options(args))
        except ConfigError as exc:
            say(f"fdaccel: error: {exc}")
            return EXIT_BAD_INPUT
        except SystemExit as exc:    # --help, --version
            return exc.code if isinstance(exc.code, int) else 0
        except BrokenPipeError:
            # the reader went away (| head): send what is left of stdout nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except Exception as exc:
            if os.environ.get("FDACCEL_DEBUG"):
                raise
            say(f"fdaccel: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
                f"(FDACCEL_DEBUG=1 shows where)")
            return EXIT_INTERNAL
    except KeyboardInterrupt as exc:
        return interrupted(exc)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
