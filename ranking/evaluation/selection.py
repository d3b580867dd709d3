"""Model selection: which evaluated model the feed serves, to whom, and how sure we are.

The evaluation scores every candidate (the ranker, EASE, ALS, BPR, item-kNN and the
popularity variants) on two holdouts of the same data: a per-user random holdout (every known
user is tested on a random quarter of their interactions) and a time-forward one (the last
fifth of time; the users active then, many of them new). Selection reads per-user NDCG@k:

- **Known users** get the model with the best mean NDCG@k over the known test users of *both*
  holdouts pooled, each user-holdout pair one observation. Each holdout thus weighs by how
  many known users it tests: on a ratings log most known users sit in the random holdout, on a
  busy feed both count. The criterion is NDCG with one constraint: the served scores should
  rank liked above hidden at least as well as the item like-rate. If the best-NDCG model
  misses that bar, the best-NDCG candidate within ``auc_ndcg_tolerance`` (2%) of it that
  clears the bar is served instead, else the one of them closest to it; a source served
  with the feedback head (``ease+fb``) usually is that candidate. Nothing further below the
  best NDCG is eligible: a hard like-rate bar once served a ranker 15% below EASE on a
  ratings log, and pure NDCG once served item-kNN at AUC 0.82 (like-rate 0.90) to save 1%.
- **Light users** back off to the fallback below a history length chosen on the same pooled
  observations (0 = never).
- **New users** (and non-personalised feeds) get the popularity variant with the best NDCG@k on
  the time-forward holdout's new users (only going forward are there new users to serve),
  provided it beats all-time counts with a 95% interval above zero: all-time counts are the
  null, since a decayed or windowed count that is not clearly better is only a noisier one.

Every margin carries a paired bootstrap interval over the observations (seeded, so the same
data and config give the same decision). Ties go to the earlier name in ``order``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["SelectConfig", "Selection", "HoldoutScores", "select_models", "paired_interval",
           "default_fallbacks", "json_safe"]


def default_fallbacks() -> dict[str, dict]:
    """Non-personalised popularity variants (name -> ``PopConfig`` overrides)."""
    return {"popular": {}, "pop_w7": {"window_days": 7}, "pop_w30": {"window_days": 30},
            "pop_hl7": {"half_life_days": 7}, "pop_hl30": {"half_life_days": 30},
            "pop_hl90": {"half_life_days": 90}, "pop_hl365": {"half_life_days": 365}}


@dataclass(frozen=True)
class SelectConfig:
    """How the evaluation chooses what is served."""

    fallbacks: dict[str, dict] = field(default_factory=default_fallbacks)
    """Popularity variants the non-personalised fallback is chosen from."""
    backoff_grid: tuple[int, ...] = (0, 1, 2, 3, 5, 10, 20)
    """History lengths below which a known user may be served the fallback instead."""
    n_boot: int = 1000
    """Bootstrap resamples for each interval."""
    min_new_users: int = 20
    """Fewer new users than this in the time-forward holdout: the fallback is chosen on all
    test users of both holdouts instead (too few to rank lists on)."""
    seed: int = 42
    """Seed of the bootstrap."""
    auc_ndcg_tolerance: float = 0.02
    """When the best-NDCG model ranks liked below hidden worse than the item like-rate, a
    candidate within this share of its pooled NDCG that does better on that AUC is served
    instead (the like-rate is the bar the feedback head must clear; see module docstring)."""
    objective_tolerance: float = 0.02
    """The ``actions`` model serves the team's own objective (``ranking.ltr.objective``): it
    is served whenever its pooled NDCG is within this share of the best candidate's and it
    ranks liked above hidden at least as well as the item like-rate (where the data has
    hides). An objective that costs more than this of NDCG is not served; the evaluation says
    so."""


@dataclass
class HoldoutScores:
    """Per-user NDCG@k of every model on one holdout.

    Attributes:
        name: ``random`` or ``temporal``.
        history: training interactions of each test user (0: new user).
        ndcg: model name -> per-user NDCG@k, aligned with ``history`` (NaN: not scored).
        auc: model name -> mean liked-above-hidden AUC (NaN: no negatives).
    """

    name: str
    history: np.ndarray
    ndcg: dict[str, np.ndarray]
    auc: dict[str, float] = field(default_factory=dict)


@dataclass
class Selection:
    """What the feed serves, and why."""

    served: str
    fallback: str
    backoff_below: int
    why: str
    criterion: str = ""
    pooled: dict[str, dict[str, float]] = field(default_factory=dict)
    intervals: dict[str, dict[str, float]] = field(default_factory=dict)
    fallback_scores: dict[str, float] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=dict)
    """Known test users per holdout: what the choice was made on."""
    backoff_tried: dict[str, float] = field(default_factory=dict)
    fallback_params: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (NaN, which JSON has no word for, becomes None)."""
        return json_safe(asdict(self))


