"""Feed pipeline sources, one component per module."""
