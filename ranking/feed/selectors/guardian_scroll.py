"""A guardian turned off continuous scroll: the page stops at the session's item budget.

The session policy ends the feed once the budget is spent (``guardian_scroll_limit``); this
selector ends the page that reaches it, cut short, with the same ``end_of_feed`` intervention.
"""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.types import FilterResult
from wellbeing.interventions import MESSAGES, Intervention, session_facts
from wellbeing.reasons import Reason


class GuardianScrollSelector:
    name = "GuardianScroll"

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        c, v = candidates, query.viewer
        budget = v.settings.guardian_session_items
        if budget is None or not v.minor or not len(c):
            return FilterResult(c, [])
        facts = session_facts(v, query.now, query.cfg)
        left = max(0, facts["guardian_session_items"] - facts["session_items"])
        if len(c) < left:
            return FilterResult(c, [])
        end = () if any(iv.type == "end_of_feed" for iv in query.interventions) else (
            Intervention("end_of_feed", MESSAGES["end_of_feed"], True,
                         Reason.GUARDIAN_SCROLL_LIMIT),)
        return FilterResult(c.head(left), [], end)
