"""bench.live_replay's pure helpers: the step walk, page scoring, the cut and the kNN reference."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from bench.live_replay import (
    KnnReference,
    cut_log,
    due_items,
    global_order,
    page_ndcg,
    walk,
    with_sessions,
)

T0 = datetime(1998, 3, 1, 12, 0)


def _rating(user: str, item: str, minute: float, liked: bool) -> list[dict]:
    ts = T0 + timedelta(minutes=minute)
    rows = [{"event_id": f"{user}-{item}-view", "user_id": user, "ts": ts, "type": "view",
             "item_id": item, "target_user_id": None, "watch_ms": 48_000}]
    if liked:
        rows.append({"event_id": f"{user}-{item}-like", "user_id": user,
                     "ts": ts + timedelta(seconds=1), "type": "like", "item_id": item,
                     "target_user_id": None, "watch_ms": None})
    return rows


def _log(user: str, n: int) -> list[dict]:
    return [r for k in range(n) for r in _rating(user, f"i{k}", k, liked=k % 2 == 0)]


def test_walk_pages_before_every_step_against_the_next_k_items() -> None:
    steps = walk("u1", _log("u1", 12), step=5, k=10)
    assert [s.index for s in steps] == [0, 1, 2]
    assert steps[0].targets == tuple(f"i{k}" for k in range(10))
    assert steps[1].targets == tuple(f"i{k}" for k in range(5, 12))
    assert steps[2].targets == ("i10", "i11")
    assert steps[0].before == () and steps[2].before == tuple(f"i{k}" for k in range(10))
    assert steps[1].liked == frozenset({"i6", "i8", "i10"})
    # The step's rows are its five items' view and like rows, posted after its page.
    assert {r["item_id"] for r in steps[0].rows} == {f"i{k}" for k in range(5)}
    assert len(steps[0].rows) == 8
    assert steps[0].now == T0 and steps[1].now == T0 + timedelta(minutes=5)


def test_walk_max_steps_and_a_clock_that_never_goes_back() -> None:
    # Two views in the same second: the first item's like lands after the second view.
    rows = _rating("u", "a", 0, True) + _rating("u", "b", 0, True) + _rating("u", "c", 0, True)
    steps = walk("u", rows, step=1, k=2, max_steps=2)
    assert len(steps) == 2
    assert steps[1].now == T0 + timedelta(seconds=1)


def test_sessions_split_on_a_gap_of_more_than_thirty_minutes() -> None:
    rows = _rating("u", "a", 0, False) + _rating("u", "b", 20, False) \
        + _rating("u", "c", 51, False)
    got = [r["session_id"] for r in with_sessions(rows, "u")]
    assert got == ["replay-u-0", "replay-u-0", "replay-u-1"]


def test_page_ndcg_is_one_for_the_ideal_page_and_none_without_targets() -> None:
    assert page_ndcg(["a", "b", "x"], ("a", "b")) == pytest.approx(1.0)
    assert page_ndcg(["x", "a"], ("a",)) == pytest.approx(1 / 1.584962500721156)
    assert page_ndcg(["x", "y"], ("a",)) == 0.0
    assert page_ndcg(["a"], frozenset()) is None


def test_global_order_interleaves_users_and_keeps_each_users_order() -> None:
    a = walk("a", _log("a", 10), step=5)
    b = [s for s in walk("b", [{**r, "ts": r["ts"] + timedelta(minutes=2)}
                               for r in _log("b", 10)], step=5)]
    assert [(s.user_id, s.index) for s in global_order(a + b)] == [
        ("a", 0), ("b", 0), ("a", 1), ("b", 1)]


def test_due_items_are_those_first_seen_by_now_and_not_yet_posted() -> None:
    new = [("n1", T0), ("n2", T0 + timedelta(hours=1))]
    assert due_items(new, set(), T0) == ["n1"]
    assert due_items(new, {"n1"}, T0 + timedelta(hours=2)) == ["n2"]


def test_cut_log_keeps_items_first_seen_before_the_cut() -> None:
    rows = _log("u1", 8) + _log("u2", 2)
    events = pl.DataFrame(rows).sort("ts")
    items = pl.DataFrame({"item_id": [f"i{k}" for k in range(9)], "creator_id": "c"})
    s = cut_log(events, items, 0.5)
    assert s.train["ts"].max() < s.cut <= s.later["ts"].min()
    assert set(s.items["item_id"]) | set(s.new_items["item_id"]) == {f"i{k}" for k in range(8)}
    assert s.new_items["first_ts"].min() >= s.cut


def test_knn_reference_follows_the_replayed_items() -> None:
    # Two taste groups: {a, b, c} and {x, y, z}.
    train = pl.DataFrame({"user_id": ["1", "1", "1", "2", "2", "2", "3", "3"],
                          "item_id": ["a", "b", "c", "x", "y", "z", "a", "b"]})
    knn = KnnReference(train)
    assert knn.page("new", ["x"], 2) == ["y", "z"]
    assert knn.page("3", [], 1) == ["c"]
    # Frozen: the training history only, leaving out what was watched since the cut.
    assert knn.frozen_page("3", ["c"], 2) == ["x", "y"]
