"""Readable names for the ranker's features and the evaluation's metrics, for the report.

The model files keep short internal names (``i_like_rate``, ``z_als``); analysts read these.
A catalog feature (``user_engagement.views_7d``) reads as its set and column; a name nobody
mapped yet is shown with underscores as spaces rather than hidden.
"""

from __future__ import annotations

__all__ = ["feature_label", "metric_label"]

_STATS = {
    "i_users": "video: people who engaged",
    "i_like_rate": "video: like rate",
    "i_like_rate_s": "video: like rate (smoothed)",
    "i_mean_w": "video: mean engagement weight",
    "i_watch": "video: mean watch fraction",
    "i_neg": "video: hides and reports",
    "i_neg_rate": "video: hide/report rate (smoothed)",
    "i_age_days": "video: age in days",
    "i_recent": "video: engagements in the last 3 days",
    "u_items": "viewer: videos engaged with",
    "u_like_rate": "viewer: like rate",
    "u_mean_w": "viewer: mean engagement weight",
    "u_neg": "viewer: hides and reports given",
    "uc_pos": "viewer x creator: past engagements",
    "uc_neg": "viewer x creator: hides and reports (decayed)",
    "uc_follow": "viewer follows the creator",
}
_SOURCES = {"als": "ALS", "bpr": "BPR", "ease": "EASE", "itemknn": "item kNN",
            "popular": "popularity", "trending": "trending", "fresh": "freshness",
            "following": "following"}
_PAIR = {"rank": "rank among {} candidates", "z": "{} score (standardised)",
         "score": "{} score"}
_METRICS = {
    "ndcg@10": "NDCG@10 (watched)", "ndcg@10_liked": "NDCG@10 of liked videos",
    "liked_above_hidden_auc": "liked above hidden (AUC)", "map@10": "MAP@10",
    "precision@10": "precision@10", "recall@10": "recall@10", "coverage": "catalog coverage",
    "diversity": "diversity", "novelty": "novelty",
}


def feature_label(name: str) -> str:
    """A feature's name as an analyst reads it (e.g. ``z_als`` -> ``ALS score (standardised)``).
    """
    if name in _STATS:
        return _STATS[name]
    head, _, rest = name.partition("_")
    if head in _PAIR and rest:
        return _PAIR[head].format(_SOURCES.get(rest, rest.replace("_", " ")))
    if "." in name:
        feature_set, column = name.split(".", 1)
        return f"{feature_set.replace('_', ' ')}: {column.replace('_', ' ')}"
    return name.replace("_", " ")


def metric_label(name: str) -> str:
    """An evaluation metric's name as an analyst reads it."""
    return _METRICS.get(name, name.replace("_", " "))
