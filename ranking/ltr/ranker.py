"""Two-stage ranker: candidate sources, then a LightGBM LambdaRank blend of their scores.

Training picks a per-user temporal cutoff inside the data, fits the sources on the history
before it, labels their candidates by what each user did after it, and tunes a small grid on
held-out users. The sources are then refit on everything for serving.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import lightgbm as lgb
import numpy as np
import polars as pl
import scipy.sparse as sp

from features.errors import PipelineError
from ranking.candidates import CandidateSource, make_source, merge_candidates
from ranking.interactions import Interactions, build_interactions, load_interactions
from ranking.ltr._actions import (
    ActionHeads,
    attributed_follows,
    fit_action_heads,
    held_out_skips,
    pair_actions,
    rate_matrix,
)
from ranking.ltr._compiled import predict
from ranking.ltr._features import Stats, compute_stats, feature_names, pair_features
from ranking.ltr._feedback import FeedbackHead, fit_feedback_head, split_negatives
from ranking.ltr._live import ViewerHistory, live_candidate_rows, row_features, viewer_history
from ranking.ltr._memory import release_free_memory
from ranking.ltr._rows import PairRows, merged_with_features
from ranking.ltr._train import connected_pairs, fit_lambdarank, grade_labels, split_history
from ranking.ltr._tune import tune_ease, tune_itemknn
from ranking.ltr.config import LtrConfig, config_from_meta
from ranking.ltr.objective import ACTIONS, DEFAULT_WEIGHTS, check_weights
from ranking.serving import ServingChoice, fit_popularity, history_lengths, source_scores

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["LtrRanker", "train_ranker", "train_from_events"]

log = logging.getLogger(__name__)

HIDDEN_SCORE = -1e6
CREATOR_PENALTY = 2.0


class LtrRanker:
    """A trained two-stage ranker, ready to serve."""

    def __init__(self, config: LtrConfig, sources: list[CandidateSource], stats: Stats,
                 booster: lgb.Booster | None, data: Interactions, report: dict | None = None,
                 head: FeedbackHead | None = None, actions: ActionHeads | None = None,
                 objective: dict[str, float] | None = None) -> None:
        self.config, self.sources, self.stats, self.booster = config, sources, stats, booster
        self.data, self.report, self.head = data, report or {}, head
        self.actions = actions
        """The per-action heads (None: too little data to learn them)."""
        self.objective = check_weights(objective if objective is not None else DEFAULT_WEIGHTS)
        """Action -> weight: what the ``actions`` model serves (``ranking.ltr.objective``)."""
        self.features = feature_names(sources, stats.catalog_names)
        self.serving = ServingChoice()
        self.pop: dict[str, CandidateSource] = {}
        self._hist: np.ndarray | None = None
        self._rows: sp.csr_matrix | None = None
        self._counts: np.ndarray | None = None

    # -- training -----------------------------------------------------------------------
    @classmethod
    def fit(cls, data: Interactions, config: LtrConfig | None = None,
            executor: Client | None = None) -> LtrRanker:
        """Train on an interaction table (see module docstring).

        Args:
            data: interactions as of the training time.
            config: ranker configuration.
            executor: a Dask ``distributed.Client`` to train the LightGBM boosters on (the
                blend's grid, its refit and the feedback head), or None for this process.
                Every other step, and every parameter, is the same either way.
        """
        cfg = config or LtrConfig()
        t0 = time.perf_counter()
        # Everything fitted on the split (its sources, features and candidates) is released
        # before the sources are fitted again on all of the data: the two never share memory.
        cfg, booster, head, actions, report, names = _fit_on_split(data, cfg, executor)
        release_free_memory()  # the split's working sets, before all of the data is fitted
        report["executor"] = "local" if executor is None else "dask"
        report["train_seconds_ltr"] = round(time.perf_counter() - t0, 2)
        stats = compute_stats(data, cfg.features)  # before the sources, as on the split
        srcs = _fit_sources(cfg, data, names)
        if actions is not None:  # served from all of the data, as the catalog features are
            actions.item_rates = rate_matrix(data, data.item_ids)
        ranker = cls(cfg, srcs, stats, booster, data, report, head, actions)
        ranker.pop = fit_popularity(ranker.serving, data)
        report["train_seconds"] = round(time.perf_counter() - t0, 2)
        return ranker

    # -- serving ------------------------------------------------------------------------
    def set_serving(self, choice: ServingChoice) -> None:
        """Serve ``choice`` from now on: fit its popularity variants."""
        if choice.kind == "source":
            source_scores(np.zeros((0, len(self.features))), self.features, choice.model)
        self.serving = choice
        self.pop = fit_popularity(choice, self.data)

    def served_as(self, choice: ServingChoice) -> LtrRanker:
        """A view of this version serving ``choice`` (shares the fitted parts): the evaluation
        scores a source as the feed would serve it."""
        view = copy.copy(self)
        view.serving = choice
        if not {choice.fallback, choice.model} & set(choice.popularity) <= set(self.pop):
            view.pop = {**self.pop, **fit_popularity(choice, self.data)}
        return view

    def backed_off(self, u: np.ndarray) -> np.ndarray:
        """Which user indices are served the fallback (new users, and light ones below the
        chosen history length)."""
        if self._hist is None:
            self._hist = history_lengths(self.data)
        u = np.asarray(u, np.int64)
        out = u < 0
        ok = ~out
        out[ok] = self._hist[u[ok]] < self.serving.backoff_below
        return out

    @property
    def fallback(self) -> CandidateSource:
        """The fitted non-personalised fallback the evaluation chose."""
        return self.pop[self.serving.fallback]

    # -- request time -------------------------------------------------------------------
    @property
    def data_to(self) -> datetime | None:
        """The time of the model's data: events after it are live (``history`` folds them)."""
        d = self.data
        if d.now is not None:
            return d.now
        # Kept while the frames are the same ones: every request reads it (hydrate_query).
        key = (d, d.frame, d.negatives, d.events)
        got = getattr(self, "_data_to", None)
        if got is not None and all(a is b for a, b in zip(got[0], key, strict=True)):
            return got[1]
        times = [f[c].max() for f, c in ((d.frame, "last_ts"), (d.negatives, "ts"))
                 if f.height]
        if d.events is not None and d.events.height:
            times.append(d.events["ts"].max())
        self._data_to = (key, max(times) if times else None)
        return self._data_to[1]

    def history(self, user_id: str, events: list[dict] | tuple = (),
                follows: frozenset[str] = frozenset()) -> ViewerHistory:
        """The viewer's history as of now: the trained row plus ``events``, the viewer's
        events after the model's data (contract rows), and the creators followed now."""
        if self._rows is None:
            self._rows = self.data.to_csr()
        src = next((s for s in self.sources if s.personalised and s._seen is not None), None)
        return viewer_history(self.data, self._rows, src._seen if src else None, user_id,
                              events, follows)

    def history_items(self, user_id: str, n: int = 200) -> list[str]:
        """The user's trained positives, the strongest first (at most ``n``)."""
        u = self.data.user_index(user_id)
        if u < 0:
            return []
        if self._rows is None:
            self._rows = self.data.to_csr()
        row = self._rows[u]
        top = row.indices[np.argsort(-row.data, kind="stable")[:n]]
        return self.data.item_ids[top].tolist()

    def trained_counts(self) -> np.ndarray:
        """Trained interactions per item index (0: a video no trained source can score)."""
        if self._counts is None:
            if self._rows is None:
                self._rows = self.data.to_csr()
            self._counts = np.diff(self._rows.tocsc().indptr)
        return self._counts

    def live_candidates(self, user_id: str, events: list[dict] | tuple = (),
                        follows: frozenset[str] = frozenset(), n: int | None = None
                        ) -> pl.DataFrame:
        """The viewer's candidates scored now, best first: ``(item_id, source, model_score)``.

        Every request runs the sources on the viewer's history as of now (``history``), so a
        like in this session changes the next page, and a viewer new since training is served
        personally after their first few actions. No list is precomputed per user.
        """
        n = n or self.config.n_candidates
        h = self.history(user_id, events, follows)
        if _backs_off(h, self.serving) or not self.sources:
            ids, sc = _fallback_for(self, h, user_id, n)
            return pl.DataFrame({"item_id": ids[0].astype(str), "source": self.serving.fallback,
                                 "model_score": np.asarray(sc[0], np.float64)},
                                schema={"item_id": pl.String, "source": pl.String,
                                        "model_score": pl.Float64})
        rows, ranks, items, best = live_candidate_rows(self.sources, h, self.data.item_ids,
                                                       self.config.n_per_source, n)
        s, p = self._score_x_actions(row_features(self.sources, self.stats, rows, ranks, h.u,
                                                  items),
                                     np.full(len(items), h.u, np.int64), items,
                                     np.zeros(len(items), bool))
        order = np.lexsort((np.arange(len(items)), -s))
        # Typed series from lists of str, then the frame: a numpy str array costs polars a
        # conversion (~0.3 ms a page), and a frame from a dict with a schema ~0.25 ms more.
        out = pl.DataFrame([
            pl.Series("item_id", [str(i) for i in self.data.item_ids[items[order]]], pl.String),
            pl.Series("source", [best[k] for k in order.tolist()], pl.String),
            pl.Series("model_score", np.asarray(s[order], np.float64), pl.Float64)])
        if p is not None:  # which expected actions carried each video (feed reasons)
            # Tuples as objects: a list column of strings costs polars ~3 ms for 300 rows.
            out = out.with_columns(pl.Series("expected", self.expected_actions(p[order]),
                                             pl.Object))
        return out

    def live_pages(self, user_id: str, events: list[dict] | tuple,
                   choices: list[ServingChoice], k: int, exclude: frozenset[str] = frozenset()
                   ) -> list[list[str]]:
        """The top ``k`` the feed would serve now under each of ``choices`` (the evaluation's
        streaming replay): the sources run once on the viewer's history, then each choice
        scores the same candidates; ``exclude`` is left out too."""
        h = self.history(user_id, events)
        rows, ranks, items, _ = live_candidate_rows(self.sources, h, self.data.item_ids,
                                                    self.config.n_per_source,
                                                    self.config.n_candidates + len(exclude))
        x = row_features(self.sources, self.stats, rows, ranks, h.u, items)
        u = np.full(len(items), h.u, np.int64)
        ids = self.data.item_ids[items].astype(str)
        keep = np.array([i not in exclude for i in ids.tolist()], bool)
        out = []
        for choice in choices:
            view = self.served_as(choice)
            if _backs_off(h, choice) or not len(items):
                got, _ = _fallback_for(view, h, user_id, k + len(exclude) + len(events))
                seen = {e.get("item_id") for e in events} | set(exclude)
                out.append([i for i in got[0].tolist() if i not in seen][:k])
                continue
            s = view._score_x(x, u, items, np.zeros(len(items), bool))
            order = np.lexsort((np.arange(len(items)), -s))
            out.append(ids[order][keep[order]][:k].tolist())
        return out

    def candidates(self, user_id: str, n: int | None = None) -> pl.DataFrame:
        """Merged candidates of one user: ``(item_id, source, sources, score_<name>...)``."""
        n = n or self.config.n_candidates
        if self.backed_off(np.array([self.data.user_index(user_id)]))[0]:
            ids, sc = self.fallback.recommend([user_id], n)
            return pl.DataFrame({"item_id": ids[0].astype(str), "source": self.serving.fallback,
                                 "sources": [[self.serving.fallback]] * len(ids[0])},
                                schema={"item_id": pl.String, "source": pl.String,
                                        "sources": pl.List(pl.String)})
        c = merge_candidates(self.sources, [user_id], self.config.n_per_source, n)
        return c.drop("user_id").with_columns(pl.col("sources").list.first().alias("source"))

    def score(self, user_id: str, candidates: pl.DataFrame | list[str],
              events: list[dict] | tuple = (), follows: frozenset[str] = frozenset()
              ) -> np.ndarray:
        """One ranking score per candidate row, in input order (hidden items sink).

        Args:
            user_id: the user.
            candidates: a frame with ``item_id`` (other columns are recomputed), or item ids.
            events: the user's events after the model's data (scored as of now, as the feed).
            follows: creators the user follows now.
        """
        ids = candidates if isinstance(candidates, list) else candidates["item_id"].to_list()
        if not ids:
            return np.zeros(0, np.float32)
        return self._score_x(*self._request_rows(user_id, ids, events, follows))

    def _request_rows(self, user_id: str, ids: list[str], events: list[dict] | tuple,
                      follows: frozenset[str]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(x, u, i, off)`` for ``_score_x``: the pair features of ``ids`` as of now."""
        uid = self.data.user_index(user_id)
        i = self.data.item_index(ids)
        if not events:
            u = np.full(len(ids), uid, np.int64)
            return pair_features(self.sources, self.stats, u, i), u, i, self.backed_off(u)
        h = self.history(user_id, events, follows)
        rows, ranks, _, _ = live_candidate_rows(self.sources, h, self.data.item_ids, 0, 0)
        off = np.full(len(ids), _backs_off(h, self.serving))
        x = row_features(self.sources, self.stats, rows, ranks, h.u, np.maximum(i, 0))
        x[i < 0] = np.nan
        return x, np.full(len(ids), h.u, np.int64), i, off

    def _score_pairs(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        return self._score_x(pair_features(self.sources, self.stats, u, i), u, i,
                             self.backed_off(u))

    def _score_x(self, x: np.ndarray, u: np.ndarray, i: np.ndarray, off: np.ndarray,
                 shared: _Shared | None = None) -> np.ndarray:
        """The served model's score of feature rows ``x`` for index pairs; ``off`` marks the
        pairs served the fallback instead (new and light users). ``shared``: the feedback
        head's margin and the action heads' probabilities of these rows, computed once for
        several views of the version (``recommend_views``)."""
        return self._score_x_actions(x, u, i, off, shared)[0]

    def _score_x_actions(self, x: np.ndarray, u: np.ndarray, i: np.ndarray, off: np.ndarray,
                         shared: _Shared | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """``_score_x``, and the predicted actions it weighed when the ``actions`` model is
        served (None otherwise)."""
        kind = self.serving.kind
        if kind == "actions" and self.actions is not None:
            p = self.actions.joint(x, i) if shared is None else shared.joint()
            s = self.objective_scores(p, u, i, self.objective)
            if off.any():  # the fallback's order, with the same sink and creator penalty
                hid, pen = self.stats.sink_and_penalty(u[off], i[off])
                fb = self._pop_scores(self.serving.fallback, i[off])
                s[off] = np.where(hid, HIDDEN_SCORE, fb - CREATOR_PENALTY * np.minimum(pen, 3.0))
                p[off] = np.nan
            return s, p
        if kind == "source":
            s = source_scores(x, self.features, self.serving.model)
            c = self.head.coefs.get(self.serving.model, 0.0) if self.head is not None else 0.0
            if self.serving.head and c:  # the served source with the feedback head weighed in
                s = s + c * (self.head.margin(x) if shared is None else shared.margin())
        elif kind == "popularity":
            s = self._pop_scores(self.serving.model, i)
        elif kind in ("ranker", "actions") and self.booster is not None:
            s = predict(self.booster, x)
            if self.head is not None and self.head.coef:  # liked-rather-than-hidden, weighed in
                s = s + self.head.coef * (self.head.margin(x) if shared is None
                                          else shared.margin())
        else:  # not enough data to learn a blend: fall back to the first usable source score
            col = next((k for k, n in enumerate(self.features)
                        if n.startswith(("z_", "score_"))), 0)
            s = np.nan_to_num(x[:, col], nan=-1e3)
        if off.any():
            s = np.asarray(s, np.float64).copy()
            s[off] = self._pop_scores(self.serving.fallback, i[off])
        hid, pen = self.stats.sink_and_penalty(u, i)
        # Explicit negatives: the video sinks, and its creator weighs less for weeks.
        s = s - CREATOR_PENALTY * np.minimum(pen, 3.0)
        s[hid] = HIDDEN_SCORE
        return s.astype(np.float64), None

    def forests(self) -> list[lgb.Booster]:
        """Every booster a request can run, the served model's first: what
        ``ranking.ltr._compiled`` compiles for the service."""
        acts = ([self.actions.engage, *self.actions.heads.values()]
                if self.actions is not None else [])
        head = [self.head.booster] if self.head is not None else []
        blend = [self.booster] if self.booster is not None else []
        kind = self.serving.kind
        first = acts if kind == "actions" else head if kind == "source" else blend + head
        out: list[lgb.Booster] = []
        for b in first + blend + head + acts:
            if all(b is not o for o in out):
                out.append(b)
        return out

    def objective_scores(self, probs: np.ndarray, u: np.ndarray, i: np.ndarray,
                         weights: dict[str, float]) -> np.ndarray:
        """The ``actions`` model's score: ``probs`` (``predict_actions`` rows for index pairs
        ``u``, ``i``) weighed by ``weights``, hidden videos sunk and a fatigued creator's
        videos lowered by ``CREATOR_PENALTY`` spreads of the score per unit of fatigue."""
        w = np.array([weights.get(a, 0.0) for a in ACTIONS], np.float64)
        s = np.nan_to_num(probs, nan=0.0) @ w
        hid, pen = self.stats.sink_and_penalty(u, i)
        scale = self.actions.scale if self.actions is not None else 1.0
        s = s - CREATOR_PENALTY * scale * np.minimum(pen, 3.0)
        s[hid] = HIDDEN_SCORE
        return s.astype(np.float64)

    def _weights(self) -> np.ndarray:
        return np.array([self.objective[a] for a in ACTIONS], np.float64)

    def set_objective(self, weights: dict[str, float]) -> None:
        """Serve ``weights`` (action -> weight; a missing action weighs 0) from now on: the
        ``actions`` model's order changes without retraining."""
        self.objective = check_weights(weights)

    def predict_actions(self, user_id: str, item_ids: list[str], events: list[dict] | tuple = (),
                        follows: frozenset[str] = frozenset()) -> np.ndarray | None:
        """``P(action)`` per item (rows) and action (``ACTIONS`` columns), as of now like
        ``score``; None when the version has no action heads. Unknown items get NaN."""
        return self.score_and_predict(user_id, item_ids, events, follows)[1]

    def score_and_predict(self, user_id: str, item_ids: list[str],
                          events: list[dict] | tuple = (), follows: frozenset[str] = frozenset()
                          ) -> tuple[np.ndarray, np.ndarray | None]:
        """``score`` and ``predict_actions`` from one computation of the features."""
        if not item_ids:
            return np.zeros(0), (None if self.actions is None else np.zeros((0, len(ACTIONS))))
        x, u, i, off = self._request_rows(user_id, item_ids, events, follows)
        s = self._score_x(x, u, i, off)
        if self.actions is None:
            return s, None
        p = self.actions.joint(x, i)
        p[i < 0] = np.nan
        return s, p

    def expected_actions(self, probs: np.ndarray, top: int = 2, share: float = 0.25
                         ) -> list[tuple[str, ...]]:
        """Per row of ``predict_actions``: the actions that carry its score under the
        objective in force (at most ``top``, each with at least ``share`` of the positive
        expected value), strongest first."""
        if probs is None or not len(probs):
            return []
        c = np.nan_to_num(probs) * np.maximum(self._weights(), 0.0)
        total = c.sum(axis=1, keepdims=True)
        order = np.argsort(-c, axis=1, kind="stable")[:, :top]
        keep = (total > 0) & (np.take_along_axis(c, order, axis=1) >= share * total)
        # One tuple per distinct (order, keep) row: a page holds a handful of them.
        names: dict[tuple, tuple[str, ...]] = {}
        out = []
        for o, kp in zip(order.tolist(), keep.tolist(), strict=True):
            key = (*o, *kp)
            got = names.get(key)
            if got is None:
                got = names[key] = tuple(ACTIONS[j] for j, k in zip(o, kp, strict=True) if k)
            out.append(got)
        return out

    def _pop_scores(self, name: str, i: np.ndarray) -> np.ndarray:
        sc = np.full(len(i), -1e3)
        vec = getattr(self.pop[name], "item_scores", None)
        ok = i >= 0
        if vec is not None and ok.any():
            sc[ok] = np.nan_to_num(vec[i[ok]].astype(np.float64), nan=-1e3)
        return sc

    def recommend(self, user_ids: list[str], k: int = 10, exclude_seen: bool = True
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Top-k per user (batch): ``(ids, scores)``, one array each per input user."""
        off = self.backed_off(np.array([self.data.user_index(u) for u in user_ids], np.int64))
        if off.any():
            # Backed-off users get the fallback list; the rest the served model's.
            fb = [u for u, o in zip(user_ids, off, strict=True) if o]
            rest = [u for u, o in zip(user_ids, off, strict=True) if not o]
            got = dict(zip(fb, zip(*self.fallback.recommend(fb, k, exclude_seen), strict=True),
                           strict=True))
            if rest:
                got.update(zip(rest, zip(*self.recommend(rest, k, exclude_seen),
                                         strict=True), strict=True))
            return ([got[u][0] for u in user_ids],
                    [np.asarray(got[u][1], np.float64) for u in user_ids])
        return self._recommend_now(list(user_ids), k, exclude_seen)

    def recommend_views(self, views: list[LtrRanker], user_ids: list[str], k: int = 10,
                        rows: PairRows | None = None) -> list[list[np.ndarray]]:
        """``view.recommend(user_ids, k)[0]`` for each view of this version (``served_as``),
        the merged candidates and their features computed once for all of them: the
        evaluation scores the ranker, the actions model and every source with the feedback
        head on the same candidates (``rows``: ones it already computed for these users)."""
        uidx = np.array([self.data.user_index(u) for u in user_ids], np.int64)
        offs = [v.backed_off(uidx) for v in views]
        rest = [u for n, u in enumerate(user_ids) if not all(o[n] for o in offs)]
        rows = rows or PairRows(self, rest)
        cand = rows.candidates(rest)
        cu, ci = rows.index(cand)
        x = rows.features(cu, ci)
        shared = _Shared(self, x, cu, ci, rows)
        out = []
        for v, off in zip(views, offs, strict=True):
            fb = [u for u, o in zip(user_ids, off, strict=True) if o]
            got = dict(zip(fb, v.fallback.recommend(fb, k)[0], strict=True)) if fb else {}
            mine = {u for u, o in zip(user_ids, off, strict=True) if not o}
            m = cand["user_id"].is_in(list(mine)).to_numpy() if len(mine) < len(rest) else None
            sub = cand if m is None else cand.filter(pl.Series(m))
            xs, us, is_ = (x, cu, ci) if m is None else (x[m], cu[m], ci[m])
            s = v._score_x(xs, us, is_, v.backed_off(us), shared.masked(m))
            got.update((u, ids) for u, ids, _ in _top_k(sub, s, k))
            out.append([got.get(u, np.array([], object)) for u in user_ids])
        return out

    def _recommend_now(self, user_ids: list[str], k: int, exclude_seen: bool = True
                       ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        cand = merge_candidates(self.sources, list(user_ids), self.config.n_per_source,
                                self.config.n_candidates, exclude_seen)
        s = self._score_pairs(_uidx(self.data, cand["user_id"]),
                              self.data.item_index(cand["item_id"].to_list()))
        got = {u: (ids, sc) for u, ids, sc in _top_k(cand, s, k)}
        empty = (np.array([], object), np.array([], np.float64))
        res = [got.get(u, empty) for u in user_ids]
        return [r[0] for r in res], [r[1] for r in res]

    # -- persistence --------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write model text, arrays, interaction snapshot and config json to a directory."""
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        if self.booster is not None:
            self.booster.save_model(str(p / "lgbm.txt"))
        if self.head is not None:
            self.head.booster.save_model(str(p / "feedback.txt"))
        for f in p.glob("action_*.txt"):  # a re-save never serves a stale head
            f.unlink()
        if self.actions is not None:
            self.actions.engage.save_model(str(p / "action_engage.txt"))
            for name, bst in self.actions.heads.items():
                bst.save_model(str(p / f"action_{name}.txt"))
            if self.actions.item_rates is not None:
                np.save(p / "action_rates.npy", self.actions.item_rates)
        for s in self.sources:
            np.savez(p / f"source_{s.name}.npz", **(s.arrays() if s.fitted else {}))
        np.savez(p / "stats.npz", **self.stats.arrays())
        for name, src in self.pop.items():
            np.savez(p / f"pop_{name}.npz", **(src.arrays() if src.fitted else {}))
        d = self.data
        d.frame.write_parquet(p / "interactions.parquet")
        d.negatives.write_parquet(p / "negatives.parquet")
        d.items.write_parquet(p / "items.parquet")
        d.follows.write_parquet(p / "follows.parquet")
        meta = {"config": asdict(self.config), "features": self.features, "report": self.report,
                "now": d.now.isoformat() if d.now else None,
                "feedback_coef": self.head.coef if self.head is not None else None,
                "feedback_coefs": self.head.coefs if self.head is not None else {},
                "sources": {s.name: s.params() for s in self.sources},
                "serving": self.serving.as_dict(),
                "actions": self.actions.meta() if self.actions is not None else None,
                "objective": self.objective,
                "user_ids": d.user_ids.tolist(), "item_ids": d.item_ids.tolist()}
        (p / "ranker.json").write_text(json.dumps(meta, default=str))
        return p

    @classmethod
    def load(cls, path: str | Path) -> LtrRanker:
        """Read a directory written by ``save``."""
        p = Path(path)
        if not (p / "ranker.json").exists():
            raise PipelineError(f"no ranker at {p}: run `feedwell train` first")
        meta = json.loads((p / "ranker.json").read_text())
        now = datetime.fromisoformat(meta["now"]) if meta["now"] else None
        data = Interactions(pl.read_parquet(p / "interactions.parquet"),
                            pl.read_parquet(p / "negatives.parquet"),
                            pl.read_parquet(p / "items.parquet"),
                            pl.read_parquet(p / "follows.parquet"),
                            np.array(meta["user_ids"], object), np.array(meta["item_ids"], object),
                            now)
        srcs = []
        for name, params in meta["sources"].items():
            s = make_source(name, params)
            s.bind(data)
            with np.load(p / f"source_{name}.npz", allow_pickle=False) as z:
                s.load_arrays({k: z[k] for k in z.files})
                s.fitted = bool(z.files) or s.name in ("following",)
            srcs.append(s)
        with np.load(p / "stats.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        cfg = config_from_meta(meta)
        stats = Stats.from_arrays(arrays, cfg.features)
        booster = lgb.Booster(model_file=str(p / "lgbm.txt")) if (p / "lgbm.txt").exists() else None
        head = None
        if (p / "feedback.txt").exists() and meta.get("feedback_coef") is not None:
            head = FeedbackHead(lgb.Booster(model_file=str(p / "feedback.txt")),
                                float(meta["feedback_coef"]),
                                {k: float(v) for k, v in meta.get("feedback_coefs", {}).items()})
        actions = None
        if meta.get("actions") and (p / "action_engage.txt").exists():
            heads = {f.stem.removeprefix("action_"): lgb.Booster(model_file=str(f))
                     for f in sorted(p.glob("action_*.txt"))}
            actions = ActionHeads.from_meta(meta["actions"], heads)
            if meta["actions"].get("item_rates"):
                actions.item_rates = np.load(p / "action_rates.npy", allow_pickle=False)
        ranker = cls(cfg, srcs, stats, booster, data, meta["report"], head, actions,
                     meta.get("objective"))
        ranker.serving = ServingChoice.from_dict(meta.get("serving"))
        ranker.pop = _load_popularity(p, ranker.serving, data)
        return ranker


class _Shared:
    """Rows several views of a version score (``recommend_views``): the feedback head's margin
    and the action heads' probabilities, computed once for all of them on first use. Each
    view reads copies (``masked``): scoring writes into what it is given."""

    def __init__(self, ranker: LtrRanker, x: np.ndarray, u: np.ndarray, i: np.ndarray,
                 rows: PairRows, mask: np.ndarray | None = None,
                 parent: _Shared | None = None) -> None:
        self._ranker, self._x, self._u, self._i, self._rows = ranker, x, u, i, rows
        self._mask, self._parent = mask, parent
        self._margin: np.ndarray | None = None
        self._p: np.ndarray | None = None

    def masked(self, mask: np.ndarray | None) -> _Shared:
        """These rows where ``mask`` holds (None: all of them), read from this one's."""
        return _Shared(self._ranker, self._x, self._u, self._i, self._rows, mask, self)

    def _pick(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self._mask is None else a[self._mask]

    def margin(self) -> np.ndarray:
        if self._parent is not None:
            return self._pick(self._parent.margin())
        if self._margin is None:
            self._margin = self._ranker.head.margin(self._x)
        return self._margin

    def joint(self) -> np.ndarray:
        if self._parent is not None:
            return self._pick(self._parent.joint())
        if self._p is None:
            self._p = self._rows.joint(self._u, self._i)
        return self._p


MAX_ACTION_PAIRS = 300_000
"""Held-out pairs the action heads train on at most (a seeded sample beyond it)."""


def _fit_on_split(data: Interactions, cfg: LtrConfig, executor: Client | None
                  ) -> tuple[LtrConfig, lgb.Booster | None, FeedbackHead | None,
                             ActionHeads | None, dict, list[str]]:
    """Hold out each user's latest share, tune the sources on it, fit them on the rest and
    learn the blend and the heads from the held-out part (``LtrRanker.fit``).

    Returns:
        ``(config, booster, head, actions, report, source names)``: the config with the tuned
        source parameters, and the sources' layout of the features.
    """
    history, future = split_history(data.frame, cfg.holdout_fraction, cfg.seed,
                                    temporal=cfg.holdout == "temporal")
    # Hides and reports are held out like positives, so no label sits in its own features.
    neg_hist, neg_future = split_negatives(data.negatives, cfg.holdout_fraction, cfg.seed)
    # Pairs only skipped are held out the same way (the skip head's labels), and a follow
    # a held-out video led to is that pair's label, not history.
    skip_future = held_out_skips(data, cfg.holdout_fraction, cfg.seed)
    hist = data.restrict(history, negatives=neg_hist, drop=skip_future)
    key = ["user_id", "item_id"]
    held = pl.concat([future.select(key), neg_future.select(key), skip_future.select(key)]
                     ).unique().sort(key)
    follows = attributed_follows(data)
    led = follows.join(held, on=key, how="semi").select("user_id", "creator_id").unique()
    if led.height:
        hist = replace(hist, follows=hist.follows.join(led, on=["user_id", "creator_id"],
                                                       how="anti"))
    booster, head, actions, report = None, None, None, {"n_interactions": data.frame.height}
    report_tune: dict = {}
    names = list(cfg.sources)
    if future.height and history.height:
        folds = (_tune_folds(data, hist, future, cfg)
                 if {"ease", "itemknn"} & set(cfg.sources) else [])
        if "ease" in cfg.sources:
            ease, tried = tune_ease(folds, cfg.sources["ease"], cfg.seed)
            cfg = replace(cfg, sources={**cfg.sources, "ease": ease})
            report_tune = {"ease_reg_ndcg": tried, "ease_reg": ease.get("reg")}
        if "itemknn" in cfg.sources:
            knn, tried = tune_itemknn(folds, cfg.sources["itemknn"], cfg.seed)
            cfg = replace(cfg, sources={**cfg.sources, "itemknn": knn})
            report_tune.update(itemknn_method_ndcg=tried, itemknn_method=knn.get("method"))
        del folds  # further splits of the data: not held while the sources fit
        # The catalog features first: their DuckDB build is a peak of its own, and it then
        # runs before the sources hold their weights (it reads none of them).
        stats = compute_stats(hist, cfg.features)
        srcs = _fit_sources(cfg, hist)
        names = [s.name for s in srcs]
        users = future["user_id"].unique().sort().to_list()
        rng = np.random.default_rng(cfg.seed)
        sampled = None
        if len(users) > cfg.max_train_users:
            users = sorted(rng.choice(users, cfg.max_train_users, replace=False).tolist())
            # Pair features score each user's whole catalog row: the heads train on the
            # blend's sampled users too, or their cost grows as users x videos.
            sampled = pl.Series("user_id", users, pl.String).implode()
        liked = future.filter(pl.col("liked") > 0)
        hidden = neg_future
        if sampled is not None:
            liked, hidden, held = (f.filter(pl.col("user_id").is_in(sampled))
                                   for f in (liked, hidden, held))
        pairs = _action_pairs(held, cfg)
        # One pass over the users' score rows for the blend's candidates, their features and
        # those of the heads' three sets of pairs (liked, hidden, acted on).
        cand, x, (xp, xn, px) = merged_with_features(
            srcs, stats, data, users, cfg.n_per_source, cfg.n_candidates,
            (liked, hidden, pairs))
        y = grade_labels(cand, future, data.negatives, cfg.objective,
                         connected_pairs(hist, cand))
        release_free_memory()  # the merge's blocks, before LightGBM's datasets
        cu = cand["user_id"].to_numpy()
        names_x = feature_names(srcs, stats.catalog_names)
        fit = fit_lambdarank(x, y, cu, names_x, cfg, srcs, executor)
        release_free_memory()
        booster, report = fit.booster, fit.report
        if sampled is not None:  # the blend and the heads learn from this many users
            report["users_sampled"] = [len(users), future["user_id"].n_unique()]
        head, head_report = fit_feedback_head(
            xp, liked["user_id"].to_numpy(), xn, hidden["user_id"].to_numpy(), fit,
            (x, grade_labels(cand, future, data.negatives), cu), names_x, cfg,
            tuple(sc.name for sc in srcs if sc.personalised), executor)
        report.update(head_report)
        actions, report["action_heads"] = _fit_actions(
            data, hist, cand, x, held, pairs, px, follows, fit.valid_users, names_x, cfg,
            executor)
        report["n_interactions"] = data.frame.height
        report.update(report_tune)
    return cfg, booster, head, actions, report, names


def _action_pairs(held: pl.DataFrame, cfg: LtrConfig) -> pl.DataFrame:
    """The held-out pairs the action heads train on: all of them, or a seeded sample of
    ``MAX_ACTION_PAIRS``."""
    if held.height <= MAX_ACTION_PAIRS:
        return held
    rng = np.random.default_rng(cfg.seed + 4)
    return held.filter(pl.Series(rng.random(held.height) < MAX_ACTION_PAIRS / held.height))


def _fit_actions(data: Interactions, hist: Interactions, cand: pl.DataFrame, x: np.ndarray,
                 held: pl.DataFrame, pairs: pl.DataFrame, px: np.ndarray,
                 follows: pl.DataFrame, valid_users: frozenset, names: list[str],
                 cfg: LtrConfig, executor: Client | None) -> tuple[ActionHeads | None, dict]:
    """The action heads (``ranking.ltr._actions``) on the blend's candidates (``x``) and the
    held-out ``pairs`` (``px``: their features from the history before them); a candidate is
    engaged when its pair is in ``held``."""
    key = ["user_id", "item_id"]
    engaged = (cand.select(key).join(held.with_columns(pl.lit(True).alias("_e")), on=key,
                                     how="left", maintain_order="left")["_e"]
               .fill_null(False).to_numpy())
    labels = pair_actions(data, pairs, follows)
    rates = rate_matrix(hist, data.item_ids)
    return fit_action_heads(x, cand["user_id"].to_numpy(), engaged, px,
                            pairs["user_id"].to_numpy(), labels, rates,
                            data.item_index(cand["item_id"].to_list()),
                            data.item_index(pairs["item_id"].to_list()), valid_users, names,
                            cfg, executor)


def _backs_off(h: ViewerHistory, choice: ServingChoice) -> bool:
    """Whether a viewer as of now is served the fallback: no positive yet, or fewer than the
    chosen back-off (the history as of now counts, live events included)."""
    return h.n_positives < max(1, choice.backoff_below)


def _fallback_for(ranker: LtrRanker, h: ViewerHistory, user_id: str, n: int
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    # A viewer new since training is asked for as an id no trained table holds.
    return ranker.fallback.recommend([user_id] if h.u >= 0 else ["\x00new"], n)


def _load_popularity(p: Path, choice: ServingChoice, data: Interactions
                     ) -> dict[str, CandidateSource]:
    # Versions saved before popularity variants were stored get them fitted again.
    names = {choice.fallback} | ({choice.model} if choice.kind == "popularity" else set())
    if not all((p / f"pop_{n}.npz").exists() for n in names):
        return fit_popularity(choice, data)
    out = {}
    for n in sorted(names):
        src = make_source("popular", choice.popularity.get(n, {}))
        src.bind(data)
        with np.load(p / f"pop_{n}.npz", allow_pickle=False) as z:
            src.load_arrays({k: z[k] for k in z.files})
            src.fitted = bool(z.files)
        out[n] = src
    return out


def _tune_folds(data: Interactions, hist: Interactions, future: pl.DataFrame, cfg: LtrConfig
                ) -> list[tuple[Interactions, pl.DataFrame]]:
    """The ranker's own split, then ``cfg.tune_folds - 1`` further seeded splits of the same
    kind (a temporal holdout has one split: only its tie-breaks would differ)."""
    folds = [(hist, future)]
    if cfg.holdout == "temporal":
        return folds
    for i in range(1, cfg.tune_folds):
        h, f = split_history(data.frame, cfg.holdout_fraction, cfg.seed + 1000 * i,
                             temporal=False)
        folds.append((data.restrict(h), f))
    return folds


def _top_k(cand: pl.DataFrame, s: np.ndarray, k: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Each user's ``k`` best candidates under scores ``s``: ``(user, ids, scores)``; ties go
    to the smaller item id."""
    top = (cand.select("user_id", "item_id").with_columns(pl.Series("s", s))
           .sort(["user_id", "s", "item_id"], descending=[False, True, False])
           .filter(pl.int_range(pl.len()).over("user_id") < k)
           .group_by("user_id", maintain_order=True).agg("item_id", "s"))
    return [(r[0], np.array(r[1], object), np.array(r[2])) for r in top.iter_rows()]


def _uidx(data: Interactions, user_ids: pl.Series) -> np.ndarray:
    return np.array([data.user_index(u) for u in user_ids.to_list()], dtype=np.int64)


def _fit_sources(cfg: LtrConfig, data: Interactions, names: list[str] | None = None
                 ) -> list[CandidateSource]:
    # With `names` the feature layout is fixed: a source that fails stays, unfitted (NaN scores).
    out = []
    for name in names or list(cfg.sources):
        src = make_source(name, cfg.sources.get(name))
        try:
            out.append(src.fit(data))
        except Exception:  # noqa: BLE001 - a source fails open
            log.exception("candidate source %s failed to fit; skipped", name)
            if names is not None:
                src.bind(data)
                out.append(src)
    return out


def train_ranker(con: duckdb.DuckDBPyConnection, now: datetime | None = None,
                 config: LtrConfig | None = None, executor: Client | None = None) -> LtrRanker:
    """Train a ranker on the store as of ``now``.

    Args:
        con: an open store connection.
        now: as-of time (None: all events).
        config: ranker configuration.
        executor: a Dask client to train the boosters on (None: this process).
    """
    return LtrRanker.fit(load_interactions(con, now), config, executor)


def train_from_events(events: pl.DataFrame, items: pl.DataFrame | None = None,
                      config: LtrConfig | None = None) -> LtrRanker:
    """Train straight from an events frame (benchmarks, tests)."""
    return LtrRanker.fit(build_interactions(events, items), config)
