"""The README's table of `bundle.trim`'s rules is what `lambdapress.bench.trimming` computes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bench.trimming import EXAMPLE_FUNCTIONS, measure_rules
from lambdapress.bundle.trim import RULES

REPOSITORY = Path(__file__).resolve().parents[4]


def readme_table(readme: Path) -> str:
    """The table under "What nothing on Lambda can load stays out", unindented."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("| rule | leaves"))
    table: list[str] = []
    for line in lines[start:]:
        if not line.strip().startswith("|"):
            break
        table.append(line.strip())
    return "\n".join(table) + "\n"


@pytest.mark.e2e
def test_the_readme_shows_what_each_rule_saves_on_the_example() -> None:
    report = measure_rules(REPOSITORY)

    assert readme_table(REPOSITORY / "README.md") == report.table(), (
        "run `python -m lambdapress.bench.trimming` and put its table in the README"
    )
    assert [r.name for r in report.rules] == [r.name for r in RULES]
    assert report.functions[: len(EXAMPLE_FUNCTIONS)] == EXAMPLE_FUNCTIONS
    totals = [sum(r.saved[i] for r in report.rules) for i in range(len(report.functions))]
    assert all(total > 0 for total in totals)
