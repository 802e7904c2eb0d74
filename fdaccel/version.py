"""What code produced a result: the distribution's version and a digest of its sources.

The digest covers every Python file and embedded configuration of the packages that
compute results (``accel``, ``sim``, ``fdaccel``), so it changes with any edit, committed
or not; the sweep store keys its points with it, so that a resume after a code change
recomputes them instead of reusing stale ones.
"""
from __future__ import annotations

import functools
import hashlib
from importlib import resources

#: The packages whose sources decide a simulated point's results.
SOURCE_PACKAGES = ("accel", "sim", "fdaccel")


@functools.cache
def version() -> str:
    """The installed distribution's version (``0+unknown`` from a never-installed tree)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("fdaccel")
    except PackageNotFoundError:
        return "0+unknown"


@functools.cache
def source_digest() -> str:
    """SHA-256 (hex, 16 digits) of the ``.py`` and ``.yaml`` files of :data:`SOURCE_PACKAGES`
    as imported (paths relative to each package, in sorted order)."""
    h = hashlib.sha256()
    for package in SOURCE_PACKAGES:
        root = resources.files(package)
        stack = [(root, "")]
        files = []
        while stack:
            node, rel = stack.pop()
            for child in node.iterdir():
                name = f"{rel}/{child.name}"
                if child.is_dir():
                    if child.name != "__pycache__":
                        stack.append((child, name))
                elif child.name.endswith((".py", ".yaml")):
                    files.append((name, child))
        for name, child in sorted(files, key=lambda f: f[0]):
            h.update(f"{package}{name}\0".encode())
            h.update(child.read_bytes())
            h.update(b"\0")
    return h.hexdigest()[:16]


def code_version() -> str:
    """``<version>+src.<digest>``: the distribution's version and :func:`source_digest`."""
    return f"{version()}+src.{source_digest()}"
