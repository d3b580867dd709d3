"""Property tests over random worlds: no minor ever keeps what the teen policy forbids, and a
revoked cameo is never kept for anyone but its subject."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wellbeing import (
    ItemFacts,
    ViewerContext,
    ViewerSettings,
    WellbeingConfig,
    apply_page_caps,
    consent_allows,
    item_verdicts,
    latest_consents,
    policy_for,
)

CFG = WellbeingConfig()
NOW = datetime(2026, 6, 15, 12, 0)
SUBJECTS = ("s1", "s2", "s3")
USERS = ("u1", "s1", "s2")
LABELS = ("self_harm", "eating_disorder", "sexual", "dangerous_challenge", "political", "violence")
TOPICS = ("sadness", "dieting", "cooking", "pets", "body_image", "dance")

opt_bool = st.none() | st.booleans()
items_st = st.builds(
    ItemFacts,
    item_id=st.uuids().map(str),
    creator_id=st.sampled_from(("c1", "c2", "c3")),
    status=st.sampled_from(("active", "removed", None)),
    maturity=st.sampled_from(("general", "teen", "mature", None)),
    labels=st.none() | st.lists(st.sampled_from(LABELS), max_size=3).map(tuple),
    topics=st.lists(st.sampled_from(TOPICS), max_size=2).map(tuple),
    ai_generated=opt_bool,
    realistic_person=opt_bool,
    cameo_subjects=st.none()
    | st.lists(st.sampled_from(SUBJECTS), max_size=2, unique=True).map(tuple),
    provenance=opt_bool,
)
consent_row = st.tuples(
    st.sampled_from(SUBJECTS),
    st.integers(0, 20).map(lambda d: NOW - timedelta(days=d)),
    st.sampled_from(("granted", "revoked")),
    st.sampled_from(("everyone", "mutuals", "approved", "only_me")),
)
viewer_st = st.builds(
    ViewerContext,
    user_id=st.sampled_from(USERS),
    age_band=st.sampled_from(("child", "teen_13_15", "teen_16_17", "adult", "unknown")),
    settings=st.builds(
        ViewerSettings,
        sensitive_content=st.sampled_from(("standard", "less")),
        parent_managed=st.booleans(),
    ),
    following=st.frozensets(st.sampled_from(SUBJECTS)),
    followers=st.frozensets(st.sampled_from(SUBJECTS)),
)


@pytest.fixture(scope="module")
def mem():
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE consents (subject_id VARCHAR, ts TIMESTAMP, status VARCHAR, "
        "audience VARCHAR, extra JSON)"
    )
    yield con
    con.close()


def _consents(con, rows):
    con.execute("DELETE FROM consents")
    if rows:
        con.executemany("INSERT INTO consents VALUES (?, ?, ?, ?, NULL)", rows)
    return latest_consents(con, NOW)


def _latest(rows, subject):
    mine = [r for r in rows if r[0] == subject]
    # Latest wins; on the same instant a revocation wins.
    return max(mine, key=lambda r: (r[1], r[2] == "revoked")) if mine else None


world = dict(
    items=st.lists(items_st, min_size=1, max_size=12),
    rows=st.lists(consent_row, max_size=8),
    ctx=viewer_st,
)
def _split(ctx, items, consents):
    """(kept, removed) as (item_id, verdict), through the feed's one verdict function."""
    verdicts = item_verdicts(policy_for(ctx, CFG), ctx, [(i.item_id, i) for i in items],
                             consents, NOW, CFG)
    pairs = [(i.item_id, v) for i, v in zip(items, verdicts, strict=True)]
    return [p for p in pairs if p[1].kept], [p for p in pairs if not p[1].kept]


fast = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fast
@given(**world)
def test_no_minor_keeps_forbidden_items(mem, items, rows, ctx):
    consents = _consents(mem, rows)
    kept, removed = _split(ctx, items, consents)
    assert len(kept) + len(removed) == len(items)
    if ctx.age_band == "adult":
        return
    by_id = {i.item_id: i for i in items}
    for item_id, _ in kept:
        it = by_id[item_id]
        assert ctx.age_band != "child"
        assert it.status == "active"
        assert it.maturity in CFG.teen_allowed_maturity  # never unrated, never mature
        assert it.labels is not None and not set(it.labels) & set(CFG.teen_banned_labels)
        assert it.realistic_person is not None
        assert not (it.realistic_person and not it.provenance)
        subjects = it.cameo_subjects if it.cameo_subjects is not None else ()
        assert it.cameo_subjects is not None or it.realistic_person is False
        for s in subjects:
            assert consent_allows(consents.get(s), s, ctx)


@fast
@given(**world)
def test_revoked_cameo_never_kept_except_for_subject(mem, items, rows, ctx):
    consents = _consents(mem, rows)
    kept, _ = _split(ctx, items, consents)
    by_id = {i.item_id: i for i in items}
    for item_id, _ in kept:
        for s in by_id[item_id].cameo_subjects or ():
            latest = _latest(rows, s)
            assert ctx.user_id == s or (latest is not None and latest[2] == "granted")
            assert ctx.user_id == s or consents[s].status == "granted"


