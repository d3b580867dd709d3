"""Vectorised event generation for ``simulate``: sessions of served videos and reactions.

Users are split into contiguous chunks; each chunk draws its sessions, the videos served in
them (a logged feed that already favoured taste and popularity) and the reactions, all as
numpy arrays. No Python loop runs per event or per session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.simulator._vocab import DAY_MS
from features.simulator._world import HOUR_CDF, World

__all__ = ["TYPE_CODE", "plan_chunks", "chunk_events"]

_TYPES = ("impression", "view", "like", "unlike", "share", "remix", "comment",
          "follow", "unfollow", "block", "skip", "hide", "report")
TYPE_CODE = {t: i for i, t in enumerate(_TYPES)}
# Expected rows per served video, measured on default worlds; the chunk then trims to target.
_ROWS_PER_IMPRESSION = 2.3
_OVERSHOOT = 1.2
_CANDIDATES = 6
_MIN_GAP_MS = 20 * 60_000
# Mean videos per session; doomscroll-prone users scroll far longer (and skip more).
_MEAN_LEN, _DOOM_LEN = 18.0, 90.0
# Creation intercepts (logit), set so each reaction's overall count per view is about what it
# was when creation followed affinity and quality alone.
_SHARE0, _REMIX0, _COMMENT0 = -4.75, -5.25, -4.9


@dataclass
class Chunk:
    """Event rows of one chunk as parallel arrays (``-1`` means null)."""

    user: np.ndarray
    ts_ms: np.ndarray
    type: np.ndarray
    item: np.ndarray
    target: np.ndarray
    watch_ms: np.ndarray
    session: np.ndarray
    surface: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def plan_chunks(world: World, events: int, chunk_rows: int) -> list[tuple[int, int, float]]:
    """Split users into contiguous ranges of about ``chunk_rows`` expected rows each."""
    days = world.tz_offset_ms.shape[1]
    active = np.clip((world.end_ms - np.maximum(world.user_created_ms, world.start_ms))
                     / (days * DAY_MS), 0.02, 1.0)
    share = world.user_activity * active
    target = events * share / share.sum()
    cum = np.cumsum(target)
    cut = np.minimum((cum // max(chunk_rows, 1)).astype(np.int64), len(cum) - 1)
    bounds = np.r_[0, np.nonzero(np.diff(cut))[0] + 1, len(cum)]
    pairs = zip(bounds[:-1], bounds[1:], strict=True)
    return [(int(a), int(b), float(target[a:b].sum())) for a, b in pairs]


def _group_cumsum_exclusive(values: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """Exclusive cumulative sum restarting at each group (``group_start`` flags)."""
    total = np.cumsum(values) - values
    first = np.maximum.accumulate(np.where(group_start, np.arange(len(values)), 0))
    return total - total[first]


def _sessions(world: World, rng: np.random.Generator, lo: int, hi: int, target: float) -> dict:
    users = np.arange(lo, hi)
    share = world.user_activity[lo:hi]
    imps = target * _OVERSHOOT / _ROWS_PER_IMPRESSION * share / share.sum()
    doom = world.user_doom[lo:hi]
    mean_len = np.where(doom, _DOOM_LEN, _MEAN_LEN)
    n_sess = rng.poisson(imps / mean_len)
    su = np.repeat(users, n_sess)
    s_doom = world.user_doom[su]
    # Lognormal lengths with the means above (mu = log(mean) - sigma^2 / 2).
    length = np.ceil(rng.lognormal(np.log(np.where(s_doom, _DOOM_LEN, _MEAN_LEN)) - 0.41, 0.9))
    length = length.astype(np.int64).clip(1, 900)
    days = world.tz_offset_ms.shape[1]
    cday = np.clip((world.user_created_ms[su] - world.start_ms) // DAY_MS, 0, days - 1)
    day = cday + (rng.random(len(su)) * (days - cday)).astype(np.int64)
    cdf = HOUR_CDF[world.user_profile[su]]
    hour = (rng.random(len(su))[:, None] > cdf).sum(1).clip(0, 23)
    local = hour * 3_600_000 + (rng.random(len(su)) * 3_600_000).astype(np.int64)
    offset = world.tz_offset_ms[world.users["tz_idx"][su], day]
    start = world.start_ms + day * DAY_MS + local - offset
    ok = (start >= np.maximum(world.start_ms, world.user_created_ms[su])) & (
        start < world.end_ms - 60_000)
    order = np.lexsort((start[ok], su[ok]))
    n_ok = int(ok.sum())
    return {"user": su[ok][order], "start": start[ok][order], "length": length[ok][order],
            "surface": rng.choice(3, size=n_ok, p=[0.88, 0.08, 0.04]),
            # Some clients send no session id; consumers derive sessions from gaps.
            "has_id": rng.random(n_ok) < 0.8}


def _serve(world: World, rng: np.random.Generator, user: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Pick the served video: the best of a few popular or fresh candidates for this user."""
    created = world.items["created_ms"]
    cumw = np.cumsum(world.item_weight)
    n_now = np.searchsorted(created, t, side="right")
    n_fresh = np.searchsorted(created, t - 2 * DAY_MS, side="right")
    fresh = (rng.random((len(t), _CANDIDATES)) < 0.3) & (n_now > n_fresh)[:, None]
    lo_w = np.where(fresh, np.where(n_fresh > 0, cumw[n_fresh - 1], 0.0)[:, None], 0.0)
    hi_w = np.where(n_now > 0, cumw[np.maximum(n_now - 1, 0)], 0.0)[:, None]
    draw = lo_w + rng.random(lo_w.shape) * (hi_w - lo_w)
    cand = np.minimum(np.searchsorted(cumw, draw, side="right"), len(cumw) - 1)
    dim = world.item_vec.shape[1]
    vecs = np.take(world.item_vec, cand.ravel(), axis=0).reshape(*cand.shape, dim)
    aff = np.matmul(vecs, np.take(world.user_vec, user, axis=0)[:, :, None])[:, :, 0]
    beta = np.where(world.users["personalized_off"][user], 0.0, 4.0)[:, None]
    pick = np.argmax(beta * aff + rng.gumbel(size=aff.shape), axis=1)
    served = cand[np.arange(len(t)), pick]
    return np.where(n_now > 0, served, -1)


