"""Weighted user x item interactions from raw events (polars), with id <-> index mappings.

Everything here passes polars frames; `Interactions.to_csr` is the only place a sparse
matrix is built, at the boundary to the matrix-factorisation libraries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl
import scipy.sparse as sp

__all__ = ["Interactions", "InteractionWeights", "ViewerFold", "build_interactions",
           "fold_viewer_events", "load_interactions"]

_ITEM_TYPES = ("view", "like", "unlike", "share", "remix", "comment", "skip", "hide", "report")


@dataclass(frozen=True)
class InteractionWeights:
    """How much each event type adds to a user x item weight."""

    view: float = 1.0
    """Base weight of having watched at all (once per user x item)."""
    watch: float = 1.0
    """Added per unit of watch fraction (capped at ``watch_cap``)."""
    watch_cap: float = 1.5
    """Cap on the watch fraction of one view (loops do not count forever)."""
    like: float = 1.5
    share: float = 2.0
    remix: float = 2.0
    comment: float = 1.0
    unlike: float = -1.5
    skip: float = -0.3
    """A skip is weak evidence against: it subtracts a little."""

    def fraction(self, watch_ms: np.ndarray, duration_ms: np.ndarray, typical: np.ndarray
                 ) -> np.ndarray:
        """Watch fraction of views: of the video's duration when known, else of twice the
        user's typical (median) watch, 0.5 when neither is known; capped at ``watch_cap``.
        Arrays with NaN for unknown, one entry per view (the batch and the live fold)."""
        with np.errstate(all="ignore"):
            f = np.where(duration_ms > 0, watch_ms / duration_ms, watch_ms / (2.0 * typical))
        return np.clip(np.where(np.isnan(f), 0.5, f), 0.0, self.watch_cap)

    def weight(self, viewed: Any, watch_frac: Any, liked: Any, shares: Any, remixes: Any,
               comments: Any, skips: Any) -> Any:
        """A user x item weight from its per-pair counts (polars expressions in the batch,
        plain numbers in the live fold: one formula, the same float)."""
        return (viewed * self.view + watch_frac * self.watch + liked * self.like
                + shares * self.share + remixes * self.remix + comments * self.comment
                + skips * self.skip)


@dataclass
class Interactions:
    """A weighted user x item interaction table plus the context candidate sources need.

    Attributes:
        frame: positives ``(user_id, item_id, weight, last_ts, n_views, liked, watch_frac,
            created)`` (``created``: remixes, shares and comments of the video, capped at 3
            each); items the user hid or reported are never here.
        negatives: ``(user_id, item_id, creator_id, ts)`` hides and reports.
        items: catalog ``(item_id, creator_id, created_at, duration_ms)``; may be empty.
        follows: net follows ``(user_id, creator_id, ts)`` (unfollows removed).
        user_ids / item_ids: index -> id (index order of the CSR matrix).
        now: the as-of time.
        events: the raw events these interactions were built from (every type, as of
            ``now``), for the ranker's catalog features; None when not kept.
        resets: ``user_resets`` rows that applied to them.
    """

    frame: pl.DataFrame
    negatives: pl.DataFrame
    items: pl.DataFrame
    follows: pl.DataFrame
    user_ids: np.ndarray
    item_ids: np.ndarray
    now: datetime | None = None
    events: pl.DataFrame | None = field(default=None, repr=False)
    resets: pl.DataFrame | None = field(default=None, repr=False)
    _user_index: dict[str, int] = field(default_factory=dict, repr=False)
    _item_index: dict[str, int] = field(default_factory=dict, repr=False)
    _durations: dict[str, float | None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._user_index = {u: i for i, u in enumerate(self.user_ids.tolist())}
        self._item_index = {t: i for i, t in enumerate(self.item_ids.tolist())}

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def user_index(self, user_id: str) -> int:
        """Row index of a user, or -1 when unknown."""
        return self._user_index.get(user_id, -1)

    def item_index(self, item_ids: list[str] | np.ndarray) -> np.ndarray:
        """Column indices of items (-1 where unknown)."""
        get = self._item_index.get
        return np.fromiter((get(t, -1) for t in item_ids), dtype=np.int64, count=len(item_ids))

    def indexed(self) -> pl.DataFrame:
        """The positives with ``u``/``i`` integer index columns added."""
        umap = pl.DataFrame({"user_id": pl.Series(self.user_ids.tolist(), dtype=pl.String),
                             "u": np.arange(self.n_users)})
        imap = pl.DataFrame({"item_id": pl.Series(self.item_ids.tolist(), dtype=pl.String),
                             "i": np.arange(self.n_items)})
        return self.frame.join(umap, on="user_id").join(imap, on="item_id")

    def to_csr(self, binary: bool = False) -> sp.csr_matrix:
        """User x item CSR matrix of weights (or 1.0 where ``binary``)."""
        f = self.indexed()
        data = (np.ones(f.height, np.float32) if binary
                else f["weight"].to_numpy().astype(np.float32))
        return sp.csr_matrix(
            (data, (f["u"].to_numpy(), f["i"].to_numpy())), shape=(self.n_users, self.n_items)
        )

    def durations(self) -> dict[str, float | None]:
        """The catalog's ``duration_ms`` per video (removed videos left out), built once: the
        live fold (``fold_viewer_events``) reads it per request."""
        if self._durations is None:
            cat = _catalog(self.items)
            self._durations = dict(zip(cat["item_id"].to_list(), cat["duration_ms"].to_list(),
                                       strict=True))
        return self._durations

    def seen_items(self, user_id: str) -> set[str]:
        """Every item the user interacted with (positives, hides and reports)."""
        pos = self.frame.filter(pl.col("user_id") == user_id)["item_id"].to_list()
        neg = self.negatives.filter(pl.col("user_id") == user_id)["item_id"].to_list()
        return set(pos) | set(neg)

    def restrict(self, frame: pl.DataFrame, negatives: pl.DataFrame | None = None,
                 drop: pl.DataFrame | None = None) -> Interactions:
        """A copy with other positives (and optionally negatives), the same catalog and follows.

        The raw events keep only what the copy may know: the events of a dropped pair, and a
        user's events after their last kept interaction once any of theirs was dropped, go.
        ``drop`` names further pairs whose events go (pairs that are in neither table, such as
        pairs only skipped).
        """
        negatives = self.negatives if negatives is None else negatives
        return Interactions(frame, negatives, self.items, self.follows, self.user_ids,
                            self.item_ids, self.now, _kept_events(self, frame, negatives, drop),
                            self.resets)


def _kept_events(data: Interactions, frame: pl.DataFrame, negatives: pl.DataFrame,
                 drop: pl.DataFrame | None = None) -> pl.DataFrame | None:
    ev = data.events
    if ev is None:
        return None
    key = ["user_id", "item_id"]
    dropped = pl.concat([data.frame.select(key).join(frame.select(key), on=key, how="anti"),
                         data.negatives.select(key).join(negatives.select(key), on=key,
                                                         how="anti")]
                        + ([drop.select(key)] if drop is not None and drop.height else []))
    if not dropped.height:
        return ev
    # A user's cutoff: the last interaction they kept (a positive or a hide/report).
    kept_ts = pl.concat([frame.select("user_id", pl.col("last_ts").alias("t")),
                         negatives.select("user_id", pl.col("ts").cast(pl.Datetime("us"))
                                          .alias("t"))])
    cut = (kept_ts.join(dropped.select("user_id").unique(), on="user_id", how="semi")
           .group_by("user_id").agg(pl.col("t").max().alias("_cut")))
    return (ev.join(dropped, on=key, how="anti")
            .join(dropped.select("user_id").unique().join(cut, on="user_id", how="left"),
                  on="user_id", how="left")
            .filter(pl.col("_cut").is_null() | (pl.col("ts") <= pl.col("_cut")))
            .drop("_cut"))


def _empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema={"user_id": pl.String, "ts": pl.Datetime("us"), "type": pl.String,
                                "item_id": pl.String, "target_user_id": pl.String,
                                "watch_ms": pl.Int64})


def build_interactions(
    events: pl.DataFrame,
    items: pl.DataFrame | None = None,
    resets: pl.DataFrame | None = None,
    now: datetime | None = None,
    weights: InteractionWeights | None = None,
) -> Interactions:
    """Weight raw events into user x item interactions.

    Args:
        events: raw ``events`` rows (user_id, ts, type, item_id, target_user_id, watch_ms).
        items: raw ``items`` rows (item_id, creator_id, created_at, duration_ms), optional.
        resets: ``user_resets`` rows; a user's events before their latest reset are dropped.
        now: as-of time; later events are ignored.
        weights: per-type weights.

    Returns:
        The interactions; index order follows first appearance sorted by id (deterministic).
    """
    w = weights or InteractionWeights()
    ev = events if events.height else _empty_events()
    # Kept as they are for the catalog features, which apply resets themselves (a user's own
    # sets forget; a video's counts do not).
    raw = ev.with_columns(pl.col("ts").cast(pl.Datetime("us")))
    if now is not None:
        raw = raw.filter(pl.col("ts") <= now)
    ev = ev.select("user_id", pl.col("ts").cast(pl.Datetime("us")), "type", "item_id",
                   "target_user_id", pl.col("watch_ms").cast(pl.Float64))
    if now is not None:
        ev = ev.filter(pl.col("ts") <= now)
    if resets is not None and now is not None:
        resets = resets.filter(pl.col("ts") <= now)
    if resets is not None and resets.height:
        last = resets.group_by("user_id").agg(
            pl.col("ts").max().cast(pl.Datetime("us")).alias("_r"))
        ev = ev.join(last, on="user_id", how="left").filter(
            pl.col("_r").is_null() | (pl.col("ts") >= pl.col("_r"))).drop("_r")
    cat = _catalog(items)
    follows = _net_follows(ev, cat)
    ev = ev.filter(pl.col("item_id").is_not_null() & pl.col("type").is_in(_ITEM_TYPES))
    ev = ev.join(cat.select("item_id", "creator_id", "duration_ms"), on="item_id", how="left")

    neg = (ev.filter(pl.col("type").is_in(["hide", "report"]))
           .group_by("user_id", "item_id")
           .agg(pl.col("creator_id").first(), pl.col("ts").max())
           .sort("user_id", "item_id"))  # group order is arbitrary; seeded splits read rows
    # Watch fraction: of the video's duration when known, else of the user's typical watch.
    typical = (ev.filter((pl.col("type") == "view") & (pl.col("watch_ms") > 0))
               .group_by("user_id").agg(pl.col("watch_ms").median().alias("_typ")))
    ev = ev.join(typical, on="user_id", how="left")
    ev = ev.with_columns(pl.Series("frac", w.fraction(
        *(ev[c].to_numpy().astype(np.float64) for c in ("watch_ms", "duration_ms", "_typ")))))
    t = pl.col("type")
    agg = ev.group_by("user_id", "item_id").agg(
        (t == "view").sum().alias("n_views"),
        pl.col("frac").filter(t == "view").max().fill_null(0.0).alias("watch_frac"),
        # Signed: an unsigned difference wrapped a lone unlike round to "liked".
        ((t == "like").sum().cast(pl.Int64) - (t == "unlike").sum().cast(pl.Int64))
        .clip(0, 1).cast(pl.UInt32).alias("liked"),
        (t == "share").sum().clip(0, 3).alias("_sh"), (t == "remix").sum().clip(0, 3).alias("_rx"),
        (t == "comment").sum().clip(0, 3).alias("_cm"), (t == "skip").sum().clip(0, 3).alias("_sk"),
        pl.col("ts").filter(~t.is_in(["hide", "report"])).max().alias("last_ts"),
    )
    weight = w.weight((pl.col("n_views") > 0).cast(pl.Float64), pl.col("watch_frac"),
                      pl.col("liked"), pl.col("_sh"), pl.col("_rx"), pl.col("_cm"),
                      pl.col("_sk"))
    frame = (agg.with_columns(weight.alias("weight"))
             .join(neg.select("user_id", "item_id"), on=["user_id", "item_id"], how="anti")
             .filter(pl.col("weight") > 0)
             .with_columns((pl.col("_sh") + pl.col("_rx") + pl.col("_cm")).alias("created"))
             .select("user_id", "item_id", "weight", "last_ts", "n_views", "liked", "watch_frac",
                     "created")
             .sort("user_id", "item_id"))
    users = np.array(sorted(set(frame["user_id"].to_list()) | set(neg["user_id"].to_list())),
                     dtype=object)
    item_ids = np.array(sorted(set(frame["item_id"].to_list()) | set(cat["item_id"].to_list())),
                        dtype=object)
    return Interactions(frame, neg, cat, follows, users, item_ids, now, raw, resets)


@dataclass(frozen=True)
class ViewerFold:
    """One viewer's events weighted as ``build_interactions`` weighs them (the live path).

    Attributes:
        positives: item id -> weight (> 0), items hidden or reported left out.
        negatives: item ids the viewer hid or reported.
    """

    positives: dict[str, float]
    negatives: frozenset[str]


def fold_viewer_events(events: Sequence[Mapping[str, Any]],
                       durations: Mapping[str, float | None],
                       weights: InteractionWeights | None = None) -> ViewerFold:
    """Weight one viewer's events row by row, with no frame: ``build_interactions`` on the
    same events gives the same weights (the formula is ``InteractionWeights``' own), at a
    few microseconds per event instead of milliseconds of frame operations per call.

    Args:
        events: contract rows of one viewer (no reset or ``now`` cut: the caller's).
        durations: the catalog's ``duration_ms`` per video (``Interactions.durations``).
        weights: per-type weights.
    """
    w = weights or InteractionWeights()
    per: dict[str, list] = {}
    views: list[tuple[str, float, float]] = []
    typical_of: list[float] = []
    neg: set[str] = set()
    for e in events:
        item, t = e.get("item_id"), e.get("type")
        if item is None or t not in _ITEM_TYPES:
            continue
        # n_views, likes - unlikes, shares, remixes, comments, skips
        c = per.setdefault(item, [0, 0, 0, 0, 0, 0])
        if t == "view":
            c[0] += 1
            ms = e.get("watch_ms")
            ms = float("nan") if ms is None else float(ms)
            views.append((item, ms, _nan_none(durations.get(item))))
            if ms > 0:
                typical_of.append(ms)
        elif t in ("hide", "report"):
            neg.add(item)
        else:
            k = _COUNTED.get(t)
            if k is not None:
                c[k] += 1 if t != "unlike" else -1
    if not per:
        return ViewerFold({}, frozenset(neg))
    frac: dict[str, float] = {}
    if views:
        typ = float(np.median(typical_of)) if typical_of else float("nan")
        f = w.fraction(np.array([v[1] for v in views]), np.array([v[2] for v in views]),
                       np.full(len(views), typ))
        for (item, _, _), x in zip(views, f.tolist(), strict=True):
            frac[item] = max(frac.get(item, x), x)
    out = {}
    for item, (n_views, liked, sh, rx, cm, sk) in per.items():
        if item in neg:
            continue
        weight = w.weight(float(n_views > 0), frac.get(item, 0.0), min(max(liked, 0), 1),
                          min(sh, 3), min(rx, 3), min(cm, 3), min(sk, 3))
        if weight > 0:
            out[item] = weight
    return ViewerFold(out, frozenset(neg))


# Counter slots of ``fold_viewer_events`` (a like and an unlike share one: likes net of unlikes).
_COUNTED = {"like": 1, "unlike": 1, "share": 2, "remix": 3, "comment": 4, "skip": 5}


def _nan_none(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _catalog(items: pl.DataFrame | None) -> pl.DataFrame:
    schema = {"item_id": pl.String, "creator_id": pl.String, "created_at": pl.Datetime("us"),
              "duration_ms": pl.Float64}
    if items is None or items.height == 0:
        return pl.DataFrame(schema=schema)
    cols = [pl.col(c).cast(d) if c in items.columns else pl.lit(None, d).alias(c)
            for c, d in schema.items()]
    if "status" in items.columns:
        items = items.filter(pl.col("status").is_null() | (pl.col("status") != "removed"))
    return items.select(cols).unique("item_id", keep="last").sort("item_id")


def _net_follows(ev: pl.DataFrame, cat: pl.DataFrame) -> pl.DataFrame:
    f = ev.filter(pl.col("type").is_in(["follow", "unfollow"])
                  & pl.col("target_user_id").is_not_null())
    return (f.sort("ts", "type").group_by("user_id", "target_user_id")
            .agg(pl.col("type").last(), pl.col("ts").last())
            .filter(pl.col("type") == "follow")
            .select("user_id", pl.col("target_user_id").alias("creator_id"), "ts")
            .sort("user_id", "creator_id"))


def load_interactions(
    con: duckdb.DuckDBPyConnection, now: datetime | None = None,
    weights: InteractionWeights | None = None,
) -> Interactions:
    """Read ``events``, ``items`` and ``user_resets`` from the store as of ``now``.

    Args:
        con: an open store connection.
        now: as-of time (None: everything).
        weights: per-type weights.
    """
    where, params = ("WHERE ts <= $now", {"now": now}) if now is not None else ("", None)
    events = con.sql(
        f"SELECT user_id, ts, type, item_id, target_user_id, watch_ms, session_id FROM events "
        f"{where}",
        params=params).pl()
    items = con.sql("SELECT item_id, creator_id, created_at, duration_ms, status FROM items").pl()
    resets = con.sql("SELECT user_id, ts FROM user_resets").pl()
    return build_interactions(events, items, resets, now, weights)
