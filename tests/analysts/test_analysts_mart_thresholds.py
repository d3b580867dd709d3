"""The marts' default thresholds are the wellbeing config's (features does not import it)."""

from __future__ import annotations

from features.marts import MartThresholds, mart_params
from wellbeing.config import WellbeingConfig


def test_mart_threshold_defaults_equal_the_wellbeing_config_defaults():
    assert MartThresholds() == MartThresholds.from_config(WellbeingConfig())


def test_mart_params_bind_the_thresholds_given():
    cfg = WellbeingConfig(child_age=12, sensitive_topics=("dieting",))
    params = mart_params(MartThresholds.from_config(cfg))
    assert params["child_age"] == 12
    assert params["teen_max_age"] == 17
    assert params["sensitive_topics"] == ["dieting"]
