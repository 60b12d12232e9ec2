"""The workspace's own token issuer: what `serve`'s JWT authorizers trust, `token` signs with.

Deployed, a JWT authorizer trusts the stage's issuer (a Cognito user pool, any OpenID
provider: `config.authorizer_settings`); locally there is no such provider, and a test or a
`curl` needs tokens that pass or fail exactly where a deployed API's would. So the workspace
has one RSA key pair of its own, made on first use and kept in `.lambdapress/local-jwks.json`
(git-ignored: the private key never leaves the machine; file mode 0600), and locally every
JWT authorizer trusts exactly that key, with the issuer `LOCAL_ISSUER` and the authorizer's
name as the audience (a token for `users` does not pass `admins`, as tokens of two user pools
would not). `lambdapress token` signs with it (`sign`); the HTTP front end verifies with it
(`LocalIssuer.verify`) as API Gateway verifies a JWT:

- the token is the identity source's value, with an optional `Bearer ` prefix;
- its signature (RS256) by a key of the set, found by `kid`;
- `exp` in the future, `nbf` and `iat` (when present) not;
- `iss` the issuer, and `aud` (or, without it, `client_id`) one of the audiences;
- the route's scopes: at least one in the token's `scope` (space-separated) or `scp` (a list).

Made with joserfc (already installed with moto; a maintained JOSE implementation that checks
the signature and the registered claims).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from lambdapress.errors import EmulatorError
from lambdapress.support.files import temporary_path

if TYPE_CHECKING:  # the model (pydantic) costs `lambdapress token --authorizer` half a second
    from lambdapress.model.application import Application

LOCAL_FOLDER = Path(".lambdapress")
KEYS_FILE = LOCAL_FOLDER / "local-jwks.json"
LOCAL_ISSUER = "https://lambdapress.localhost/"
"""The `iss` of the workspace's tokens, and what `serve` requires."""
_ALGORITHM = "RS256"
_LEEWAY = 0


class Unauthorized(Exception):
    """The token is missing, malformed, expired or not for this authorizer: 401."""


class Forbidden(Exception):
    """The token is good but carries none of the route's scopes: 403."""


@dataclass(frozen=True)
class Verified:
    """What a verified token carries: its claims and its scopes."""

    claims: dict[str, Any]
    scopes: tuple[str, ...]


class LocalIssuer:
    """The workspace's key pair (made once, kept under `.lambdapress/`)."""

    def __init__(self, root: Path) -> None:
        self.path = root / KEYS_FILE
        self._key = _load_or_create(self.path)
        self._public = KeySet([RSAKey.import_key(self._key.as_dict(private=False))])

    def sign(
        self,
        audience: str,
        *,
        subject: str = "local-user",
        scopes: Sequence[str] = (),
        lifetime: int = 3600,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A token for the authorizer `audience`, valid `lifetime` seconds from now."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": LOCAL_ISSUER,
            "aud": audience,
            "sub": subject,
            "iat": now,
            "exp": now + lifetime,
            **dict(claims or {}),
        }
        if scopes:
            payload["scope"] = " ".join(scopes)
        header = {"alg": _ALGORITHM, "kid": self._key.kid, "typ": "JWT"}
        return jwt.encode(header, payload, self._key, algorithms=[_ALGORITHM])

    def verify(self, value: str | None, audience: str, scopes: Sequence[str]) -> Verified:
        """The token in `value` (an identity source's), checked as API Gateway checks one."""
        if not value:
            raise Unauthorized("no token")
        token = value[7:].strip() if value[:7].lower() == "bearer " else value.strip()
        try:
            decoded = jwt.decode(token, self._public, algorithms=[_ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"the token does not verify: {exc}") from None
        claims = dict(decoded.claims)
        _check_times(claims)
        if claims.get("iss") != LOCAL_ISSUER:
            raise Unauthorized(f"the token's issuer is {claims.get('iss')!r}, not {LOCAL_ISSUER}")
        audiences = _audiences(claims)
        if audience not in audiences:
            raise Unauthorized(f"the token is for {sorted(audiences)}, not {audience!r}")
        carried = _scopes(claims)
        if scopes and not set(scopes) & set(carried):
            raise Forbidden(
                f"the token's scopes {list(carried)} hold none of the route's {list(scopes)}"
            )
        return Verified(claims, carried)


def _check_times(claims: Mapping[str, Any]) -> None:
    now = time.time()
    expires = claims.get("exp")
    if not isinstance(expires, int | float):
        raise Unauthorized("the token has no exp")
    if expires <= now - _LEEWAY:
        raise Unauthorized("the token has expired")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int | float) or value > now + _LEEWAY):
            raise Unauthorized(f"the token's {name} is in the future")


