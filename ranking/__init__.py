"""feedwell ranking."""
