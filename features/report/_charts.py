"""One plotly figure per report panel; a panel with no data gets a message instead."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from features.report._data import AGE_BANDS, ReportData
from features.report._names import feature_label, metric_label

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


def _n(band: str, n: int, unit: str) -> str:
    """A band's label with its sample size, so a thin band reads as thin."""
    return f"{band} (n={n:,} {unit})"


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
            fig.add_box(y=mins.clip(lower_bound=0.1), name=_n(band, mins.len(), "sessions"),
                        marker_color=BAND_COLORS.get(band), boxpoints=False, boxmean=True)
        _style(fig, hovermode="closest", showlegend=False)
        ticks = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 240]
        fig.update_yaxes(type="log", title_text="session minutes (log scale)", tickvals=ticks,
                         ticktext=[f"{t:g}" for t in ticks])
    return Chart("chart-sessions", "Session length by age band",
                 "Distribution of session length (first to last event; dashed line = mean); "
                 "n = sessions in each band.",
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
            fig.add_scatter(x=part["day"], y=part["rolled"],
                            name=_n(band, int(part["events"].sum()), "events"),
                            mode="lines+markers", line=dict(color=BAND_COLORS.get(band)))
        _daily(_style(fig), d.late_night["day"])
        fig.update_yaxes(title_text="share of session events", tickformat=".0%", rangemode="tozero")
    return Chart("chart-late-night", "Late-night share",
                 "Share of session events between 22:00 and 06:00 in the user's own timezone "
                 "(7-day rolling, by age band; n = session events in the band).",
                 fig, "No sessions yet.")


def usage_hour(d: ReportData) -> Chart:
    fig = None
    if d.usage_hour.height:
        bands = _bands(d.usage_hour["age_band"])
        grid = {(r["age_band"], r["local_hour"]): r["minutes"] / max(r["users"], 1)
                for r in d.usage_hour.iter_rows(named=True)}
        z = [[grid.get((b, h), 0.0) for h in range(24)] for b in bands]
        users = dict(d.band_users.iter_rows()) if d.band_users.height else {}
        labels = [_n(b, int(users.get(b, 0)), "users") for b in bands]
        fig = go.Figure(go.Heatmap(z=z, x=list(range(24)), y=labels, colorscale="YlOrRd",
                                   colorbar=dict(title="min/user"),
                                   hovertemplate="%{y} at %{x}:00: %{z:.1f} min/user"
                                                 "<extra></extra>"))
        _style(fig, height=300, hovermode="closest")
        fig.update_xaxes(title_text="local hour of day", dtick=2)
    return Chart("chart-usage-hour", "When each age band watches",
                 "Watch minutes per active user by local hour of day (n = users with an event "
                 "in the band).", fig, "No events yet.")


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
        # Ingested logs may predate the policy; only what feedwell served must be zero.
        for origin, name, color in (
                ("history", "Banned-label views, ingested history (may predate the policy)",
                 "#8a8f98"),
                ("served", "Banned-label views in feeds feedwell served (should be 0)",
                 "#c0392b")):
            part = d.teen.filter(pl.col("origin") == origin)
            if not part.height:
                continue
            banned = part.group_by("day").agg(pl.col("banned_label_views").sum()).sort("day")
            fig.add_bar(x=banned["day"], y=banned["banned_label_views"], name=name,
                        marker_color=color, opacity=0.6, secondary_y=True)
        share = d.teen.group_by("day", "age_band").agg(
            pl.col("sensitive_views").sum(), pl.col("views").sum()).sort("day")
        for band in _bands(share["age_band"]):
            part = share.filter(pl.col("age_band") == band)
            fig.add_scatter(x=part["day"], y=part["sensitive_views"] / part["views"],
                            mode="lines+markers",
                            name=_n(f"{band} sensitive share", int(part["views"].sum()), "views"),
                            line=dict(color=BAND_COLORS.get(band)))
        _daily(_style(fig, barmode="stack"), d.teen["day"])
        fig.update_yaxes(title_text="sensitive share of views", tickformat=".0%",
                         rangemode="tozero", secondary_y=False)
        fig.update_yaxes(title_text="banned-label views", secondary_y=True, showgrid=False,
                         rangemode="tozero")
    return Chart("chart-teen-exposure", "Teen sensitive exposure",
                 "Lines: share of teen views with a sensitive topic or any moderation label "
                 "(n = teen views in the band). Bars: views of labels minors must never see. "
                 "Grey bars are ingested history: logs loaded with feedwell ingest, which may "
                 "come from before the wellbeing policy applied (the ranker learns from them, "
                 "the policy never serves these videos to a minor). Red bars are views reported "
                 "to the feed service (POST /v1/events) of feeds it served under the policy: "
                 "these should be 0.", fig, "No teen views yet.")


def _leaders(m: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Metrics the ranker leads on, and those a baseline leads on (ties go to the ranker)."""
    won, lost = [], []
    for metric in m["metric"].unique(maintain_order=True).to_list():
        part = m.filter(pl.col("metric") == metric)
        ranker = part.filter(pl.col("model") == "ranker")["value"]
        others = part.filter(pl.col("model") != "ranker")["value"]
        if ranker.len() and others.len():
            (won if ranker[0] >= others.max() else lost).append(metric_label(metric))
    return won, lost


def model_quality(d: ReportData) -> Chart:
    fig, caption = None, "Every metric of the newest evaluated version."
    m = d.metrics
    if m.height:
        metrics = m["metric"].unique(maintain_order=True).to_list()
        models = sorted(m["model"].unique().to_list(), key=lambda x: (x != "ranker", x))
        cols = 3
        rows = -(-len(metrics) // cols)
        fig = make_subplots(rows=rows, cols=cols, subplot_titles=[metric_label(x) for x in metrics],
                            vertical_spacing=0.5 / rows if rows > 1 else 0.1)
        for k, metric in enumerate(metrics):
            part = m.filter(pl.col("metric") == metric)
            values = dict(part.select("model", "value").iter_rows())
            xs = [x for x in models if x in values]
            fig.add_bar(x=xs, y=[values[x] for x in xs], showlegend=False,
                        marker_color=["#e4572e" if x == "ranker" else "#8a8f98" for x in xs],
                        row=k // cols + 1, col=k % cols + 1)
        _style(fig, height=260 * rows + 40, hovermode="closest", showlegend=False)
        fig.update_xaxes(tickangle=-35)
        won, lost = _leaders(m)
        caption = (f"Every metric of {d.metrics_version} ({m['status'][0]}) on the temporal "
                   "holdout, the ranker in orange next to each baseline.")
        if won:
            caption += f" The ranker leads on {', '.join(won)}."
        if lost:
            caption += f" A baseline beats it on {', '.join(lost)}."
    return Chart("chart-model-quality", "Model quality against baselines", caption, fig,
                 "No evaluated model versions yet (feedwell train, then evaluate).")


def importance(d: ReportData) -> Chart:
    fig = None
    if d.importance.height:
        top = d.importance.head(20).sort("gain")
        fig = go.Figure(go.Bar(x=top["gain"], y=[feature_label(f) for f in top["feature"]],
                               orientation="h", marker_color="#2e86ab",
                               customdata=top["feature"],
                               hovertemplate="%{y} (%{customdata}): %{x:,.0f}<extra></extra>"))
        _style(fig, height=max(260, 24 * top.height + 80), hovermode="closest")
        fig.update_xaxes(title_text="total gain")
    return Chart("chart-feature-importance", "Feature importance of the published model",
                 f"{d.importance_note} Top features by LightGBM gain.", fig, d.importance_note)


def creation_connection(d: ReportData) -> Chart:
    fig = None
    c = d.creation
    if c.height and int(c["views"].sum()) > 0:
        fig = make_subplots(specs=[[{"secondary_y": True}]])
        # Creation is rare next to connection: each line gets its own axis.
        fig.add_scatter(x=c["day"], y=c["creation_rate"], mode="lines+markers",
                        name=f"Creation rate (n={int(c['created_views'].sum()):,} views "
                             "led to a remix, share or comment)",
                        line=dict(color="#59a14f", width=2))
        fig.add_scatter(x=c["day"], y=c["connection_share"], mode="lines+markers",
                        name=f"Connection share (n={int(c['connected_views'].sum()):,} views)",
                        line=dict(color="#2e86ab", dash="dot"), secondary_y=True)
        _daily(_style(fig), c["day"])
        fig.update_yaxes(title_text="views followed by a creation", tickformat=".1%",
                         rangemode="tozero", secondary_y=False)
        fig.update_yaxes(title_text="views from connected creators", tickformat=".0%",
                         rangemode="tozero", showgrid=False, secondary_y=True)
    return Chart("chart-creation", "Creation and connection over time",
                 "Creation rate: share of the day's views the viewer went on to remix, share or "
                 "comment on. Connection share: share of views of creators the viewer followed "
                 "or had liked, shared, remixed or commented on before (UTC days; the "
                 "creation-first objective aims to raise both above passive watching).",
                 fig, "No views yet.")


def creation_tradeoff(d: ReportData) -> Chart:
    fig = None
    t = d.tradeoff
    if t.height:
        fig = go.Figure()
        for h, dash in zip(t["holdout"].unique(maintain_order=True).to_list(),
                           ("solid", "dot", "dash"), strict=False):
            p = t.filter(pl.col("holdout") == h).sort("factor")
            fig.add_scatter(x=p["ndcg"], y=p["creation"], mode="lines+markers+text",
                            name=f"{h} holdout", line=dict(dash=dash, width=2),
                            text=[f"x{f:g}" for f in p["factor"]], textposition="top center")
        _style(fig)
        fig.update_xaxes(title_text="NDCG@10 (anything engaged with)")
        fig.update_yaxes(title_text="creation rate@10", tickformat=".2%", rangemode="tozero")
    return Chart("chart-creation-tradeoff", "Creation against relevance as the objective moves",
                 "The actions model's top 10 for known test users as the creation and connection "
                 "weights (share, comment, remix, follow) are scaled: x0 is engagement only, x1 "
                 "the objective as configured. Creation rate@10: the share of the top 10 the "
                 "viewer went on to share, comment on, remix or follow the creator of.",
                 fig, "No evaluation with action heads yet: run `feedwell evaluate`.")


def all_charts(d: ReportData) -> list[Chart]:
    """Every panel, in page order."""
    return [f(d) for f in (engagement, sessions, late_night, usage_hour, interventions,
                           removals, teen_exposure, creation_connection, creation_tradeoff,
                           importance, model_quality)]
