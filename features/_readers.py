"""Find and read the files of one contract table (Parquet, CSV or JSON Lines; file or folder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from features.errors import DataError

__all__ = ["SourceFile", "find_sources", "reader_sql", "source_columns"]

_EXTS = {
    ".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl",
}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    fmt: str  # parquet | csv | jsonl


def find_sources(data_dir: Path, table: str) -> list[SourceFile]:
    """Every file that holds rows of ``table``: ``NAME.ext`` files and ``NAME/`` folders."""
    found: list[SourceFile] = []
    for ext, fmt in _EXTS.items():
        f = data_dir / f"{table}{ext}"
        if f.is_file():
            found.append(SourceFile(f, fmt))
    folder = data_dir / table
    if folder.is_dir():
        for f in sorted(folder.rglob("*")):
            if f.is_file() and f.suffix.lower() in _EXTS:
                found.append(SourceFile(f, _EXTS[f.suffix.lower()]))
    return found


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def reader_sql(src: SourceFile, row_numbers: bool = False) -> str:
    """A DuckDB table function reading one file with every column as written.

    CSV is read as text so that a bad value quarantines its row instead of failing the file.
    """
    if src.fmt == "parquet":
        extra = ", file_row_number=true" if row_numbers else ""
        return f"read_parquet({_q(src.path)}{extra})"
    if src.fmt == "csv":
        return f"read_csv({_q(src.path)}, all_varchar=true, header=true, allow_quoted_nulls=false)"
    return (
        f"read_json({_q(src.path)}, format='newline_delimited', sample_size=-1, "
        "maximum_object_size=16777216)"
    )


def source_columns(con: duckdb.DuckDBPyConnection, src: SourceFile) -> dict[str, str]:
    """Column name -> DuckDB type of one file; a file DuckDB cannot read is a DataError."""
    if src.path.stat().st_size == 0:
        return {}
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {reader_sql(src)}").fetchall()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise DataError(f"cannot read {src.path} as {src.fmt}: {first}") from exc
    return {r[0]: r[1] for r in rows}
