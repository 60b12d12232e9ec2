"""Each kind, rendered from the working tree by the real copier CLI, passes its own checks.

These check what is rendered for a few answers (fast); test_any_answers.py runs ruff, mypy and
the rendered tests over many answer sets, and test_project.py runs a project's own CI.
"""

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ENDPOINTS = ("create", "delete", "get", "update")


@pytest.fixture(scope="module")
def platform(copier_cli: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rendered project with a model library and three services, one per storage (postgres,
    dynamodb, memory), one with a subset of endpoints; two with workers, one without; one whose
    create endpoint publishes an event, beside a stream worker that publishes too."""
    root = tmp_path_factory.mktemp("render") / "demo-platform"
    here = root.parent
    copier_cli.copy(root, {"kind": "project", "project_name": "demo-platform"}, cwd=here)
    copier_cli.copy(
        root / "packages" / "billing-models",
        {"kind": "package", "package_name": "billing-models", "package_version": "1.2.0"},
        cwd=root,
    )
    copier_cli.copy(
        root / "services" / "invoices",
        {
            "kind": "service",
            "resource": "invoices",
            "models_package": "billing-models",
            "storage": "postgres",
        },
        cwd=root,
    )
    copier_cli.copy(
        root / "services" / "tags",
        {
            "kind": "service",
            "resource": "tags",
            "models_package": "billing-models",
            "workers": "[s3, schedule, sns, eventbridge]",
        },
        cwd=root,
    )
    copier_cli.copy(
        root / "services" / "line_items",
        {
            "kind": "service",
            "resource": "line_items",
            "models_package": "billing-models",
            "endpoints": "[get, create]",
            "architecture": "arm64",
            "runtime": "python3.13",
            "memory": "512",
            "timeout": "25",
            "storage": "dynamodb",
            "workers": "[dynamodb-stream, sqs]",
            "created_event": "LineItemAdded",
        },
        cwd=root,
    )
    return root


def test_a_service_has_one_handler_module_per_chosen_endpoint(platform: Path) -> None:
    handlers = platform / "services" / "line_items" / "src" / "line_items" / "handlers"
    assert sorted(p.name for p in handlers.glob("*.py")) == [
        "__init__.py",
        "create_line_item.py",
        "get_line_item.py",
        "on_line_items_changes.py",
        "process_line_item_jobs.py",
    ]
    every = platform / "services" / "invoices" / "src" / "invoices" / "handlers"
    assert sorted(p.stem for p in every.glob("*.py")) == [
        "__init__",
        "create_invoice",
        "delete_invoice",
        "get_invoice",
        "list_invoices",
        "update_invoice",
    ]
    route = (every / "get_invoice.py").read_text()
    assert '@app.get("/invoices/<invoice_id>")' in route


def test_service_settings_and_model_library_are_declared(platform: Path) -> None:
    import tomllib

    pyproject = tomllib.loads((platform / "services" / "line_items" / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"][0] == "billing-models"
    assert pyproject["tool"]["poetry"]["dependencies"]["billing-models"] == {
        "path": "../../packages/billing-models",
        "develop": True,
    }
    assert pyproject["tool"]["uv"]["sources"]["billing-models"] == {"workspace": True}
    settings = pyproject["tool"]["lambdapress"]
    assert (settings["runtime"], settings["architecture"], settings["memory"]) == (
        "python3.13",
        "arm64",
        512,
    )


def test_each_storage_renders_its_store_settings_and_dependencies(platform: Path) -> None:
    from lambdapress.config.workspace import load_workspace
    from lambdapress.model.storage_backends import storage_declaration

    services = {s.name: s for s in load_workspace(platform).services}
    kinds = {name: s.settings.storage.kind for name, s in services.items()}
    assert kinds == {"invoices": "postgres", "line_items": "dynamodb", "tags": "memory"}
    # Each backend validates its own keys: the rendered table is what DynamoDB's expects.
    declaration = storage_declaration(services["line_items"], platform)
    assert declaration.backend.name == "dynamodb"
    assert declaration.settings.tables["line_items"].partition_key == "id"

    def deps(name: str) -> list[str]:
        text = (platform / "services" / name / "pyproject.toml").read_text()
        return list(tomllib.loads(text)["project"]["dependencies"])

    assert "psycopg[binary]>=3.2" in deps("invoices")
    assert "boto3>=1.34" in deps("line_items")
    assert not {"psycopg[binary]>=3.2", "boto3>=1.34"} & set(deps("tags"))
    assert all("lambdapress-runtime" in deps(name) for name in services)

    invoices = platform / "services" / "invoices"
    assert (invoices / "migrations" / "0001_init.sql").read_text().count("CREATE TABLE invoices")
    assert (invoices / "src/invoices/postgres_repository.py").is_file()
    assert (platform / "services/line_items/src/line_items/dynamodb_repository.py").is_file()
    tags = platform / "services" / "tags"
    assert not (tags / "migrations").exists()
    assert sorted(p.name for p in (tags / "src" / "tags").glob("*_repository.py")) == []
    assert "InMemoryTagRepository()" in (tags / "src/tags/dependencies.py").read_text()


def test_answers_are_recorded_for_copier_update(platform: Path) -> None:
    answers = yaml.safe_load(
        (platform / "services" / "line_items" / ".copier-answers.yml").read_text()
    )
    assert answers["_commit"] == "v0.4.0"
    assert answers["kind"] == "service"
    assert answers["endpoints"] == ["get", "create"]
    assert answers["workers"] == ["sqs", "dynamodb-stream"], "in the order of the choices"
    invoices = yaml.safe_load((platform / "services/invoices/.copier-answers.yml").read_text())
    assert invoices["workers"] == []
    assert "resource_slug" not in answers
    project = yaml.safe_load((platform / ".copier-answers.yml").read_text())
    assert (project["kind"], project["project_name"]) == ("project", "demo-platform")
    assert "reserved_names" not in answers and "models_import" not in answers


def test_the_project_pins_the_tool_and_carries_no_template_internals(
    platform: Path, copier_cli: Any
) -> None:
    assert not (platform / "tools" / "lambdapress").exists()
    pyproject = tomllib.loads((platform / "pyproject.toml").read_text())
    assert "lambdapress" in pyproject["dependency-groups"]["dev"]
    assert pyproject["tool"]["uv"]["sources"]["lambdapress"] == {
        "git": f"file://{copier_cli.template}",
        "tag": "v0.4.0",
        "subdirectory": "tools/lambdapress",
    }
    assert "lambdapress" not in pyproject["tool"]
    assert (platform / "noxfile.py").is_file() and not (platform / "noxfile.py").is_symlink()
    assert not (platform / "copier.yml").exists()
    assert not (platform / "template").exists()
    leaked = [p for p in platform.rglob("*") if p.name in {".venv", "__pycache__", ".env", ".git"}]
    assert leaked == []


def test_a_service_on_a_published_library_lints_as_one_on_packages(
    copier_cli: Any, sh: Any, tmp_path: Path
) -> None:
    """Rendered with `models_source: index` (no packages/billing-models here), the same imports
    pass ruff once the root lists the library as first-party, which `lambdapress models add`
    writes; without that line isort would call them misplaced third-party imports."""
    from lambdapress.publish.models import with_first_party

    root = tmp_path / "consumer"
    copier_cli.copy(root, {"kind": "project", "project_name": "consumer"}, cwd=tmp_path)
    sh.git(root, "init", "-q")
    data = {
        "kind": "service",
        "resource": "payments",
        "models_package": "billing-models",
        "models_source": "index",
        "models_spec": "==1.2",
        "models_index": "company",
    }
    copier_cli.copy(root / "services" / "payments", data, cwd=root)
    service = (root / "services" / "payments" / "pyproject.toml").read_text()
    assert '"billing-models==1.2"' in service
    assert 'billing-models = { index = "company" }' in service
    assert "path =" not in service and "workspace = true" not in service

    ruff = [sh.bin("ruff"), "check", "services"]
    assert sh.run(ruff, cwd=root, check=False).returncode == 1  # billing_models is third-party
    config = root / "pyproject.toml"
    config.write_text(with_first_party(config.read_text(), "billing_models", config))
    sh.run(ruff, cwd=root)
    sh.run([sh.bin("ruff"), "format", "--check", "services"], cwd=root)


# ------------------------------------------------------------------------------- workers


def test_each_worker_is_a_handler_module_with_its_test(platform: Path) -> None:
    tags = platform / "services" / "tags"
    workers = ["on_tag_notifications", "on_tags_events", "on_tags_uploads", "report_tags"]
    handlers = {p.stem for p in (tags / "src" / "tags" / "handlers").glob("*.py")}
    assert handlers >= set(workers)
    assert handlers - set(workers) == {"__init__", *(f"{e}_tag" for e in ENDPOINTS), "list_tags"}
    tests = {p.stem for p in (tags / "tests").glob("test_*.py")}
    assert {f"test_{name}" for name in workers} <= tests
    line_items = platform / "services" / "line_items"
    assert (line_items / "src/line_items/events.py").is_file(), "what on_*_changes publishes"
    assert not (tags / "src/tags/events.py").exists()
    invoices = platform / "services" / "invoices"
    assert not [p for p in invoices.rglob("*.py") if p.stem.startswith(("on_", "report_"))]


def test_workers_pass_the_checks_package_makes_of_triggers_and_resources(
    platform: Path,
) -> None:
    """The declarations `lambdapress package` reads and checks before it builds anything:
    each worker's trigger names a resource its service's pyproject declares, as package wants
    it (a queue that hides a message for longer than its consumer's timeout, with a
    dead-letter queue; a table with a stream)."""
    from lambdapress.bundle._checked import checked_declarations
    from lambdapress.config.workspace import load_workspace
    from lambdapress.model.resources import DynamoDBTable, SqsQueue

    checked = checked_declarations(load_workspace(platform))
    triggers = {f.name: f.triggers for f in checked.functions if f.triggers and not f.routes}
    assert {name: [t.kind for t in found] for name, found in triggers.items()} == {
        "line_items.on_line_items_changes": ["dynamodb-stream"],
        "line_items.process_line_item_jobs": ["sqs"],
        "tags.on_tag_notifications": ["sns"],
        "tags.on_tags_events": ["eventbridge"],
        "tags.on_tags_uploads": ["s3"],
        "tags.report_tags": ["schedule"],
    }
    resources = {r.id: r for owned in checked.resources.values() for r in owned}
    assert sorted(i for i in resources if "postgres" not in i) == [
        "line_items/dynamodb-table/line_items",
        "line_items/sns-topic/line-item-events",
        "line_items/sns-topic/line-items-changes",
        "line_items/sqs-queue/line-items-jobs",
        "line_items/sqs-queue/line-items-jobs-dlq",
        "tags/s3-bucket/tags-uploads",
        "tags/sns-topic/tags-notifications",
    ]
    queue = resources["line_items/sqs-queue/line-items-jobs"]
    assert isinstance(queue, SqsQueue)
    assert (queue.visibility_timeout, queue.dead_letter, queue.max_receives) == (
        6 * 25,
        "line_items/sqs-queue/line-items-jobs-dlq",
        3,
    )
    table = resources["line_items/dynamodb-table/line_items"]
    assert isinstance(table, DynamoDBTable) and table.stream == "NEW_AND_OLD_IMAGES"
    changes = next(f for f in checked.functions if f.name == "line_items.on_line_items_changes")
    assert [u.resource for u in changes.used] == ["line_items/sns-topic/line-items-changes"]


# ------------------------------------------------------------------------- created event


def test_the_create_endpoint_publishes_the_created_event_to_its_topic(platform: Path) -> None:
    """`created_event` adds the event to `events.py` (beside the stream's, which keeps its
    own), the topic `<singular>-events` to the pyproject, and the create handler's handle for
    it: the one function allowed to publish there. Without the answer nothing is published."""
    from lambdapress.bundle._checked import checked_declarations
    from lambdapress.config.workspace import load_workspace

    line_items = platform / "services" / "line_items"
    events = (line_items / "src" / "line_items" / "events.py").read_text()
    assert "class LineItemAdded(BaseModel):" in events
    assert 'type: Literal["LineItemAdded"] = "LineItemAdded"' in events
    assert "class LineItemChanged(BaseModel):" in events
    pyproject = tomllib.loads((line_items / "pyproject.toml").read_text())
    assert pyproject["tool"]["lambdapress"]["topics"] == {
        "line-item-events": {},
        "line-items-changes": {},
    }
    handler = (line_items / "src/line_items/handlers/create_line_item.py").read_text()
    assert 'LINE_ITEM_EVENTS = triggers.Topic("line-item-events")' in handler

    checked = checked_declarations(load_workspace(platform))
    uses = {f.name: [u.resource for u in f.used] for f in checked.functions if f.used}
    assert uses == {
        "line_items.create_line_item": ["line_items/sns-topic/line-item-events"],
        "line_items.on_line_items_changes": ["line_items/sns-topic/line-items-changes"],
    }
    answers = yaml.safe_load((line_items / ".copier-answers.yml").read_text())
    assert answers["created_event"] == "LineItemAdded"
    assert "events_topic" not in answers
    for name, singular in (("invoices", "invoice"), ("tags", "tag")):
        service = platform / "services" / name
        assert yaml.safe_load((service / ".copier-answers.yml").read_text())["created_event"] == ""
        handler = (service / "src" / name / "handlers" / f"create_{singular}.py").read_text()
        assert "triggers" not in handler and "sns" not in handler
        assert not (service / "src" / name / "events.py").exists()


def test_the_project_readme_explains_each_rollout_strategy_with_settings_that_validate(
    platform: Path,
) -> None:
    from lambdapress.deploy.config import parse_deploy_config

    readme = (platform / "README.md").read_text()
    section = readme[readme.index("## Deploying to production: rollouts and alarms") :]
    section = section[: section.index("\n## ", 1)]
    for strategy in ("`all-at-once`", "`canary`", "`linear`"):
        row = next(line for line in section.splitlines() if line.startswith(f"| {strategy}"))
        assert len(row.split(" | ")) == 4  # what happens, when to pick it, what it costs
    assert "CodeDeploy is free for Lambda" in section
    assert "$0.10 a month" in section
    settings = section[section.index("```toml\n") + 8 :]
    table = tomllib.loads(settings[: settings.index("```")])
    config = parse_deploy_config(table["tool"]["lambdapress"]["deploy"], platform, "demo")
    prod = config.stage_settings("prod")
    assert (prod.rollout.strategy, prod.alarms.duration_p99_ms) == ("canary", 2000)


def test_every_handler_is_traced_and_only_services_calling_aws_patch_botocore(
    platform: Path,
) -> None:
    """Powertools' Tracer wraps each handler inside the container's scope (a warm-up ping is
    not traced), without recording responses; `tracing.py` patches botocore only where the
    service calls AWS (patching everything imports every library at each cold start)."""
    import ast

    tracers = {}
    for service in ("invoices", "line_items", "tags"):
        source = platform / "services" / service / "src" / service
        pyproject = tomllib.loads((platform / "services" / service / "pyproject.toml").read_text())
        assert "aws-lambda-powertools[tracer]>=3.0" in pyproject["project"]["dependencies"]
        (made,) = [
            line.strip()
            for line in (source / "tracing.py").read_text().splitlines()
            if line.strip().startswith("return Tracer(")
        ]
        tracers[service] = made
        handlers = sorted((source / "handlers").glob("[!_]*.py"))
        assert handlers
        for module in handlers:
            tree = ast.parse(module.read_text())
            (handler,) = [n for n in tree.body if getattr(n, "name", "") == "handler"]
            assert isinstance(handler, ast.FunctionDef)
            decorators = [ast.unparse(d) for d in handler.decorator_list]
            at = decorators.index("container.handler")
            assert decorators[at + 1] == "tracer.capture_lambda_handler(capture_response=False)", (
                module
            )
            assert f"from {service}.tracing import tracer" in module.read_text()
    assert tracers == {
        "invoices": "return Tracer(auto_patch=False)",
        "line_items": 'return Tracer(patch_modules=["botocore"])',
        "tags": "return Tracer(auto_patch=False)",
    }


@pytest.mark.parametrize("traced", [False, True])
def test_the_tracer_and_the_x_ray_sdk_are_imported_only_where_the_stage_traces(
    platform: Path, traced: bool
) -> None:
    """`LAMBDAPRESS_TRACING=xray` is what a tracing stage sets; without it a handler stays as
    it is and neither Powertools' Tracer nor the X-Ray SDK (135 ms of a cold start) loads."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from line_items.tracing import tracer\n"
        "def handler(event, context):\n"
        "    return 'ok'\n"
        "wrapped = tracer.capture_lambda_handler(capture_response=False)(handler)\n"
        "print(type(tracer).__name__, wrapped is handler, 'aws_xray_sdk' in sys.modules)\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(platform / "services" / "line_items" / "src"),
        **({"LAMBDAPRESS_TRACING": "xray"} if traced else {}),
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    expected = "Tracer False True" if traced else "_Untraced True False"
    assert done.stdout.strip() == expected
