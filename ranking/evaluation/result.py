"""The evaluation's result as types: what ``evaluate_split``, ``evaluate_models`` and
``lifecycle.evaluate_version`` return.

Code reads the fields. ``to_dict()`` is the JSON the CLI prints (``evaluate --json``, the
``evaluation`` of ``run --json``, the ``gate`` of ``publish --json``) and the registry records:
its keys and their order are an interface, so they change here on purpose or not at all.
A figure JSON has no word for (NaN) becomes None there, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ranking.evaluation.selection import HoldoutScores, Selection, json_safe

__all__ = ["CalibrationBin", "ActionFigure", "TradeoffPoint", "Tradeoff", "ActionFigures",
           "HoldoutResult", "SplitResult", "SplitInfo", "Gate", "EvaluationResult"]


@dataclass(frozen=True)
class CalibrationBin:
    """One decile of predicted probability: its mean prediction, observed rate and size."""

    predicted: float
    observed: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"predicted": self.predicted, "observed": self.observed, "n": self.n}


@dataclass(frozen=True)
class ActionFigure:
    """How well one action's head predicts it, against the item's own rate of that action."""

    positives: int
    """Test pairs with the action."""
    pairs: int
    """Acted-on test pairs scored."""
    auc: float | None
    """AUC of the head's ``P(action | engage)`` (None: one class only)."""
    item_rate_auc: float | None
    """AUC of the item's training rate of the action on the same pairs (the bar)."""
    auc_vs_item_rate: float | None
    """``auc / item_rate_auc`` (None: no bar)."""
    calibration: tuple[CalibrationBin, ...] = ()
    """Predicted against observed by decile (empty: fewer than ten pairs)."""

    @classmethod
    def from_figures(cls, d: dict[str, Any]) -> ActionFigure:
        """From one action of ``ranking.ltr`` ``action_figures`` (the training report's form)."""
        return cls(positives=d["positives"], pairs=d["pairs"], auc=d["auc"],
                   item_rate_auc=d["item_rate_auc"], auc_vs_item_rate=d["auc_vs_item_rate"],
                   calibration=tuple(CalibrationBin(**b) for b in d["calibration"]))

    def to_dict(self) -> dict[str, Any]:
        return {"positives": self.positives, "pairs": self.pairs, "auc": self.auc,
                "item_rate_auc": self.item_rate_auc, "auc_vs_item_rate": self.auc_vs_item_rate,
                "calibration": [b.to_dict() for b in self.calibration]}


@dataclass(frozen=True)
class TradeoffPoint:
    """The ``actions`` model's top-k with the creation weights scaled by ``factor``."""

    factor: float
    ndcg: float
    """NDCG@k (anything engaged with in test is relevant)."""
    creation: float
    """Share of the top k the user went on to share, comment on, remix or follow the creator of."""

    def to_dict(self, k: int) -> dict[str, Any]:
        return {"factor": self.factor, f"ndcg@{k}": self.ndcg, f"creation@{k}": self.creation}


@dataclass(frozen=True)
class Tradeoff:
    """The creation trade-off curve over the creation-weight factors."""

    k: int
    users: int
    weights: dict[str, float]
    """The objective at factor 1."""
    points: tuple[TradeoffPoint, ...]
    creation_lift: float | None
    """Creation@k at factor 1 over factor 0, minus 1 (None: no creation at factor 0)."""
    ndcg_cost: float | None
    """1 minus NDCG@k at factor 1 over factor 0 (None: NDCG 0 at factor 0)."""

    def to_dict(self) -> dict[str, Any]:
        return {"users": self.users, "weights": self.weights,
                "points": [p.to_dict(self.k) for p in self.points],
                "creation_lift": self.creation_lift, "ndcg_cost": self.ndcg_cost}


@dataclass(frozen=True)
class ActionFigures:
    """One holdout's per-action figures and creation trade-off (``ranking.evaluation.actions``)."""

    per_action: dict[str, ActionFigure] = field(default_factory=dict)
    tradeoff: Tradeoff | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"per_action": {a: f.to_dict() for a, f in self.per_action.items()},
                "tradeoff": self.tradeoff.to_dict() if self.tradeoff is not None else {}}


