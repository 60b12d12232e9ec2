"""`lambdapress new`: a service or a model library from the repository's own template version."""

from __future__ import annotations

import argparse

from lambdapress.cli._args import Subcommands, add_root, root_of
from lambdapress.config.workspace import load_workspace
from lambdapress.errors import ScaffoldError
from lambdapress.scaffold import (
    KINDS,
    NewPlan,
    describe_plan,
    execute_new,
    models_data,
    parse_data,
    plan_new,
)


def register(commands: Subcommands) -> None:
    """Add `new` to the `lambdapress` command line."""
    new = commands.add_parser(
        "new",
        help="create a service or package from the repository's template",
        description="Create services/NAME or packages/NAME from the same template version as "
        "the rest of the repository.",
    )
    new.add_argument("kind", choices=KINDS, help="what to create")
    new.add_argument("name", metavar="NAME", help="service name (orders) or package name")
    new.add_argument(
        "--models",
        metavar="PKG[==SPEC]",
        help="model library a service builds on (a version: a published one, with --index)",
    )
    new.add_argument(
        "--index",
        metavar="NAME",
        help="the configured index the --models library is published to",
    )
    new.add_argument(
        "--data",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="answer a template question (repeatable)",
    )
    new.add_argument("--dry-run", action="store_true", help="print the plan, create nothing")
    add_root(new)
    new.set_defaults(handler=_cmd_new)


def _cmd_new(args: argparse.Namespace) -> int:
    workspace = load_workspace(root_of(args))
    overrides = parse_data(args.data)
    if args.models is not None:
        models = models_data(args.models, args.index)
        if overrides.get("models_package", models["models_package"]) != models["models_package"]:
            raise ScaffoldError(
                "--models and --data models_package=... disagree",
                hint="pass only one of them",
            )
        overrides.update(models)
    elif args.index is not None:
        raise ScaffoldError("--index needs --models PACKAGE==VERSION", hint="add --models")
    plan = plan_new(workspace, args.kind, args.name, overrides)
    print(_describe(plan))
    if args.dry_run:
        print("dry run: nothing was created")
        return 0
    execute_new(plan, workspace.root)
    print(f"created {plan.destination}")
    print("next steps:")
    for step in _next_steps(plan):
        print(f"  {step}")
    return 0


def _describe(plan: NewPlan) -> str:
    return "\n".join(describe_plan(plan))


def _next_steps(plan: NewPlan) -> list[str]:
    if plan.kind == "service":
        return [
            "uv sync --all-packages",
            f"write the handlers in {plan.destination}/src/{plan.name}/handlers/",
            "lambdapress workspace",
        ]
    return [
        "uv sync --all-packages",
        f"add the models to {plan.destination}/src/{plan.name.replace('-', '_')}/",
        f"build a service on it: lambdapress new service NAME --models {plan.name}",
    ]
