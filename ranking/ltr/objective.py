"""What the feed optimises: one weight per predicted action, applied at serving.

The ranker predicts the probability of each action a viewer may take on a candidate
(``ranking.ltr._actions``); a version serving the ``actions`` model orders a page by

    score = sum over actions of weight[action] x P(action)

plus the wellbeing downranks the feed applies after it. This is the shape of X's open-sourced
For You ranker, whose weights are configuration with large negative ones (report -234, mute
-59, not interested -43 against like 0.5 and share 2). The weights live in a JSON or YAML
file mapping action names to numbers; a missing action weighs 0. ``feedwell publish
--objective FILE`` records them with the published version and ``feedwell serve --objective
FILE`` serves with them, without retraining.

The defaults are creation-first (Sora's "creativity over consumption"): remixing, sharing and
commenting weigh more than liking, which weighs more than a completed view, and hides, reports
and quick skips weigh strongly against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from features.errors import ConfigError

__all__ = ["ACTIONS", "CREATION_ACTIONS", "DEFAULT_WEIGHTS", "ENGAGEMENT_WEIGHTS",
           "check_weights", "load_objective", "scaled_creation"]

ACTIONS = ("view", "complete", "like", "share", "comment", "remix", "follow", "hide", "report",
           "skip")
"""The predicted actions, in column order: a view (watched at all: the base of every feed
objective, and what the evaluation's NDCG counts), a completed view (80% of the video or
more), a like, a share, a comment, a remix, following the creator, a hide ("not
interested"), a report and a quick skip."""

CREATION_ACTIONS = ("share", "comment", "remix", "follow")
"""Actions that create or connect (the creation rate@10 counts them)."""

DEFAULT_WEIGHTS: dict[str, float] = {
    "view": 1.0, "complete": 1.0, "like": 2.0, "comment": 3.0, "share": 4.0, "remix": 5.0,
    "follow": 3.0, "hide": -10.0, "report": -30.0, "skip": -1.0}
"""Creation-first: remix > share > comment = follow > like > completed view = view; hides,
reports and quick skips against (a hide costs what ten views earn)."""

ENGAGEMENT_WEIGHTS: dict[str, float] = {
    a: w for a, w in DEFAULT_WEIGHTS.items() if a not in ("comment", "share", "remix", "follow")}
"""Engagement only: the defaults without the creation and connection actions (the baseline of
the evaluation's creation trade-off, its factor 0)."""


def check_weights(weights: Any, where: str = "objective") -> dict[str, float]:
    """Validate an action -> weight mapping; every action gets a weight (missing: 0).

    Raises:
        ConfigError: not a mapping, an unknown action (the message lists the known ones) or a
            weight that is not a finite number.
    """
    if not isinstance(weights, dict):
        raise ConfigError(f"{where}: expected a mapping of action names to weights, "
                        f"got {type(weights).__name__}")
    unknown = sorted(set(weights) - set(ACTIONS))
    if unknown:
        raise ConfigError(f"{where}: unknown action(s) {', '.join(map(str, unknown))}; "
                        f"the actions are {', '.join(ACTIONS)}")
    out = {}
    for a in ACTIONS:
        v = weights.get(a, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or abs(v) == float(
                "inf"):
            raise ConfigError(f"{where}: the weight of {a!r} must be a finite number, got {v!r}")
        out[a] = float(v)
    return out


def load_objective(path: str | Path) -> dict[str, float]:
    """Read a weights file (``.json``, or ``.yaml``/``.yml``) into validated weights.

    Raises:
        ConfigError: a missing or unreadable file, or invalid weights (``check_weights``).
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"objective file not found: {p}")
    text = p.read_text()
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - any parse error is the user's file
        raise ConfigError(f"objective file {p} is not valid "
                        f"{'YAML' if p.suffix.lower() in ('.yaml', '.yml') else 'JSON'}: "
                        f"{exc}") from None
    return check_weights(data, str(p))


def scaled_creation(weights: dict[str, float], factor: float) -> dict[str, float]:
    """``weights`` with the creation actions' weights times ``factor`` (the trade-off curve)."""
    return {a: w * factor if a in CREATION_ACTIONS else w for a, w in weights.items()}
