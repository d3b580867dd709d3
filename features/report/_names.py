"""Readable names for the ranker's features and the evaluation's metrics, for the report.

The model files keep short internal names (``z_als``) and catalog names; analysts read these.
A catalog feature (``user_engagement.views_7d``) reads as its set and column; a name nobody
mapped yet is shown with underscores as spaces rather than hidden.
"""

from __future__ import annotations

__all__ = ["feature_label", "metric_label"]

_CATALOG = {
    "user_creator_affinity.following": "viewer follows the creator",
    "user_creator_affinity.views_total": "viewer x creator: views, all time",
    "fatigue_creator.fatigue": "viewer x creator: hides and reports (decayed)",
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
    if name in _CATALOG:
        return _CATALOG[name]
    head, _, rest = name.partition("_")
    if head in _PAIR and rest:
        return _PAIR[head].format(_SOURCES.get(rest, rest.replace("_", " ")))
    if "." in name:
        feature_set, column = name.split(".", 1)
        column = column.replace("_total", ", all time").replace("_", " ")
        return f"{feature_set.replace('_', ' ')}: {column}"
    return name.replace("_", " ")


def metric_label(name: str) -> str:
    """An evaluation metric's name as an analyst reads it."""
    return _METRICS.get(name, name.replace("_", " "))
