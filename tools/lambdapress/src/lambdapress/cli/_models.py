"""The command-line face of model libraries: `models`, `models add`, `models upgrade`.

`pin`, `unpin` and `pins` are the same commands under their older names (`models add SERVICE
PACKAGE==VERSION --index NAME` for a workspace package, `models add SERVICE PACKAGE`, and
`models`): one implementation, documented as aliases. Each change prints its plan (a diff of
the pyprojects, the locked versions) before writing; `--dry-run` stops there.
"""

from __future__ import annotations

import argparse
import difflib
from typing import TYPE_CHECKING

from lambdapress.cli._args import Subcommands, add_root, root_of
from lambdapress.cli._console import print_table
from lambdapress.config.pyproject import LOCK_FILE
from lambdapress.config.workspace import load_workspace

if TYPE_CHECKING:
    from lambdapress.publish.models_plan import FileChange, ModelsPlan


def register(commands: Subcommands) -> None:
    """Add `models` (and its aliases `pin`, `unpin`, `pins`) to the sub-parsers."""
    models = commands.add_parser(
        "models",
        help="each service's model libraries and where they come from; add, upgrade",
        description="Without an action: every service's model libraries, each from the "
        "workspace (packages/), a pinned published version, or a published package of another "
        "project on a private index.",
    )
    add_root(models)
    models.set_defaults(handler=_cmd_models)
    actions = models.add_subparsers(title="actions", metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="make a service build on a model library (published, pinned, or from source)",
        description="PACKAGE==SPEC from --index when PACKAGE is not in packages/ (uv source "
        "and an explicit uv index, then uv lock); a workspace package with ==VERSION is pinned "
        "(the published wheel ships, tests use the source); without a version, the source.",
    )
    _service_argument(add)
    add.add_argument(
        "requirement",
        metavar="PACKAGE[==SPEC]",
        help="the model library, with a version or specifier when it is a published one",
    )
    _change_options(add, index=True)
    add.set_defaults(handler=_cmd_add)

    upgrade = actions.add_parser(
        "upgrade",
        help="move a service to the newest published version of a model library",
        description="Lock the newest published version (or --to VERSION). A compatible change "
        "is recorded in [tool.lambdapress] accept_models; a breaking one (major version or "
        "model schemas) is written but `lambdapress package` refuses it until accepted.",
    )
    _service_argument(upgrade)
    upgrade.add_argument("package", metavar="PACKAGE", help="the model library to upgrade")
    upgrade.add_argument("--to", metavar="VERSION", help="this version instead of the newest")
    _change_options(upgrade, index=False)
    upgrade.set_defaults(handler=_cmd_upgrade)

    pin = commands.add_parser(
        "pin",
        help="alias of `models add SERVICE PACKAGE==VERSION --index NAME`",
        description="Ship a published version of a workspace package with SERVICE (tests keep "
        "using the source): `models add SERVICE PACKAGE==VERSION --index NAME`.",
    )
    _service_argument(pin)
    pin.add_argument(
        "requirement",
        metavar="PACKAGE==VERSION",
        help="a package of packages/ and its exact published version",
    )
    _change_options(pin, index=True)
    pin.set_defaults(handler=_cmd_add)
    unpin = commands.add_parser(
        "unpin",
        help="alias of `models add SERVICE PACKAGE` (source)",
        description="Ship a workspace package with SERVICE from its source again: "
        "`models add SERVICE PACKAGE`.",
    )
    _service_argument(unpin)
    unpin.add_argument("requirement", metavar="PACKAGE", help="a package of packages/")
    _change_options(unpin, index=False)
    unpin.set_defaults(handler=_cmd_add, index=None, accept=False)
    pins = commands.add_parser(
        "pins",
        help="alias of `models`",
        description="Every service's model libraries and where they come from: `models`.",
    )
    add_root(pins)
    pins.set_defaults(handler=_cmd_models)


def _service_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", metavar="SERVICE", help="the service that builds on it")


def _change_options(parser: argparse.ArgumentParser, *, index: bool) -> None:
    if index:
        parser.add_argument(
            "--index",
            metavar="NAME",
            help="the configured index PACKAGE is published to ([tool.lambdapress.indexes])",
        )
    parser.add_argument(
        "--accept",
        action="store_true",
        help="record the new version as accepted even if it breaks the models",
    )
    parser.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    add_root(parser)


