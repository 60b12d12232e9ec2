"""The example services in services/ are exactly what the template renders for their answers.

They are the template's showcase and its first users: when the template changes, they must be
updated with it (`copier update --trust --defaults --vcs-ref HEAD` in each, after committing the
template).
"""

import difflib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent for p in REPO_ROOT.glob("services/*/.copier-answers.yml"))


def files_of(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.name != ".copier-answers.yml"
        and not {"__pycache__", ".pytest_cache", ".mypy_cache"} & set(p.parts)
    }


def test_the_example_platform_has_services() -> None:
    assert [p.name for p in EXAMPLES] == ["customers", "orders"]


@pytest.mark.parametrize("service", EXAMPLES, ids=lambda p: p.name)
def test_example_service_matches_the_template(
    service: Path, copier_cli: Any, tmp_path: Path
) -> None:
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(data))
    rendered = tmp_path / "services" / service.name
    copier_cli.copy(rendered, {}, cwd=tmp_path, extra=["--data-file", str(data_file)])

    expected, actual = files_of(rendered), files_of(service)
    problems = [f"only in the template's render: {f}" for f in sorted(expected.keys() - actual)]
    problems += [f"not rendered by the template: {f}" for f in sorted(actual.keys() - expected)]
    for name in sorted(expected.keys() & actual.keys()):
        if expected[name] != actual[name]:
            diff = difflib.unified_diff(
                expected[name].splitlines(),
                actual[name].splitlines(),
                f"template/{name}",
                f"services/{service.name}/{name}",
                lineterm="",
            )
            problems.append("\n".join(diff))
    assert not problems, (
        f"services/{service.name} has drifted from the template. Commit the template, then run "
        f"`copier update --trust --defaults --vcs-ref HEAD services/{service.name}` from the "
        "repository root (or move the change into template/service).\n\n" + "\n\n".join(problems)
    )
