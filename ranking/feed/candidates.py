"""The candidates of one request as typed columns (plain lists, one entry per candidate).

Sources fill ``item_id``, ``source``, ``source_score`` and, from the model's precomputed
lists, ``model_score``. Candidate hydrators add columns (``facts``, ``verdict``, ``steer``),
the pipeline sets ``score``. A feed request handles a few hundred rows a dozen times: list
gathers cost microseconds where a dataframe operation costs a query plan each. Nothing here
modifies its input (model lists are cached and shared between requests).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from wellbeing import ItemFacts
    from wellbeing.verdicts import ItemVerdict

__all__ = ["Candidates", "SteerHit", "NO_STEER"]

# (direction kind or None, signed weight, the words that matched): ``wellbeing.steer_direction``.
SteerHit = tuple[str | None, float, tuple[str, ...]]
NO_STEER: SteerHit = (None, 0.0, ())


@dataclass(frozen=True)
class Candidates:
    """One column per field; a column that is None has not been hydrated."""

    item_id: list[str]
    source: list[str]
    source_score: list[float]
    model_score: list[float | None] | None = None
    expected: list[tuple[str, ...] | None] | None = None
    """The predicted actions that carried each model row's score (``actions`` model only)."""
    facts: list[ItemFacts | None] | None = None
    verdict: list[ItemVerdict] | None = None
    steer: list[SteerHit] | None = None
    score: list[float] | None = None

    def __len__(self) -> int:
        return len(self.item_id)

    @classmethod
    def empty(cls) -> Candidates:
        return cls([], [], [])

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> Candidates:
        """A source's frame (``item_id``, ``source``, ``source_score``[, ``model_score``])."""
        score = frame.get_column("source_score")
        model = (frame.get_column("model_score").to_list()
                 if "model_score" in frame.columns else None)
        expected = ([tuple(e) if e is not None else None
                     for e in frame.get_column("expected").to_list()]
                    if "expected" in frame.columns else None)
        return cls(frame.get_column("item_id").cast(pl.String).to_list(),
                   frame.get_column("source").cast(pl.String).to_list(),
                   [0.0 if s is None else float(s) for s in score.to_list()], model, expected)

    def take(self, rows: list[int]) -> Candidates:
        """These rows, in this order."""
        cols = {}
        for f in fields(self):
            col = getattr(self, f.name)
            if col is not None:
                cols[f.name] = [col[n] for n in rows]
        return replace(self, **cols)

    def keep(self, mask: list[bool]) -> Candidates:
        """The rows whose ``mask`` entry is true, in order."""
        if all(mask):
            return self
        return self.take([n for n, k in enumerate(mask) if k])

    def head(self, n: int) -> Candidates:
        return self if n >= len(self) else self.take(list(range(n)))

    def concat(self, other: Candidates) -> Candidates:
        """Rows of ``self`` then of ``other`` (sources only: no hydrated column yet);
        an id already present keeps its first row (earlier sources win)."""
        have = set(self.item_id)
        rows = [n for n, i in enumerate(other.item_id) if i not in have]
        if not rows:
            return self
        o = other.take(rows) if len(rows) < len(other) else other
        model = None
        if self.model_score is not None or o.model_score is not None:
            model = ((self.model_score or [None] * len(self))
                     + (o.model_score or [None] * len(o)))
        expected = None
        if self.expected is not None or o.expected is not None:
            expected = (self.expected or [None] * len(self)) + (o.expected or [None] * len(o))
        return Candidates(self.item_id + o.item_id, self.source + o.source,
                          self.source_score + o.source_score, model, expected)

    def unique(self) -> Candidates:
        """The first row of every id."""
        seen: set[str] = set()
        rows = [n for n, i in enumerate(self.item_id) if not (i in seen or seen.add(i))]
        return self if len(rows) == len(self) else self.take(rows)
