"""Vocabularies and constants shared by the ``simulate`` modules."""

from __future__ import annotations

TOPICS = (
    "comedy", "pets", "animals", "travel", "food", "cooking", "gaming", "anime", "music",
    "dance", "sports", "fitness", "fashion", "beauty", "art", "diy", "science", "tech",
    "space", "history", "nature", "cars", "movies", "memes", "fantasy", "scifi", "horror",
    "asmr", "education", "news", "body_image", "dieting", "sadness", "aggression",
)
SENSITIVE_TOPICS = ("body_image", "dieting", "sadness", "aggression")
# (timezone, country, weight): a US/Europe-heavy mix with a real Asian share.
TIMEZONES = (
    ("America/New_York", "US", 14), ("America/Chicago", "US", 8), ("America/Denver", "US", 3),
    ("America/Los_Angeles", "US", 10), ("America/Toronto", "CA", 3),
    ("America/Mexico_City", "MX", 4), ("America/Sao_Paulo", "BR", 6),
    ("Europe/London", "GB", 7), ("Europe/Berlin", "DE", 5), ("Europe/Paris", "FR", 4),
    ("Europe/Madrid", "ES", 3), ("Europe/Rome", "IT", 2), ("Europe/Warsaw", "PL", 2),
    ("Asia/Tokyo", "JP", 5), ("Asia/Seoul", "KR", 3), ("Asia/Kolkata", "IN", 6),
    ("Asia/Singapore", "SG", 1), ("Asia/Manila", "PH", 3), ("Asia/Jakarta", "ID", 3),
    ("Australia/Sydney", "AU", 2), ("Africa/Lagos", "NG", 2),
)
DIM = 16
DAY_MS = 86_400_000
LABELS = (
    "self_harm", "eating_disorder", "body_image", "violence", "dangerous_challenge", "sexual",
    "political",
)
