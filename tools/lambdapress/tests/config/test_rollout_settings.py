"""A stage's `rollout` and `alarms` tables: defaults by production, CodeDeploy's names, mistakes."""

from pathlib import Path

import pytest

from lambdapress.config.rollout_settings import AlarmSettings, Rollout, RolloutSettings
from lambdapress.config.settings import ServiceSettings
from lambdapress.deploy.config import load_deploy_config
from lambdapress.errors import ConfigError


def _root(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lambdapress.deploy]\nproject = "acme"\n' + table, encoding="utf-8"
    )
    return tmp_path


def test_production_rolls_out_by_canary_and_other_stages_all_at_once(tmp_path: Path) -> None:
    config = load_deploy_config(_root(tmp_path, ""))
    prod, dev = config.stage_settings("prod"), config.stage_settings("dev")
    assert prod.rollout.for_stage(prod.is_production) == "canary"
    assert dev.rollout.for_stage(dev.is_production) == "all-at-once"
    assert (prod.rollout.percent, prod.rollout.minutes) == (10, 5)


def test_every_key_is_read(tmp_path: Path) -> None:
    table = (
        "[tool.lambdapress.deploy.stages.prod.rollout]\n"
        'strategy = "linear"\npercent = 20\nminutes = 2\n'
        'pre-traffic-hook = "orders.smoke"\npost-traffic-hook = "orders.check"\n'
        "[tool.lambdapress.deploy.stages.prod.alarms]\n"
        "errors = 5\nthrottles = 3\nduration-p99-ms = 1500\niterator-age-ms = 1000\n"
        'queue-age-seconds = 60\nnotify = "arn:aws:sns:eu-west-1:123456789012:oncall"\n'
    )
    settings = load_deploy_config(_root(tmp_path, table)).stage_settings("prod")
    assert settings.rollout == RolloutSettings(
        strategy="linear",
        percent=20,
        minutes=2,
        pre_traffic_hook="orders.smoke",
        post_traffic_hook="orders.check",
    )
    assert settings.alarms == AlarmSettings(
        errors=5,
        throttles=3,
        duration_p99_ms=1500,
        iterator_age_ms=1000,
        queue_age_seconds=60,
        notify="arn:aws:sns:eu-west-1:123456789012:oncall",
    )
    assert settings.alarms.duration_threshold_ms(30) == 1500
    assert AlarmSettings().duration_threshold_ms(30) == 24_000  # 80% of the timeout


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[tool.lambdapress.deploy.stages.prod.rollout]\nstrategy = "blue-green"\n',
         ["rollout.strategy", "'all-at-once', 'canary' or 'linear'", "toml:4"]),
        ("[tool.lambdapress.deploy.stages.prod.rollout]\npercent = 100\n",
         ["rollout.percent", "99"]),
        ('[tool.lambdapress.deploy.stages.prod.rollout]\npre-traffic-hook = "smoke"\n',
         ["pre-traffic-hook", "service.handler"]),
        ('[tool.lambdapress.deploy.stages.prod.alarms]\nnotify = "oncall"\n',
         ["alarms.notify", "SNS topic's ARN"]),
        ("[tool.lambdapress.deploy.stages.prod.alarms]\nerors = 1\n", ["erors"]),
    ],
)  # fmt: skip
def test_mistakes_name_the_file_the_key_and_the_fix(
    tmp_path: Path, table: str, words: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_deploy_config(_root(tmp_path, table))
    message = f"{caught.value}\n{caught.value.hint}"
    assert "pyproject.toml" in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("rollout", "name"),
    [
        (Rollout("canary", 10, 5), "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
        (Rollout("canary", 10, 30), "CodeDeployDefault.LambdaCanary10Percent30Minutes"),
        (Rollout("linear", 10, 1), "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
        (Rollout("linear", 10, 10), "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"),
        (Rollout("all-at-once", 10, 5), "CodeDeployDefault.LambdaAllAtOnce"),
        (Rollout("canary", 20, 5), None),
        (Rollout("linear", 10, 4), None),
    ],
)
def test_codedeploy_s_own_configurations_are_used_when_they_fit(
    rollout: Rollout, name: str | None
) -> None:
    assert rollout.predefined_config() == name


def test_a_function_s_rollout_override_is_validated() -> None:
    settings = ServiceSettings.model_validate({"functions": {"nightly": {"rollout": "canary"}}})
    assert settings.functions["nightly"].rollout == "canary"
    with pytest.raises(ValueError, match="rollout"):
        ServiceSettings.model_validate({"functions": {"nightly": {"rollout": "slow"}}})
