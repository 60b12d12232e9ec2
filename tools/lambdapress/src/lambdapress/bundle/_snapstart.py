"""Whether a function has SnapStart, and `package` refusing it where Lambda would.

SnapStart is set per service (`[tool.lambdapress] snapstart = true`) and per function
(`[tool.lambdapress.functions.<handler>] snapstart = true|false`, which wins). Lambda refuses
it on python3.11, together with provisioned concurrency, and with more than 512 MB of /tmp
(`config.lambda_platform`); a deploy would fail minutes later in a CloudFormation rollback with
Lambda's terse message, so `package` stops first, naming the line that turned it on, the
reason and the fix.
"""

from __future__ import annotations

from lambdapress.config.lambda_platform import (
    SNAPSTART_EPHEMERAL_STORAGE_MAX_MB,
    SNAPSTART_RUNTIMES,
)
from lambdapress.config.pyproject import PYPROJECT, find_key_line
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError


def snapstart_of(service: Service, function: str) -> bool:
    """Whether `function` (`shop.get_item`) has SnapStart: its own setting, else the service's."""
    own = service.settings.functions.get(_handler(service, function))
    if own is not None and own.snapstart is not None:
        return own.snapstart
    return service.settings.snapstart


def check_snapstart(service: Service, function: str) -> None:
    """Refuse SnapStart for `function` where Lambda refuses it; nothing when it is off."""
    if not snapstart_of(service, function):
        return
    settings = service.settings
    handler = _handler(service, function)
    own = settings.functions.get(handler)
    path = service.path / PYPROJECT
    table = f"[tool.lambdapress.functions.{handler}]"
    if own is not None and own.snapstart is not None:  # turned on by the function's own table
        turned_on = ["tool", "lambdapress", "functions", handler, "snapstart"]
        off = f"or remove snapstart = true from {table}"
    else:
        turned_on = ["tool", "lambdapress", "snapstart"]
        off = (
            "or turn SnapStart off: remove snapstart = true from [tool.lambdapress], or set "
            f"snapstart = false in {table} for this function alone"
        )
    where = f"SnapStart of function {function}"
    if settings.runtime not in SNAPSTART_RUNTIMES:
        supported = ", ".join(sorted(SNAPSTART_RUNTIMES))
        raise BundleError(
            f"{where}: Lambda has no SnapStart for {settings.runtime} (it supports {supported})",
            path=path,
            line=find_key_line(path, turned_on),
            hint=f'set runtime = "{min(SNAPSTART_RUNTIMES)}" in [tool.lambdapress] (check the '
            f"locked dependencies have wheels for it), {off}",
        )
    if own is not None and own.provisioned_concurrency is not None:
        raise BundleError(
            f"{where}: Lambda does not allow SnapStart together with provisioned concurrency "
            f"(provisioned_concurrency = {own.provisioned_concurrency})",
            path=path,
            line=find_key_line(
                path, ["tool", "lambdapress", "functions", handler, "provisioned_concurrency"]
            ),
            hint=f"keep one of them: remove provisioned_concurrency from {table} (SnapStart "
            f"restores environments quickly, without paying for idle ones), {off}",
        )
    if settings.ephemeral_storage > SNAPSTART_EPHEMERAL_STORAGE_MAX_MB:
        raise BundleError(
            f"{where}: Lambda allows SnapStart with at most {SNAPSTART_EPHEMERAL_STORAGE_MAX_MB} "
            f"MB of ephemeral storage (ephemeral_storage = {settings.ephemeral_storage})",
            path=path,
            line=find_key_line(path, ["tool", "lambdapress", "ephemeral_storage"]),
            hint=f"set ephemeral_storage = {SNAPSTART_EPHEMERAL_STORAGE_MAX_MB} in "
            f"[tool.lambdapress], {off}",
        )


def _handler(service: Service, function: str) -> str:
    """`get_order` for `orders.get_order`: the key of its `[tool.lambdapress.functions]`."""
    return function.removeprefix(f"{service.name}.")
