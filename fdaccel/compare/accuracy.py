"""Training to a target test accuracy: iterations needed, per seed and learning rate.

Protocol (deterministic for a seed): shuffled mini-batches of the network's batch size,
the order drawn from ``numpy.random.default_rng(seed)`` each epoch, the model initialized
from the same seed; the test accuracy is evaluated every ``eval_every`` iterations; a run
stops at the first evaluation that reaches the target (its iterations are the iterations
to target and its accuracy the one reached), at ``max_iterations``, or when the loss is
no longer finite (diverged).  A run that does not reach the target reports the best
accuracy it saw.

Per design, every learning rate of a small grid is run on every seed; the learning rate
chosen is the one with the most seeds reaching the target, then the lowest median
iterations to target, then the highest median accuracy (:func:`choose`).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accel.data import Dataset

from ..training import Trainable, accuracy


@dataclass(frozen=True)
class Run:
    """One training run to the target."""
    seed: int
    lr: float
    iterations: int | None          # iterations to the target; None: not reached
    accuracy: float                 # at the target, else the best seen
    iterations_run: int
    diverged: bool = False
    curve: tuple[tuple[int, float], ...] = ()

    @property
    def reached(self) -> bool:
        return self.iterations is not None

    def as_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "lr": self.lr, "reached": self.reached, "iterations_to_target": self.iterations,
                "accuracy": self.accuracy, "iterations_run": self.iterations_run, "diverged": self.diverged,
                "curve": [list(p) for p in self.curve]}


def train_to_target(model: Trainable, data: Dataset, batch: int, seed: int, lr: float, target: float,
                    max_iterations: int, eval_every: int) -> Run:
    """Train ``model`` until its test accuracy reaches ``target`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = len(data.y_train)
    it, best = 0, 0.0
    curve: list[tuple[int, float]] = []
    while it < max_iterations:
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            loss = model.train_step(data.x_train[idx], data.y_train[idx])
            it += 1
            if not math.isfinite(loss):
                return Run(seed, lr, None, best, it, True, tuple(curve))
            if it % eval_every == 0:
                acc = accuracy(model, data.x_test, data.y_test)
                curve.append((it, acc))
                best = max(best, acc)
                if acc >= target:
                    return Run(seed, lr, it, acc, it, False, tuple(curve))
            if it >= max_iterations:
                break
    return Run(seed, lr, None, best, it, False, tuple(curve))


def _median(xs: list[float]) -> float:
    return float(np.median(xs)) if xs else math.nan


@dataclass(frozen=True)
class Summary:
    """Runs of one design at one learning rate, over seeds."""
    lr: float
    runs: tuple[Run, ...]

    @property
    def reached(self) -> int:
        return sum(r.reached for r in self.runs)

    def iterations_median(self) -> float:
        """Median iterations to target over seeds; infinite if half or more did not reach it."""
        its = sorted(r.iterations if r.iterations is not None else math.inf for r in self.runs)
        return float(np.median(its)) if its else math.inf

    def as_dict(self) -> dict[str, Any]:
        accs = [r.accuracy for r in self.runs]
        reached = [r.iterations for r in self.runs if r.iterations is not None]
        med = self.iterations_median()
        return {"lr": self.lr, "seeds": [r.seed for r in self.runs], "reached": self.reached,
                "iterations_median": med if math.isfinite(med) else None,
                "iterations_range": [min(reached), max(reached)] if reached else None,
                "accuracy_median": _median(accs), "accuracy_range": [min(accs), max(accs)] if accs else None,
                "runs": [r.as_dict() for r in self.runs]}


def choose(summaries: list[Summary]) -> Summary:
    """The learning rate with the most seeds at the target, then the fewest median
    iterations, then the highest median accuracy (then the smaller rate)."""
    return min(summaries, key=lambda s: (-s.reached, s.iterations_median(),
                                         -_median([r.accuracy for r in s.runs]), s.lr))


@dataclass
class Sweep:
    """All runs of one design over a grid of learning rates and seeds."""
    summaries: list[Summary] = field(default_factory=list)

    @property
    def chosen(self) -> Summary:
        return choose(self.summaries)


def sweep(make: Callable[[float, int], Trainable], data: Dataset, batch: int, lrs: tuple[float, ...],
          seeds: tuple[int, ...], target: float, max_iterations: int, eval_every: int) -> Sweep:
    """``make(lr, seed)`` trained to the target for every learning rate and seed."""
    out = Sweep()
    for lr in lrs:
        runs = tuple(train_to_target(make(lr, s), data, batch, s, lr, target, max_iterations, eval_every)
                     for s in seeds)
        out.summaries.append(Summary(lr, runs))
    return out
