"""Settings stored in the ``users.extra`` JSON rather than a column of their own."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["EXTRA_SETTINGS", "fold_extra_settings"]

# Guardian settings on a minor's account (read by ``wellbeing.loaders.load_settings``).
EXTRA_SETTINGS = ("guardian_personalized", "guardian_session_items")


def fold_extra_settings(row: dict[str, Any], changes: dict[str, Any]) -> None:
    """Move the ``EXTRA_SETTINGS`` among ``changes`` from ``row``'s top level into its
    ``extra`` (a JSON text or dict); ``None`` removes the key."""
    moved = {k: row.pop(k) for k in EXTRA_SETTINGS if k in changes}
    if not moved:
        return
    raw = row.get("extra")
    try:
        extra = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    except ValueError:
        extra = {}
    if not isinstance(extra, dict):
        extra = {}
    for k, v in moved.items():
        if v is None:
            extra.pop(k, None)
        else:
            extra[k] = v
    row["extra"] = json.dumps(extra)
