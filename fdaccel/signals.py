"""Critical sections that a signal must not cut in two."""
from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

#: The signals that interrupt a command (SIGTERM is handled as SIGINT: :func:`fdaccel.cli.main`).
INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Run the block whole: SIGINT and SIGTERM arriving inside it are held and raised as
    KeyboardInterrupt when it ends (main thread only, as Python's signal handlers are)."""
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum)) for sig in INTERRUPTS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt


@contextlib.contextmanager
def ignored_interrupts() -> Iterator[None]:
    """SIGINT ignored inside the block: processes started in it inherit that (Python
    leaves an ignored SIGINT ignored), so a Ctrl-C, which the terminal sends to the whole
    process group, reaches only the process that handles it."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
