"""Issue 22 (latency): the served boosters compiled to machine code predict the same doubles."""

from __future__ import annotations

from dataclasses import replace

import lightgbm as lgb
import numpy as np
import pytest

from ranking.ltr import LtrRanker
from ranking.ltr._compiled import (
    compile_forests,
    compiled_count,
    identity_objective,
    predict,
    predict_raw,
)
from ranking.ltr._features import pair_features
from ranking.serving import ServingChoice

pytest.importorskip("lleaves")


@pytest.fixture(scope="module")
def saved(action_ranker, tmp_path_factory):
    """A version on disk: each test loads its own copies (the shared ranker is not changed)."""
    path = action_ranker[1].save(tmp_path_factory.mktemp("compiled") / "v1")
    return LtrRanker.load(path), path


def _rows(ranker: LtrRanker) -> np.ndarray:
    """Every user x video pair's features, with a few missing and extreme values."""
    d = ranker.data
    u = np.repeat(np.arange(d.n_users), d.n_items)
    i = np.tile(np.arange(d.n_items), d.n_users)
    x = pair_features(ranker.sources, ranker.stats, u, i)
    rng = np.random.default_rng(0)
    x[rng.random(x.shape) < 0.02] = np.nan
    x[rng.random(x.shape) < 0.01] *= 1e6
    return np.ascontiguousarray(x)


def test_compiled_forests_predict_the_same_doubles(saved, tmp_path):
    ranker, path = saved
    loaded = LtrRanker.load(path)
    forests = loaded.forests()
    assert loaded.actions is not None and loaded.actions.engage in forests
    x = _rows(loaded)
    xh = loaded.actions.head_inputs(x, np.tile(np.arange(loaded.data.n_items),
                                               loaded.data.n_users))
    before = [predict_raw(b, xh if b.num_feature() == xh.shape[1] else x) for b in forests]
    assert compiled_count(forests) == 0
    assert compile_forests(forests, tmp_path / "cache") == len(forests)
    assert compiled_count(forests) == len(forests)
    # One file per distinct model (two heads may be the same model text).
    texts = {b.model_to_string() for b in forests}
    assert len(list((tmp_path / "cache").glob("*.so"))) == len(texts)
    for b, want in zip(forests, before, strict=True):
        got = predict_raw(b, xh if b.num_feature() == xh.shape[1] else x)
        assert np.array_equal(got, want)  # the same doubles, not merely close
        assert np.array_equal(got, b.predict(xh if b.num_feature() == xh.shape[1] else x,
                                             raw_score=True))
    # ``predict`` is the compiled code only where the objective transforms nothing.
    if loaded.booster is not None:
        assert np.array_equal(predict(loaded.booster, x), loaded.booster.predict(x))
    # A page scored from compiled code is the page LightGBM scores.
    for kind in ("actions", "ranker"):
        loaded.serving = replace(ranker.serving, model=kind)
        ranker.serving = loaded.serving
        for user in ("u1", "u2", "u7"):
            a, b = loaded.live_candidates(user, n=40), ranker.live_candidates(user, n=40)
            assert a["item_id"].to_list() == b["item_id"].to_list()
            assert a["model_score"].to_list() == b["model_score"].to_list()


def test_the_cache_serves_a_restart_and_never_another_model(saved, tmp_path):
    _, path = saved
    first = LtrRanker.load(path).forests()
    compile_forests(first, tmp_path)
    files = sorted(p.name for p in tmp_path.glob("*.so"))
    again = LtrRanker.load(path).forests()  # new booster objects, the same model texts
    assert compile_forests(again, tmp_path) == len(again)
    assert sorted(p.name for p in tmp_path.glob("*.so")) == files  # loaded, not rebuilt
    # Another model never reads this code: its text names another file.
    other = lgb.Booster(model_str=first[0].model_to_string(num_iteration=1))
    compile_forests([other], tmp_path)
    assert len(list(tmp_path.glob("*.so"))) == len(files) + 1
    x = np.random.default_rng(1).normal(size=(50, other.num_feature()))
    assert np.array_equal(predict_raw(other, x), other.predict(x, raw_score=True))


def test_forests_put_the_served_model_first(saved):
    ranker, _ = saved
    ranker.serving = ServingChoice.from_dict({"kind": "actions", "model": "actions"})
    assert ranker.forests()[0] is ranker.actions.engage
    ranker.serving = ServingChoice.from_dict({"kind": "ranker", "model": "ranker"})
    assert ranker.forests()[0] is ranker.booster
    ranker.serving = ServingChoice.from_dict({"model": "ease", "head": True})
    assert ranker.serving.kind == "source" and ranker.forests()[0] is ranker.head.booster
    assert len(ranker.forests()) == len({id(b) for b in ranker.forests()})
    assert identity_objective(ranker.booster) == (
        ranker.booster.params.get("objective") == "lambdarank")
