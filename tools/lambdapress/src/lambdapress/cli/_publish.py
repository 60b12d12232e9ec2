"""The command-line face of publishing: `publish`, `index serve|list` and `models`.

`models` (from `models_cli`) has the aliases `pin`, `unpin`, `pins`.
`register(commands)` adds the sub-commands to lambdapress's parser. Like the rest of the CLI,
each handler calls the library, prints the frozen result and returns the exit code; user
mistakes are raised as LambdapressError and printed by `lambdapress.cli.main`. No handler
prints a secret: plans and indexes only ever say where credentials come from.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lambdapress.cli._args import MAX_PORT, Subcommands, add_root, bounded_int, root_of
from lambdapress.cli._console import print_table, steps
from lambdapress.cli._models import register as register_models
from lambdapress.config.pyproject import PYPROJECT
from lambdapress.config.workspace import Workspace, load_workspace
from lambdapress.errors import IndexServerError

if TYPE_CHECKING:
    from lambdapress.publish.plan import PackagePlan, PublishPlan

# The library is imported inside each handler: `lambdapress package` or `workspace` must not
# pay for (or depend on) twine, build and tomlkit, which publishing and the pyproject edits of
# `models`/`pin` need.


def register(commands: Subcommands) -> None:
    """Add the publishing commands to the `lambdapress` sub-parsers."""
    publish = commands.add_parser(
        "publish",
        help="build, check and upload shared packages to a private index",
        description="Build each package (wheel and sdist), check it, compare its models with "
        "the last published version, and upload it. Without names: every package; those "
        "already published with identical files are skipped.",
    )
    publish.add_argument("packages", nargs="*", metavar="PACKAGE", help="packages/ to publish")
    publish.add_argument(
        "--index",
        metavar="NAME",
        help="the configured index to upload to ([tool.lambdapress.indexes])",
    )
    publish.add_argument("--dry-run", action="store_true", help="plan and check, upload nothing")
    publish.add_argument("--tag", action="store_true", help="git tag <package>/<version> after")
    publish.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="where to build (default: .cache/lambdapress/publish)",
    )
    add_root(publish)
    publish.set_defaults(handler=_cmd_publish)

    index = commands.add_parser(
        "index",
        help="the configured package indexes; a local one",
        description="List the indexes of [tool.lambdapress.indexes], or serve a local one.",
    )
    actions = index.add_subparsers(title="actions", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve",
        help="run a local pypiserver on 127.0.0.1 until Ctrl-C",
        description="Serve .cache/lambdapress/index on 127.0.0.1 with pypiserver. With the "
        "index's credential variables set, uploads need them.",
    )
    serve.add_argument(
        "--port",
        type=bounded_int(1, MAX_PORT),
        metavar="PORT",
        help="port (default: from the index's URL, or 8080)",
    )
    serve.add_argument(
        "--name",
        metavar="NAME",
        help="the upload-api index of [tool.lambdapress.indexes] it serves (default: local)",
    )
    # `--index` was this option's first spelling; everywhere else --index NAME chooses the
    # index to publish to or install from, so serving one is `--name`.
    serve.add_argument("--index", dest="name", metavar="NAME", help=argparse.SUPPRESS)
    serve.add_argument("--no-fallback", action="store_true", help="do not redirect to PyPI")
    add_root(serve)
    serve.set_defaults(handler=_cmd_index_serve)
    listing = actions.add_parser(
        "list",
        help="the indexes of the root pyproject",
        description="Each index of [tool.lambdapress.indexes]: its kind, where it is, and where "
        "its credentials come from (never their values).",
    )
    add_root(listing)
    listing.set_defaults(handler=_cmd_index_list)

    register_models(commands)


def _load(args: argparse.Namespace) -> Workspace:
    return load_workspace(root_of(args))


def _cmd_publish(args: argparse.Namespace) -> int:
    """Plan, print the plan, then upload (unless --dry-run or something is blocked)."""
    from lambdapress.indexes.credentials import resolve_configured
    from lambdapress.publish.publisher import execute_publish, prepare_publish

    workspace = _load(args)
    index = resolve_configured(workspace.root, args.index)
    with steps("publish") as display:
        plan = prepare_publish(
            workspace,
            args.packages,
            index,
            out_dir=args.out,
            create_tags=args.tag,
            progress=display.step,
        )
    print_plan(plan)
    refusal = plan.refusal()
    if refusal is not None:
        raise refusal
    if args.dry_run:
        print("dry run: nothing was uploaded")
        return 0
    if not plan.to_publish:
        print("nothing to publish")
        return 0
    with steps("upload") as display:
        result = execute_publish(plan, index, workspace.root, progress=display.step)
    for package in result.published:
        tag = f", tagged {package.tag}" if package.tagged else ""
        print(f"published {package.name} {package.version} to {result.index}{tag}")
        for filename in package.files:
            print(f"  {filename}")
    print("install it elsewhere with:")
    for package in result.published:
        print(f"  pip install --index-url {plan.index_url} {package.name}=={package.version}")
    return 0


def print_plan(plan: PublishPlan) -> None:
    """The plan as a table, then each package's reasons and compatibility report."""
    print(
        f"index {plan.index}: {plan.index_url} (upload {plan.upload_url}; "
        f"credentials: {plan.credentials_from})\n"
    )
    # The tag column only when tags will be made (--tag): a tag shown otherwise reads as a
    # promise that one is created.
    tags = plan.create_tags
    rows = [
        [p.name, p.version, p.status, p.baseline or "-", *([p.tag] if tags else []), len(p.files)]
        for p in plan.packages
    ]
    headers = ["package", "version", "status", "since", *(["tag"] if tags else []), "files"]
    print_table(headers, rows)
    for package in plan.packages:
        # A blocked package's reasons and fix are the refusal's text (`plan.refusal()`, the
        # `error:` that follows): printed here too, the user would read them twice.
        reasons = package.status != "blocked"
        print("\n" + "\n".join(describe_package(package, reasons=reasons)))


