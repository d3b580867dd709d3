"""``build_report``: one offline HTML file with the analysts' charts and key numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from features.marts import MartThresholds, create_marts
from features.report._charts import all_charts
from features.report._data import ReportData, load_report_data
from features.report._html import render_page

__all__ = ["build_report", "summary_cards"]

Card = tuple[str, str, str, bool]


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "-"
    if pct:
        return f"{x:.1%}"
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.2f}".rstrip("0").rstrip(".")


def _watch(minutes: float) -> str:
    return f"{minutes / 60:,.1f} watch hours" if minutes >= 60 else f"{minutes:.1f} watch minutes"


def _top(frame: pl.DataFrame, key: str) -> str:
    if not frame.height:
        return ""
    top = frame.group_by(key).agg(pl.col("n").sum()).sort("n", descending=True).row(0)
    return f"most: {top[0]} ({top[1]:,})"


def summary_cards(d: ReportData) -> list[Card]:
    """The key numbers shown above the charts: (label, value, detail, warn)."""
    cards: list[Card] = []
    dd = d.daily
    if dd.height:
        first, last = dd["day"].min(), dd["day"].max()
        cards.append(("Period", f"{dd.height} days", f"{first} to {last}", False))
        cards.append(("Daily active users", _fmt(dd["active_users"].mean()),
                      f"peak {dd['active_users'].max():,}", False))
        cards.append(("Views", _fmt(dd["views"].sum()),
                      _watch(dd["watch_minutes"].sum()), False))
        rate = dd["completion_rate"].drop_nulls()
        cards.append(("Completion rate", _fmt(rate.mean() if rate.len() else None, pct=True),
                      "mean over days", False))
    else:
        cards.append(("Period", "no events yet", "run feedwell ingest", False))
    if d.sessions.height:
        m = d.sessions["minutes"]
        cards.append(("Median session", f"{m.median():.1f} min",
                      f"p90 {m.quantile(0.9):.1f} min, {d.sessions.height:,} sessions", False))
        ln = d.late_night
        share = (ln["late_share"] * ln["events"]).sum() / max(ln["events"].sum(), 1)
        cards.append(("Late-night share", _fmt(share, pct=True), "of session events", False))
    n_int = int(d.interventions["n"].sum()) if d.interventions.height else 0
    cards.append(("Interventions shown", f"{n_int:,}", _top(d.interventions, "rule"), False))
    n_rem = int(d.removals["n"].sum()) if d.removals.height else 0
    cards.append(("Removals", f"{n_rem:,}", _top(d.removals, "reason"), False))
    if d.teen.height:
        views, sens = d.teen["views"].sum(), d.teen["sensitive_views"].sum()
        by_origin = dict(d.teen.group_by("origin").agg(pl.col("banned_label_views").sum())
                         .iter_rows())
        served, history = int(by_origin.get("served", 0)), int(by_origin.get("history", 0))
        detail = f"{served:,} banned-label views served (should be 0)"
        if history:
            detail += f"; {history:,} in ingested history, which may predate the policy"
        cards.append(("Teen sensitive share", _fmt(sens / max(views, 1), pct=True), detail,
                      served > 0))
    cards.append(_model_card(d))
    return cards


def _model_card(d: ReportData) -> Card:
    mq = d.models
    version = d.published or (mq["version"][-1] if mq.height else None)
    rows = mq.filter(pl.col("version") == version) if version else mq.clear()
    if not rows.height:
        return ("Published model", version or "none yet", "no evaluation recorded", False)
    ranker = rows.filter(pl.col("is_ranker"))["ndcg_at_10"]
    base = rows.filter(~pl.col("is_ranker")).sort("ndcg_at_10", descending=True)
    value = f"{ranker[0]:.3f}" if ranker.len() else "-"
    sub = f"NDCG@10 of {version}"
    if base.height:
        sub += f"; best baseline {base['model'][0]} {base['ndcg_at_10'][0]:.3f}"
    beaten = ranker.len() and base.height and ranker[0] <= base["ndcg_at_10"][0]
    label = "Published model" if d.published else "Latest model"
    return (label, value, sub, bool(beaten))


def build_report(con: duckdb.DuckDBPyConnection, out: str | Path = "report.html",
                 start: date | None = None, end: date | None = None,
                 db_path: str | Path | None = None,
                 thresholds: MartThresholds | None = None) -> Path:
    """Write the analysts' report as one self-contained HTML file (works offline).

    Args:
        con: a writable store connection (the marts are created or refreshed).
        out: the HTML file to write.
        start: first UTC day to include (default: the earliest).
        end: last UTC day to include (default: the latest).
        db_path: the store's file, to find model files when the registry path moved.
        thresholds: the wellbeing thresholds the marts bucket by (default: the defaults).

    Returns:
        The path written.
    """
    from plotly.offline import get_plotlyjs

    create_marts(con, thresholds)
    data = load_report_data(con, start, end, db_path)
    span = f"{start or 'start'} to {end or 'latest'}" if start or end else "all dates"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = render_page("feedwell: engagement and wellbeing", f"{span} · generated {stamp}",
                       summary_cards(data), all_charts(data), get_plotlyjs())
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
