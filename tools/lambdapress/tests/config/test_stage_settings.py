"""`[tool.lambdapress.deploy.stages.<stage>]`: defaults per stage, production by name or by key."""

from pathlib import Path

import pytest

from lambdapress.config.stage_settings import StageSettings, looks_like_production
from lambdapress.deploy.config import load_deploy_config
from lambdapress.errors import ConfigError


def _root(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lambdapress.deploy]\nproject = "acme"\n' + table, encoding="utf-8"
    )
    return tmp_path


def test_an_unlisted_stage_gets_the_defaults_and_production_from_its_name(
    tmp_path: Path,
) -> None:
    config = load_deploy_config(_root(tmp_path, ""))
    assert config.stages == {}
    assert config.stage_settings("dev").is_production is False
    assert config.stage_settings("eu-prod").is_production is True


def test_a_listed_stage_says_what_its_name_does_not(tmp_path: Path) -> None:
    table = "[tool.lambdapress.deploy.stages.main]\nproduction = true\n"
    table += "[tool.lambdapress.deploy.stages.prod-copy]\nproduction = false\n"
    config = load_deploy_config(_root(tmp_path, table))
    assert config.stage_settings("main").is_production is True
    assert config.stage_settings("prod-copy").is_production is False
    assert config.stages["main"] == StageSettings(production=True)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("[tool.lambdapress.deploy.stages.Prod]\n", ["'Prod' is not a valid stage name"]),
        ("[tool.lambdapress.deploy.stages.prod]\nproduction = 1\n", ["production", "toml:4"]),
        ("[tool.lambdapress.deploy.stages.prod]\nprodution = true\n", ["prodution"]),
    ],
)
def test_mistakes_name_the_file_the_key_and_the_fix(
    tmp_path: Path, table: str, words: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_deploy_config(_root(tmp_path, table))
    message = str(caught.value)
    assert "pyproject.toml" in message
    assert "stages" in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("stage", "production"),
    [("prod", True), ("eu-prod", True), ("production", True), ("live", True), ("dev", False),
     ("product-demo", False), ("preprod-x", False)],
)  # fmt: skip
def test_production_looking_stages(stage: str, production: bool) -> None:
    assert looks_like_production(stage) is production


@pytest.mark.parametrize(
    "table",
    [
        "[tool.lambdapress.deploy.authorizers.'9staff']\n",
        "[tool.lambdapress.deploy.stages.prod.authorizers.'staff team']\n",
    ],
)
def test_an_authorizer_name_routes_cannot_say_is_refused_in_either_table(
    tmp_path: Path, table: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_deploy_config(_root(tmp_path, table + 'issuer = "https://id.example.com/"\n'))
    assert "is not an authorizer name" in str(caught.value)
    assert "pyproject.toml" in str(caught.value)
