"""feedwell flows."""
