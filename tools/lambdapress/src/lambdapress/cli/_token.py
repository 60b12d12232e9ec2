"""`lambdapress token`: a JWT that `serve`'s JWT authorizers accept, for tests and `curl`.

    curl -H "Authorization: Bearer $(lambdapress token --scope orders:write)" \
         http://127.0.0.1:3000/orders

Signed with the workspace's own key pair (`emulator.local_tokens`), for one authorizer (its
name is the token's audience); printed alone on stdout so a shell can capture it.
"""

from __future__ import annotations

import argparse

from lambdapress.cli._args import Subcommands, add_root_and_manifest, root_and_manifest
from lambdapress.errors import ConfigError


def register(commands: Subcommands) -> None:
    """Add `token` to the `lambdapress` command line."""
    token = commands.add_parser(
        "token",
        help="print a JWT that serve's JWT authorizers accept (tests, curl)",
        description="Print a JWT signed with the workspace's local key pair "
        "(.lambdapress/local-jwks.json, made on first use, git-ignored), for one JWT authorizer: "
        "`lambdapress serve` verifies protected routes' tokens with that key, as API Gateway "
        "verifies the stage's issuer's. Send it as `Authorization: Bearer TOKEN`.",
    )
    token.add_argument(
        "--authorizer",
        metavar="NAME",
        default=None,
        help="the authorizer to sign for (default: the one JWT authorizer the routes name)",
    )
    token.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        default=[],
        metavar="SCOPE",
        help="an OAuth scope the token carries (repeat for more)",
    )
    token.add_argument("--sub", default="local-user", help="the token's subject (its user)")
    token.add_argument(
        "--expires",
        default="1h",
        metavar="LIFETIME",
        help="how long it is valid: 90s, 10m, 1h, 7d",
    )
    token.add_argument(
        "--claim",
        dest="claims",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another claim (VALUE as JSON when it reads as JSON); repeat for more",
    )
    add_root_and_manifest(token, "find the routes' authorizers in")
    token.set_defaults(handler=_cmd_token)


def _cmd_token(args: argparse.Namespace) -> int:
    from lambdapress.emulator.local_tokens import (
        LocalIssuer,
        default_authorizer,
        parse_claims,
        parse_lifetime,
    )

    root, manifest = root_and_manifest(args)
    try:
        lifetime = parse_lifetime(args.expires)
        claims = parse_claims(args.claims)
    except ValueError as problem:
        raise ConfigError(str(problem), hint="see lambdapress token --help") from None
    name = args.authorizer
    if name is None:
        from lambdapress.model.manifest import read_manifest  # the build: only to find a name

        name = default_authorizer(read_manifest(manifest) if manifest.exists() else None)
    issuer = LocalIssuer(root)
    print(issuer.sign(name, subject=args.sub, scopes=args.scopes, lifetime=lifetime, claims=claims))
    return 0
