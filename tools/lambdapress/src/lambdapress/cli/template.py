"""`lambdapress template`: write a stage's CloudFormation template for a pipeline of one's own."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lambdapress.cli._args import Subcommands, add_root, root_of
from lambdapress.deploy.config import load_deploy_config
from lambdapress.deploy.template import artifact_key, template_body
from lambdapress.deploy.template_ids import ARTIFACT_BUCKET
from lambdapress.errors import LambdapressError
from lambdapress.model.manifest import manifest_path, read_manifest
from lambdapress.support import files


def register(commands: Subcommands) -> None:
    """Add `template` to the `lambdapress` command line."""
    parser = commands.add_parser(
        "template",
        help="write the CloudFormation template of a stage (JSON)",
        description="Write the CloudFormation template of the stack <project>-<stage> from "
        "dist/manifest.json (what `package` built) and the root's [tool.lambdapress.deploy], "
        "for deploying with a pipeline "
        "of your own or importing into CDK. The zips go to the bucket given as the "
        f"{ARTIFACT_BUCKET} parameter, under the keys the template names.",
    )
    parser.add_argument("--stage", required=True, help="the stage, e.g. dev (part of every name)")
    parser.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="where to write it (default: dist/cloudformation/<project>-<stage>.json)",
    )
    add_root(parser)
    parser.set_defaults(handler=_cmd_template)


def _cmd_template(args: argparse.Namespace) -> int:
    root = root_of(args)
    config = load_deploy_config(root)
    stack = config.stack_name(args.stage)
    application = read_manifest(manifest_path(root))
    body = template_body(application, config, args.stage, config.bucket)
    output: Path = args.output or root / "dist" / "cloudformation" / f"{stack}.json"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        files.write_text(output, body)
    except OSError as problem:
        raise LambdapressError(
            f"cannot write the template: {problem.strerror or problem}",
            path=output,
            hint="choose another --output (a file in a writable folder)",
        ) from None
    resources = len(json.loads(body)["Resources"])
    shown = output.relative_to(root) if output.is_relative_to(root) else output
    print(f"template of stack {stack}: {shown} ({resources} resources)")
    if config.bucket is None:
        print(f"  parameter {ARTIFACT_BUCKET}: the bucket you upload the zips to (no default)")
    else:
        print(f"  parameter {ARTIFACT_BUCKET}: defaults to {config.bucket}")
    example = artifact_key(config.prefix, "<service>", "<sha256 of the zip>")
    print(f"  zips: dist/<service>/<function>.zip uploaded as {example}")
    return 0
