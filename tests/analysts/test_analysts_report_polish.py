"""Issue 16's report polish: served vs historical teen exposure, readable feature names, every
model metric, and sample sizes on age-band panels."""

from __future__ import annotations

import json

import polars as pl

from features.marts import create_marts
from features.report import summary_cards
from features.report._charts import importance, model_quality, sessions, teen_exposure, usage_hour
from features.report._data import load_report_data
from features.report._names import feature_label, metric_label


def test_teen_exposure_separates_served_from_history(world):
    # A banned-label view reported to the service (a feed it served) must be flagged.
    world.execute("""INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms, _source)
                     VALUES ('api1', 'u_teen', TIMESTAMP '2026-10-21 08:00:00', 'view', 'i3',
                             1000, 'api')""")
    create_marts(world)
    d = load_report_data(world)
    by = {(r["origin"], str(r["day"])): r["banned_label_views"] for r in d.teen.to_dicts()}
    assert by[("history", "2026-10-20")] == 1 and by[("served", "2026-10-21")] == 1
    card = {c[0]: c for c in summary_cards(d)}["Teen sensitive share"]
    assert card[3] is True and card[2].startswith("1 banned-label views served")
    chart = teen_exposure(d)
    names = [t.name for t in chart.fig.data]
    assert any("ingested history" in n for n in names)
    assert any("should be 0" in n for n in names)
    assert "may come from before the wellbeing policy" in chart.caption


def test_history_only_is_not_drawn_as_served(world):
    create_marts(world)
    chart = teen_exposure(load_report_data(world))
    assert not any("should be 0" in (t.name or "") for t in chart.fig.data)


def test_feature_importance_shows_readable_names():
    assert feature_label("z_als") == "ALS score (standardised)"
    assert feature_label("rank_itemknn") == "rank among item kNN candidates"
    assert feature_label("user_creator_affinity.following") == "viewer follows the creator"
    assert (feature_label("video_engagement.like_rate_total")
            == "video engagement: like rate, all time")
    assert feature_label("user_engagement.views_7d") == "user engagement: views 7d"
    assert feature_label("affinity") == "affinity"
    assert metric_label("ndcg@10_liked") == "NDCG@10 of liked videos"


def test_importance_chart_labels(world):
    create_marts(world)
    chart = importance(load_report_data(world))
    assert set(chart.fig.data[0].y) == {"affinity", "creator pull", "noise"}


def test_model_quality_shows_every_metric_and_where_the_ranker_loses(world):
    metrics = {"ranker": {"ndcg@10": 0.4, "liked_above_hidden_auc": 0.60, "ndcg@10_liked": 0.1},
               "ease": {"ndcg@10": 0.3, "liked_above_hidden_auc": 0.70, "ndcg@10_liked": 0.2},
               "gate": {"passed": True, "why": "ok"}}
    world.execute("UPDATE model_registry SET metrics = ? WHERE version = 'v3'",
                  [json.dumps(metrics)])
    create_marts(world)
    d = load_report_data(world)
    assert d.metrics_version == "v3"
    assert set(d.metrics["metric"]) == {"ndcg@10", "liked_above_hidden_auc", "ndcg@10_liked"}
    chart = model_quality(d)
    titles = [a.text for a in chart.fig.layout.annotations]
    assert "liked above hidden (AUC)" in titles and "NDCG@10 of liked videos" in titles
    assert "leads on NDCG@10 (watched)" in chart.caption
    assert "beats it on liked above hidden (AUC), NDCG@10 of liked videos" in chart.caption


def test_age_band_panels_show_sample_sizes(world):
    create_marts(world)
    d = load_report_data(world)
    box = {t.name for t in sessions(d).fig.data}
    n_adult = d.sessions.filter(pl.col("age_band") == "adult").height
    assert f"adult (n={n_adult} sessions)" in box
    assert all("(n=" in n for n in box)
    rows = list(usage_hour(d).fig.data[0].y)
    assert "adult (n=1 users)" in rows and all("(n=" in r for r in rows)
    assert all("(n=" in t.name for t in teen_exposure(d).fig.data if t.type == "scatter")
