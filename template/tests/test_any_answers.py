"""Whatever answers copier.yml's validators accept, the rendered code is lint, format and type
clean and its tests pass (render only; `test_project.py` runs a project's own CI end to end).

Answer sets come from hypothesis, drawn by the validators' own rules: service and model library
names of every allowed length, with digits and underscores (ruff orders `orders2` before
`orders10`, and `accounts` before `zz_models`), resources that are no English plural
(`inventory` -> `inventory_item`), explicit singulars and model classes, any subset of
endpoints, every storage, runtime and architecture, any workers the storage allows, and a
create endpoint that publishes an event of any allowed class name, or none. Each example
renders one project with all of them (copier's Python API, in this process), then runs the
checks `lambdapress package` makes of every trigger and resource before it builds anything, and
ruff, ruff format, mypy --strict and pytest once over the lot; one fixed example holds the names
that broke the template before, and the longest names with every worker and an event.
"""

from __future__ import annotations

import keyword
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
RESERVED = set(yaml.safe_load(CONFIG["reserved_names"]["default"]))
RESERVED_MODELS = set(yaml.safe_load(CONFIG["reserved_model_names"]["default"]))
ENDPOINTS = ["list", "get", "create", "update", "delete"]
WORKERS = ["sqs", "sns", "schedule", "eventbridge", "s3", "dynamodb-stream"]


def _identifier(longest: int) -> st.SearchStrategy[str]:
    """Lowercase identifiers up to `longest`: often from a small alphabet, so names share
    prefixes and differ in a digit run or an underscore, where orders disagree."""
    return st.one_of(
        st.from_regex(rf"[az][az19_]{{0,{min(longest - 1, 8)}}}", fullmatch=True),
        st.from_regex(rf"[a-z][a-z0-9_]{{0,{longest - 1}}}", fullmatch=True),
    )


resources = _identifier(24).filter(lambda name: name not in RESERVED)
distributions = st.one_of(
    st.from_regex(r"[az][az19]{0,5}(-[az19]{1,5}){0,2}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9]{0,9}(-[a-z0-9]{1,9}){0,2}", fullmatch=True),
).filter(lambda name: len(name) <= 30 and name.replace("-", "_") not in RESERVED)
model_names = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,28}", fullmatch=True).filter(
    lambda name: name not in RESERVED_MODELS and not keyword.iskeyword(name)
)
# The created event's class: any class name a model could take (the rules are the same).
event_names = model_names
JINJA = jinja2.Environment(autoescape=True)  # names only: letters, digits, underscores


def own_classes(answers: dict[str, Any]) -> set[str]:
    """The classes the service defines from its model's name (an event may take none of
    them): the model name as copier.yml's defaults make it when it is not given."""
    context: dict[str, Any] = {**answers, "reserved_model_names": RESERVED_MODELS}
    if "singular" not in context:
        context["singular"] = JINJA.from_string(CONFIG["singular"]["default"]).render(context)
    model = answers.get("model_name") or JINJA.from_string(CONFIG["model_name"]["default"]).render(
        context
    )
    suffixes = ["", "In", "Patch", "Changed", "Submitted", "Repository"]
    return {model + suffix for suffix in suffixes} | {
        f"{store}{model}Repository" for store in ("InMemory", "Postgres", "Dynamo")
    }


@st.composite
def service_answers(draw: st.DrawFn, packages: list[str]) -> dict[str, Any]:
    """One service's answers: `--data` as a user could give them (the rest by default)."""
    resource = draw(resources)
    answers: dict[str, Any] = {"kind": "service", "resource": resource}
    answers["models_package"] = draw(st.sampled_from(packages))
    if draw(st.booleans()):
        answers["singular"] = draw(_identifier(29).filter(lambda name: name != resource))
    if draw(st.booleans()):
        answers["model_name"] = draw(model_names)
    chosen = draw(st.lists(st.sampled_from(ENDPOINTS), min_size=1, max_size=5, unique=True))
    answers["endpoints"] = chosen
    answers["storage"] = draw(st.sampled_from(["memory", "postgres", "dynamodb"]))
    allowed = [w for w in WORKERS if w != "dynamodb-stream" or answers["storage"] == "dynamodb"]
    answers["workers"] = draw(st.lists(st.sampled_from(allowed), max_size=6, unique=True))
    if "create" in chosen and draw(st.booleans()):
        taken = own_classes(answers)
        answers["created_event"] = draw(event_names.filter(lambda name: name not in taken))
    answers["runtime"] = draw(st.sampled_from(["python3.11", "python3.12", "python3.13"]))
    answers["architecture"] = draw(st.sampled_from(["x86_64", "arm64"]))
    return answers


@st.composite
def platforms(draw: st.DrawFn) -> tuple[list[str], list[dict[str, Any]]]:
    """Two model libraries and five services on them, every name distinct as an import."""
    packages = draw(st.lists(distributions, min_size=2, max_size=2, unique=True))
    imports = {name.replace("-", "_") for name in packages}
    services = draw(
        st.lists(
            service_answers(packages).filter(lambda s: s["resource"] not in imports),
            min_size=5,
            max_size=5,
            unique_by=lambda s: s["resource"],
        )
    )
    return packages, services


