"""The analysts' HTML report: engagement, sessions, wellbeing interventions, teen exposure and
model quality, as one self-contained file."""

from __future__ import annotations

from features.report.build import build_report, summary_cards

__all__ = ["build_report", "summary_cards"]
