"""What a trained model version serves: which model kind, which fallback, and the back-off.

A version holds every fitted candidate source next to the LightGBM blend, so any model the
evaluation scores can be served from it: ``ranker`` (the blend), a personalised source
(``ease``, ``als``, ``bpr``, ``itemknn``), such a source with the feedback head weighed in
(``ease+fb``: see ``ServingChoice.head``) or a popularity variant. The publish step writes the
evaluation's choice (see ``ranking.evaluation.selection``) into the version; until then a
trained version serves the blend, with all-time popularity for new users.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ranking.candidates import CandidateSource, make_source

if TYPE_CHECKING:
    from ranking.interactions import Interactions

FB_SUFFIX = "+fb"
"""An evaluation candidate ``<source>+fb`` is that source served with the feedback head."""

__all__ = ["FB_SUFFIX", "ServingChoice", "fit_popularity", "source_scores", "history_lengths",
           "read_choice", "read_objective", "write_objective"]


@dataclass(frozen=True)
class ServingChoice:
    """The served model of a version (recorded in its ``ranker.json``)."""

    model: str = "ranker"
    """``ranker`` (the LambdaRank blend), ``actions`` (the weighted sum of the predicted
    actions, ``ranking.ltr.objective``), a source name, or a popularity variant name (see
    ``popularity``)."""
    fallback: str = "popular"
    """The popularity variant served to new users, non-personalised feeds and back-offs."""
    popularity: dict[str, dict] = field(default_factory=lambda: {"popular": {}})
    """``PopConfig`` overrides of the popularity variants this choice names."""
    backoff_below: int = 0
    """Known users with fewer interactions than this are served the fallback."""
    head: bool = False
    """A served source adds the version's feedback head (liked rather than hidden) with the
    weight chosen for it in training (the blend always does); the evaluation names such a
    candidate ``<source>+fb``."""
    why: str = "trained, not yet evaluated: the blend, all-time popularity for new users"
    """The evaluation's reason, shown by ``feedwell models`` and ``/healthz``."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ServingChoice:
        if not d:
            return cls()
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    @classmethod
    def named(cls, name: str, **kw: Any) -> ServingChoice:
        """The choice an evaluation candidate name stands for (``ease+fb``: EASE with the head)."""
        return cls(model=name.removesuffix(FB_SUFFIX), head=name.endswith(FB_SUFFIX), **kw)

    def describe(self) -> dict[str, Any]:
        """What is served, as ``feedwell models`` and ``/healthz`` show it."""
        return {"model": self.name, "kind": self.kind, "fallback": self.fallback,
                "backoff_below": self.backoff_below, "why": self.why}

    @property
    def name(self) -> str:
        """The evaluation's name for this choice (inverse of ``named``)."""
        return self.model + (FB_SUFFIX if self.head and self.kind == "source" else "")

    @property
    def kind(self) -> str:
        """``ranker``, ``actions``, ``source`` or ``popularity``."""
        if self.model in ("ranker", "actions"):
            return self.model
        return "popularity" if self.model in self.popularity else "source"


def fit_popularity(choice: ServingChoice, data: Interactions) -> dict[str, CandidateSource]:
    """The popularity variants the choice names, fitted on ``data``."""
    names = {choice.fallback} | ({choice.model} if choice.kind == "popularity" else set())
    return {n: make_source("popular", choice.popularity.get(n, {})).fit(data)
            for n in sorted(names)}


def source_scores(x: np.ndarray, features: list[str], model: str) -> np.ndarray:
    """A served source's score from the pair-feature matrix (its z-score within the user's
    row for personalised sources, its raw score otherwise); unscored pairs rank last."""
    for col in (f"z_{model}", f"score_{model}"):
        if col in features:
            return np.nan_to_num(x[:, features.index(col)].astype(np.float64), nan=-1e3)
    raise KeyError(f"model {model!r} is not among this version's sources")


def history_lengths(data: Interactions) -> np.ndarray:
    """Interactions per user index (the back-off reads it)."""
    out = np.zeros(len(data.user_ids), np.int64)
    g = data.frame.group_by("user_id").len()
    idx = np.array([data.user_index(u) for u in g["user_id"].to_list()], np.int64)
    ok = idx >= 0
    out[idx[ok]] = g["len"].to_numpy()[ok]
    return out


def read_objective(path: str | Path) -> dict[str, float] | None:
    """The action weights a saved version serves (None: no version, or one from before the
    action heads, which serves the defaults)."""
    f = Path(path) / "ranker.json"
    if not f.exists():
        return None
    return json.loads(f.read_text()).get("objective")


def read_config(path: str | Path) -> Any:
    """The ``LtrConfig`` a saved version was trained with (None: no such version)."""
    from ranking.ltr.config import config_from_meta

    f = Path(path) / "ranker.json"
    return config_from_meta(json.loads(f.read_text())) if f.exists() else None


def write_objective(path: str | Path, weights: dict[str, float]) -> None:
    """Record ``weights`` as the action weights a saved version serves (the version's
    ``ranker.json``, replaced atomically)."""
    from ranking.ltr.objective import check_weights

    f = Path(path) / "ranker.json"
    meta = json.loads(f.read_text())
    meta["objective"] = check_weights(weights)
    tmp = f.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, default=str))
    tmp.replace(f)


def read_choice(path: str | Path) -> ServingChoice | None:
    """The choice recorded in a saved version (None: no model files there)."""
    f = Path(path) / "ranker.json"
    if not f.exists():
        return None
    return ServingChoice.from_dict(json.loads(f.read_text()).get("serving"))
