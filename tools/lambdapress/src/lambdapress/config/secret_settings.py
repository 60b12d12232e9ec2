"""What a service reads at run time: `[tool.lambdapress.secrets]` and `parameters`.

```toml
[tool.lambdapress.secrets.stripe]             # Secrets Manager
name = "${project}/${stage}/payments/stripe"  # default: ${project}/${stage}/${service}/stripe
max_age = 300                                 # seconds a value is reused before it is re-read
kms_key = "arn:aws:kms:eu-west-1:123456789012:key/..."  # only for a customer-managed key

[tool.lambdapress.parameters.tax-rate]        # SSM Parameter Store (String or SecureString)
path = "/${project}/${stage}/orders/tax-rate" # default: /${project}/${stage}/${service}/tax-rate
```

The values live in the account, never in a pyproject, a template or a function's
configuration: deploy grants each function of the service read access to exactly these names
(`secretsmanager:GetSecretValue`, `ssm:GetParameter`, `kms:Decrypt` on a named key) and passes
the names in its environment (`STRIPE_SECRET_NAME`); the function reads the value through
`lambdapress_runtime.secrets`, cached for `max_age` seconds. A name differs per stage through
`${project}`, `${stage}` and `${service}`, substituted when a stage is rendered (locally the
stage is `local`); a name without them is the same secret in every stage (a shared one).
"""

from __future__ import annotations

import re
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

PLACEHOLDERS: Final = ("project", "stage", "service")
"""What a name may contain as `${...}`, substituted per stage."""
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
DEFAULT_MAX_AGE: Final = 300
"""Seconds a value read is reused: a rotated secret is seen within five minutes, and a warm
function makes one request per secret per five minutes (Secrets Manager bills per 10,000)."""
MAX_AGE_LIMIT: Final = 86_400
# Secrets Manager: 1 to 512 of ASCII letters, digits and /_+=.@- (placeholders aside).
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
# Parameter Store: letters, digits and _.-/ ; a hierarchy starts with `/`; at most 1011 long.
_PARAMETER_PATH = re.compile(r"^[A-Za-z0-9_./-]{1,1011}$")
_KMS_KEY = re.compile(r"^arn:[^:]+:kms:[^:]*:[^:]*:(key|alias)/.+$")


def _without_placeholders(value: str) -> str:
    """`value` with each allowed `${...}` replaced by a letter; a wrong one is an error."""
    for found in _PLACEHOLDER.finditer(value):
        if found.group(1) not in PLACEHOLDERS:
            allowed = ", ".join(f"${{{p}}}" for p in PLACEHOLDERS)
            raise ValueError(f"{found.group(0)} is not a placeholder here (use {allowed})")
    return _PLACEHOLDER.sub("x", value)


def _check_kms_key(value: str | None) -> str | None:
    if value is not None and not _KMS_KEY.match(_PLACEHOLDER.sub("x", value)):
        raise ValueError(f"{value!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)")
    return value


class SecretSettings(BaseModel):
    """`[tool.lambdapress.secrets.<name>]`: one Secrets Manager secret the service reads."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str | None = None
    """The secret's name in the account; None: `${project}/${stage}/${service}/<name>`."""
    max_age: int = Field(default=DEFAULT_MAX_AGE, ge=0, le=MAX_AGE_LIMIT)
    kms_key: str | None = None
    """The customer-managed key it is encrypted with (Secrets Manager's own key needs none)."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET_NAME.match(_without_placeholders(value)):
            raise ValueError(
                f"{value!r} is not a Secrets Manager name: 1 to 512 of letters, digits and "
                "/_+=.@- (with ${project}, ${stage}, ${service})"
            )
        return value

    @field_validator("kms_key")
    @classmethod
    def _check_kms(cls, value: str | None) -> str | None:
        return _check_kms_key(value)


class ParameterSettings(BaseModel):
    """`[tool.lambdapress.parameters.<name>]`: one SSM parameter the service reads."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    path: str | None = None
    """The parameter's name; None: `/${project}/${stage}/${service}/<name>`."""
    max_age: int = Field(default=DEFAULT_MAX_AGE, ge=0, le=MAX_AGE_LIMIT)
    kms_key: str | None = None
    """The customer-managed key of a SecureString (the default `aws/ssm` key needs none)."""

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str | None) -> str | None:
        if value is None:
            return value
        plain = _without_placeholders(value)
        if not _PARAMETER_PATH.match(plain):
            raise ValueError(
                f"{value!r} is not a Parameter Store name: letters, digits and _.-/ (with "
                "${project}, ${stage}, ${service}), at most 1011 characters"
            )
        if "/" in plain and not plain.startswith("/"):
            raise ValueError(f"{value!r}: a hierarchical parameter name starts with /")
        if plain.lstrip("/").lower().startswith(("aws", "ssm")):
            raise ValueError(f"{value!r}: names starting with aws or ssm are AWS's")
        return value

    @field_validator("kms_key")
    @classmethod
    def _check_kms(cls, value: str | None) -> str | None:
        return _check_kms_key(value)


FIXES = {
    "secrets": "declare each secret as [tool.lambdapress.secrets.NAME] (NAME: lowercase "
    'letters, digits and "-") with optional name = "${project}/${stage}/${service}/NAME", '
    f"max_age (0 to {MAX_AGE_LIMIT} seconds) and kms_key = a KMS key ARN",
    "parameters": "declare each parameter as [tool.lambdapress.parameters.NAME] with optional "
    'path = "/${project}/${stage}/${service}/NAME", max_age (0 to '
    f"{MAX_AGE_LIMIT} seconds) and kms_key = a KMS key ARN",
}
