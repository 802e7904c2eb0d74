"""Text tables of a comparison (:func:`fdaccel.compare.run.compare_network`'s record)."""
from __future__ import annotations

from typing import Any

from ..report import table


def _acc(acc: dict[str, Any] | None) -> tuple[str, str, str]:
    if acc is None:
        return "not measured (no data)", "-", "-"
    lo, hi = acc["accuracy_range"]
    its = acc["iterations_median"]
    rng = acc["iterations_range"]
    reached = f"{acc['reached']}/{len(acc['seeds'])}"
    it_text = (f"{its:g} [{rng[0]}-{rng[1]}] ({reached})" if its is not None
               else f"not reached ({reached}; best {acc['accuracy_range'][1]:.3f})")
    return f"{acc['accuracy_median']:.3f} [{lo:.3f}-{hi:.3f}]", it_text, f"{acc['lr']:g}"


def _num(v: float | None, scale: float, digits: int = 3) -> str:
    return "-" if v is None else f"{v * scale:.{digits}g}"


def design_rows(result: dict[str, Any]) -> list[list[Any]]:
    """One row per design (and the equal-area spatial CNN)."""
    rows = []
    recs = list(result["designs"].values())
    eq = result["spatial_equal_area"]
    for rec in recs + [eq]:
        c, t = rec["cost"], rec["to_target"]
        label = rec["label"] + (" (equal mult.)" if rec["label"] == "spatial CNN" else "")
        acc, its, lr = _acc(rec["accuracy"])
        rows.append([label, f"{c['mac_array'][0]}x{c['mac_array'][1]}", acc, its, lr, c["cycles"],
                     _num(c["energy_pj"], 1e-6), _num(c["static_pj"] / c["energy_pj"], 100, 2),
                     _num(t["time_s"], 1e3), _num(t["energy_pj"], 1e-9), f"{c['area_mm2']:.3f}",
                     _num(c["edp_js"], 1e12), _num(t["edp_js"], 1e6)])
    return rows


DESIGN_HEADERS = ["design", "array", "accuracy med [range]", "iterations to target med [range] (seeds)", "lr",
                  "cycles/iter", "uJ/iter", "static%", "ms to target", "mJ to target", "mm2", "EDP/iter pJs",
                  "EDP to target uJs"]


def ratio_rows(result: dict[str, Any]) -> list[list[Any]]:
    """spatial / frequency for each frequency kind, at equal multipliers and at equal area."""
    rows = []
    for key, by in result["ratios"].items():
        for basis, r in by.items():
            def fmt(v: float | None) -> str:
                return "-" if v is None else f"{v:.2f}x"
            fa, sa = r["accuracy_frequency"], r["accuracy_spatial"]
            rows.append([result["designs"][key]["label"], basis.replace("_", " "),
                         "-" if fa is None else f"{fa:.3f}", "-" if sa is None else f"{sa:.3f}",
                         fmt(r["cycles_per_iteration"]), fmt(r["energy_per_iteration"]), fmt(r["edp_per_iteration"]),
                         fmt(r["time_to_target"]), fmt(r["energy_to_target"]), fmt(r["edp_to_target"]),
                         f"{r['area']:.2f}"])
    return rows


RATIO_HEADERS = ["frequency design", "spatial at", "acc freq", "acc spatial", "cycles/iter", "energy/iter",
                 "EDP/iter", "time to target", "energy to target", "EDP to target", "area s/f"]


def fixed_rows(result: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for rec in result["designs"].values():
        fc = rec.get("fixed_check")
        if fc:
            rows.append([rec["label"], fc["seed"], f"{fc['lr']:g}", f"{fc['accuracy']:.4f}",
                         fc["iterations_to_target"] if fc["iterations_to_target"] is not None else "not reached",
                         f"{fc['golden_accuracy']:.4f}",
                         fc["golden_iterations_to_target"] if fc["golden_iterations_to_target"] is not None
                         else "not reached"])
    return rows


def text_report(result: dict[str, Any]) -> str:
    """The tables ``fdaccel compare`` prints for one network."""
    s = result["settings"]
    grid = ",".join(f"{x:g}" for x in s["lr_grid"])
    head = (f"{result['network']} ({result['dataset']}), batch {result['batch']}, target test accuracy "
            f"{s['target']:g}, seeds {','.join(map(str, s['seeds']))}, lr grid {grid}, "
            f"at most {s['max_epochs']} epochs, evaluated every {s['eval_every']} iterations; table {result['table']}, "
            f"DRAM {result['dram_technology']}")
    out = [head]
    if not result["accuracy_measured"]:
        out.append(result["accuracy_note"] + ": per-iteration costs only (give --data DIR)")
    out.append(table(DESIGN_HEADERS, design_rows(result)))
    out.append("(time and energy to target = median iterations to target x the cycle model's time and energy "
               f"per iteration; equal area: the systolic array that fills the frequency design's "
               f"{result['area_budget_mm2']:.3f} mm^2)")
    out.append(table(RATIO_HEADERS, ratio_rows(result)))
    out.append("(spatial / frequency: above 1 the frequency design wins)")
    fixed = fixed_rows(result)
    if fixed:
        out.append(table(["fixed-point check", "seed", "lr", "FixedNet acc", "FixedNet iters", "golden acc",
                          "golden iters"], fixed))
    return "\n\n".join(out)
