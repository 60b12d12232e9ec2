"""`[tool.lambdapress.indexes]` in the root pyproject: both kinds, defaults, and mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.errors import ConfigError
from lambdapress.indexes.config import (
    CodeArtifactIndex,
    UploadApiIndex,
    choose_index,
    load_indexes,
)


def root_with(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n\n' + text, encoding="utf-8"
    )
    return tmp_path


def test_reads_both_kinds_with_defaults(tmp_path: Path) -> None:
    root = root_with(
        tmp_path,
        """
[tool.lambdapress.indexes.local]
upload-url = "http://127.0.0.1:8080"
index-url = "http://127.0.0.1:8080/simple"

[tool.lambdapress.indexes.company]
kind = "codeartifact"
domain = "acme"
domain-owner = "123456789012"
repository = "python"
region = "eu-west-1"
""",
    )
    local, company = load_indexes(root)
    assert isinstance(local, UploadApiIndex)
    assert (local.name, local.upload_url, local.index_url) == (
        "local",
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080/simple/",
    )
    assert local.username_variable == "LAMBDAPRESS_INDEX_LOCAL_USERNAME"
    assert local.password_variable == "LAMBDAPRESS_INDEX_LOCAL_PASSWORD"
    assert isinstance(company, CodeArtifactIndex)
    assert (company.domain, company.domain_owner, company.duration_seconds) == (
        "acme",
        "123456789012",
        900,
    )


def test_custom_variables_and_username(tmp_path: Path) -> None:
    root = root_with(
        tmp_path,
        """
[tool.lambdapress.indexes.gitlab]
upload-url = "https://gitlab.example/api/v4/projects/1/packages/pypi"
index-url = "https://gitlab.example/api/v4/projects/1/packages/pypi/simple"
username = "__token__"
password-env = "GITLAB_TOKEN"
""",
    )
    (index,) = load_indexes(root)
    assert isinstance(index, UploadApiIndex)
    assert (index.username, index.password_variable) == ("__token__", "GITLAB_TOKEN")


def test_no_table_means_no_indexes(tmp_path: Path) -> None:
    assert load_indexes(root_with(tmp_path, "")) == ()


def test_a_password_in_the_file_is_refused_with_its_line(tmp_path: Path) -> None:
    root = root_with(
        tmp_path,
        """
[tool.lambdapress.indexes.local]
upload-url = "http://127.0.0.1:8080/"
index-url = "http://127.0.0.1:8080/simple/"
password = "hunter2"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_indexes(root)
    error = caught.value
    assert error.path == root / "pyproject.toml"
    assert error.line == 8
    assert "secrets must never be committed" in error.message
    assert "LAMBDAPRESS_INDEX_LOCAL_PASSWORD" in str(error.hint)
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ('upload-url = "http://127.0.0.1/"\n', 4, "local.index-url`: required, but not set"),
        (
            'upload-url = "ftp://x/"\nindex-url = "http://127.0.0.1/simple/"\n',
            5,
            "must be an http:// or https:// URL",
        ),
        (
            'upload-url = "http://me:pw@127.0.0.1/"\nindex-url = "http://127.0.0.1/simple/"\n',
            5,
            "must not contain a user name or password",
        ),
        ('kind = "nexus"\nupload-url = "http://127.0.0.1/"\n', 5, 'must be "upload-api" or'),
        (
            'upload-url = "http://127.0.0.1/"\nindex-url = "http://127.0.0.1/simple/"\n'
            'pasword-env = "X"\n',
            7,
            "unknown key `tool.lambdapress.indexes.local.pasword-env`",
        ),
    ],
)
def test_mistakes_name_the_key_and_line(tmp_path: Path, body: str, line: int, words: str) -> None:
    root = root_with(tmp_path, "[tool.lambdapress.indexes.local]\n" + body)
    with pytest.raises(ConfigError) as caught:
        load_indexes(root)
    assert words in caught.value.message
    assert caught.value.line == line
    assert caught.value.hint


def test_codeartifact_fields_are_validated(tmp_path: Path) -> None:
    root = root_with(
        tmp_path,
        """
[tool.lambdapress.indexes.company]
kind = "codeartifact"
domain = "acme"
domain-owner = "12345"
repository = "python"
region = "eu-west-1"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_indexes(root)
    assert "company.domain-owner`" in caught.value.message
    assert caught.value.line == 8
    assert "12-digit" in str(caught.value.hint)


@pytest.mark.parametrize(
    ("seconds", "accepted"), [(899, False), (900, True), (43200, True), (43201, False)]
)
def test_a_codeartifact_token_lives_from_15_minutes_to_12_hours(
    tmp_path: Path, seconds: int, accepted: bool
) -> None:
    root = root_with(
        tmp_path,
        f"""
[tool.lambdapress.indexes.company]
kind = "codeartifact"
domain = "acme"
domain-owner = "123456789012"
repository = "python"
region = "eu-west-1"
duration-seconds = {seconds}
""",
    )
    if accepted:
        (company,) = load_indexes(root)
        assert isinstance(company, CodeArtifactIndex) and company.duration_seconds == seconds
        return
    with pytest.raises(ConfigError) as caught:
        load_indexes(root)
    assert "company.duration-seconds`" in caught.value.message
    assert caught.value.hint == "a token lifetime from 900 to 43200 seconds"


def test_every_mistake_is_listed_with_a_fix_and_no_value(tmp_path: Path) -> None:
    root = root_with(
        tmp_path,
        """
[tool.lambdapress.indexes.local]
upload-url = "http://me:hunter2@127.0.0.1/"
pasword-env = "X"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_indexes(root)
    message, hint = caught.value.message, str(caught.value.hint)
    assert message.startswith("invalid index 'local':\n")
    assert "`tool.lambdapress.indexes.local.upload-url`: " in message
    assert "`tool.lambdapress.indexes.local.index-url`: required, but not set" in message
    assert "unknown key `tool.lambdapress.indexes.local.pasword-env`" in message
    assert "did you mean `password-env`?" in hint
    assert "hunter2" not in str(caught.value)
    lines = (root / "pyproject.toml").read_text().splitlines()
    assert lines[caught.value.line - 1].startswith("upload-url = ")  # the first problem's line


def test_bad_index_name_is_refused(tmp_path: Path) -> None:
    root = root_with(tmp_path, '[tool.lambdapress.indexes.My_Index]\nupload-url = "x"\n')
    with pytest.raises(ConfigError, match="lowercase letters"):
        load_indexes(root)


def test_choose_index(tmp_path: Path) -> None:
    one = UploadApiIndex.model_validate(
        {"name": "a", "upload-url": "http://127.0.0.1/", "index-url": "http://127.0.0.1/s/"}
    )
    two = one.model_copy(update={"name": "b"})
    pyproject = tmp_path / "pyproject.toml"
    assert choose_index((one,), None, pyproject) is one
    assert choose_index((one, two), "b", pyproject) is two
    with pytest.raises(ConfigError, match=r"several indexes are configured \(a, b\)"):
        choose_index((one, two), None, pyproject)
    with pytest.raises(ConfigError, match=r"no index named 'c' \(configured: a, b\)"):
        choose_index((one, two), "c", pyproject)
    with pytest.raises(ConfigError, match="no package index is configured") as caught:
        choose_index((), None, pyproject)
    assert "[tool.lambdapress.indexes.local]" in str(caught.value.hint)
