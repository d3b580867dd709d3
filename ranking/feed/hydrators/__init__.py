"""Feed pipeline hydrators, one component per module."""
