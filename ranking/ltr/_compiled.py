"""Request-time prediction from compiled forests: the served boosters as native code.

A feed page runs a dozen LightGBM boosters (the blend, the feedback head, the engage head and
the action heads) over a few hundred candidate rows. ``Booster.predict`` pays a fixed cost per
call and walks every tree in an interpreter loop: about 3 ms of a 10 ms page. ``lleaves``
compiles a LightGBM model to machine code through LLVM; compiled without cache blocking
(``fblocksize`` = the number of trees), it adds the trees' outputs in LightGBM's order, so the
raw scores are the same doubles (tested), 6-10x faster on a page's rows.

Compiling takes seconds per booster (about 30 s for a version's dozen), so the service does it
in the background after a model loads (``compile_in_background``), and keeps the machine code
in the version's folder (``compiled/``), named by a hash of the model text, the compiler's
versions and this machine's CPU: a restart loads it in milliseconds, and code compiled for
another CPU is never loaded. Until a booster's code is ready, and wherever ``lleaves`` is not
installed or fails, ``predict_raw`` is LightGBM's own prediction.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

import lightgbm as lgb
import numpy as np

__all__ = ["compile_forests", "compile_in_background", "compiled_count", "predict",
           "predict_raw", "identity_objective"]

log = logging.getLogger(__name__)

# Booster -> (its compiled raw prediction, whether its objective leaves raw scores as they are).
_COMPILED: weakref.WeakKeyDictionary[lgb.Booster, tuple[Callable[[np.ndarray], np.ndarray],
                                                        bool]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def predict_raw(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """``booster.predict(x, raw_score=True, num_threads=1)``, from its compiled code when
    that is ready (the same doubles)."""
    got = _COMPILED.get(booster)
    if got is not None and len(x):
        return got[0](x)
    return booster.predict(x, raw_score=True, num_threads=1)


def predict(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """``booster.predict(x, num_threads=1)``: from compiled code when it is ready and the
    objective transforms nothing (a ranking objective), else LightGBM's."""
    got = _COMPILED.get(booster)
    if got is not None and got[1] and len(x):
        return got[0](x)
    return booster.predict(x, num_threads=1)


def identity_objective(booster: lgb.Booster) -> bool:
    """Whether ``booster.predict`` returns raw scores (ranking objectives: no transform)."""
    obj = booster.params.get("objective") if booster.params else None
    if obj is None:
        head = booster.model_to_string(num_iteration=0).split("\n", 20)
        obj = next((ln.split("=", 1)[1] for ln in head if ln.startswith("objective=")), "")
    return str(obj).split(" ")[0] in ("lambdarank", "rank_xendcg")


def compiled_count(boosters: Iterable[lgb.Booster]) -> int:
    """How many of ``boosters`` predict from compiled code."""
    return sum(b in _COMPILED for b in boosters)


def _machine() -> str:
    from importlib.metadata import version

    import llvmlite
    import llvmlite.binding as llvm

    return "|".join([version("lleaves"), llvmlite.__version__, llvm.get_host_cpu_name(),
                     llvm.get_host_cpu_features().flatten()])


def _compile_one(booster: lgb.Booster, cache: Path | None, machine: str
                 ) -> Callable[[np.ndarray], np.ndarray]:
    import lleaves

    text = booster.model_to_string()
    key = hashlib.sha256((machine + "\n" + text).encode()).hexdigest()[:24]
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "model.txt"
        model_file.write_text(text)
        model = lleaves.Model(model_file=str(model_file))
        so = None if cache is None else cache / f"{key}.so"
        # No cache blocking: the trees are summed in LightGBM's order (the same doubles).
        block = max(booster.num_trees(), 1)
        try:
            model.compile(cache=None if so is None else str(so), raw_score=True,
                          fblocksize=block)
        except OSError:  # the code could not be kept (a read-only folder): in memory only
            model.compile(cache=None, raw_score=True, fblocksize=block)
    n_features = booster.num_feature()

    def raw(x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != n_features:
            return booster.predict(x, raw_score=True, num_threads=1)
        return model.predict(x, n_jobs=1)

    return raw


def compile_forests(boosters: Iterable[lgb.Booster], cache: str | Path | None = None,
                    stop: threading.Event | None = None) -> int:
    """Compile each booster (or load its code from ``cache``) and serve ``predict_raw`` from
    it; returns how many are compiled. Nothing changes where ``lleaves`` is missing or fails
    (logged): those boosters keep LightGBM's prediction. ``stop``: set, no further booster is
    compiled (a service shutting down)."""
    try:
        machine = _machine()
    except Exception as e:  # lleaves or llvmlite not installed: LightGBM predicts
        log.info("compiled forests unavailable (%s); LightGBM predicts", e)
        return 0
    folder = None
    if cache is not None:
        folder = Path(cache)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            folder = None
        if folder is not None and not os.access(folder, os.W_OK):
            folder = None  # a read-only version folder: compiled anew on each start
    n, t0 = 0, time.perf_counter()
    for b in boosters:
        if stop is not None and stop.is_set():
            break
        if b is None or b in _COMPILED:
            n += b is not None
            continue
        try:
            fn = _compile_one(b, folder, machine)
        except Exception:
            log.exception("could not compile a booster; LightGBM predicts it")
            continue
        with _LOCK:
            _COMPILED[b] = (fn, identity_objective(b))
        n += 1
    log.info("compiled %d forests in %.1fs", n, time.perf_counter() - t0)
    return n


def compile_in_background(boosters: list[lgb.Booster], cache: str | Path | None = None,
                          stop: threading.Event | None = None) -> threading.Thread:
    """``compile_forests`` on a daemon thread (requests go on with LightGBM meanwhile)."""
    t = threading.Thread(target=compile_forests, args=(boosters, cache, stop),
                         name="feedwell-compile", daemon=True)
    t.start()
    return t
