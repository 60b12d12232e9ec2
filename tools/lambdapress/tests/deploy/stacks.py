"""The template tests' stacks: manifests, workspaces and settings made in memory; cfn-lint.

The template builder is pure, so most tests hand it models built here (no disk, no build);
the example platform and a rendered project are linted end to end in template/tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]
from model_functions import model_function

from lambdapress.bundle._wiring import function_wiring, service_resources
from lambdapress.config.settings import ServiceSettings
from lambdapress.config.workspace import Service, Workspace
from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template import template_body
from lambdapress.model.application import Application, Function

ROOT = Path("/nowhere/acme")
# Every region cfn-lint knows a resource's schema for would be slow; these two cover both
# architectures' and partitions' usual homes.
LINT_REGIONS = ["us-east-1", "eu-west-1"]


def entry(name: str, *routes: str, **fields: Any) -> Function:
    """A manifest function `service.module` with routes as route keys (`GET /orders/{id}`)."""
    service, module = name.split(".")
    digest = hashlib.sha256(name.encode()).digest()
    values: dict[str, Any] = {
        "routes": routes,
        "artifact": f"dist/{service}/{module}.zip",
        "sha256": digest.hex(),
        "code_sha256": base64.b64encode(digest).decode(),
        "size": 1000,
        "inputs_hash": digest.hex(),
        "architecture": "arm64",
        "memory": 256,
        "timeout": 10,
        "environment": {"POWERTOOLS_SERVICE_NAME": service},
    }
    return model_function(name, **{**values, **fields})


def service(name: str, settings: dict[str, Any] | None = None) -> Service:
    """A service of the workspace with these `[tool.lambdapress]` settings (validated)."""
    return Service(
        name=name,
        import_name=name,
        path=ROOT / "services" / name,
        settings=ServiceSettings.model_validate(settings or {}),
        answers=None,
    )


def workspace(*services: Service) -> Workspace:
    return Workspace(root=ROOT, packages=(), services=services, template_root=False, answers=None)


def config(**fields: Any) -> DeployConfig:
    return DeployConfig.model_validate({"project": "acme", **fields})


def application(functions: list[Function], services: list[Service]) -> Application:
    """The model `package` would record for these functions of these services.

    Each function is wired to its service's resources, permissions and capacity
    (`bundle.wiring`), as the bundler does.
    """
    by_name = {s.name: s for s in services}
    resources = [r for s in services for r in service_resources(s, ROOT)]
    wired = []
    for function in sorted(functions, key=lambda f: f.name):
        owner = by_name.get(function.service) or service(function.service)
        wiring = function_wiring(
            owner, function.name, service_resources(owner, ROOT), (), function.triggers
        )
        wired.append(
            function.model_copy(
                update={
                    "uses": wiring.uses,
                    "permissions": wiring.permissions,
                    "capacity": wiring.capacity,
                }
            )
        )
    return Application(
        functions=tuple(wired), resources=tuple(sorted(resources, key=lambda r: r.id))
    )


def render(
    functions: list[Function],
    services: list[Service],
    deploy: DeployConfig | None = None,
    stage: str = "dev",
    bucket: str | None = "acme-artifacts",
) -> dict[str, Any]:
    """The template of these functions, parsed."""
    body = template_body(application(functions, services), deploy or config(), stage, bucket)
    document: dict[str, Any] = json.loads(body)
    return document


def of_type(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The resources of one type, by logical id."""
    return {k: v for k, v in document["Resources"].items() if v["Type"] == kind}


def lint_findings(body: str) -> list[str]:
    """Every cfn-lint finding, informational ones included, as `rule: message` lines."""
    args = ManualArgs(regions=LINT_REGIONS, include_checks=["I"])
    return [f"{m.rule.id}: {m.message} ({m.path})" for m in lint(body, config=args)]
