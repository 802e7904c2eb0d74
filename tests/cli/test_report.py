"""Report writers: whole files or nothing; tables, CSV, JSON and PNGs that parse."""
from __future__ import annotations

import csv
import json

import pytest

from fdaccel.plots import plot_paired, plot_stacked, plot_timeline
from fdaccel.report import table, write_atomic, write_csv, write_json

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_json_and_csv_parse_back(tmp_path):
    write_json(tmp_path / "r.json", {"a": [1, 2.5], "b": "x"})
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": [1, 2.5], "b": "x"}
    write_csv(tmp_path / "r.csv", ["unit", "start"], [["fft", 3], ["cmac", 7]])
    assert list(csv.reader((tmp_path / "r.csv").read_text().splitlines())) == [["unit", "start"], ["fft", "3"],
                                                                           ["cmac", "7"]]


def test_failed_serialization_leaves_the_old_file_untouched(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_json(target, {"bad": object()})
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_interrupted_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "x.bin"
    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # not str or bytes: fails inside the write
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_plots_are_valid_pngs(tmp_path):
    p1 = plot_stacked(tmp_path / "a.png", ["conv1/fwd", "conv1/bwd"], {"cmac": [3, 4], "fft": [1, 2]},
                      "pJ", "energy")
    p2 = plot_paired(tmp_path / "b.png", ["conv1", "conv2"], {"frequency": [10, 20], "spatial": [30, 5]},
                     "cycles", "compare")
    spans = [("fft", i * 10, i * 10 + 8, "forward") for i in range(50)] + [("cmac", 5, 400, "backward-data")]
    p3 = plot_timeline(tmp_path / "c.png", spans, "timeline", max_spans=10)
    for p in (p1, p2, p3):
        data = p.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000


def test_table_aligns_numbers_right():
    text = table(["name", "cycles"], [["conv1", 12], ["dense", 3456]])
    lines = text.splitlines()
    assert lines[2].endswith("   12") and lines[3].endswith(" 3456")