@dataclass(frozen=True)
class HoldoutResult:
    """Every model's metrics on one holdout (known test users)."""

    k: int
    n_users: int
    """Known test users (with training history): the ones the metrics are over."""
    n_new_users: int
    models: dict[str, dict[str, Any]]
    """Model name -> metric name -> value, or ``{"skipped": why}``."""
    ranker_report: dict[str, Any] | None = None
    actions: ActionFigures | None = None
    """None: the version has no action heads."""
    seconds: float | None = None
    """Wall time of this holdout (None: not timed)."""
    sampled_from: int | None = None
    """Test users the scored ones are a seeded sample of (None: every test user scored)."""

    def to_dict(self) -> dict[str, Any]:
        d = {"k": self.k, "n_users": self.n_users, "n_new_users": self.n_new_users,
             "models": self.models, "ranker_report": self.ranker_report,
             "actions": self.actions.to_dict() if self.actions is not None else {}}
        if self.seconds is not None:
            d["seconds"] = self.seconds
        if self.sampled_from is not None:
            d["sampled_from"] = self.sampled_from
        return json_safe(d)


@dataclass(frozen=True)
class SplitResult:
    """One split evaluated: its figures, and the per-user scores model selection reads."""

    holdout: HoldoutResult
    scores: HoldoutScores
    streaming: dict[str, Any] | None = None
    """Live against frozen NDCG per model of the streaming replay (None: not replayed)."""
    streaming_scores: HoldoutScores | None = None


@dataclass(frozen=True)
class SplitInfo:
    """How the two holdouts were cut."""

    cutoff: str
    """The time-forward holdout's first time (ISO)."""
    fraction: float
    """Share of each user's pairs in the random holdout."""
    seed: int
    users: tuple[int, int] | None = None
    """``(sampled, of)``: the holdouts are cut from a seeded sample of users, with all of
    their events (None: from every user)."""

    def to_dict(self) -> dict[str, Any]:
        d = {"kind": "temporal", "cutoff": self.cutoff,
             "random": {"fraction": self.fraction, "seed": self.seed}}
        if self.users is not None:
            d["users"] = {"sampled": self.users[0], "of": self.users[1]}
        return d


@dataclass(frozen=True)
class Gate:
    """Whether the evaluated version may be published, and why."""

    passed: bool
    why: str
    version: str | None
    served: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "why": self.why, "version": self.version,
                "served": self.served}


# The ``evaluation`` of ``feedwell run --json``: the daily summary keeps these keys.
SUMMARY_KEYS = ("k", "n_users", "models", "split", "gate", "table", "seconds", "holdout_seconds",
                "guardrails_seconds", "selection", "actions", "objective")


@dataclass(frozen=True)
class EvaluationResult:
    """An evaluation: both holdouts, the streaming replay, the choice, and (from
    ``evaluate_version``) the objective, the guardrail replay and the gate."""

    k: int = 10
    holdouts: dict[str, HoldoutResult] = field(default_factory=dict)
    streaming: dict[str, Any] | None = None
    split: SplitInfo | None = None
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The time-forward holdout's metrics (what ``models`` and the marts show)."""
    actions: dict[str, ActionFigures] = field(default_factory=dict)
    """Holdout name -> per-action figures (holdouts without action heads left out)."""
    n_users: int = 0
    ranker_report: dict[str, Any] | None = None
    selection: Selection | None = None
    seconds: float | None = None
    holdout_seconds: dict[str, float] = field(default_factory=dict)
    table: str = ""
    objective: dict[str, float] | None = None
    """The action weights the ``actions`` model was judged with (None: the defaults)."""
    guardrails: dict[str, Any] | None = None
    """The replay with and without the policy (None: no version to replay)."""
    guardrails_seconds: float | None = None
    gate: Gate | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see module docstring); absent parts leave their key out."""
        d: dict[str, Any] = {"k": self.k,
                             "holdouts": {h: r.to_dict() for h, r in self.holdouts.items()}}
        if self.streaming is not None:
            d["streaming"] = self.streaming
        if self.split is not None:
            d["split"] = self.split.to_dict()
        d.update(models=self.models, actions={h: a.to_dict() for h, a in self.actions.items()},
                 n_users=self.n_users, ranker_report=self.ranker_report)
        if self.selection is not None:
            d["selection"] = self.selection.as_dict()
        d.update(seconds=self.seconds, holdout_seconds=self.holdout_seconds, table=self.table,
                 objective=self.objective)
        if self.guardrails is not None:
            d["guardrails"] = self.guardrails
        if self.guardrails_seconds is not None:
            d["guardrails_seconds"] = self.guardrails_seconds
        if self.gate is not None:
            d["gate"] = self.gate.to_dict()
        return json_safe(d)

    def summary(self) -> dict[str, Any]:
        """The part the daily flow's summary carries (``run --json``'s ``evaluation``)."""
        d = self.to_dict()
        return {key: d[key] for key in SUMMARY_KEYS if key in d}

    def registry_metrics(self) -> dict[str, Any]:
        """What the registry records on the version: the time-forward metrics per model, the
        gate, the choice and the per-action figures."""
        d = self.to_dict()
        return {**d["models"], "gate": d.get("gate"), "selection": d.get("selection"),
                "action_figures": d["actions"]}