def _react(world: World, rng: np.random.Generator, user: np.ndarray, item: np.ndarray) -> dict:
    """Watch time and reactions from taste affinity, quality, sensitivity and per-video pulls.

    Views, watch time and likes follow affinity and quality. Remixes, shares and comments add
    the video's own creation pull and hides its own hide pull (``World.item_propensity``).
    Follows come after a like, more often for creators with a large pull (serving popularity
    over quality, drawn per creator in ``_items``).
    """
    n = len(item)
    aff = np.einsum("nd,nd->n", world.user_vec[user], world.item_vec[item])
    q = np.log(world.item_quality[item])
    dur = world.items["duration_ms"][item]
    doom = world.user_doom[user]
    sens = world.item_sensitive[item]
    bias = rng.normal(0.0, 0.4, n)
    view = rng.random(n) < _sigmoid(-0.9 + 3.2 * aff + 0.6 * q + bias - 0.7 * doom)
    frac = _sigmoid(rng.normal(0.2 + 2.0 * aff + 0.4 * q, 1.0))
    loops = rng.random(n) < _sigmoid(-3.0 + 3.0 * aff + 0.5 * q)
    frac = frac + loops * (1.0 + rng.random(n))
    skip_ms = np.minimum(250 + (rng.random(n) * 2_500).astype(np.int64), dur // 2)
    watch = np.where(view, np.maximum((frac * dur).astype(np.int64), np.minimum(3_000, dur)),
                     skip_ms)
    like = view & (rng.random(n) < _sigmoid(-6.2 + 6.0 * aff + 0.8 * q + 0.6 * loops))
    pull = np.log(world.item_weight[item] / world.item_quality[item])
    follow = rng.random(n) < np.where(like, _sigmoid(-3.6 + 0.5 * pull), 0.002)
    pr = world.item_propensity
    hide = rng.random(n) < _sigmoid(-4.8 - 2.5 * aff + 1.8 * sens + pr.hide[item])
    report = rng.random(n) < _sigmoid(-7.0 - 1.5 * aff + 2.8 * sens)
    # Creation is drawn from the video's own pull as well as taste, so at the same affinity a
    # template is remixed many times more often than a typical video (see ``_propensity``).
    return {
        "view": view, "watch": watch, "like": like,
        "unlike": like & (rng.random(n) < 0.03),
        "share": view & (rng.random(n) < _sigmoid(_SHARE0 + 2.5 * aff + 0.4 * q + pr.share[item])),
        "remix": view & (rng.random(n) < _sigmoid(_REMIX0 + 2.0 * aff + 0.4 * q + pr.remix[item])),
        "comment": view & (rng.random(n) < _sigmoid(
            _COMMENT0 + 2.0 * aff + 0.3 * q + pr.comment[item])),
        "follow": follow & ~hide,
        "hide": hide & ~like, "report": report & ~like,
        "block": (report & (rng.random(n) < 0.25)) | (hide & (rng.random(n) < 0.04)),
    }


def chunk_events(world: World, rng: np.random.Generator, lo: int, hi: int,
                 target: float) -> Chunk:
    """All events of users ``lo..hi-1``, trimmed by whole sessions to about ``target`` rows."""
    s = _sessions(world, rng, lo, hi, target)
    n_s = len(s["user"])
    sess = np.repeat(np.arange(n_s), s["length"])
    user = s["user"][sess]
    item = _serve(world, rng, user, s["start"][sess])
    keep = item >= 0
    sess, user, item = sess[keep], user[keep], item[keep]
    r = _react(world, rng, user, item)
    n = len(item)
    gap = (rng.gamma(2.0, 400.0, n)).astype(np.int64) + 150
    extra = r["like"] * 800 + r["comment"] * 9_000 + r["share"] * 3_000 + r["remix"] * 4_000
    dwell = r["watch"] + gap + extra
    first = np.r_[True, sess[1:] != sess[:-1]] if n else np.zeros(0, bool)
    offset = _group_cumsum_exclusive(dwell, first)

    # Sessions of one user never overlap: push each start past the previous end plus a gap.
    dur = np.bincount(sess, weights=dwell, minlength=n_s).astype(np.int64)
    u_first = np.r_[True, s["user"][1:] != s["user"][:-1]] if n_s else np.zeros(0, bool)
    need = _group_cumsum_exclusive(dur + _MIN_GAP_MS, u_first)
    grp = np.cumsum(u_first) - 1
    # Per-user running max in one pass: offset each user's values above all earlier users'.
    big = np.int64(1) << 40
    base = s["start"] - need - world.start_ms + grp * big
    start = np.maximum.accumulate(base) - grp * big + need + world.start_ms
    t0 = start[sess] + offset

    rows = [(np.ones(n, bool), 0, "impression"), (r["view"], r["watch"], "view"),
            (~r["view"], r["watch"], "skip")]
    watch_after = r["watch"] + 200
    rows += [(r["like"], (rng.random(n) * r["watch"]).astype(np.int64) + 300, "like"),
             (r["unlike"], watch_after + 2_000, "unlike"),
             (r["share"], watch_after + 1_000, "share"), (r["remix"], watch_after + 2_500, "remix"),
             (r["comment"], watch_after + 5_000, "comment"),
             (r["follow"], watch_after + 1_500, "follow"), (r["hide"], watch_after, "hide"),
             (r["report"], watch_after + 3_000, "report"),
             (r["block"], watch_after + 8_000, "block")]
    idx = np.concatenate([np.nonzero(m)[0] for m, _, _ in rows])
    code = np.concatenate([np.full(int(m.sum()), TYPE_CODE[t], np.int8) for m, _, t in rows])
    delay = np.concatenate([(d if np.ndim(d) else np.full(n, d))[m] for m, d, _ in rows])
    ev_sess = sess[idx]
    ev_ts = t0[idx] + delay
    creator = world.items["creator"][item]
    social = np.isin(code, [TYPE_CODE["follow"], TYPE_CODE["block"]])
    ev_item = np.where(social, -1, item[idx])
    ev_target = np.where(social, creator[idx], -1)
    ev_watch = np.where(np.isin(code, [TYPE_CODE["view"], TYPE_CODE["skip"]]), r["watch"][idx], -1)

    # A few follows are undone days later, outside any session.
    unf = (code == TYPE_CODE["follow"]) & (rng.random(len(code)) < 0.05)
    unf_ts = ev_ts[unf] + (rng.exponential(5.0, int(unf.sum())) * DAY_MS).astype(np.int64)
    ev_sess = np.r_[ev_sess, ev_sess[unf]]
    ev_ts = np.r_[ev_ts, unf_ts]
    code = np.r_[code, np.full(int(unf.sum()), TYPE_CODE["unfollow"], np.int8)]
    ev_item = np.r_[ev_item, np.full(int(unf.sum()), -1)]
    ev_target = np.r_[ev_target, ev_target[unf]]
    ev_watch = np.r_[ev_watch, np.full(int(unf.sum()), -1)]
    in_session = np.r_[np.ones(len(idx), bool), np.zeros(int(unf.sum()), bool)]

    # Trim whole sessions, in random order, to the chunk's share of the requested volume.
    per = np.bincount(ev_sess, minlength=n_s)
    perm = rng.permutation(n_s)
    kept = np.zeros(n_s, bool)
    kept[perm[np.cumsum(per[perm]) <= round(target)]] = True
    ok = kept[ev_sess] & (ev_ts < world.end_ms)
    ev_user = s["user"][ev_sess]
    order = np.lexsort((code[ok], ev_ts[ok], ev_user[ok]))
    sel = np.nonzero(ok)[0][order]
    session = np.where(in_session[sel] & s["has_id"][ev_sess[sel]], ev_sess[sel], -1)
    surface = np.where(in_session[sel], s["surface"][ev_sess[sel]], 3)
    return Chunk(user=ev_user[sel], ts_ms=ev_ts[sel], type=code[sel], item=ev_item[sel],
                 target=ev_target[sel], watch_ms=ev_watch[sel], session=session,
                 surface=surface)
