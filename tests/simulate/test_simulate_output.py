"""Determinism, file formats, chunked output and the CLI of ``feedwell simulate``."""

from __future__ import annotations

import json

import polars as pl
import pytest

import features.simulator.generate as sim
from features.contract import CONTRACT
from flows.cli import main
from tests.simulate.conftest import TINY

_SMALL = {"users": 120, "items": 150, "events": 6_000, "seed": 5}


def _files(out) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.*"))}


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_same_seed_gives_byte_identical_files(tmp_path, fmt):
    a = sim.simulate(tmp_path / "a", fmt=fmt, **_SMALL)
    b = sim.simulate(tmp_path / "b", fmt=fmt, **_SMALL)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert a["rows"] == b["rows"]
    sim.simulate(tmp_path / "c", fmt=fmt, **{**_SMALL, "seed": 6})
    assert _files(tmp_path / "c")["events." + fmt] != _files(tmp_path / "a")["events." + fmt]


def _typed(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """Cast text-read columns to contract types (lists from ``|``; ``""`` is an empty list)."""
    exprs = []
    for col in CONTRACT[name].columns:
        c = pl.col(col.name)
        if col.is_list and df.schema[col.name] == pl.String:
            c = pl.when(c == "").then(pl.lit([], pl.List(pl.String))).otherwise(c.str.split("|"))
        elif col.is_list:
            c = c.cast(pl.List(pl.String))
        elif col.sql_type == "TIMESTAMP":
            c = c.cast(pl.String).str.to_datetime(time_unit="ms")
        elif col.sql_type == "DATE":
            c = c.cast(pl.String).str.to_date()
        elif col.sql_type == "BOOLEAN":
            c = c.cast(pl.String) == "true"
        elif col.sql_type in ("BIGINT", "INTEGER"):
            c = c.cast(pl.Int64)
        else:
            c = c.cast(pl.String)
        exprs.append(c.alias(col.name))
    return df.select(exprs)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_formats_round_trip_the_parquet_data(tiny_world, tmp_path, fmt):
    ref_dir, _ = tiny_world
    sim.simulate(tmp_path, fmt=fmt, **TINY)
    for name in CONTRACT:
        ref = _typed(pl.read_parquet(ref_dir / f"{name}.parquet"), name)
        path = tmp_path / f"{name}.{fmt}"
        raw = (pl.read_csv(path, infer_schema=False) if fmt == "csv"
               else pl.read_ndjson(path, infer_schema_length=None))
        got = _typed(raw, name)
        assert got.equals(ref), name
        if name == "items":  # unlabelled stays null, not an empty list
            assert got["labels"].null_count() > 0 and (got["labels"].list.len() == 0).any()


def test_big_runs_write_event_parts(tmp_path, monkeypatch):
    monkeypatch.setattr(sim, "CHUNK_ROWS", 1_500)
    s = sim.simulate(tmp_path, **_SMALL)
    parts = sorted((tmp_path / "events").glob("part-*.parquet"))
    assert len(parts) > 2 and not (tmp_path / "events.parquet").exists()
    ev = pl.read_parquet(parts)
    assert ev.height == s["rows"]["events"]
    assert ev["event_id"].n_unique() == ev.height
    # A session id belongs to one user, even across parts.
    per = ev.drop_nulls("session_id").group_by("session_id").agg(pl.col("user_id").n_unique())
    assert (per["user_id"] == 1).all()
    # Re-running with a small volume replaces the folder with a single file.
    monkeypatch.setattr(sim, "CHUNK_ROWS", 1_000_000)
    sim.simulate(tmp_path, **_SMALL)
    assert (tmp_path / "events.parquet").exists() and not (tmp_path / "events").exists()


def test_cli_prints_summary_and_json(tmp_path, capsys):
    args = ["simulate", str(tmp_path), "--users", "80", "--items", "100", "--events", "3000"]
    assert main(args) == 0
    assert "teens" in capsys.readouterr().out
    assert main([*args, "--format", "jsonl", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["format"] == "jsonl" and (tmp_path / "events.jsonl").exists()
    assert main(["simulate", str(tmp_path), "--users", "0"]) == 1
