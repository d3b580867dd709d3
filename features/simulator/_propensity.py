"""Per-video reaction propensities for ``simulate``: the pull a video has on creation and hides.

Watching and liking come from user-video affinity and quality. Creating from a video does not,
or not only: a few videos are templates or trends that many viewers remix, share or comment on,
and most are not. Each video carries a latent shift on the logit scale of each reaction, added
to the affinity and quality terms in ``_events._react``, so that at the same watch affinity some
videos are created from many times more often than others, and a ranker can learn it per video.

The draw, per video (``N`` independent standard normals, ``z(q)`` the standardised log quality):

- a common creation pull ``c = 0.8 N + 0.25 z(q) + 0.5 trend + template * (1.8 + E)``, where
  ``trend`` marks videos on a trend-prone topic (comedy, music, dance, memes), ``template`` is
  true for 6% of videos and ``E`` is exponential with mean 0.6: a heavy right tail of
  remixable templates. Its correlation with watch quality is weak (about 0.2).
- remix ``= c + 0.45 N``, share ``= 0.85 c + 0.5 N``, comment ``= 0.6 c + 0.6 N``: correlated
  (remix-share about 0.9, remix-comment about 0.7) but not identical.
- hide ``= 0.7 N``: a per-video "not for me" pull (clickbait, grating audio) beside sensitivity.

Each shift is centred so that its mean ``exp`` over videos is 1: reactions stay rare, so event
volume and the overall rate of each reaction stay about where they were without the shifts;
what moves is which videos carry them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.simulator._vocab import TOPICS

__all__ = ["Propensity", "draw_propensity"]

_TREND_TOPICS = ("comedy", "music", "dance", "memes")
_SPREAD = 0.8
_QUALITY = 0.25
_TREND = 0.5
_TEMPLATE_SHARE = 0.06
_TEMPLATE_JUMP = 1.8
_TEMPLATE_TAIL = 0.6
_HIDE_SPREAD = 0.7


@dataclass
class Propensity:
    """Per-video logit shifts (arrays of length I, in item order); see the module docstring."""

    remix: np.ndarray
    share: np.ndarray
    comment: np.ndarray
    hide: np.ndarray
    creation: np.ndarray  # the common creation pull ``c`` behind remix, share and comment


def _centred(x: np.ndarray) -> np.ndarray:
    """Shift ``x`` so the mean of ``exp(x)`` is 1 (the rare-event rate is unchanged on average)."""
    return x - np.log(np.mean(np.exp(x))) if len(x) else x


def draw_propensity(rng: np.random.Generator, quality: np.ndarray,
                    topics: np.ndarray) -> Propensity:
    """Draw each video's creation and hide pulls.

    Args:
        rng: the world's generator (drawn from last, so the rest of the world is unchanged).
        quality: (I,) watch quality, > 0.
        topics: (I, topics) boolean topic mask.

    Returns:
        The per-video logit shifts.
    """
    n = len(quality)
    lq = np.log(quality)
    zq = (lq - lq.mean()) / (lq.std() or 1.0)
    trend = topics[:, [TOPICS.index(t) for t in _TREND_TOPICS]].any(1)
    template = rng.random(n) < _TEMPLATE_SHARE
    jump = _TEMPLATE_JUMP + rng.exponential(_TEMPLATE_TAIL, n)
    common = (_SPREAD * rng.normal(size=n) + _QUALITY * zq + _TREND * trend
              + np.where(template, jump, 0.0))
    own = rng.normal(size=(4, n))
    return Propensity(
        remix=_centred(common + 0.45 * own[0]),
        share=_centred(0.85 * common + 0.5 * own[1]),
        comment=_centred(0.6 * common + 0.6 * own[2]),
        hide=_centred(_HIDE_SPREAD * own[3]),
        creation=common,
    )
