"""Public interaction logs converted to the data contract (see bench/README.md).

    .venv/bin/python -m bench.real_data movielens SRC_DIR OUT_DIR   # ML-100k or ml-latest-small
    .venv/bin/python -m bench.real_data kuairand SRC OUT_DIR        # KuaiRand like/hate TSV

Each writes ``users.parquet``, ``items.parquet`` and ``events.parquet`` into OUT_DIR:

- users: every user a verified adult (born 1 January, 30 years before the log's first event;
  UTC; created at the log's first day): the logs carry no ages, and
  an unknown age gets the teen policy by design, which would test the policy, not the ranking;
- items: ``maturity`` 'general' and ``labels`` [] (known: none), because unknown labels make the
  teen policy drop an item and these logs carry no moderation labels; ``status`` active; topics
  from genres; no creator in either log, so each item is its own creator (``c<item>``), which
  adds no signal a per-item feature does not already carry;
- events: a rating is a ``view`` with ``watch_ms`` = 12 s x stars over a nominal 60 s duration,
  plus a ``like`` (rating >= 4) or a ``hide`` (rating <= 2) a second later; KuaiRand rows are a
  ``view`` with the logged play time and the logged duration, plus the log's own ``like``/``hide``
  (is_like/is_hate, kept as ``label``), ``comment`` and ``share`` (is_forward).

Event ids are stable (``<log>-<user>-<item>[-<ms>]-<type>``), so a rerun converts identically.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from features.errors import DataError

WATCH_MS_PER_STAR = 12_000
NOMINAL_DURATION_MS = 60_000
ADULT_AGE_AT_START = 30
ML100K_GENRES = ("unknown", "action", "adventure", "animation", "children", "comedy", "crime",
                 "documentary", "drama", "fantasy", "film-noir", "horror", "musical", "mystery",
                 "romance", "sci-fi", "thriller", "war", "western")
EVENT_COLS = ("event_id", "user_id", "ts", "type", "item_id", "target_user_id", "watch_ms")


@dataclass
class Tables:
    """A contract data folder in memory."""

    users: pl.DataFrame
    items: pl.DataFrame
    events: pl.DataFrame

    def write(self, out: Path) -> dict[str, int]:
        """Write the three tables as Parquet into ``out``; row counts per table."""
        out.mkdir(parents=True, exist_ok=True)
        for name in ("users", "items", "events"):
            getattr(self, name).write_parquet(out / f"{name}.parquet")
        return {n: getattr(self, n).height for n in ("users", "items", "events")}


def _epoch(col: str, unit: str = "s") -> pl.Expr:
    return pl.from_epoch(pl.col(col), time_unit=unit).cast(pl.Datetime("us"))


def _users(events: pl.DataFrame) -> pl.DataFrame:
    start = events["ts"].min().replace(hour=0, minute=0, second=0, microsecond=0)
    # Adult at every time of the log: 30 at its first event (a fixed 1990 birth date made the
    # 1997 MovieLens raters 7-year-olds, who get no feed).
    born = date(start.year - ADULT_AGE_AT_START, 1, 1)
    return events.select("user_id").unique().sort("user_id").with_columns(
        pl.lit(born).alias("birth_date"), pl.lit("verified").alias("age_assurance"),
        pl.lit("UTC").alias("timezone"), pl.lit(start).alias("created_at"))


def _items(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the contract's safety columns to ``(item_id, created_at, duration_ms, topics)``."""
    return frame.with_columns(
        pl.format("c{}", pl.col("item_id").str.strip_prefix("i")).alias("creator_id"),
        pl.lit("general").alias("maturity"), pl.lit(False).alias("ai_generated"),
        pl.lit(False).alias("realistic_person"),
        pl.lit([], pl.List(pl.String)).alias("cameo_subjects"),
        pl.lit([], pl.List(pl.String)).alias("labels"), pl.lit("active").alias("status"),
    ).sort("item_id")


def _events(parts: list[pl.DataFrame]) -> pl.DataFrame:
    ev = pl.concat(parts, how="diagonal_relaxed").with_columns(
        pl.lit(None, pl.String).alias("target_user_id"))
    return ev.select(EVENT_COLS).sort("ts", "event_id")


def ratings_events(r: pl.DataFrame, log: str) -> pl.DataFrame:
    """``(user_id, item_id, rating, ts)`` -> views, likes (>= 4) and hides (<= 2)."""
    key = pl.format(f"{log}-{{}}-{{}}-", "user_id", "item_id")
    later = pl.col("ts") + pl.duration(seconds=1)
    watch = (pl.col("rating") * WATCH_MS_PER_STAR).round().cast(pl.Int64)
    views = r.select((key + "view").alias("event_id"), "user_id", "item_id", "ts",
                     pl.lit("view").alias("type"), watch.alias("watch_ms"))
    likes = r.filter(pl.col("rating") >= 4).select(
        (key + "like").alias("event_id"), "user_id", "item_id", later, pl.lit("like").alias("type"))
    hides = r.filter(pl.col("rating") <= 2).select(
        (key + "hide").alias("event_id"), "user_id", "item_id", later, pl.lit("hide").alias("type"))
    return _events([views, likes, hides])