def _cmd_models(args: argparse.Namespace) -> int:
    """A table of every service's model libraries."""
    from lambdapress.bundle.lock import read_lock
    from lambdapress.indexes.sources import read_models

    workspace = load_workspace(root_of(args))
    lock = read_lock(workspace.root) if (workspace.root / LOCK_FILE).is_file() else None
    libraries = read_models(workspace, lock)
    if not libraries:
        print("no model libraries: no service depends on one")
        return 0
    rows = [
        [
            lib.service,
            lib.package,
            _origin(lib.origin),
            lib.version or "not locked",
            lib.index or "-",
            _accepted(lib.origin, lib.version, lib.accepted),
        ]
        for lib in libraries
    ]
    print_table(["service", "package", "from", "version", "index", "accepted"], rows)
    return 0


def _origin(origin: str) -> str:
    return {"workspace": "workspace source", "pinned": "pinned published", "index": "published"}[
        origin
    ]


def _accepted(origin: str, version: str | None, accepted: str | None) -> str:
    if origin == "workspace":
        return "-"
    if accepted is None:
        return "none: package refuses"
    if accepted == version:
        return accepted
    return f"{accepted} (package checks {version})"


def _cmd_add(args: argparse.Namespace) -> int:
    """Plan, print, and (unless --dry-run) write a model library change."""
    from lambdapress.publish.models_plan import (
        LibraryRequest,
        parse_requirement,
        plan_add,
        real_deps,
    )

    workspace = load_workspace(root_of(args))
    package, specifier = parse_requirement(args.requirement)
    request = LibraryRequest(
        service=args.service,
        package=package,
        specifier=specifier,
        index=getattr(args, "index", None),
        accept=args.accept,
    )
    plan = plan_add(workspace, request, real_deps(workspace))
    return _apply(plan, args.dry_run)


def _cmd_upgrade(args: argparse.Namespace) -> int:
    """Plan, print, and (unless --dry-run) write an upgrade."""
    from lambdapress.publish.models_plan import plan_upgrade, real_deps

    workspace = load_workspace(root_of(args))
    plan = plan_upgrade(
        workspace, args.service, args.package, real_deps(workspace), to=args.to, accept=args.accept
    )
    return _apply(plan, args.dry_run)


def _apply(plan: ModelsPlan, dry_run: bool) -> int:
    from lambdapress.publish.models_plan import apply_plan

    print(describe(plan))
    if not plan.changed:
        print("nothing to change")
        return 0
    if dry_run:
        print("dry run: nothing was written")
        return 0
    apply_plan(plan)
    print("written: " + ", ".join(str(change.path) for change in plan.changed))
    return 0


def describe(plan: ModelsPlan) -> str:
    """The plan: what ships, from where, the version check, then each file's change."""
    where = f" from index {plan.index!r} ({plan.index_url})" if plan.index else " from source"
    before = plan.version_before or "none"
    lines = [
        f"{plan.action} {plan.service}: {plan.requirement}{where}",
        f"  version: {before} -> {plan.version_after or 'unknown'} ({_origin(plan.origin)})",
    ]
    if plan.check is not None:
        lines.extend(f"  {line}" for line in plan.check.lines())
    if plan.origin != "workspace":
        lines.append(f"  accepted: {plan.accepted_before or 'none'} -> {plan.accepted_after}")
    if plan.awaits_acceptance:
        lines.append(
            f"  `lambdapress package` will refuse {plan.package} {plan.version_after} until "
            f"the service accepts it: lambdapress models upgrade {plan.service} {plan.package} "
            "--accept"
        )
    for change in plan.changed:
        lines.append(_diff(change))
    return "\n".join(lines)


def _diff(change: FileChange) -> str:
    if change.path.name == LOCK_FILE:
        return _lock_summary(change)
    diff = difflib.unified_diff(
        change.before.splitlines(keepends=True),
        change.after.splitlines(keepends=True),
        fromfile=f"{change.path} (before)",
        tofile=f"{change.path} (after)",
    )
    return "".join(diff).rstrip("\n")


def _lock_summary(change: FileChange) -> str:
    import tomllib

    def versions(text: str) -> dict[str, str]:
        data = tomllib.loads(text) if text else {}
        return {p["name"]: str(p.get("version", "")) for p in data.get("package", [])}

    old, new = versions(change.before), versions(change.after)
    moved = [
        f"  {name} {old.get(name, '(new)')} -> {new.get(name, '(removed)')}"
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]
    return "\n".join([f"{change.path}:", *(moved or ["  (only sources and hashes change)"])])