# Names that broke the template: a model library importing after the services, one-letter
# and one-word resources, the longest names, digits compared as numbers, a model class the
# generated code also imports (`Page`), an `ies` plural, underscores against dots; workers of
# every kind with the longest names, on every storage, and beside no endpoint but one; a
# created event on each storage, the longest beside the stream's, one a class name with a digit.
BREAKERS = (
    ["zz-models", "a" * 29 + "2"],
    [
        {
            "resource": "accounts",
            "models_package": "zz-models",
            "storage": "postgres",
            "workers": ["sqs", "schedule"],
            "created_event": "AccountOpened",
        },
        {"resource": "inventory", "models_package": "zz-models", "storage": "dynamodb"},
        {
            "resource": "x",
            "models_package": "zz-models",
            "endpoints": ["update"],
            "workers": ["s3", "sns"],
        },
        {
            "resource": "zz_models2",
            "models_package": "a" * 29 + "2",
            "singular": "b" * 29,
            "model_name": "M" * 29,
            "storage": "postgres",
            "endpoints": ["get", "delete"],
            "workers": ["sqs", "sns", "schedule", "eventbridge", "s3"],
        },
        {
            "resource": "q" * 23 + "s",
            "models_package": "zz-models",
            "singular": "w" * 29,
            "model_name": "N" * 29,
            "storage": "dynamodb",
            "workers": WORKERS,
            "timeout": 900,
            "created_event": "E" * 29,
        },
        {
            "resource": "pages",
            "models_package": "zz-models",
            "runtime": "python3.13",
            "created_event": "Page2",
        },
        {"resource": "categories", "models_package": "a" * 29 + "2", "storage": "postgres"},
        {"resource": "zz10", "models_package": "zz-models", "architecture": "arm64"},
    ],
)


@pytest.fixture(scope="module")
def plain_template(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template snapshot without git: copier renders it in place instead of cloning it
    for every copy (render only: the project's lambdapress pin is never used here)."""
    plain = tmp_path_factory.mktemp("plain") / "lambdapress"
    plain.mkdir()
    shutil.copy2(template_repo / "copier.yml", plain / "copier.yml")
    shutil.copytree(template_repo / "template", plain / "template")
    return plain


def render(template: Path, destination: Path, data: dict[str, Any]) -> None:
    """copier copy, as `--data` would give the answers; copier must not warn."""
    import copier

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # MissingFileWarning among them
        copier.run_copy(
            str(template), destination, data=data, defaults=True, unsafe=True, quiet=True
        )


def worker_modules(service: Path) -> dict[str, str]:
    """The worker modules a rendered service should have, by trigger kind: the names the
    README's "Workers" promises, from the service's recorded answers."""
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text(encoding="utf-8"))
    resource, singular = answers["resource"], answers["singular"]
    names = {
        "sqs": f"process_{singular}_jobs",
        "sns": f"on_{singular}_notifications",
        "schedule": f"report_{resource}",
        "eventbridge": f"on_{resource}_events",
        "s3": f"on_{resource}_uploads",
        "dynamodb-stream": f"on_{resource}_changes",
    }
    return {kind: f"{resource}.{names[kind]}" for kind in answers["workers"]}


def check_declarations(root: Path) -> None:
    """What `lambdapress package` checks before it builds: every handler's triggers and every
    service's resources, against each other (a queue's visibility against its consumer's
    timeout, a stream on a table that has one...). Each worker has its one trigger; a create
    endpoint with an event uses its topic, and one without uses nothing."""
    from lambdapress.bundle._checked import checked_declarations
    from lambdapress.config.workspace import load_workspace

    checked = checked_declarations(load_workspace(root))
    kinds = {f.name: [t.kind for t in f.triggers] for f in checked.functions}
    used = {f.name: [u.resource for u in f.used] for f in checked.functions}
    for service in sorted(p.parent for p in root.glob("services/*/.copier-answers.yml")):
        for kind, function in worker_modules(service).items():
            assert kinds[function] == [kind], function
        answers = yaml.safe_load((service / ".copier-answers.yml").read_text(encoding="utf-8"))
        resource, singular = answers["resource"], answers["singular"]
        if "create" in answers["endpoints"]:
            topic = f"{resource}/sns-topic/{singular.replace('_', '-')}-events"
            expected = [topic] if answers["created_event"] else []
            assert used[f"{resource}.create_{singular}"] == expected, resource


def check(root: Path, sh: Any) -> None:
    """The checks of `lambdapress package`, ruff, ruff format and mypy --strict over everything,
    then the rendered tests (not the real-server ones, which `test_project.py` runs in a
    project's own CI)."""
    check_declarations(root)
    sh.run([sh.bin("ruff"), "check", "--no-cache", "."], root)
    sh.run([sh.bin("ruff"), "format", "--no-cache", "--check", "."], root)
    sources = sorted(str(p.relative_to(root)) for p in root.glob("*/*/src"))
    env = {"MYPYPATH": os.pathsep.join(sources)}
    sh.run([sh.bin("mypy"), "--strict", "--no-incremental", *sources], root, env=env)
    env = {"PYTHONPATH": os.pathsep.join(str(root / s) for s in sources)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["--ignore-glob", "*/test_postgres_repository.py"]
    command += [str(p) for p in sorted(root.glob("*/*/tests"))]
    result = sh.run(command, root, env=env)
    assert " passed" in result.stdout


@settings(
    max_examples=1,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # shrinking would render hundreds of projects
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(platform=BREAKERS)
@given(platform=platforms())
def test_any_valid_answers_render_clean_code(
    platform: tuple[list[str], list[dict[str, Any]]],
    plain_template: Path,
    sh: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    packages, services = platform
    root = tmp_path_factory.mktemp("answers") / "demo-platform"
    try:
        render(plain_template, root, {"kind": "project", "project_name": "demo-platform"})
        for name in packages:
            render(
                plain_template, root / "packages" / name, {"kind": "package", "package_name": name}
            )
        for answers in services:
            data = {"kind": "service", **answers}
            render(plain_template, root / "services" / answers["resource"], data)
        check(root, sh)
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)
