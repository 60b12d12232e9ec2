"""The CLI's plain-text tables: aligned columns, underlined header, no trailing spaces."""

from __future__ import annotations

import pytest

from lambdapress.cli._tables import render_table


def test_columns_are_aligned_and_the_header_underlined() -> None:
    text = render_table(["name", "memory"], [["orders", 256], ["payments-api", 1024]])
    assert text.splitlines() == [
        "name          memory",
        "------------  ------",
        "orders        256",
        "payments-api  1024",
    ]


def test_header_wider_than_cells() -> None:
    assert render_table(["architecture"], [["x"]]).splitlines() == [
        "architecture",
        "------------",
        "x",
    ]


def test_no_rows_gives_header_only() -> None:
    assert render_table(["a", "bb"], []) == "a  bb\n-  --"


def test_short_rows_are_padded_and_long_rows_refused() -> None:
    assert render_table(["a", "b"], [["1"]]).splitlines()[-1] == "1"
    with pytest.raises(ValueError, match="3 cells"):
        render_table(["a", "b"], [["1", "2", "3"]])
