"""Steering in words: English text -> a structured, inspectable feed preference.

An offline grammar over the catalog's own vocabulary: polarity cues ("more", "less", "never
want to see", ...) set the polarity of the topics, creators and maturity words that follow, up
to the end of the clause; synonyms map everyday words to catalog topics ("diet" -> dieting);
mood words ("calm", "cozy") add a mood whose topics are boosted until it expires ("tonight",
"for 2 hours", default ``steer_mood_hours``). A target is ``topic:<t>``, ``creator:<id>`` or
``maturity:<m>``. Steering only reorders and mutes: it runs after the wellbeing policy, so it can
never bring back what a policy removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from features.errors import DataError
from features.times import to_utc_naive
from wellbeing._steer_vocab import (
    CLAUSE_BREAKS,
    CUES,
    FILLER,
    MATURITY_WORDS,
    MOOD_WORDS,
    MOODS,
    SYNONYMS,
)
from wellbeing.facts import ItemFacts
from wellbeing.sessions import local_time

__all__ = ["Steering", "parse_steering", "item_targets", "steer_direction", "steering_effect",
           "MOOD_NAMES"]

MOOD_NAMES = tuple(MOODS)
_CUES = sorted(((tuple(p.split()), pol) for p, pol in CUES), key=lambda c: -len(c[0]))
_TOKEN = re.compile(r"[@\w'+\-]+|[.,;!?]")


@dataclass(frozen=True)
class Steering:
    """One user's steering: targets boosted, reduced or muted, and an optional mood."""

    more: frozenset[str] = frozenset()
    less: frozenset[str] = frozenset()
    never: frozenset[str] = frozenset()
    mood: str | None = None
    mood_more: frozenset[str] = frozenset()
    mood_less: frozenset[str] = frozenset()
    expires: datetime | None = None
    text: str = ""
    ignored: tuple[str, ...] = field(default=(), compare=False)

    @cached_property
    def compiled(self) -> tuple[tuple[frozenset[str], ...], ...]:
        """(never, more, less, any) targets split by kind, for fast matching on the request
        path."""
        return (_split(self.never), _split(self.more | self.mood_more),
                _split(self.less | self.mood_less),
                _split(self.never | self.more | self.mood_more | self.less | self.mood_less))

    @property
    def empty(self) -> bool:
        return not (self.more or self.less or self.never or self.mood)

    def at(self, now: datetime) -> Steering:
        """The steering in force at ``now``: an expired mood is gone."""
        if self.mood and self.expires is not None and now >= self.expires:
            return replace(self, mood=None, mood_more=frozenset(), mood_less=frozenset(),
                           expires=None)
        return self

    def merged(self, newer: Steering) -> Steering:
        """This steering with ``newer`` added (a check-in's words add to what was asked before):
        mutes add up, ``newer`` wins a more/less conflict, its mood (if any) replaces ours."""
        never = self.never | newer.never
        less = (self.less - newer.more) | newer.less
        more = (self.more - newer.less) | newer.more
        mood = (newer.mood, newer.mood_more, newer.mood_less, newer.expires) if newer.mood else (
            self.mood, self.mood_more, self.mood_less, self.expires)
        return Steering(more - never - less, less - never, never, *mood,
                        f"{self.text}; {newer.text}".strip("; "), newer.ignored)

    def echo(self) -> dict[str, Any]:
        """What was understood, for a person to check (topics bare, others ``kind:id``)."""
        def show(ts: Iterable[str]) -> list[str]:
            return sorted(t.removeprefix("topic:") for t in ts)
        return {"more": show(self.more), "less": show(self.less), "never": show(self.never),
                "mood": self.mood, "mood_topics": show(self.mood_more),
                "expires": self.expires.isoformat() if self.expires else None}

    def to_json(self) -> str:
        return json.dumps({"more": sorted(self.more), "less": sorted(self.less),
                           "never": sorted(self.never), "mood": self.mood,
                           "mood_more": sorted(self.mood_more),
                           "mood_less": sorted(self.mood_less),
                           "expires": self.expires.isoformat() if self.expires else None,
                           "text": self.text})

    @classmethod
    def from_json(cls, raw: str | dict[str, Any]) -> Steering:
        d = json.loads(raw) if isinstance(raw, str) else raw
        exp = d.get("expires")
        return cls(frozenset(d.get("more", ())), frozenset(d.get("less", ())),
                   frozenset(d.get("never", ())), d.get("mood"),
                   frozenset(d.get("mood_more", ())), frozenset(d.get("mood_less", ())),
                   datetime.fromisoformat(exp) if exp else None, d.get("text", ""))


