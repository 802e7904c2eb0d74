"""The hdl package's data files: C++ harnesses, behavioural models, Verilator waivers.

They are real files (``hdl/harness/*.cpp``, ``hdl/models/*.v``, ``hdl/waivers/*.vlt``), so
a C++ compiler and Verilator check them as they are, shipped as package data and read
with :mod:`importlib.resources`.
"""
from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

#: The folders of package data, each with the suffix of its files.
FOLDERS = {"harness": ".cpp", "models": ".v", "waivers": ".vlt"}


def data_file(folder: str, name: str) -> Traversable:
    """File ``name`` of the data folder ``folder`` (a key of :data:`FOLDERS`)."""
    if folder not in FOLDERS:
        raise ValueError(f"folder: expected one of {sorted(FOLDERS)}, got {folder!r}")
    return resources.files("hdl").joinpath(folder).joinpath(name)


def data_text(folder: str, name: str) -> str:
    """The text of :func:`data_file`."""
    return data_file(folder, name).read_text()


def data_names(folder: str) -> list[str]:
    """The files of data folder ``folder``, sorted."""
    suffix = FOLDERS[folder]
    return sorted(f.name for f in resources.files("hdl").joinpath(folder).iterdir() if f.name.endswith(suffix))
