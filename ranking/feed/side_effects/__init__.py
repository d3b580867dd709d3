"""Feed pipeline side_effects, one component per module."""
