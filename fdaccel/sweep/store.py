"""The results store of sweeps: SQLite, written by the sweep's client process only.

One row per finished point, keyed by :func:`point_key`, the SHA-256 of everything that
decides the point's results: the full accelerator and network configurations, the batch,
the energy table's contents, whether values were computed (and from which data), and the
code (:func:`fdaccel.version.code_version`: the version and a digest of the sources) -- so
re-running a sweep skips the points already there, and a sweep after a code or
configuration change recomputes what changed instead of reusing stale rows.

Points are stored as they arrive, each batch in one transaction (``INSERT`` + ``COMMIT``):
a point is in the store whole or not at all, whatever interrupts the process, and SQLite's
default rollback journal exists only during a transaction, so a closed store is one file.
The ``sweeps`` table records each sweep's definition; ``fdaccel sweep --resume`` continues
the latest.

``--store F.parquet`` (or ``F.csv``) means the SQLite store ``F.sqlite`` and, when the
sweep completes, that export of its points (written whole, through a rename); any other
name is the SQLite file itself, with no export.
"""
from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from accel.config import ConfigError

from ..report import write_atomic, write_csv

#: Export formats by suffix of ``--store``.
EXPORTS = (".parquet", ".csv")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,       -- point_key(): SHA-256 of what decides the results
    swept TEXT NOT NULL,        -- JSON: the swept values
    result TEXT NOT NULL,       -- JSON: the point's results
    code TEXT NOT NULL,         -- fdaccel.version.code_version() that computed it
    stored REAL NOT NULL        -- julianday('now') when it was stored
);
CREATE TABLE IF NOT EXISTS sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    definition TEXT NOT NULL,   -- JSON: what fdaccel sweep --resume runs again
    started REAL NOT NULL
);
"""


def canonical(obj: Any) -> str:
    """``obj`` as canonical JSON (sorted keys, no spaces; non-JSON values as text)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def point_key(parts: dict[str, Any]) -> str:
    """The store key of a point: SHA-256 (hex) of :func:`canonical` ``parts``."""
    return hashlib.sha256(canonical(parts).encode()).hexdigest()


def store_paths(name: str) -> tuple[Path, Path | None]:
    """(SQLite file, export file or None) of a ``--store`` / ``--resume`` name."""
    p = Path(name)
    if p.suffix.lower() in EXPORTS:
        return p.with_suffix(".sqlite"), p
    return p, None


class Store:
    """An open results store (a context manager; see the module docstring)."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise ConfigError(f"sweep --resume: no store at {str(self.path)!r}")
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            with self.db:
                self.db.executescript(_SCHEMA)
                row = self.db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
                if row is None:
                    self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                elif row[0] != str(SCHEMA_VERSION):
                    raise ConfigError(f"sweep store {str(self.path)!r}: schema version {row[0]}, "
                                      f"this fdaccel reads {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"sweep store {str(self.path)!r}: not a results store ({exc})") from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def record_sweep(self, definition: dict[str, Any]) -> None:
        """Record a sweep's definition (the latest is what ``--resume`` runs)."""
        with self.db:
            self.db.execute("INSERT INTO sweeps (definition, started) VALUES (?, julianday('now'))",
                            (canonical(definition),))

    def last_sweep(self) -> dict[str, Any]:
        """The definition of the latest sweep recorded; ConfigError if there is none."""
        row = self.db.execute("SELECT definition FROM sweeps ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            raise ConfigError(f"sweep --resume: {str(self.path)!r} records no sweep")
        return json.loads(row[0])

    def results(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored results of those of ``keys`` that are in the store."""
        out: dict[str, dict[str, Any]] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self.db.execute(f"SELECT key, result FROM points WHERE key IN ({','.join('?' * len(chunk))})",
                                   chunk)
            out.update((k, json.loads(r)) for k, r in rows)
        return out

    def add(self, items: Sequence[tuple[str, dict[str, Any], dict[str, Any]]], code: str) -> None:
        """Store finished points, (key, swept values, results) each, in one transaction."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, julianday('now'))",
                                [(key, canonical(swept), canonical(result), code) for key, swept, result in items])


def export(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` (dicts; ``columns`` in order, missing values empty) to ``path``:
    Parquet (pyarrow) for ``.parquet``, else CSV; whole or not at all."""
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
        buf = io.BytesIO()
        pq.write_table(table, buf)
        return write_atomic(path, buf.getvalue())
    return write_csv(path, columns, [[r.get(c, "") for c in columns] for r in rows])
