"""A clean stop for long commands: SIGINT or SIGTERM ends them within seconds, with a message.

The signal unwinds the main thread (``KeyboardInterrupt``, or Prefect's ``TerminationSignal``
inside a flow run), so the step in progress rolls its transaction back and the store keeps what
earlier steps committed. Unwinding can hang: Prefect reports the crashed run to its temporary
API server, and a signal sent to the whole process group (Ctrl-C, ``kill -- -PGID``, a service
manager) has killed that server too, so the report retries ``ConnectError`` for minutes. A
watchdog thread therefore hears every signal through ``signal.set_wakeup_fd`` (which Prefect's
own SIGTERM handler does not replace) and ends the process after ``grace`` seconds; DuckDB
drops a transaction that was never committed, so even that exit leaves the store consistent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Stopped", "stoppable", "exit_code"]

GRACE_SECONDS = 5.0


class Stopped(KeyboardInterrupt):
    """A long command was asked to stop (a ``KeyboardInterrupt``: no ``except Exception``
    swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(signum: int) -> int:
    """The shell's code for a process ended by ``signum`` (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + signum


def _message(command: str, signum: int) -> str:
    return (f"feedwell {command}: stopping on {signal.Signals(signum).name}; the step in "
            "progress is rolled back, the store keeps what the steps before it committed")


def _stop_prefect_servers() -> None:
    """Terminate Prefect's temporary API server(s), which ``os._exit`` would orphan."""
    server = sys.modules.get("prefect.server.api.server")
    for inst in list(getattr(getattr(server, "SubprocessASGIServer", None), "_instances",
                             {}).values()):
        proc = getattr(inst, "server_process", None)
        if proc is not None and proc.poll() is None:
            proc.kill()


def _watchdog(read_fd: int, command: str, grace: float) -> None:
    signum = 0
    while signum not in (signal.SIGINT, signal.SIGTERM):  # other handled signals pass by
        byte = os.read(read_fd, 1)
        signum = byte[0] if byte else signal.SIGTERM
    print(_message(command, signum), file=sys.stderr, flush=True)
    # A second signal, or the grace period, ends the process whatever the main thread does.
    ready = threading.Event()
    threading.Thread(target=lambda: (os.read(read_fd, 1), ready.set()), daemon=True).start()
    ready.wait(grace)
    print(f"feedwell {command}: did not unwind within {grace:g} s; exiting now",
          file=sys.stderr, flush=True)
    _stop_prefect_servers()
    os._exit(exit_code(signum))


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def stoppable(command: str, grace: float = GRACE_SECONDS) -> Iterator[None]:
    """Within this block SIGINT and SIGTERM raise ``Stopped`` and a watchdog bounds the unwind.

    Call from the main thread. Outside Prefect's flow run, the signal raises ``Stopped``;
    inside it, Prefect raises ``TerminationSignal`` (SIGTERM) or ``KeyboardInterrupt``
    (SIGINT): catch all three and return ``exit_code``.
    """
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    old_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    old = {s: signal.signal(s, _raise) for s in (signal.SIGINT, signal.SIGTERM)}
    threading.Thread(target=_watchdog, args=(read_fd, command, grace), daemon=True,
                     name="feedwell-stop").start()
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(old_fd)
