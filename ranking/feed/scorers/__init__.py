"""Feed pipeline scorers, one component per module."""
