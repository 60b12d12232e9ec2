"""AWS's own rules for the names and values lambdapress hands it, each next to where AWS says so.

`lambdapress package` checks every name and value that will reach AWS (function, handler and
table names, route keys, environment variables, logical ids, sizes) against these rules, so a
name AWS would refuse fails on the developer's machine with the file, the line and the fix
instead of as a CloudFormation rollback minutes into a deploy. Python accepts more than AWS
does (a module may be called `commandé`; a Powertools route may be `/a{b}`), which is why the
rules are AWS's, not Python's.

Sources: the service API references (the patterns and lengths are also in botocore's service
models, `botocore/data/<service>/<version>/service-2.json`), the CloudFormation User Guide and
the API Gateway Developer Guide; each rule below names its own. Where AWS documents nothing
precise (the characters of an HTTP API route path) the rule is the narrowest one AWS is known
to accept, and says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from lambdapress.config.lambda_platform import (
    ENVIRONMENT_MAX_BYTES,
    ENVIRONMENT_NAME_PATTERN,
    RESERVED_ENVIRONMENT,
)


@dataclass(frozen=True)
class Rule:
    """One AWS constraint on a string: its character set and length, and where it is written."""

    what: str
    pattern: re.Pattern[str]
    """Matched against the whole value (`fullmatch`), with ASCII classes (`re.ASCII`): AWS's
    models are Java patterns, whose `\\w` and `\\s` are ASCII."""
    max_length: int
    source: str
    min_length: int = 1

    def problem(self, value: str) -> str | None:
        """Why AWS would refuse `value` as this kind of name, or None when it accepts it."""
        if len(value) < self.min_length:
            return f"{self.what} {value!r} is shorter than {self.min_length} characters"
        if len(value) > self.max_length:
            return (
                f"{self.what} {_short(value)} has {len(value)} characters; "
                f"AWS allows {self.max_length}"
            )
        if self.pattern.fullmatch(value) is None:
            odd = sorted({c for c in value if self.pattern.fullmatch(c) is None}) or ["?"]
            shown = ", ".join(repr(c) for c in odd[:5])
            return f"{self.what} {_short(value)} has characters AWS refuses there ({shown})"
        return None

    def allows(self, value: str) -> bool:
        """Whether AWS accepts `value`."""
        return self.problem(value) is None


# Lambda API reference, CreateFunction, `FunctionName`: pattern
# `(arn:(aws[a-zA-Z-]*)?:lambda:)?(...)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|...))?`;
# "If you specify only the function name, it is limited to 64 characters in length."
FUNCTION_NAME: Final = Rule(
    "the Lambda function name",
    re.compile(r"[a-zA-Z0-9_-]+"),
    64,
    "Lambda API reference, CreateFunction: FunctionName",
)
# Lambda API reference, CreateFunction, `Handler`: "Maximum length of 128. Pattern: [^\s]+".
HANDLER: Final = Rule(
    "the Lambda handler",
    re.compile(r"[^\s]+", re.ASCII),
    128,
    "Lambda API reference, CreateFunction: Handler",
)
# CloudFormation User Guide, "Resources" template section: "The logical ID must be
# alphanumeric (A-Za-z0-9) and unique within the template"; CloudFormation quotas: a resource
# name (logical id) has at most 255 characters.
LOGICAL_ID: Final = Rule(
    "the CloudFormation logical id",
    re.compile(r"[A-Za-z0-9]+"),
    255,
    "CloudFormation User Guide: Resources (logical ID), CloudFormation quotas",
)
# CloudWatch Logs API reference, CreateLogGroup, `logGroupName`: 1 to 512 characters,
# pattern `[\.\-_/#A-Za-z0-9]+`.
LOG_GROUP_NAME: Final = Rule(
    "the log group name",
    re.compile(r"[.\-_/#A-Za-z0-9]+"),
    512,
    "CloudWatch Logs API reference, CreateLogGroup: logGroupName",
)
# DynamoDB API reference, CreateTable, `TableName`: 3 to 255 characters, `[a-zA-Z0-9_.-]+`.
TABLE_NAME: Final = Rule(
    "the DynamoDB table name",
    re.compile(r"[a-zA-Z0-9_.-]+"),
    255,
    "DynamoDB API reference, CreateTable: TableName",
    min_length=3,
)
# IAM API reference, CreateRole, `RoleName`: 1 to 64 characters, `[\w+=,.@-]+`. lambdapress
# names no role: CloudFormation generates the name from the stack and the logical id and cuts
# it to fit, so this rule holds by construction (the template tests check no RoleName is set).
ROLE_NAME: Final = Rule(
    "the IAM role name",
    re.compile(r"[\w+=,.@-]+", re.ASCII),
    64,
    "IAM API reference, CreateRole: RoleName",
)
# Lambda API reference, `Environment`: "Key Pattern: [a-zA-Z]([a-zA-Z0-9_])+".
ENVIRONMENT_KEY: Final = Rule(
    "the environment variable name",
    re.compile(ENVIRONMENT_NAME_PATTERN.strip("^$")),
    ENVIRONMENT_MAX_BYTES,
    "Lambda API reference, Environment: Variables (key pattern)",
    min_length=2,
)
# Amazon S3 User Guide, "General purpose bucket naming rules": 3 to 63 characters, lowercase
# letters, digits, dots and hyphens, beginning and ending with a letter or a digit, no two
# adjacent dots.
BUCKET_NAME_MAX: Final = 63
BUCKET_NAME_PATTERN: Final = rf"^[a-z0-9][a-z0-9.-]{{1,{BUCKET_NAME_MAX - 2}}}[a-z0-9]$"
"""What a CloudFormation parameter's `AllowedPattern` can say of it (all but the dots rule)."""


