"""The synthetic-world simulator: writes a contract data directory (``feedwell simulate``).

It sits beside the data contract, not inside it: nothing in ``features/`` imports it, and its
output goes through ingest like any other data directory.
"""

from __future__ import annotations

from features.simulator.generate import CHUNK_ROWS, DEFAULT_END, simulate

__all__ = ["simulate", "DEFAULT_END", "CHUNK_ROWS"]
