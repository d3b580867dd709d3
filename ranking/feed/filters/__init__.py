"""Feed pipeline filters, one component per module."""
