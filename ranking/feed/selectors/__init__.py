"""Feed pipeline selectors, one component per module."""
