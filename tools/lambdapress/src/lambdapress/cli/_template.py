"""`lambdapress template`: write a stage's template for a pipeline of one's own.

CloudFormation by default, or any registered format (`--format sam`; `formats.registry`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lambdapress.cli._args import Subcommands, add_root, root_of
from lambdapress.deploy.config import load_deploy_config
from lambdapress.deploy.template import artifact_key
from lambdapress.deploy.template_ids import ARTIFACT_BUCKET
from lambdapress.deploy.template_network import network_warnings
from lambdapress.errors import LambdapressError
from lambdapress.formats.registry import (
    DEFAULT_FORMAT,
    output_format,
    output_formats,
    resource_count,
)
from lambdapress.model.manifest import manifest_path, read_manifest
from lambdapress.support import files


def register(commands: Subcommands) -> None:
    """Add `template` to the `lambdapress` command line."""
    formats = output_formats()
    parser = commands.add_parser(
        "template",
        help="write the template of a stage (CloudFormation, or SAM with --format sam)",
        description="Write the template of the stack <project>-<stage> from "
        "dist/manifest.json (what `package` built) and the root's [tool.lambdapress.deploy], "
        "for deploying with a pipeline of your own or importing into CDK. The zips go to the "
        f"bucket given as the {ARTIFACT_BUCKET} parameter, under the keys the template names; "
        "every format names the same ones. Formats: "
        + "; ".join(f"{f.name}, {f.description}" for f in formats)
        + ".",
    )
    parser.add_argument("--stage", required=True, help="the stage, e.g. dev (part of every name)")
    parser.add_argument(
        "--format",
        choices=[f.name for f in formats],
        default=DEFAULT_FORMAT,
        help="the template's format",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="where to write it (default: "
        + ", ".join(f"dist/{f.name}/{f.file_name('<project>-<stage>')}" for f in formats)
        + ")",
    )
    add_root(parser)
    parser.set_defaults(handler=_cmd_template)


def _cmd_template(args: argparse.Namespace) -> int:
    root = root_of(args)
    chosen = output_format(args.format)
    config = load_deploy_config(root)
    stack = config.stack_name(args.stage)
    application = read_manifest(manifest_path(root))
    body = chosen.render(application, config, args.stage, config.bucket)
    output: Path = args.output or root / "dist" / chosen.name / chosen.file_name(stack)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        files.write_text(output, body)
    except OSError as problem:
        raise LambdapressError(
            f"cannot write the template: {problem.strerror or problem}",
            path=output,
            hint="choose another --output (a file in a writable folder)",
        ) from None
    shown = output.relative_to(root) if output.is_relative_to(root) else output
    resources = resource_count(body)
    counted = "" if resources is None else f" ({resources} resources)"
    kind = "" if chosen.name == DEFAULT_FORMAT else f"{chosen.name} "
    print(f"{kind}template of stack {stack}: {shown}{counted}")
    if config.bucket is None:
        print(f"  parameter {ARTIFACT_BUCKET}: the bucket you upload the zips to (no default)")
    else:
        print(f"  parameter {ARTIFACT_BUCKET}: defaults to {config.bucket}")
    example = artifact_key(config.prefix, "<service>", "<sha256 of the zip>")
    print(f"  zips: dist/<service>/<function>.zip uploaded as {example}")
    for warning in network_warnings(application, config, args.stage):
        print(f"warning: {warning}", file=sys.stderr)
    return 0