def movielens(src: Path) -> Tables:
    """ML-100k (``u.data`` + ``u.item``) or ml-latest-small (``ratings.csv`` + ``movies.csv``)."""
    if (src / "u.data").exists():
        raw = pl.read_csv(src / "u.data", separator="\t", has_header=False,
                          new_columns=["u", "i", "rating", "t"])
        log = "ml100k"
        meta = pl.read_csv(src / "u.item", separator="|", has_header=False, encoding="latin1",
                           quote_char=None)
        flags = meta.columns[5:5 + len(ML100K_GENRES)]
        items = meta.select(
            pl.format("i{}", pl.col(meta.columns[0])).alias("item_id"),
            pl.col(meta.columns[2]).str.to_datetime("%d-%b-%Y", strict=False)
            .cast(pl.Datetime("us")).alias("created_at"),
            pl.concat_list([pl.when(pl.col(c) == 1).then(pl.lit(g))
                            for c, g in zip(flags, ML100K_GENRES, strict=True)])
            .list.drop_nulls().list.set_difference(["unknown"]).alias("topics"))
    elif (src / "ratings.csv").exists():
        raw = pl.read_csv(src / "ratings.csv").rename(
            {"userId": "u", "movieId": "i", "timestamp": "t"})
        log = "mlsmall"
        meta = pl.read_csv(src / "movies.csv")
        year = meta["title"].str.extract(r"\((\d{4})\)\s*$").cast(pl.Int32, strict=False)
        items = meta.select(
            pl.format("i{}", "movieId").alias("item_id"),
            pl.when(year.is_not_null()).then(pl.datetime(year, 1, 1)).cast(pl.Datetime("us"))
            .alias("created_at"),
            pl.col("genres").str.to_lowercase().str.split("|")
            .list.set_difference(["(no genres listed)"]).alias("topics"))
    else:
        raise DataError(f"{src}: expected u.data + u.item (ML-100k) or ratings.csv + movies.csv")
    r = raw.select(pl.format("u{}", "u").alias("user_id"), pl.format("i{}", "i").alias("item_id"),
                   pl.col("rating").cast(pl.Float64), _epoch("t").alias("ts"))
    events = ratings_events(r, log)
    items = items.with_columns(pl.lit(NOMINAL_DURATION_MS, pl.Int64).alias("duration_ms"))
    return Tables(_users(events), _items(items), events)


def kuairand(src: Path) -> Tables:
    """A KuaiRand log with ``label`` (1 like, 0 hate) or ``is_like``/``is_hate`` columns."""
    path = src if src.is_file() else next(iter(sorted(src.glob("*.csv"))), None)
    if path is None:
        raise DataError(f"{src}: no KuaiRand .csv file")
    sep = "\t" if "\t" in path.open().readline() else ","
    d = pl.read_csv(path, separator=sep)
    if "label" not in d.columns:
        d = d.with_columns(pl.when(pl.col("is_like") == 1).then(1)
                           .when(pl.col("is_hate") == 1).then(0).alias("label"))
    d = d.select(pl.format("u{}", "user_id").alias("user_id"),
                 pl.format("i{}", "video_id").alias("item_id"), "time_ms",
                 _epoch("time_ms", "ms").alias("ts"), "play_time_ms", "duration_ms", "label",
                 "is_comment", "is_forward")
    key = pl.format("kr-{}-{}-{}-", "user_id", "item_id", "time_ms")
    later = pl.col("ts") + pl.duration(seconds=1)

    def act(kind: str, cond: pl.Expr) -> pl.DataFrame:
        return d.filter(cond).select((key + kind).alias("event_id"), "user_id", "item_id", later,
                                     pl.lit(kind).alias("type"))

    views = d.select((key + "view").alias("event_id"), "user_id", "item_id", "ts",
                     pl.lit("view").alias("type"), pl.col("play_time_ms").alias("watch_ms"))
    events = _events([views, act("like", pl.col("label") == 1), act("hide", pl.col("label") == 0),
                      act("comment", pl.col("is_comment") == 1),
                      act("share", pl.col("is_forward") == 1)]).unique("event_id", keep="first")
    items = d.group_by("item_id").agg(
        pl.col("duration_ms").filter(pl.col("duration_ms") > 0).max().alias("duration_ms"))
    items = items.with_columns(pl.lit(None, pl.Datetime("us")).alias("created_at"),
                               pl.lit([], pl.List(pl.String)).alias("topics"))
    return Tables(_users(events), _items(items), events.sort("ts", "event_id"))


CONVERTERS = {"movielens": movielens, "kuairand": kuairand}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", choices=sorted(CONVERTERS))
    ap.add_argument("src", type=Path, help="the log's folder (or file, for kuairand)")
    ap.add_argument("out", type=Path, help="the contract data folder to write")
    a = ap.parse_args()
    print(json.dumps({"log": a.log, "out": str(a.out), **CONVERTERS[a.log](a.src).write(a.out)}))


if __name__ == "__main__":
    main()
