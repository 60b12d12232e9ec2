"""`[tool.lambdapress.iam]` and `[tool.lambdapress.functions.X]`: validated with the service."""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.config.deploy_settings import IamStatement
from lambdapress.config.settings import ServiceSettings, load_service_settings
from lambdapress.errors import ConfigError


def _load(tmp_path: Path, body: str) -> ServiceSettings:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "orders"\n' + body)
    return load_service_settings(path)


def _error(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, body)
    return str(caught.value)


def test_statements_and_function_settings_are_read(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "[[tool.lambdapress.iam.statements]]\n"
        'actions = ["s3:GetObject"]\nresources = ["arn:${AWS::Partition}:s3:::uploads/*"]\n'
        "[tool.lambdapress.functions.get_order]\n"
        "reserved_concurrency = 10\nwarm_every_minutes = 5\nprovisioned_concurrency = 2\n",
    )
    (statement,) = loaded.iam.statements
    assert statement.document() == {
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:s3:::uploads/*"}],
    }
    function = loaded.functions["get_order"]
    assert (function.reserved_concurrency, function.warm_every_minutes) == (10, 5)
    assert function.provisioned_concurrency == 2


def test_nothing_is_on_by_default(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "[tool.lambdapress]\n")
    assert loaded.iam.statements == []
    assert loaded.functions == {}


@pytest.mark.parametrize(
    "statement",
    [
        'actions = ["s3:*"]\nresources = ["arn:aws:s3:::uploads/*"]',
        'actions = ["*"]\nresources = ["arn:aws:s3:::uploads/*"]',
        'actions = ["s3:Get*"]\nresources = ["arn:aws:s3:::uploads/*"]',
        'actions = ["s3:GetObject"]\nresources = ["*"]',
    ],
)
def test_a_wildcard_allow_needs_the_explicit_flag(tmp_path: Path, statement: str) -> None:
    body = f"[[tool.lambdapress.iam.statements]]\n{statement}\n"
    text = _error(tmp_path, body)
    assert "tool.lambdapress.iam.statements.0" in text
    assert "allow_wildcard = true" in text
    assert f"{tmp_path / 'pyproject.toml'}:3:" in text  # the statement's line
    flagged = _load(tmp_path, body + "allow_wildcard = true\n")
    assert flagged.iam.statements[0].allow_wildcard


def test_a_deny_may_use_wildcards(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        '[[tool.lambdapress.iam.statements]]\neffect = "Deny"\nactions = ["s3:Delete*"]\n'
        'resources = ["*"]\n',
    )
    assert loaded.iam.statements[0].document()["Effect"] == "Deny"


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ('actions = ["GetObject"]\nresources = ["arn:aws:s3:::b/*"]', "is not an IAM action"),
        ('actions = ["s3:GetObject"]\nresources = ["bucket/*"]', "is not an ARN"),
        ('actions = []\nresources = ["arn:aws:s3:::b/*"]', "at least 1 item"),
        ('actions = ["s3:GetObject"]', "required, but not set"),
        (
            'actions = ["s3:GetObject"]\nresources = ["arn:aws:s3:::${Bucket}/*"]',
            "only AWS::AccountId",
        ),
        ('effect = "allow"\nactions = ["s3:GetObject"]\nresources = ["*"]', "'Allow' or 'Deny'"),
        ('Action = ["s3:GetObject"]\nresources = ["arn:aws:s3:::b/*"]', "unknown key"),
    ],
)
def test_bad_statements_name_the_key_and_the_fix(
    tmp_path: Path, statement: str, problem: str
) -> None:
    text = _error(tmp_path, f"[[tool.lambdapress.iam.statements]]\n{statement}\n")
    assert problem in text
    assert "fix: " in text


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ("[tool.lambdapress.functions.get_order]\nwarm_every_minutes = 0", "greater than"),
        ("[tool.lambdapress.functions.get_order]\nwarm_every_minutes = 1441", "less than"),
        ("[tool.lambdapress.functions.get_order]\nprovisioned_concurrency = 0", "greater than"),
        (
            "[tool.lambdapress.functions.get_order]\n"
            "reserved_concurrency = 1\nprovisioned_concurrency = 2",
            "exceeds reserved_concurrency",
        ),
        ('[tool.lambdapress.functions."orders.get_order"]\nwarm_every_minutes = 5', "module"),
        ('[tool.lambdapress.functions.get_order]\nwarm_every_minutes = "5"', "valid integer"),
    ],
)
def test_bad_function_settings_name_the_key_and_the_fix(
    tmp_path: Path, table: str, problem: str
) -> None:
    text = _error(tmp_path, table + "\n")
    assert problem in text
    assert "tool.lambdapress.functions" in text
    assert "warm_every_minutes (1 to 1440)" in text  # the fix


def test_a_misspelt_function_setting_is_named_in_full(tmp_path: Path) -> None:
    text = _error(tmp_path, "[tool.lambdapress.functions.get_order]\nwarm = 5\n")
    assert "unknown key `tool.lambdapress.functions.get_order.warm`" in text
    assert f"{tmp_path / 'pyproject.toml'}:4:" in text


_ACTION_SHAPE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")


@settings(max_examples=200, deadline=None)
@given(action=st.text(max_size=30))
def test_an_action_is_accepted_only_in_iam_shape(action: str) -> None:
    """Any text: a named action (`svc:Name`) is accepted, anything else refused, never crashes."""
    try:
        IamStatement(actions=[action], resources=["arn:aws:s3:::bucket/*"])
    except ValueError:
        assert not _ACTION_SHAPE.match(action)
    else:
        assert _ACTION_SHAPE.match(action)


def test_snapstart_is_read_for_the_service_and_each_function(tmp_path: Path) -> None:
    assert _load(tmp_path, "[tool.lambdapress]\n").snapstart is False
    loaded = _load(
        tmp_path,
        "[tool.lambdapress]\nsnapstart = true\n"
        "[tool.lambdapress.functions.get_order]\nsnapstart = false\n"
        "[tool.lambdapress.functions.list_orders]\nreserved_concurrency = 3\n",
    )
    assert loaded.snapstart is True
    assert loaded.functions["get_order"].snapstart is False
    assert loaded.functions["list_orders"].snapstart is None  # the service's applies


@pytest.mark.parametrize(
    ("table", "key", "fix"),
    [
        ('[tool.lambdapress]\nsnapstart = "yes"', "tool.lambdapress.snapstart", "use true"),
        (
            "[tool.lambdapress.functions.get_order]\nsnapstart = 1",
            "tool.lambdapress.functions.get_order.snapstart",
            "snapstart = true or false",
        ),
    ],
)
def test_a_snapstart_that_is_not_a_boolean_names_the_key_and_the_fix(
    tmp_path: Path, table: str, key: str, fix: str
) -> None:
    text = _error(tmp_path, table + "\n")
    assert key in text
    assert "valid boolean" in text
    assert fix in text
