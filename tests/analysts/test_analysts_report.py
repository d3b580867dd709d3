"""The HTML report: self-contained, one div per chart, date filters and empty panels."""

from __future__ import annotations

import re
from datetime import date

from plotly.offline import get_plotlyjs

from features.marts import create_marts
from features.report import build_report, summary_cards
from features.report._data import load_report_data
from features.store import connect

CHART_IDS = ["chart-engagement", "chart-sessions", "chart-late-night", "chart-usage-hour",
             "chart-interventions", "chart-removals", "chart-teen-exposure", "chart-creation",
             "chart-creation-tradeoff", "chart-feature-importance", "chart-model-quality"]


def chart_divs(page: str) -> dict[str, str]:
    return dict((m.group(2), m.group(1)) for m in re.finditer(
        r'<div class="(chart[^"]*)" id="([^"]+)"', page))


def test_report_is_self_contained_with_every_chart(world, tmp_path):
    page = build_report(world, tmp_path / "r.html").read_text()
    assert chart_divs(page) == {c: "chart" for c in CHART_IDS}
    plotly_js = get_plotlyjs()
    assert plotly_js in page  # the library itself is inline
    own = page.replace(plotly_js, "")
    assert not re.search(r"<(script|link|img)[^>]*\b(src|href)=", own)
    assert "http://" not in own and "https://" not in own
    assert 'id="report-status"' in page


def test_date_filter_limits_dated_marts(world):
    create_marts(world)
    d = load_report_data(world, start=date(2026, 10, 21), end=date(2026, 10, 21))
    assert d.daily["day"].to_list() == [date(2026, 10, 21)]
    assert d.interventions["rule"].to_list() == ["daily_limit"]
    assert d.sessions.height == 2
    assert d.models.height == 6  # model quality is per version, not per day


def test_summary_cards_key_numbers(world):
    create_marts(world)
    cards = {c[0]: c for c in summary_cards(load_report_data(world))}
    assert cards["Views"][1] == "7"
    assert cards["Interventions shown"][1] == "4"
    assert cards["Interventions shown"][2] == "most: break (2)"
    assert cards["Removals"][1] == "3"
    # The tiny world's events are ingested history: shown, explained, not flagged.
    assert cards["Teen sensitive share"][3] is False
    assert "0 banned-label views served" in cards["Teen sensitive share"][2]
    assert "2 in ingested history" in cards["Teen sensitive share"][2]
    assert cards["Published model"][1] == "0.360"
    assert "best baseline als 0.300" in cards["Published model"][2]


def test_feature_importance_of_published_model(world):
    create_marts(world)
    d = load_report_data(world)
    assert d.published == "v2"
    assert set(d.importance["feature"]) == {"affinity", "creator_pull", "noise"}
    assert d.importance["feature"][0] == "affinity"


def test_empty_store_gives_no_data_panels(tmp_path):
    con = connect(tmp_path / "empty.duckdb")
    page = build_report(con, tmp_path / "empty.html").read_text()
    con.close()
    assert chart_divs(page) == {c: "chart empty" for c in CHART_IDS}
    assert page.count('class="nodata"') == len(CHART_IDS)