def _audiences(claims: Mapping[str, Any]) -> set[str]:
    """`aud` (a string or a list), else `client_id`, as API Gateway reads them."""
    audience = claims.get("aud")
    if audience is None:
        audience = claims.get("client_id")
    if isinstance(audience, str):
        return {audience}
    if isinstance(audience, list):
        return {a for a in audience if isinstance(a, str)}
    return set()


def _scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """`scope` (space-separated) or `scp` (a list or a string)."""
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(str(s) for s in value)
    return ()


def _load_or_create(path: Path) -> RSAKey:
    """The key in `path`; made first when there is none (two makers: the first one wins)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _ignore_folder(path.parent)
        key = RSAKey.generate_key(2048, parameters={"alg": _ALGORITHM, "use": "sig"}, private=True)
        key.ensure_kid()
        temporary = temporary_path(path)
        try:
            temporary.chmod(0o600)
            temporary.write_text(json.dumps({"keys": [key.as_dict(private=True)]}, indent=2))
            with contextlib.suppress(FileExistsError):  # another process made one meanwhile
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    try:
        found = json.loads(path.read_text(encoding="utf-8"))["keys"][0]
        key = RSAKey.import_key(found)
    except (OSError, ValueError, KeyError, IndexError, TypeError, JoseError) as exc:
        raise EmulatorError(
            f"{path} does not hold the workspace's local key pair: {exc}",
            hint="delete it: serve and lambdapress token make a new one (tokens signed with "
            "the old one stop working)",
        ) from None
    if not key.is_private:
        raise EmulatorError(
            f"{path} holds a public key only", hint="delete it: a new pair is made on first use"
        )
    return key


def _ignore_folder(folder: Path) -> None:
    """`.lambdapress/` ignores itself, so its key is never committed even without .gitignore."""
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("# local secrets of lambdapress: never commit them\n*\n")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_lifetime(text: str) -> int:
    """`90s`, `10m`, `1h`, `7d` (or plain seconds) as seconds; a ValueError says the form."""
    value = text.strip().lower()
    unit = _UNITS.get(value[-1:]) if value else None
    digits = value[:-1] if unit is not None else value
    if not digits.isdigit() or int(digits) == 0:
        raise ValueError(f"{text!r} is not a lifetime: write e.g. 90s, 10m, 1h or 7d")
    return int(digits) * (unit or 1)


def parse_claims(pairs: Sequence[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs as claims: a VALUE that reads as JSON is that value, else the text."""
    claims: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{pair!r} is not a claim: write KEY=VALUE (e.g. email=a@b.c)")
        try:
            claims[key] = json.loads(text)
        except ValueError:
            claims[key] = text
    return claims


def jwt_authorizer_names(application: Application) -> list[str]:
    """The authorizers the application's routes name that are not Lambda ones (JWT), sorted."""
    from lambdapress.model.authorizers import lambda_authorizers, protected_routes

    lambdas = lambda_authorizers(application)
    return sorted(
        {route.authorizer or "" for _, route in protected_routes(application)} - set(lambdas)
    )


def default_authorizer(application: Application | None) -> str:
    """The one JWT authorizer the routes name, for `lambdapress token` without `--authorizer`."""
    names = jwt_authorizer_names(application) if application is not None else []
    if len(names) == 1:
        return names[0]
    if not names:
        raise EmulatorError(
            "no route of the build names a JWT authorizer, so there is no default one to sign for"
            if application is not None
            else "there is no build to find the routes' authorizer in",
            hint="name it: lambdapress token --authorizer NAME (the name in "
            '@triggers.authorized("NAME"))',
        )
    raise EmulatorError(
        f"the routes name {len(names)} JWT authorizers ({', '.join(names)})",
        hint="choose one: lambdapress token --authorizer NAME",
    )