def item_targets(item: ItemFacts) -> set[str]:
    """The targets a video answers to: its topics, its creator, its maturity."""
    out = {f"topic:{t}" for t in item.topics}
    out.add(f"creator:{item.creator_id}")
    if item.maturity:
        out.add(f"maturity:{item.maturity}")
    return out


def _split(targets: frozenset[str]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    by: dict[str, set[str]] = {"topic": set(), "creator": set(), "maturity": set()}
    for t in targets:
        kind, _, value = t.partition(":")
        by.setdefault(kind, set()).add(value)
    return frozenset(by["topic"]), frozenset(by["creator"]), frozenset(by["maturity"])


def _hits(spec: tuple[frozenset[str], frozenset[str], frozenset[str]],
          item: ItemFacts) -> list[str]:
    # Set lookups on the item's own fields: no target strings are built unless one matches.
    topics, creators, maturities = spec
    out = [f"topic:{t}" for t in item.topics if t in topics] if topics else []
    if item.creator_id in creators:
        out.append(f"creator:{item.creator_id}")
    if item.maturity in maturities:
        out.append(f"maturity:{item.maturity}")
    return out


def steer_direction(s: Steering, item: ItemFacts) -> tuple[str | None, float, tuple[str, ...]]:
    """How ``s`` treats ``item``: ("never" | "more" | "less" | None, direction in [-1, 1],
    the targets that matched). One function for the filter, the scorer and explain."""
    never, up, down, (topics, creators, maturities) = s.compiled
    # Most videos match nothing: three set lookups decide that without building anything.
    if (item.creator_id not in creators and item.maturity not in maturities
            and topics.isdisjoint(item.topics)):
        return None, 0.0, ()
    hit = _hits(never, item)
    if hit:
        return "never", -1.0, tuple(sorted(hit))
    ups, downs = _hits(up, item), _hits(down, item)
    d = max(-1.0, min(1.0, float(len(ups) - len(downs))))
    if d == 0:
        return None, 0.0, ()
    return ("more" if d > 0 else "less"), d, tuple(sorted(ups if d > 0 else downs))


def steering_effect(s: Steering | None, item: ItemFacts | None, now: datetime,
                    weight: float) -> dict[str, Any]:
    """What the steering in force does to one video, for ``feedwell explain``.

    Returns:
        ``steering`` (the echo, or None), ``effect`` ("mute", "boost", "reduce" or None),
        ``matched`` targets and ``shift`` (the score shift as a share of the page's range).
    """
    if s is None:
        return {"steering": None, "effect": None, "matched": [], "shift": 0.0}
    s = s.at(now)
    kind, d, hit = steer_direction(s, item) if item is not None else (None, 0.0, ())
    effect = {"never": "mute", "more": "boost", "less": "reduce"}.get(kind or "")
    return {"steering": s.echo(), "effect": effect, "matched": list(hit),
            "shift": 0.0 if kind in (None, "never") else round(weight * d, 3)}


def _topic_for(words: tuple[str, ...], topics: dict[str, str]) -> tuple[str, ...]:
    phrase = " ".join(words)
    for cand in (phrase, phrase + "s", phrase.removesuffix("s"), phrase.removesuffix("es"),
                 phrase[:-3] + "y" if phrase.endswith("ies") else ""):
        if cand in topics:
            return (topics[cand],)
    syn = SYNONYMS.get(phrase) or SYNONYMS.get(phrase.removesuffix("s"), ())
    return tuple(t for t in syn if t in topics.values())


def _expiry(tokens: list[str], now: datetime, tz: str, default_hours: float) -> datetime:
    text = " ".join(tokens)
    local = local_time(now, tz)
    if m := re.search(r"(?:for|next) (an?|\d+) hours?", text):
        n = 1 if m.group(1) in ("a", "an") else int(m.group(1))
        return now + timedelta(hours=max(1, min(n, 72)))
    if "tonight" in tokens:
        end = (local + timedelta(days=1 if local.hour >= 6 else 0)).replace(
            hour=6, minute=0, second=0, microsecond=0)
    elif "today" in tokens:
        end = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    elif "week" in tokens:
        return now + timedelta(days=7)
    elif "now" in tokens:
        return now + timedelta(hours=2)
    else:
        return now + timedelta(hours=default_hours)
    return to_utc_naive(end)


def parse_steering(text: str, topics: Iterable[str], creators: Iterable[str], now: datetime,
                   tz: str = "UTC", mood_hours: float = 12.0) -> Steering:
    """Understand ``text`` against the catalog's vocabulary.

    Args:
        text: free English, e.g. "more pets and sports please, less dance".
        topics: every topic in the catalog.
        creators: every creator id in the catalog.
        now: when it was said (naive UTC); a mood expires relative to it.
        tz: the user's timezone ("tonight" is local).
        mood_hours: how long a mood lasts when the text names no time.

    Raises:
        DataError: nothing usable was said; the message explains what is understood.
    """
    topic_map = {t.lower().replace("_", " "): t for t in topics}
    topic_map |= {t.lower(): t for t in topics}
    creator_set = set(creators)
    raw = _TOKEN.findall(text[:2000].replace("\u2019", "'"))
    toks = [t.lower() for t in raw]
    pol: str | None = None
    found: dict[str, dict[str, None]] = {"more": {}, "less": {}, "never": {}}
    mood, ignored, i = None, [], 0
    while i < len(toks):
        t = toks[i]
        if t in ".,;!?" or t in CLAUSE_BREAKS:
            pol, i = None, i + 1
            continue
        cue = next(((w, p) for w, p in _CUES if tuple(toks[i:i + len(w)]) == w), None)
        if cue is not None:
            pol, i = cue[1], i + len(cue[0])
            continue
        target, width = None, 1
        for n in (3, 2, 1):
            got = _topic_for(tuple(toks[i:i + n]), topic_map) if i + n <= len(toks) else ()
            if got:
                target, width = [f"topic:{g}" for g in got], n
                break
        cid = raw[i].lstrip("@")
        if target is None and cid in creator_set:
            target = [f"creator:{cid}"]
        if target is None and t in MATURITY_WORDS:
            target = ["maturity:mature"]
        if t in MOOD_WORDS and (pol is None or target is None):
            mood, i = MOOD_WORDS[t], i + 1
            continue
        if target is not None:
            for tg in target:
                found[pol or "more"][tg] = None
        elif t not in FILLER and not t.isdigit():
            ignored.append(raw[i])
        i += width
    never = frozenset(found["never"])
    less = frozenset(found["less"]) - never
    more = frozenset(found["more"]) - never - less
    mood_more = mood_less = frozenset()
    expires = None
    if mood:
        up, down = MOODS[mood]
        mood_more = frozenset(f"topic:{t}" for t in up if t in topic_map.values())
        mood_less = frozenset(f"topic:{t}" for t in down if t in topic_map.values())
        expires = _expiry(toks, now, tz, mood_hours)
    s = Steering(more, less, never, mood, mood_more, mood_less, expires, text.strip(),
                 tuple(ignored))
    if s.empty:
        sample = ", ".join(sorted(set(topic_map.values()))[:8])
        raise DataError(
            f"nothing usable in {text.strip()[:200]!r}: name catalog topics (e.g. {sample}), "
            f"creators by id, or a mood ({', '.join(MOOD_NAMES)}), with 'more', 'less' or "
            "'never', e.g. \"more pets, less dance\"")
    return s
