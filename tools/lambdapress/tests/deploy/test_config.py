"""`[tool.lambdapress.deploy]`: defaults, every key, and mistakes named with file, key and fix."""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.deploy.config import (
    LOG_RETENTION_DAYS,
    check_stage,
    load_deploy_config,
)
from lambdapress.errors import ConfigError


def _root(tmp_path: Path, table: str = "", folder: str = "acme-platform") -> Path:
    root = tmp_path / folder
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["services/*"]\n' + table, encoding="utf-8"
    )
    return root


def _error(root: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_deploy_config(root)
    return str(caught.value)


def test_without_a_table_everything_has_a_default(tmp_path: Path) -> None:
    config = load_deploy_config(_root(tmp_path, folder="Acme_Platform"))
    assert config.project == "acme-platform"  # the folder's name, made a valid name
    assert (config.bucket, config.prefix, config.log_retention_days) == (None, "lambdapress", 14)
    assert config.cors is None
    assert config.stack_name("dev") == "acme-platform-dev"


def test_the_copier_answer_names_the_project(tmp_path: Path) -> None:
    root = _root(tmp_path, folder="checkout")
    (root / ".copier-answers.yml").write_text(
        "_src_path: gh:acme/lambdapress\nkind: project\nproject_name: billing\n"
    )
    assert load_deploy_config(root).project == "billing"


def test_every_key_is_read(tmp_path: Path) -> None:
    root = _root(
        tmp_path,
        "[tool.lambdapress.deploy]\n"
        'project = "shop"\nbucket = "shop-artifacts"\nprefix = "builds/lambda"\n'
        "log-retention-days = 90\n"
        "[tool.lambdapress.deploy.cors]\n"
        'allow-origins = ["https://app.example.com"]\nallow-methods = ["GET", "POST"]\n'
        'allow-headers = ["content-type"]\nexpose-headers = ["x-request-id"]\nmax-age = 600\n'
        "allow-credentials = true\n",
    )
    config = load_deploy_config(root)
    assert (config.project, config.bucket, config.prefix) == (
        "shop",
        "shop-artifacts",
        "builds/lambda",
    )
    assert config.log_retention_days == 90
    assert config.cors is not None
    assert config.cors.configuration() == {
        "AllowOrigins": ["https://app.example.com"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["content-type"],
        "ExposeHeaders": ["x-request-id"],
        "MaxAge": 600,
        "AllowCredentials": True,
    }


@pytest.mark.parametrize(
    ("lines", "problem", "fix"),
    [
        ("log-retention-days = 10", "not 10 days", "use one of 1, 3, 5"),
        ('project = "Acme"', "not a valid project name", "lowercase letters"),
        ('bucket = "Acme_Bucket"', "not an S3 bucket name", "3 to 63 lowercase"),
        ('prefix = "/lambdapress/"', "not a key prefix", "without leading or trailing"),
        ("log-retention = 14", "unknown key", "did you mean `log-retention-days`?"),
        ("bucket = 3", "valid string", "S3 bucket name"),
    ],
)
def test_a_bad_key_names_file_line_and_fix(
    tmp_path: Path, lines: str, problem: str, fix: str
) -> None:
    root = _root(tmp_path, f"[tool.lambdapress.deploy]\n{lines}\n")
    text = _error(root)
    assert f"{root / 'pyproject.toml'}:4: " in text
    assert problem in text
    assert fix in text.split("\n  fix: ")[1]


@pytest.mark.parametrize(
    ("cors", "problem"),
    [
        ('allow-origins = ["*"]\nallow-credentials = true', "needs named origins"),
        ('allow-origins = ["https://app.example.com/path"]', "is not an origin"),
        ("allow-origins = []", "at least 1 item"),
        ('allow-origins = ["*"]\nallow-methods = ["FETCH"]', "FETCH"),
        ('allow-origins = ["*"]\nmax-age = 100000', "less than or equal to 86400"),
    ],
)
def test_bad_cors_is_refused(tmp_path: Path, cors: str, problem: str) -> None:
    root = _root(tmp_path, f"[tool.lambdapress.deploy.cors]\n{cors}\n")
    text = _error(root)
    assert problem in text
    assert "tool.lambdapress.deploy.cors" in text


def test_an_unusable_folder_name_asks_for_a_project(tmp_path: Path) -> None:
    text = _error(_root(tmp_path, folder="9lives"))
    assert "'9lives'" in text
    assert 'set project = "..." in [tool.lambdapress.deploy]' in text


def test_every_retention_cloudwatch_offers_is_accepted(tmp_path: Path) -> None:
    for days in LOG_RETENTION_DAYS:
        folder = f"p{days}"
        root = _root(tmp_path, f"[tool.lambdapress.deploy]\nlog-retention-days = {days}\n", folder)
        assert load_deploy_config(root).log_retention_days == days


_STAGE = re.compile(r"^[a-z]([a-z0-9]|-(?=[a-z0-9]))*$")


@settings(max_examples=300, deadline=None)
@given(stage=st.text(alphabet="abcXz019-_ .", max_size=20))
def test_a_stage_is_a_short_lowercase_name(stage: str) -> None:
    """Stages end up in every physical name: only lowercase words and single dashes pass."""
    valid = bool(_STAGE.match(stage)) and len(stage) <= 16
    try:
        assert check_stage(stage) == stage
    except ConfigError as error:
        assert not valid
        assert error.hint == "pass a short lowercase name, e.g. --stage dev"
    else:
        assert valid
