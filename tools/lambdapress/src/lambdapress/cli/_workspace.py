"""`lambdapress workspace`: the packages and services of the workspace, with their settings."""

from __future__ import annotations

import argparse

from lambdapress.cli._args import Subcommands, add_root, root_of
from lambdapress.cli._console import print_table
from lambdapress.config.workspace import load_workspace


def register(commands: Subcommands) -> None:
    """Add `workspace` to the `lambdapress` command line."""
    workspace = commands.add_parser(
        "workspace",
        help="list the packages and services of the workspace",
        description="List the workspace members and each service's Lambda settings.",
    )
    add_root(workspace)
    workspace.set_defaults(handler=_cmd_workspace)


def _cmd_workspace(args: argparse.Namespace) -> int:
    workspace = load_workspace(root_of(args))
    print(f"workspace: {workspace.root}")
    if workspace.answers is not None:
        version = workspace.answers.commit or "unknown version"
        print(f"template:  {workspace.answers.src_path} @ {version}")
    elif workspace.template_root:
        print("template:  this repository (copier.yml)")
    print()
    print("packages")
    if workspace.packages:
        rows = [
            [p.name, p.version or "dynamic", workspace.relative(p.path)] for p in workspace.packages
        ]
        print_table(["name", "version", "path"], rows)
    else:
        print("  (none)")
    print()
    print("services")
    if workspace.services:
        rows = [
            [
                s.name,
                s.settings.runtime,
                s.settings.architecture,
                s.settings.memory,
                s.settings.timeout,
                workspace.relative(s.path),
            ]
            for s in workspace.services
        ]
        print_table(["name", "runtime", "architecture", "memory", "timeout", "path"], rows)
    else:
        print("  (none)")
    return 0
