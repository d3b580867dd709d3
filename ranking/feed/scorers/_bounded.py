"""A bounded score shift that works whatever the scale of the scores before it."""

from __future__ import annotations

__all__ = ["spread"]


def spread(scores: list[float]) -> float:
    """The range of this request's scores (1.0 when they are all equal or empty).

    A shift of ``w * spread`` moves an item by at most ``w`` of the page's score range, so a
    weight means the same on ranker log-odds and on popularity counts.
    """
    if not scores:
        return 1.0
    r = max(scores) - min(scores)
    return r if r > 0 else 1.0
