"""bench.real_data converters and bench.quality_real helpers, on tiny generated logs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from bench.quality_real import judged_pairs, mean_auc, split
from bench.real_data import kuairand, movielens
from features.ingest import ingest_dir
from wellbeing.age import age_years

# (user, item, rating, unix seconds): 1997-09-20 onwards, like the ML-100k log.
RATINGS = [(1, 10, 5, 874_724_710), (1, 20, 2, 874_724_720), (1, 30, 3, 874_724_730),
           (2, 10, 4, 875_000_000), (2, 30, 1, 875_000_100), (3, 20, 4.5, 876_000_000)]
NOW = datetime(2026, 1, 1)


def _ml100k(d: Path) -> Path:
    d.mkdir()
    (d / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in RATINGS))
    genres = ["0"] * 19
    comedy = genres.copy()
    comedy[5] = "1"
    rows = [f"10|A (1995)|01-Jan-1995||http://x|{'|'.join(comedy)}",
            f"20|B (1996)|22-Jan-1996||http://x|{'|'.join(['1'] + genres[1:])}",
            f"30|C (1997)|||http://x|{'|'.join(genres)}"]
    (d / "u.item").write_bytes(("\n".join(rows) + "\n").encode("latin1"))
    return d


def _ml_small(d: Path) -> Path:
    d.mkdir()
    (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{float(r)},{t}\n" for u, i, r, t in RATINGS))
    (d / "movies.csv").write_text('movieId,title,genres\n10,A (1995),Comedy|Drama\n'
                                  '20,"B, The (1996)",(no genres listed)\n30,C,Horror\n')
    return d


def _kuairand(d: Path) -> Path:
    d.mkdir()
    head = ("user_id\tvideo_id\tdate\thourmin\ttime_ms\tis_click\tis_follow\tis_comment\t"
            "is_forward\tlong_view\tplay_time_ms\tduration_ms\tcomment_stay_time\t"
            "is_profile_enter\tlabel\ttimestamp\n")
    rows = [(7, 100, 1_649_581_149_287, 1, 0, 46_186, 45_916, 1),
            (7, 200, 1_649_581_249_287, 0, 1, 5_148, 0, 0),
            (8, 100, 1_649_664_552_983, 0, 0, 14_549, 45_916, 1),
            (8, 100, 1_649_664_552_983, 0, 0, 14_549, 45_916, 1)]  # a duplicated row
    (d / "log.csv").write_text(head + "".join(
        f"{u}\t{v}\t20220410\t1700\t{t}\t1\t0\t{c}\t{f}\t1\t{p}\t{dur}\t0\t0\t{lab}\tx\n"
        for u, v, t, c, f, p, dur, lab in rows))
    return d


@pytest.mark.parametrize("make", [_ml100k, _ml_small])
def test_movielens_ratings_become_views_likes_and_hides(tmp_path, make):
    t = movielens(make(tmp_path / "src"))
    ev = t.events
    assert ev.filter(pl.col("type") == "view").height == len(RATINGS)
    assert ev.filter(pl.col("type") == "like").height == 3  # 5, 4 and 4.5 stars
    assert ev.filter(pl.col("type") == "hide").height == 2  # 2 and 1 star
    view = ev.filter((pl.col("user_id") == "u1") & (pl.col("item_id") == "i10")
                     & (pl.col("type") == "view"))
    assert view["watch_ms"].to_list() == [60_000]
    assert view["ts"].to_list() == [datetime(1997, 9, 20, 3, 5, 10)]
    assert ev["event_id"].n_unique() == ev.height
    assert set(t.items["creator_id"]) == {"c10", "c20", "c30"}
    assert t.items["labels"].to_list() == [[], [], []]
    assert set(t.items["maturity"]) == {"general"}


def test_movielens_topics_and_release_dates(tmp_path):
    t = movielens(_ml100k(tmp_path / "a")).items.sort("item_id")
    assert t["topics"].to_list() == [["comedy"], [], []]  # 'unknown' is not a topic
    assert t["created_at"].to_list()[:2] == [datetime(1995, 1, 1), datetime(1996, 1, 22)]
    s = movielens(_ml_small(tmp_path / "b")).items.sort("item_id")
    assert s["topics"].to_list() == [["comedy", "drama"], [], ["horror"]]
    assert s["created_at"].to_list() == [datetime(1995, 1, 1), datetime(1996, 1, 1), None]


def test_users_are_adults_for_the_whole_log(tmp_path):
    t = movielens(_ml100k(tmp_path / "src"))
    first, last = t.events["ts"].min(), t.events["ts"].max()
    for born in t.users["birth_date"]:
        assert age_years(born, first) >= 18 and age_years(born, last) >= 18
    assert set(t.users["age_assurance"]) == {"verified"}


def test_kuairand_explicit_likes_hates_comments_and_shares(tmp_path):
    t = kuairand(_kuairand(tmp_path / "src"))
    counts = dict(t.events["type"].value_counts().iter_rows())
    assert counts == {"view": 3, "like": 2, "hide": 1, "comment": 1, "share": 1}
    assert t.events.filter(pl.col("type") == "view")["watch_ms"].sort().to_list() == [
        5_148, 14_549, 46_186]
    dur = dict(t.items.select("item_id", "duration_ms").iter_rows())
    assert dur == {"i100": 45_916, "i200": None}  # 0 in the log means unknown


@pytest.mark.parametrize("make,conv", [(_ml100k, movielens), (_kuairand, kuairand)])
def test_converted_folder_ingests_cleanly_and_ids_are_stable(con, tmp_path, make, conv):
    src = make(tmp_path / "src")
    counts = conv(src).write(tmp_path / "out")
    again = conv(src)
    assert again.events["event_id"].to_list() == pl.read_parquet(
        tmp_path / "out" / "events.parquet")["event_id"].to_list()
    rep = ingest_dir(con, tmp_path / "out", now=NOW)
    for table, n in counts.items():
        assert (rep[table].accepted, rep[table].quarantined) == (n, 0), table


def test_split_and_judged_pairs(tmp_path):
    ev = movielens(_ml100k(tmp_path / "src")).events
    train, test, cut = split(ev, "temporal")
    assert train["ts"].max() < cut <= test["ts"].min()
    rel, pairs = judged_pairs(train, test)
    assert all(rel.values())
    assert pairs.columns == ["user_id", "item_id", "liked"]
    train_r, test_r, now = split(ev, "random")
    assert now > ev["ts"].max() and train_r.height + test_r.height == ev.height


def test_mean_auc_per_user():
    pairs = pl.DataFrame({"user_id": ["a", "a", "a", "b", "b"],
                          "liked": [True, False, False, True, False],
                          "s": [0.9, 0.1, float("nan"), 0.2, 0.5]})
    assert mean_auc(pairs, "s") == pytest.approx((1.0 + 0.0) / 2)
    assert mean_auc(pairs.head(0), "s") is None
