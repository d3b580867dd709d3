"""The catalog: the shipped yaml parses, broken references fail by name, checks raise."""

from __future__ import annotations

import pytest
import yaml

from features.build import build_features, check_set
from features.catalog import CATALOG_PATH, load_catalog
from features.errors import ConfigError, DataError
from tests.features.conftest import NOW


def test_shipped_catalog_parses_and_every_set_has_sql():
    cat = load_catalog()
    assert {
        "user_engagement",
        "video_engagement",
        "creator_engagement",
        "user_creator_affinity",
        "user_topic_affinity",
        "stg_sessions",
        "user_sessions",
        "fatigue_item",
        "fatigue_creator",
    } <= set(cat.sets)
    for fs in cat.sets.values():
        assert fs.sql_path.read_text().rstrip().endswith("select * from final"), fs.name
    names = cat.feature_names()
    assert "user_engagement.views_7d" in names and "video_engagement.velocity" in names
    assert not any(n.startswith("stg_") for n in names)
    assert [fs.name for fs in cat.order(["user_engagement"])] == [
        "stg_events",
        "part_user",
        "stg_sessions",
        "user_engagement",
    ]


def test_resolve_names_to_sets_and_columns():
    cat = load_catalog()
    got = cat.resolve(["user_engagement.views_7d", "velocity", "fatigue_item"])
    assert got["user_engagement"] == ["views_7d"]
    assert got["video_engagement"] == ["velocity"]
    assert set(got["fatigue_item"]) >= {"hides_1d", "fatigue", "last_negative_hours_ago"}


def test_unknown_feature_in_model_fails_naming_it():
    with pytest.raises(ConfigError, match="feature 'x' referenced in model 'ranker' but missing"):
        load_catalog().validate_model("ranker", ["user_engagement.views_7d", "x"])
    with pytest.raises(ConfigError, match="'views_7d' .* ambiguous"):
        load_catalog().validate_model("ranker", ["views_7d"])


def test_broken_dependency_fails_naming_it(tmp_path):
    raw = yaml.safe_load(CATALOG_PATH.read_text())
    raw["sets"]["user_sessions"]["depends_on"] = ["stg_sesions"]
    path = tmp_path / "wrong-ref.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="user_sessions.*stg_sesions"):
        load_catalog(path)


def test_unknown_check_and_bad_window_fail(tmp_path):
    raw = yaml.safe_load(CATALOG_PATH.read_text())
    raw["sets"]["fatigue_item"]["columns"]["fatigue"]["positive"] = True
    raw["sets"]["fatigue_creator"]["windows"] = ["1week"]
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as err:
        load_catalog(path, check_sql=False)
    assert "fatigue_item.columns.fatigue.positive" in str(err.value)
    assert "fatigue_creator" in str(err.value) and "1week" in str(err.value)


def test_failing_check_raises_naming_set_column_check(world):
    world.execute("UPDATE items SET duration_ms = -5 WHERE item_id = 'i2'")
    with pytest.raises(
        DataError, match="'video_engagement': column 'duration_ms' failed check min 0"
    ):
        build_features(world, now=NOW, sets=["video_engagement"])


def test_unique_and_column_drift_checks(world):
    cat = load_catalog()
    world.execute("CREATE TABLE dup AS SELECT 'u1' AS user_id, 'i1' AS item_id, 1 AS hides_1d")
    world.execute("INSERT INTO dup VALUES ('u1', 'i1', 1)")
    with pytest.raises(ConfigError, match="fatigue_item.*not produced"):
        check_set(world, cat.sets["fatigue_item"], "dup")
    world.execute(
        "CREATE TABLE dup2 AS SELECT user_id, item_id, 0 AS hides_1d, 0 AS hides_7d, "
        "0 AS hides_28d, "
        "0 AS reports_1d, 0 AS reports_7d, 0 AS reports_28d, 0 AS hides_total, "
        "0 AS reports_total, 0.0 AS fatigue, "
        "1.0 AS last_negative_hours_ago FROM dup"
    )
    with pytest.raises(
        DataError, match=r"'fatigue_item': key \(user_id, item_id\) failed check unique"
    ):
        check_set(world, cat.sets["fatigue_item"], "dup2")


def test_unknown_set_name_fails():
    with pytest.raises(ConfigError, match="nope"):
        load_catalog().order(["nope"])
