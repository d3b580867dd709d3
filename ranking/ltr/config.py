"""Configuration of the two-stage ranker: the sources, the LightGBM grid and the objective."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ranking.ltr._catalog import DEFAULT_FEATURES, resolve_features

__all__ = ["LtrConfig", "ObjectiveConfig", "default_sources", "config_from_meta"]


def default_sources() -> dict[str, dict]:
    """Source name -> config overrides used by default."""
    return {"ease": {}, "itemknn": {}, "als": {}, "bpr": {}, "popular": {},
            "trending": {}, "fresh": {}, "following": {}}


@dataclass
class ObjectiveConfig:
    """What the ranker learns to put first: creation and connection above passive watching.

    A training label is the watch grade (1 partial watch, 2 full watch, 3 liked) plus the
    bonuses below; unseen and hidden videos stay 0 (Sora's "creativity over consumption").
    """

    creation_first: bool = True
    """Add the creation and connection bonuses; False grades by watching and liking alone."""
    creation: int = 3
    """Grade added when the user remixed, shared or commented on the video."""
    connection: int = 2
    """Grade added to a watched video whose creator the user followed or had interacted
    with before the label period."""
    max_label: int = 30
    """Cap on a label (LightGBM's default label gains stop at 30)."""


@dataclass
class LtrConfig:
    """Configuration of the two-stage ranker."""

    sources: dict[str, dict] = field(default_factory=default_sources)
    """Candidate sources by name, with their config overrides."""
    n_per_source: int = 100
    """Candidates asked of each source per user."""
    n_candidates: int = 300
    """Candidates kept per user after merging."""
    holdout_fraction: float = 0.2
    """Share of each user's latest interactions used as training labels."""
    holdout: str = "random"
    """``random`` (a random share of each user's interactions) or ``temporal`` (each user's
    latest ones). Random labels transfer to both random and temporal test splits in the bench;
    temporal labels also learn order artefacts of the log that a random split does not share."""
    tune_folds: int = 3
    """Random splits EASE's ``reg`` is chosen on (``ranking.ltr._tune``): the ranker's own,
    then further seeded ones; one split alone scored regs 2.5x apart within noise."""
    max_train_users: int = 5_000
    """Users sampled for the LambdaRank training set (bounds memory on large data)."""
    valid_fraction: float = 0.2
    """Share of labelled users used to choose hyperparameters."""
    grid: list[dict] = field(default_factory=lambda: [
        {"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 50},
        {"objective": "lambdarank", "num_leaves": 31, "min_data_in_leaf": 20},
        {"objective": "binary", "num_leaves": 31, "min_data_in_leaf": 50},
    ])
    """LightGBM settings tried (LambdaRank first; a pointwise binary fit competes, since on
    sparse labels it is sometimes steadier); the best validation NDCG@10 wins."""
    learning_rate: float = 0.05
    """LightGBM shrinkage."""
    max_rounds: int = 300
    """Upper bound on boosting rounds (early stopping picks fewer)."""
    num_threads: int = 2
    """LightGBM threads for training (serving uses 1)."""
    seed: int = 42
    """Seed for splits, sampling and LightGBM."""
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    """How training labels weigh creation, connection and watching."""
    features: list[str] = field(default_factory=lambda: list(DEFAULT_FEATURES))
    """Engagement features the ranker reads from the DuckDB feature catalog, by catalog name
    (``set.column``, ``features/features.yaml``), next to its source ranks and scores. An
    unknown name fails when the config is made, naming the feature."""

    def __post_init__(self) -> None:
        # ranker.json stores asdict(config): the objective comes back as a dict.
        if isinstance(self.objective, dict):
            self.objective = ObjectiveConfig(**self.objective)
        self.features = list(self.features)
        resolve_features(self.features)


def config_from_meta(meta: dict[str, Any]) -> LtrConfig:
    """The configuration a saved version was trained with (its ``ranker.json``). Fields a
    newer version dropped (``precompute_users``) are ignored."""
    return LtrConfig(**{k: v for k, v in meta["config"].items()
                        if k in LtrConfig.__dataclass_fields__})