def is_bucket_name(value: str) -> bool:
    """Whether S3 accepts `value` as a bucket name."""
    return re.match(BUCKET_NAME_PATTERN, value) is not None and ".." not in value


HANDLER_MODULE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""A handler module's name as lambdapress accepts it: an ASCII Python identifier. Python allows
any Unicode letter, but the module's name becomes part of the function's name
(`<project>-<stage>-<service>-<module>`), which `FUNCTION_NAME` limits to ASCII."""


def _short(value: str) -> str:
    return repr(value) if len(value) <= 60 else repr(value[:57] + "...")


# ---------------------------------------------------------------------------- logical ids

_WORDS = re.compile(r"[A-Za-z0-9]+")


def camel(name: str) -> str:
    """`orders.get_order` -> `OrdersGetOrder`: each word capitalised, separators dropped.

    The stack's logical ids are built from this (`deploy.template_ids`), so the package-time
    check that two functions or two routes do not end up under one id uses the very same words.
    """
    return "".join(word[0].upper() + word[1:] for word in _WORDS.findall(name))


# -------------------------------------------------------------------------- HTTP API routes

ROUTE_METHODS: Final = frozenset(
    {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}
)
"""API Gateway Developer Guide, "Working with routes for HTTP APIs": an HTTP method, or `ANY`."""
# A literal segment: API Gateway answers "Resource's path part only allow a-zA-Z0-9._- and curly
# braces at the beginning and the end" (REST APIs) and "One or more path parts appear to be
# invalid" for an HTTP API route such as `/{id}.json` (serverless/serverless#10423). The HTTP
# API guide documents no wider set, so this is the set accepted.
_LITERAL_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
# A path variable `{name}` or a greedy one `{name+}` ("Working with routes for HTTP APIs":
# "The greedy path variable must be at the end of the resource path"). Names are ASCII
# identifiers: what Powertools' `<name>` allows, and what a handler receives as an argument.
_VARIABLE_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}")
ROUTE_SOURCE: Final = 'API Gateway Developer Guide, "Working with routes for HTTP APIs"'
ROUTE_FIX: Final = (
    'write the path as "/" and segments of letters, digits, ".", "-" and "_", or a whole '
    'segment <name> (a greedy {name+} only as the last segment), e.g. "/orders/<order_id>"'
)


def route_path_problem(path: str) -> str | None:
    """Why API Gateway would refuse `path` (API Gateway syntax) in a route key, or None.

    Checked: a leading `/`; no trailing `/` (but `/` itself); no empty segment (`//`); no `.`
    or `..` segment (clients resolve those before sending, so the route could never match);
    each segment either literal characters or one whole variable; a greedy variable only last;
    no variable name twice.
    """
    if not path.startswith("/"):
        return f"route path {_short(path)} does not start with '/'"
    if path == "/":
        return None
    if path.endswith("/"):
        return f"route path {_short(path)} ends with '/'; API Gateway routes do not"
    seen: set[str] = set()
    segments = path[1:].split("/")
    for position, segment in enumerate(segments, start=1):
        if not segment:
            return f"route path {_short(path)} has an empty segment ('//')"
        variable = _VARIABLE_SEGMENT.fullmatch(segment)
        if variable is not None:
            name, greedy = variable.groups()
            if greedy and position != len(segments):
                return (
                    f"route path {_short(path)} has the greedy variable {segment} before its "
                    "last segment; API Gateway allows it only at the end"
                )
            if name in seen:
                return f"route path {_short(path)} names the variable {name!r} twice"
            seen.add(name)
            continue
        if "{" in segment or "}" in segment:
            return (
                f"route path {_short(path)} has a brace that does not wrap a whole segment "
                f"({segment!r}): API Gateway takes a variable only as a whole segment, {{name}}"
            )
        if segment in (".", ".."):
            return (
                f"route path {_short(path)} has a {segment!r} segment, which clients resolve "
                "before sending: no request could reach this route"
            )
        if _LITERAL_SEGMENT.fullmatch(segment) is None:
            odd = sorted({c for c in segment if _LITERAL_SEGMENT.fullmatch(c) is None})
            shown = ", ".join(repr(c) for c in odd[:5])
            return f"route path {_short(path)} has characters API Gateway refuses ({shown})"
    return None


def route_key_problem(method: str, path: str) -> str | None:
    """Why `METHOD /path` is not a route key API Gateway's HTTP APIs accept, or None."""
    if method not in ROUTE_METHODS:
        return f"{method!r} is not a method an HTTP API routes ({', '.join(sorted(ROUTE_METHODS))})"
    return route_path_problem(path)