@settings(max_examples=100, deadline=None)
@given(items=st.lists(items_st, max_size=15), ctx=viewer_st, diversify=st.booleans())
def test_page_caps_partition_and_respect_caps(items, ctx, diversify):
    ranked = [(i.item_id, i) for i in items]
    kept, removed = apply_page_caps(ranked, ctx, CFG, diversify=diversify, now=NOW)
    assert sorted(kept + [i for i, _ in removed]) == sorted(i for i, _ in ranked)
    if not (ctx.age_band != "adult" or ctx.settings.sensitive_content == "less"):
        return
    by_id = dict(ranked)
    flags = [bool(set(by_id[i].topics) & set(CFG.sensitive_topics)) for i in kept]
    assert sum(flags) <= CFG.sensitive_cap_per_page
    assert not any(
        all(flags[k : k + CFG.sensitive_cap_in_row + 1])
        for k in range(len(flags) - CFG.sensitive_cap_in_row)
    )


def _page_caps_recounting(ranked, ctx, cfg, diversify, now):
    """``apply_page_caps`` as it was before it kept each cap's keys: every placement works out
    the key of every kept video again (the reference for the test below)."""
    from wellbeing.selection import PAGE_CAPS, _key, _page_facts

    facts = _page_facts(ctx, cfg, diversify, now, None)
    caps = [c for c in PAGE_CAPS if c.applies(facts)]
    if not caps:
        return [i for i, _ in ranked], []
    sens = frozenset(cfg.sensitive_topics)
    kept, on_page = [], [0] * len(caps)

    def reached(n, c, key):
        if c.over is not None:
            return c.over({**facts, "sensitive_topic": True,
                           "sensitive_views_24h": facts["sensitive_views_24h"] + on_page[n]})
        if c.per == "session":
            seen = facts["session_topics"]
            total = sum(seen.values()) + len(kept) + 1
            mine = seen.get(key, 0) + sum(_key(c, g, sens) == key for _, g in kept) + 1
            return mine / total > facts[c.limit]
        limit = int(facts[c.limit])
        if c.per == "page":
            return on_page[n] >= limit
        return limit <= 0 or (len(kept) >= limit and all(
            _key(c, g, sens) == key for _, g in kept[-limit:]))

    def place(item_id, f):
        keys = [_key(c, f, sens) for c in caps]
        for n, c in enumerate(caps):
            if keys[n] is not None and reached(n, c, keys[n]):
                return c.reason
        kept.append((item_id, f))
        for n, k in enumerate(keys):
            on_page[n] += k is not None
        return None

    def hard(why):
        return any(c.reason is why and c.per == "page" for c in caps)

    removed, deferred = [], []
    for item_id, f in ranked:
        why = place(item_id, f)
        if why is not None:
            (removed.append((item_id, why)) if hard(why) else deferred.append((item_id, f, why)))
            continue
        progress = True
        while progress and deferred:
            progress = False
            for k, (did, df, _) in enumerate(deferred):
                why = place(did, df)
                if why is None:
                    deferred.pop(k)
                    progress = True
                    break
                if hard(why):
                    deferred.pop(k)
                    removed.append((did, why))
                    progress = True
                    break
    removed += [(did, why) for did, _, why in deferred]
    return [i for i, _ in kept], removed


@settings(max_examples=300, deadline=None)
@given(items=st.lists(items_st, max_size=40), ctx=viewer_st, diversify=st.booleans(),
       session=st.dictionaries(st.sampled_from(TOPICS), st.integers(0, 6), max_size=4))
def test_page_caps_with_kept_keys_equal_recounting_the_page(items, ctx, diversify, session):
    from collections import Counter

    from wellbeing import UsageState

    usage = UsageState(cfg=CFG)
    usage.session_topics = Counter(session)  # the session cap in force from its min views
    ctx = ViewerContext(**{**ctx.__dict__, "usage": usage})
    ranked = [(i.item_id, i) for i in items]
    assert apply_page_caps(ranked, ctx, CFG, diversify=diversify, now=NOW) == (
        _page_caps_recounting(ranked, ctx, CFG, diversify, NOW))


def test_page_caps_with_kept_keys_equal_recounting_on_seeded_pages():
    import random
    from collections import Counter

    from wellbeing import Reason, UsageState

    rng = random.Random(7)
    fired: Counter = Counter()
    for k in range(400):
        usage = UsageState(cfg=CFG)
        usage.session_topics = Counter({t: rng.randint(0, 8) for t in rng.sample(TOPICS, 3)})
        ctx = ViewerContext(user_id="u1", age_band=rng.choice(("teen_13_15", "adult")),
                            usage=usage)
        # Pages leaning to one topic, so a page's own videos push a topic past its share.
        lean = rng.choice(TOPICS)
        items = [ItemFacts(item_id=f"i{n}", creator_id=rng.choice(("c1", "c2", "c3")),
                           topics=(() if rng.random() < 0.1 else
                                   (lean if rng.random() < 0.6 else rng.choice(TOPICS),)
                                   + tuple(rng.sample(TOPICS, rng.randint(0, 1)))))
                 for n in range(rng.randint(0, 60))]
        ranked = [(i.item_id, i) for i in items]
        got = apply_page_caps(ranked, ctx, CFG, diversify=k % 2 == 0, now=NOW)
        assert got == _page_caps_recounting(ranked, ctx, CFG, k % 2 == 0, NOW)
        fired.update(r for _, r in got[1])
    # Every kind of cap the rewrite touched removed something on these pages.
    assert fired[Reason.SESSION_TOPIC_CAP] and fired[Reason.DIVERSIFY_TOPIC]
    assert fired[Reason.DIVERSIFY_CREATOR] and fired[Reason.SENSITIVE_PAGE_CAP]