def describe_package(package: PackagePlan, *, reasons: bool = True) -> list[str]:
    """One package: its reasons, files with their hashes, and the per-model report.

    `reasons=False` leaves out the reasons and the fix (a refusal's error carries them).
    """
    lines = [f"{package.name} {package.version}: {package.status}"]
    if reasons:
        lines.extend(f"  - {reason}" for reason in package.reasons)
        if package.hint and package.status == "blocked":
            lines.append(f"  fix: {package.hint}")
    for file in package.files:
        lines.append(f"  {file.filename}  sha256 {file.sha256}")
    if package.compat is not None:
        lines.append(f"  models compared with {package.compat.baseline}:")
        lines.extend(f"    {line}" for line in package.compat.lines())
    return lines


def _cmd_index_list(args: argparse.Namespace) -> int:
    """A table of the configured indexes; credentials shown as variable names and set/unset."""
    from lambdapress.indexes.config import UploadApiIndex, load_indexes

    root = root_of(args)
    indexes = load_indexes(root)
    if not indexes:
        print("no indexes: add [tool.lambdapress.indexes.NAME] to the root pyproject.toml")
        return 0
    rows = []
    for index in indexes:
        if isinstance(index, UploadApiIndex):
            state = "set" if os.environ.get(index.password_variable) else "unset"
            credentials = f"${index.username_variable} / ${index.password_variable} ({state})"
            rows.append([index.name, index.kind, index.index_url, credentials])
        else:
            where = f"{index.domain}/{index.repository} ({index.domain_owner}, {index.region})"
            rows.append([index.name, index.kind, where, "boto3 token"])
    print_table(["name", "kind", "where", "credentials"], rows)
    return 0


def _cmd_index_serve(args: argparse.Namespace) -> int:
    """Run pypiserver on 127.0.0.1 until interrupted, after printing how to use it."""
    from lambdapress.indexes.config import (
        CodeArtifactIndex,
        UploadApiIndex,
        choose_index,
        load_indexes,
    )
    from lambdapress.publish.pypiserver import IndexAlreadyServed, plan_server, start_server
    from lambdapress.support.files import cache_folder

    root = root_of(args)
    indexes = load_indexes(root)
    config: UploadApiIndex | CodeArtifactIndex | None = None
    if args.name is not None or any(i.name == "local" for i in indexes):
        config = choose_index(indexes, args.name or "local", root / PYPROJECT)
    if isinstance(config, CodeArtifactIndex):
        raise IndexServerError(
            f"index {config.name!r} is CodeArtifact; only an upload-api index can be served",
            hint="pass --name with a local upload-api index",
        )
    plan = plan_server(
        cache_folder(root) / "index", port=args.port, index=config, fallback=not args.no_fallback
    )
    try:
        server = start_server(plan)
    except IndexAlreadyServed as running:
        # Attach: the files are the same, so the running server is the index asked for; a
        # different port asked explicitly is a different index, refused (exit 1).
        if running.url is None or (args.port is not None and running.url != plan.url):
            raise
        print(f"local index already running on {running.url}simple/ "
              f"(lambdapress index serve, process {running.holder.pid}): using it")  # fmt: skip
        print(f"stop it:  {running.holder.stop_hint()}")
        return 0
    try:
        name = config.name if config is not None else "local"
        print(f"local index on {plan.index_url} (files in {plan.packages_dir})")
        if plan.htpasswd is not None and config is not None:
            print(
                f"uploads need ${config.username_variable} / ${config.password_variable} "
                "(as set in this shell)"
            )
        else:
            print("uploads are not authenticated (anyone on this machine may upload)")
        if config is None:
            print("configure it in the root pyproject.toml:")
            print(f'  [tool.lambdapress.indexes.local]\n  upload-url = "{plan.url}"')
            print(f'  index-url = "{plan.index_url}"')
        print(f"publish:  lambdapress publish PACKAGE --index {name}")
        print(f"install:  pip install --index-url {plan.index_url} PACKAGE")
        print("stop:     Ctrl-C", flush=True)
        # SIGINT and SIGTERM (nox, CI) raise Interrupted from `main()`'s handlers; the
        # `finally` stops pypiserver, which also dies by itself if we are killed outright.
        code = server.wait()
    finally:
        server.stop()
    raise IndexServerError(
        f"pypiserver stopped by itself (exit code {code})",
        path=server.log,
        hint="read its log; start it again with lambdapress index serve",
    )
