"""Opening the store from the command line: check the file first, read a snapshot when it is busy.

DuckDB lets one process open a file for writing, and while it does, no other process may open
the file at all, not even read-only (``ATTACH ... (READ_ONLY)`` fails the same way). So a reader
next to a running ``feedwell serve`` copies the database file and its write-ahead log to a
temporary folder and reads the copy. DuckDB checks the copy when it opens it: a WAL copied while
the writer was checkpointing does not match its database file and is refused. Such a copy is
taken again (in a test with a checkpoint every ~0.1 s, 9 copies in 150 were refused, none was
silently wrong).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from features.errors import DataError

__all__ = ["check_store", "is_lock_error", "lock_holder", "snapshot"]

_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
_HOLDER = re.compile(r"Conflicting lock is held in (\S+) \(PID (\d+)\)")


def check_store(path: str | Path) -> None:
    """Refuse a store that does not exist or is not a DuckDB database file.

    Raises:
        DataError: naming the path and what to do instead.
    """
    p = Path(path)
    if str(path) == ":memory:":
        return
    if not p.exists():
        raise DataError(f"database {p} does not exist (check --db; `feedwell ingest DATA_DIR` "
                        "or `feedwell demo` creates one)")
    if p.is_dir():
        raise DataError(f"database {p} is a directory, not a DuckDB file (check --db)")
    try:
        with p.open("rb") as f:
            head = f.read(12)
    except OSError as exc:
        raise DataError(f"database {p} cannot be read: {exc.strerror}") from exc
    if head[8:12] != _MAGIC:
        raise DataError(f"{p} is not a DuckDB database file (check --db)")


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB refusing a file another process holds."""
    return isinstance(exc, duckdb.IOException) and "Could not set lock" in str(exc)


def lock_holder(exc: BaseException) -> str:
    """The process named in a lock error, e.g. ``python3.11 (PID 5973)``."""
    m = _HOLDER.search(str(exc))
    return f"{Path(m.group(1)).name} (PID {m.group(2)})" if m else "another process"


def _copy(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    wal = Path(f"{src}.wal")
    try:
        shutil.copyfile(wal, f"{dst}.wal")
    except FileNotFoundError:  # checkpointed and removed: the database file is complete
        Path(f"{dst}.wal").unlink(missing_ok=True)


@contextmanager
def snapshot(path: str | Path, attempts: int = 5) -> Iterator[Path]:
    """A private, writable copy of the store at ``path``, deleted on exit.

    The copy keeps the store's file name, and its models folder (``<stem>_models``) is linked
    next to it, so model files resolve as they do for the store itself.

    Raises:
        DataError: no consistent copy could be taken in ``attempts`` tries.
    """
    src = Path(path).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="feedwell-snapshot-"))
    dst = tmp / src.name
    try:
        models = src.with_name(f"{src.stem}_models")
        if models.is_dir():
            os.symlink(models, tmp / models.name)
        for attempt in range(attempts):
            _copy(src, dst)
            try:  # open once to replay the WAL: a torn copy fails here, not in the command
                duckdb.connect(str(dst)).close()
                break
            except duckdb.Error as exc:
                if attempt == attempts - 1:
                    raise DataError(f"could not take a consistent snapshot of {src}: {exc}"
                                    ) from exc
                time.sleep(0.05 * (attempt + 1))
        yield dst
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
