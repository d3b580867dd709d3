"""Hand freed heap memory back to the system between the large steps of a fit.

A fit allocates and frees several large working sets in turn (the merged candidates and their
features, LightGBM's datasets, the catalog features' frames). The C allocator keeps freed
chunks of its heap for reuse, so the process's resident size ratchets up to the sum of what
each step left fragmented rather than what is alive: at 5M events, trimming freed memory every
0.2 s lowered training's peak from 4,031 to 3,826 MB (``/tmp/fwscale/peaktrain*.py``). Between
steps, ``release_free_memory`` returns it (glibc's ``malloc_trim``; elsewhere it does nothing).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

__all__ = ["release_free_memory"]


def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:  # no C library to load: nothing to trim
        return None


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Collect unreachable objects, then give the heap's free pages back (glibc only)."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)
