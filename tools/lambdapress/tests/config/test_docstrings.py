"""The distributions checked never to read their own docstrings (`docstrings = "checked"`)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lambdapress.config.docstrings import CheckedDocstrings, checked_docstrings


def test_every_entry_says_which_versions_were_checked_how_and_what_the_code_reads() -> None:
    listed = checked_docstrings().distributions

    assert {"pydantic", "pydantic-core", "typing-extensions"} <= set(listed)
    for name, entry in listed.items():
        assert entry.checked and entry.reads, name
        assert any(c.isdigit() for c in entry.versions), name  # a range, never "any version"


@pytest.mark.parametrize(
    ("name", "versions", "problem"),
    [
        ("Typing_Extensions", "==4.16.0", "not a canonical distribution name"),
        ("pydantic", "2.14", "not a version specifier"),
    ],
)
def test_a_wrong_entry_is_refused(name: str, versions: str, problem: str) -> None:
    entry = {"versions": versions, "checked": "read", "reads": "nothing"}

    with pytest.raises(ValidationError, match=problem):
        CheckedDocstrings.model_validate({"distributions": {name: entry}})


def test_a_version_is_covered_only_inside_its_range_and_released() -> None:
    checked = CheckedDocstrings.model_validate(
        {"distributions": {"demo": {"versions": ">=1.0,<=1.2", "checked": "x", "reads": "x"}}}
    )

    assert [checked.covers("Demo", v) for v in ("0.9", "1.0", "1.2", "1.2.1", "1.1rc1")] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert not checked.covers("demo", "not a version")
    assert not checked.covers("other", "1.0")