# ------------------------------------------------------------------- environment variables

# Lambda quotas: "Function environment variables: 4 KB, for all environment variables
# associated with the function, in aggregate". Lambda measures the variables as one JSON
# object: its refusal reads "...exceeded the 4KB limit. String measured:
# {"KEY":"value",...}" (quoted in github-aws-runners/terraform-aws-github-runner#3594).


def environment_size(variables: Mapping[str, str]) -> int:
    """The bytes Lambda counts against its 4 KB: the variables as compact JSON.

    Non-ASCII characters are counted as their JSON escapes (six bytes each, twelve outside
    the BMP), the longest form they can take in that JSON: a value AWS might count shorter is
    refused a little early rather than accepted here and refused by AWS.
    """
    return len(json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=True))


def environment_key_problem(key: str) -> str | None:
    """Why Lambda would refuse `key` as a variable name (its pattern, its reserved names)."""
    if key in RESERVED_ENVIRONMENT:
        return f"{key} is reserved by the Lambda runtime and cannot be set"
    if ENVIRONMENT_KEY.pattern.fullmatch(key) is None:
        return (
            f"{_short(key)} is not a valid Lambda variable name "
            "(a letter, then at least one letter, digit or underscore)"
        )
    return None


def environment_value_problem(key: str, value: str) -> str | None:
    """Why `value` cannot be a variable's value, or None.

    A NUL ends a string in a process environment: the runtime would see the value cut short.
    """
    if "\0" in value:
        return f"the value of {key} holds a NUL character, which no process environment holds"
    return None


def environment_size_problem(variables: Mapping[str, str]) -> str | None:
    """Why the variables, all together, pass Lambda's 4 KB, or None."""
    size = environment_size(variables)
    if size > ENVIRONMENT_MAX_BYTES:
        return (
            f"the variables take {size} bytes as Lambda measures them (as one JSON object); "
            f"Lambda allows {ENVIRONMENT_MAX_BYTES} in total"
        )
    return None