def json_safe(v: Any) -> Any:
    """``v`` with every NaN (which JSON has no word for) replaced by None, recursively."""
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_safe(x) for x in v]
    return None if isinstance(v, float) and v != v else v


def paired_interval(a: np.ndarray, b: np.ndarray, n_boot: int, seed: int,
                    level: float = 0.95) -> dict[str, float]:
    """Mean of ``a - b`` and its percentile bootstrap interval over paired observations."""
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return {"diff": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": 0}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.size, size=(n_boot, d.size))
    means = d[idx].mean(axis=1)
    q = (1 - level) / 2
    return {"diff": float(d.mean()), "lo": float(np.quantile(means, q)),
            "hi": float(np.quantile(means, 1 - q)), "n": int(d.size)}


def _pooled(holdouts: list[HoldoutScores], name: str, known: bool = True) -> np.ndarray:
    parts = [h.ndcg[name][h.history > 0] if known else h.ndcg[name]
             for h in holdouts if name in h.ndcg]
    return np.concatenate(parts) if parts else np.zeros(0)


def _mean(v: np.ndarray) -> float:
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")


def _auc(holdouts: list[HoldoutScores], name: str) -> float:
    vals = [h.auc.get(name, float("nan")) for h in holdouts]
    vals = [v for v in vals if v == v]
    return float(np.mean(vals)) if vals else float("nan")


def _argmax(scores: dict[str, float], order: list[str]) -> str:
    best = None
    for n in order:
        v = scores.get(n, float("nan"))
        if v == v and (best is None or v > scores[best]):
            best = n
    return best or order[0]


def _meet_auc_bar(best: str, pooled: dict[str, dict], bar: float, order: list[str],
                  tolerance: float) -> tuple[str, str]:
    """``best`` (the NDCG argmax), or the near-best candidate that meets the like-rate bar."""
    auc = pooled[best]["auc"]
    if not (bar == bar and auc == auc) or auc >= bar:
        return best, ""
    top = pooled[best]["ndcg"]
    near = [n for n in order if pooled[n]["ndcg"] == pooled[n]["ndcg"]
            and pooled[n]["ndcg"] >= top * (1 - tolerance) and pooled[n]["auc"] == pooled[n]["auc"]]
    meets = [n for n in near if pooled[n]["auc"] >= bar]
    pick = (_argmax({n: pooled[n]["ndcg"] for n in meets}, meets) if meets
            else _argmax({n: pooled[n]["auc"] for n in near}, near))
    if pick == best:
        return best, ""
    return pick, (f" (instead of {best}: NDCG {top:.4f}, AUC {auc:.3f} below the like-rate; "
                  f"{pick} is within {tolerance:.0%} of its NDCG)")


def _prefer_objective(served: str, pooled: dict[str, dict], bar: float, tolerance: float
                      ) -> tuple[str, str]:
    """``actions`` instead of ``served`` when it is within ``tolerance`` of its NDCG and
    clears the like-rate bar (see ``SelectConfig.objective_tolerance``)."""
    a = pooled.get("actions")
    if served == "actions" or a is None or not a["ndcg"] == a["ndcg"]:
        return served, ""
    top = pooled[served]["ndcg"]
    if a["ndcg"] < top * (1 - tolerance):
        return served, (f"; the objective's actions model is not served: NDCG "
                        f"{a['ndcg']:.4f} is more than {tolerance:.0%} below {served}")
    if bar == bar and a["auc"] == a["auc"] and a["auc"] < bar:
        return served, (f"; the objective's actions model is not served: AUC {a['auc']:.3f} "
                        f"below the like-rate {bar:.3f}")
    return "actions", (f" (the objective's actions model, within {tolerance:.0%} of {served}'s "
                       f"NDCG {top:.4f})")


def _choose_fallback(holdouts: list[HoldoutScores], names: list[str], cfg: SelectConfig
                     ) -> tuple[str, dict[str, float], str]:
    fwd = next((h for h in holdouts if h.name == "temporal"), None)
    if fwd is not None and int((fwd.history == 0).sum()) >= cfg.min_new_users:
        new = fwd.history == 0
        per = {n: fwd.ndcg[n][new] for n in names if n in fwd.ndcg}
        basis = f"{int(new.sum())} new users of the time-forward holdout"
    else:
        per = {n: _pooled(holdouts, n, known=False) for n in names}
        basis = ("every test user of both holdouts (the time-forward holdout has fewer than "
                 f"{cfg.min_new_users} new users)")
    scores = {n: _mean(v) for n, v in per.items()}
    best = _argmax(scores, names)
    null = names[0]  # all-time counts: the simplest list, replaced only on evidence
    if best != null and null in per:
        iv = paired_interval(per[best], per[null], cfg.n_boot, cfg.seed)
        if not iv["lo"] > 0:
            return null, scores, (f"{basis}; {best} scored {iv['diff']:+.4f} over {null} but "
                                  f"its 95% interval {iv['lo']:+.4f} .. {iv['hi']:+.4f} "
                                  "includes 0")
        basis += f"; margin over {null} {iv['diff']:+.4f} ({iv['lo']:+.4f} .. {iv['hi']:+.4f})"
    return best, scores, basis


def _choose_backoff(model: np.ndarray, fallback: np.ndarray, history: np.ndarray,
                    grid: tuple[int, ...]) -> tuple[int, dict[int, float]]:
    out: dict[int, float] = {}
    for t in grid:
        out[t] = _mean(np.where(history < t, fallback, model))
    best = grid[0]
    for t in grid:
        if out[t] > out[best] + 1e-12:
            best = t
    return best, out


def select_models(holdouts: list[HoldoutScores], models: list[str], like_rate: str | None,
                  cfg: SelectConfig | None = None) -> Selection:
    """Choose the served model, the fallback and the back-off length (see module docstring).

    Args:
        holdouts: per-user scores of each holdout.
        models: candidate names in tie-break order (the ranker first); fallback variants
            (``cfg.fallbacks``) are candidates too.
        like_rate: the name under which the item like-rate's AUC is recorded (reported as the
            AUC reference in ``why``; None: none).
        cfg: selection settings.
    """
    cfg = cfg or SelectConfig()
    fb_names = [n for n in cfg.fallbacks if any(n in h.ndcg for h in holdouts)]
    order = [m for m in models if m not in fb_names] + fb_names
    fallback, fb_scores, fb_basis = _choose_fallback(holdouts, fb_names, cfg)
    pooled = {n: {"ndcg": _mean(_pooled(holdouts, n)), "auc": _auc(holdouts, n)} for n in order}
    bar = _auc(holdouts, like_rate) if like_rate else float("nan")
    served = _argmax({n: pooled[n]["ndcg"] for n in order}, order)
    served, auc_why = _meet_auc_bar(served, pooled, bar, order, cfg.auc_ndcg_tolerance)
    served, objective_why = _prefer_objective(served, pooled, bar, cfg.objective_tolerance)
    hist = np.concatenate([h.history[h.history > 0] for h in holdouts if served in h.ndcg])
    backoff, tried = _choose_backoff(_pooled(holdouts, served), _pooled(holdouts, fallback),
                                     hist, cfg.backoff_grid)
    intervals = {n: paired_interval(_pooled(holdouts, served), _pooled(holdouts, n),
                                    cfg.n_boot, cfg.seed) for n in order if n != served}
    weights = {h.name: int((h.history > 0).sum()) for h in holdouts}
    total = max(sum(weights.values()), 1)
    share = ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in weights.items())
    # The runner-up: the candidate the winner beats by the least.
    runner = min((n for n in order if n != served and intervals[n]["n"]),
                 key=lambda n: intervals[n]["diff"], default=None)
    margin = ""
    if runner is not None:
        iv = intervals[runner]
        margin = (f"; margin over {runner} {iv['diff']:+.4f} "
                  f"(95% bootstrap {iv['lo']:+.4f} .. {iv['hi']:+.4f})")
    auc_note = (f"; liked-above-hidden AUC {pooled[served]['auc']:.3f} vs item like-rate "
                f"{bar:.3f}{auc_why}" if bar == bar else "")
    lead = ("has the best pooled NDCG@k" if not auc_why
            else "is served on pooled NDCG@k and liked-above-hidden AUC")
    if objective_why.startswith(" "):
        lead = "is served for the objective" + objective_why
    else:
        auc_note += objective_why
    why = (f"{served} {lead} over known test users ({share}) "
           f"= {pooled[served]['ndcg']:.4f}{margin}{auc_note}; users with fewer than "
           f"{backoff} interactions back off to {fallback}; new users get {fallback}, chosen on "
           f"{fb_basis} ({fb_scores.get(fallback, float('nan')):.4f} vs all-time "
           f"{fb_scores.get('popular', float('nan')):.4f})")
    return Selection(
        served=served, fallback=fallback, backoff_below=backoff, why=why,
        criterion="pooled per-user NDCG@k over known users of the "
                  f"{', '.join(h.name for h in holdouts)} holdouts; within "
                  f"{cfg.auc_ndcg_tolerance:.0%}" " of the best, "
                  "liked-above-hidden AUC at least the item like-rate where the data has hides",
        pooled=pooled, intervals=intervals, fallback_scores=fb_scores,
        weights=weights, backoff_tried={str(t): v for t, v in tried.items()},
        fallback_params=dict(cfg.fallbacks))
