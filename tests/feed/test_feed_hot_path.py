"""The request path's caches and candidate columns change nothing a response says."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ranking.feed.candidates import Candidates
from ranking.feed.engine import FeedEngine
from ranking.feed.types import FeedRequest
from tests.feed.conftest import NOW
from wellbeing import Consent
from wellbeing.verdicts import VerdictCache


def _engine(world, tmp_path):
    return FeedEngine(tmp_path / "test.duckdb", con=world)


def _page(resp):
    return ([(i.item_id, i.score, i.source, i.reasons, i.labels) for i in resp.items],
            [(r.item_id, r.stage, r.rule, r.action, r.reason) for r in resp.removed],
            [iv.type for iv in resp.interventions])


def test_cached_verdicts_match_a_fresh_evaluation(world, tmp_path):
    # An adult who chose less sensitive content: the sadness video is downranked with reasons.
    world.execute("INSERT INTO users (user_id, birth_date, timezone, sensitive_content) "
                  "VALUES ('adult_less', DATE '1990-01-01', 'UTC', 'less')")
    e = _engine(world, tmp_path)
    for user in ("adult", "adult_less", "teen", "nobody", "ghost"):
        req = FeedRequest(user, NOW, limit=50)
        e.verdict_cache = VerdictCache()
        cold = _page(e.feed(req))
        warm = _page(e.feed(req))
        assert e.verdict_cache._by, user
        assert warm == cold, user
    downranked = [i for i in e.feed(FeedRequest("adult_less", NOW, limit=50)).items
                  if i.item_id == "selfharm"]
    assert downranked and downranked[0].reasons


def test_cameo_verdict_follows_the_consent_in_force_after_caching(world, tmp_path):
    e = _engine(world, tmp_path)

    def served():
        return [i.item_id for i in e.feed(FeedRequest("adult", NOW, limit=50)).items]

    assert "cameo_ok" in served() and "cameo_ok" in served()  # the second from the cache
    e.set_consent(Consent("subj", NOW - timedelta(hours=1), "revoked"))
    resp = e.feed(FeedRequest("adult", NOW, limit=50))
    assert "cameo_ok" not in [i.item_id for i in resp.items]
    assert [r.reason for r in resp.removed if r.item_id == "cameo_ok"] == ["cameo_consent"]
    e.set_consent(Consent("subj", NOW - timedelta(minutes=30), "granted", "everyone"))
    assert "cameo_ok" in served()


class _Ranker:
    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.calls = 0

    data_to = None

    def live_candidates(self, user_id: str, events: list, follows: frozenset, n: int
                        ) -> pl.DataFrame:
        self.calls += 1
        return pl.DataFrame({"item_id": self.ids[:n], "source": ["als"] * len(self.ids[:n]),
                             "model_score": [float(-k) for k in range(len(self.ids[:n]))]})


def test_model_candidates_are_cached_per_history_and_never_outlive_their_model(world, tmp_path):
    e = _engine(world, tmp_path)
    old, new = _Ranker(["safe1", "safe2"]), _Ranker(["safe3"])
    e.ranker = old
    first = e.model_candidates("adult", 10)
    assert first.columns == ["item_id", "source", "source_score", "model_score"]
    assert first["source_score"].to_list() == [1.0, 0.5]
    assert e.model_candidates("adult", 10) is first and old.calls == 1
    # a new event in the viewer's history: scored again
    ev = ({"ts": NOW, "event_id": "e1", "type": "view", "item_id": "safe9"},)
    assert e.model_candidates("adult", 10, ev) is not first and old.calls == 2
    e.ranker = new  # published and loaded: the next request reads the new model's list
    assert e.model_candidates("adult", 10)["item_id"].to_list() == ["safe3"]


def test_candidate_columns_select_rows_and_leave_the_input_alone():
    c = Candidates(["a", "b", "c"], ["als", "als", "popular"], [3.0, 2.0, 1.0],
                   [0.5, None, None])
    assert c.take([2, 0]).item_id == ["c", "a"] and c.take([2, 0]).model_score == [None, 0.5]
    assert len(c.take([])) == 0 and c.take([]).model_score == []
    assert c.keep([True, False, True]).source == ["als", "popular"]
    assert c.keep([True, True, True]) is c
    more = Candidates(["c", "d", "d"], ["popular"] * 3, [9.0, 8.0, 7.0])
    both = c.concat(more.unique())
    assert both.item_id == ["a", "b", "c", "d"] and both.model_score == [0.5, None, None, None]
    assert c.item_id == ["a", "b", "c"] and more.item_id == ["c", "d", "d"]


def test_already_seen_and_excluded_videos_are_counted_and_named_not_audited(world, tmp_path):
    e = _engine(world, tmp_path)
    first = [i.item_id for i in e.feed(FeedRequest("adult", NOW, limit=3)).items]
    resp = e.feed(FeedRequest("adult", NOW, limit=3, exclude_ids=frozenset(first[:1]),
                              request_id="ex"))
    named = {(r.item_id, r.stage, r.reason) for r in resp.removed if r.action == "filter"}
    assert (first[0], "ExcludedIds", "excluded_by_client") in named
    e.flush_audit()
    audited = world.sql("SELECT reason FROM audit_log WHERE request_id = 'ex'").pl()
    assert "excluded_by_client" not in audited["reason"].to_list()
