"""Reports: text tables, and files written whole or not at all."""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from accel.config import ConfigError


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename: whole or not at all.

    The temporary file (``.<name>.<random>.tmp`` beside ``path``) is created inside the
    block that removes it on any exception, a KeyboardInterrupt from a signal included:
    its name is chosen before it exists, so wherever the signal lands, nothing is left."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # the umask applies
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except FileExistsError:              # not ours: a 48-bit name collided; leave it
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def check_output(path: str | None, option: str, folder: bool = False) -> None:
    """ConfigError, before any work, if the output ``path`` of ``option`` (``simulate
    --json``) cannot be written: an empty name, a folder where a file is meant (or a file
    where a folder is, with ``folder``), a parent folder that does not exist or that is
    not writable (permissions, a read-only filesystem).  None: the option was not given.
    A ``folder`` output may not exist yet (it is created, in an existing parent)."""
    if path is None:
        return
    if not path.strip():
        raise ConfigError(f"{option}: empty path")
    p = Path(path)
    try:
        if folder and p.is_dir():
            parent = p
        elif p.is_dir():
            raise ConfigError(f"{option}: {path!r} is a folder; give a file name")
        elif folder and p.exists():
            raise ConfigError(f"{option}: {path!r} is a file; give a folder")
        else:
            parent = p.parent
        if not parent.is_dir():
            raise ConfigError(f"{option}: folder {str(parent)!r} does not exist")
    except (OSError, ValueError) as exc:      # a name too long, a NUL byte
        raise ConfigError(f"{option}: {path!r:.80}: {getattr(exc, 'strerror', None) or exc}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        why = "a read-only filesystem" if _read_only(parent) else "no permission"
        raise ConfigError(f"{option}: cannot write in {str(parent)!r} ({why})")


def check_outputs(outputs: dict[str, str | None], folders: dict[str, str | None] | None = None) -> None:
    """:func:`check_output` for every file (``outputs``: option -> path) and folder
    output of a command; two options naming the same path are an error too."""
    seen: dict[str, str] = {}
    for group, folder in ((outputs, False), (folders or {}, True)):
        for option, path in group.items():
            check_output(path, option, folder)
            if path is None:
                continue
            key = os.path.realpath(path)
            if key in seen:
                raise ConfigError(f"{option}: {path!r} is also the output of {seen[key]}")
            seen[key] = option


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def write_json(path: str | Path, obj: Any) -> Path:
    """Serialize first (a failure writes nothing), then write atomically."""
    return write_atomic(path, json.dumps(obj, indent=2, sort_keys=False, default=_jsonable, allow_nan=False) + "\n")


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], floatfmt: str = ".4g") -> str:
    """A plain aligned text table; numbers right-aligned."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [all(_is_num(r[i]) for r in body) if body else False for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in body]
    return "\n".join(out)


def _is_num(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- CSV and plots

def write_csv(path: str | Path, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """A CSV file, built in memory first, then written atomically."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return write_atomic(path, buf.getvalue())
