"""One plotly figure per report panel; a panel with no data gets a message instead."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from features.report._data import AGE_BANDS, ReportData

BAND_COLORS = {"child": "#9467bd", "teen_13_15": "#e4572e", "teen_16_17": "#f3a712",
               "adult": "#2e86ab", "unknown": "#8a8f98"}
PALETTE = ["#2e86ab", "#e4572e", "#f3a712", "#59a14f", "#9467bd", "#8a8f98", "#d37295",
           "#76b7b2", "#edc948", "#b07aa1"]


@dataclass
class Chart:
    """A report panel: ``fig`` is None when there is nothing to draw yet."""

    id: str
    title: str
    caption: str
    fig: go.Figure | None
    empty: str = "No data yet."


def _style(fig: go.Figure, height: int = 360, **layout: object) -> go.Figure:
    base = dict(template="plotly_white", height=height, margin=dict(l=56, r=24, t=16, b=48),
                legend=dict(orientation="h", y=-0.18, x=0), font=dict(size=12),
                hovermode="x unified")
    fig.update_layout(**(base | layout))
    return fig


def _daily(fig: go.Figure, days: pl.Series) -> go.Figure:
    """One tick per day (or per few days), labelled by date only."""
    step = max(1, -(-days.n_unique() // 12))
    fig.update_xaxes(type="date", tickformat="%b %d", dtick=86_400_000 * step, tick0=days.min())
    return fig


def _bands(values: pl.Series) -> list[str]:
    present = set(values.to_list())
    return [b for b in AGE_BANDS if b in present] + sorted(present - set(AGE_BANDS))


def engagement(d: ReportData) -> Chart:
    fig = None
    if d.daily.height:
        fig = make_subplots(specs=[[{"secondary_y": True}]])
        fig.add_bar(x=d.daily["day"], y=d.daily["active_users"], name="Active users",
                    marker_color="#a9cce3")
        fig.add_scatter(x=d.daily["day"], y=d.daily["watch_minutes"], name="Watch minutes",
                        mode="lines+markers", line=dict(color="#e4572e", width=2),
                        secondary_y=True)
        fig.add_scatter(x=d.daily["day"], y=d.daily["views"], name="Views", mode="lines",
                        line=dict(color="#2e86ab", dash="dot"), secondary_y=True)
        _daily(_style(fig), d.daily["day"])
        fig.update_yaxes(title_text="active users", secondary_y=False, rangemode="tozero")
        fig.update_yaxes(title_text="views / watch minutes", secondary_y=True, showgrid=False,
                         rangemode="tozero")
    return Chart("chart-engagement", "Engagement over time",
                 "Daily active users, views and watch minutes (UTC days).", fig,
                 "No events yet: run `feedwell ingest DATA_DIR`.")


def sessions(d: ReportData) -> Chart:
    fig = None
    if d.sessions.height:
        fig = go.Figure()
        for band in _bands(d.sessions["age_band"]):
            mins = d.sessions.filter(pl.col("age_band") == band)["minutes"]
            fig.add_box(y=mins.clip(lower_bound=0.1), name=band, marker_color=BAND_COLORS.get(band),
                        boxpoints=False, boxmean=True)
        _style(fig, hovermode="closest", showlegend=False)
        ticks = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 240]
        fig.update_yaxes(type="log", title_text="session minutes (log scale)", tickvals=ticks,
                         ticktext=[f"{t:g}" for t in ticks])
    return Chart("chart-sessions", "Session length by age band",
                 "Distribution of session length (first to last event; dashed line = mean).",
                 fig, "No sessions yet.")


def late_night(d: ReportData) -> Chart:
    fig = None
    if d.late_night.height:
        fig = go.Figure()
        # A 7-day rolling share: small bands (children, unknown age) are too noisy day by day.
        rolled = d.late_night.sort("day").with_columns(
            (pl.col("late_share") * pl.col("events")).alias("late_events")
        ).with_columns(
            (pl.col("late_events").rolling_sum(7, min_samples=1).over("age_band")
             / pl.col("events").rolling_sum(7, min_samples=1).over("age_band")).alias("rolled"))
        for band in _bands(d.late_night["age_band"]):
            part = rolled.filter(pl.col("age_band") == band)
            fig.add_scatter(x=part["day"], y=part["rolled"], name=band, mode="lines+markers",
                            line=dict(color=BAND_COLORS.get(band)))
        _daily(_style(fig), d.late_night["day"])
        fig.update_yaxes(title_text="share of session events", tickformat=".0%", rangemode="tozero")
    return Chart("chart-late-night", "Late-night share",
                 "Share of session events between 22:00 and 06:00 in the user's own timezone "
                 "(7-day rolling, by age band).",
                 fig, "No sessions yet.")


def usage_hour(d: ReportData) -> Chart:
    fig = None
    if d.usage_hour.height:
        bands = _bands(d.usage_hour["age_band"])
        grid = {(r["age_band"], r["local_hour"]): r["minutes"] / max(r["users"], 1)
                for r in d.usage_hour.iter_rows(named=True)}
        z = [[grid.get((b, h), 0.0) for h in range(24)] for b in bands]
        fig = go.Figure(go.Heatmap(z=z, x=list(range(24)), y=bands, colorscale="YlOrRd",
                                   colorbar=dict(title="min/user"),
                                   hovertemplate="%{y} at %{x}:00: %{z:.1f} min/user"
                                                 "<extra></extra>"))
        _style(fig, height=300, hovermode="closest")
        fig.update_xaxes(title_text="local hour of day", dtick=2)
    return Chart("chart-usage-hour", "When each age band watches",
                 "Watch minutes per active user by local hour of day.", fig, "No events yet.")


def interventions(d: ReportData) -> Chart:
    fig = None
    if d.interventions.height:
        fig = go.Figure()
        for i, rule in enumerate(sorted(set(d.interventions["rule"].to_list()))):
            part = d.interventions.filter(pl.col("rule") == rule)
            fig.add_bar(x=part["day"], y=part["n"], name=rule, marker_color=PALETTE[i % 10])
        _daily(_style(fig, barmode="stack"), d.interventions["day"])
        fig.update_yaxes(title_text="interventions shown")
    return Chart("chart-interventions", "Interventions shown",
                 "Breaks, daily limits, quiet hours and diversification from the audit log, "
                 "by type.",
                 fig, "No interventions in the audit log yet (the feed service writes them).")


def removals(d: ReportData) -> Chart:
    fig = None
    if d.removals.height:
        r = d.removals.sort("n")
        fig = go.Figure(go.Bar(x=r["n"], y=r["reason"], orientation="h", marker_color="#8a8f98"))
        _style(fig, height=max(240, 28 * r.height + 80), hovermode="closest")
        fig.update_xaxes(title_text="videos removed from feeds")
    return Chart("chart-removals", "Removals by reason",
                 "Videos the wellbeing policies dropped from feeds, by reason.", fig,
                 "No removals in the audit log yet.")


def teen_exposure(d: ReportData) -> Chart:
    fig = None
    if d.teen.height:
        fig = make_subplots(specs=[[{"secondary_y": True}]])
        banned = d.teen.group_by("day").agg(pl.col("banned_label_views").sum()).sort("day")
        fig.add_bar(x=banned["day"], y=banned["banned_label_views"], name="Banned-label views",
                    marker_color="#c0392b", opacity=0.55, secondary_y=True)
        for band in _bands(d.teen["age_band"]):
            part = d.teen.filter(pl.col("age_band") == band)
            fig.add_scatter(x=part["day"], y=part["sensitive_share"], mode="lines+markers",
                            name=f"{band} sensitive share", line=dict(color=BAND_COLORS.get(band)))
        _daily(_style(fig), d.teen["day"])
        fig.update_yaxes(title_text="sensitive share of views", tickformat=".0%",
                         rangemode="tozero", secondary_y=False)
        fig.update_yaxes(title_text="banned-label views", secondary_y=True, showgrid=False,
                         rangemode="tozero")
    return Chart("chart-teen-exposure", "Teen sensitive exposure",
                 "Share of teen views with a sensitive topic or any moderation label; bars count "
                 "views of labels minors must never see (should be 0).", fig,
                 "No teen views yet.")


def model_quality(d: ReportData) -> Chart:
    fig = None
    if d.models.height:
        fig = go.Figure()
        models = sorted(set(d.models["model"].to_list()), key=lambda m: (m != "ranker", m))
        for i, m in enumerate(models):
            part = d.models.filter(pl.col("model") == m)
            label = [f"{v} ({s})" for v, s in zip(part["version"], part["status"], strict=True)]
            fig.add_bar(x=label, y=part["ndcg_at_10"], name=m,
                        marker_color="#e4572e" if m == "ranker" else PALETTE[(i + 1) % 10])
        _style(fig, barmode="group", hovermode="closest")
        fig.update_yaxes(title_text="NDCG@10")
    return Chart("chart-model-quality", "Model quality against baselines",
                 "NDCG@10 on the temporal holdout for each registered version.", fig,
                 "No evaluated model versions yet (feedwell train, then evaluate).")


def importance(d: ReportData) -> Chart:
    fig = None
    if d.importance.height:
        top = d.importance.head(20).sort("gain")
        fig = go.Figure(go.Bar(x=top["gain"], y=top["feature"], orientation="h",
                               marker_color="#2e86ab"))
        _style(fig, height=max(260, 24 * top.height + 80), hovermode="closest")
        fig.update_xaxes(title_text="total gain")
    return Chart("chart-feature-importance", "Feature importance of the published model",
                 f"{d.importance_note} Top features by LightGBM gain.", fig, d.importance_note)


def all_charts(d: ReportData) -> list[Chart]:
    """Every panel, in page order."""
    return [f(d) for f in (engagement, sessions, late_night, usage_hour, interventions,
                           removals, teen_exposure, importance, model_quality)]
