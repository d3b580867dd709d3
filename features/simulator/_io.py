"""Write Arrow tables as contract files: Parquet, CSV (``|``-joined lists) or JSON Lines."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from features.errors import ConfigError

__all__ = ["FORMATS", "write_table", "TableSink"]

FORMATS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}


def _for_csv(table: pa.Table) -> pa.Table:
    """Join list columns with ``|``; an empty list becomes ``""`` and a null list stays null."""
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type):
            table = table.set_column(i, field.name, pc.binary_join(table.column(i), "|"))
    return table


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
    elif fmt == "csv":
        # Strings are always quoted, so "" (empty list) and a bare empty field (null) differ.
        pa_csv.write_csv(_for_csv(table), path)
    else:
        pl.from_arrow(table).write_ndjson(path)


def write_table(table: pa.Table, out_dir: Path, name: str, fmt: str) -> list[Path]:
    """Write one table as ``out_dir/name.<ext>`` and return the path written."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    path = out_dir / f"{name}.{FORMATS[fmt]}"
    _write(table, path, fmt)
    return [path]


class TableSink:
    """Chunked writer: one file, or a folder ``name/part-00000.<ext>`` per chunk.

    Args:
        out_dir: the data directory.
        name: the table name.
        fmt: ``parquet``, ``csv`` or ``jsonl``.
        folder: write one part file per chunk (big runs; readers take a folder per table).
    """

    def __init__(self, out_dir: Path, name: str, fmt: str, folder: bool) -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.fmt, self.folder, self.paths = fmt, folder, []
        self._dir = out_dir / name
        self._single = out_dir / f"{name}.{FORMATS[fmt]}"
        self._parts: list[pa.Table] = []
        if folder:
            self._dir.mkdir(parents=True, exist_ok=True)

    def write(self, table: pa.Table) -> None:
        if self.folder:
            path = self._dir / f"part-{len(self.paths):05d}.{FORMATS[self.fmt]}"
            _write(table, path, self.fmt)
            self.paths.append(path)
        else:
            self._parts.append(table)

    def close(self, schema: pa.Schema) -> list[Path]:
        """Flush a single-file table (an empty table keeps its schema)."""
        if not self.folder:
            table = pa.concat_tables(self._parts) if self._parts else schema.empty_table()
            _write(table, self._single, self.fmt)
            self.paths = [self._single]
        return self.paths
