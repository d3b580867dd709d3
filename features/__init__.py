"""Data contract, ingest, the DuckDB store and SQL feature sets."""
