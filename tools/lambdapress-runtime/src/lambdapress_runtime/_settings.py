"""Settings models read from the environment, with one error for everything that is wrong.

A function's configuration arrives as environment variables. Reading them into a pydantic
model at cold start turns "KeyError: 'DATABASE_URL'" on the first request that happens to need
it into one `SettingsError` naming every missing or invalid variable at once. pydantic is not a
dependency of the runtime: a model is recognised by its pydantic v2 interface
(`model_fields`, `model_validate`), so pydantic is imported only by services that use it.
"""

from __future__ import annotations

from lambdapress_runtime._errors import SettingsError

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TypeVar

    M = TypeVar("M")


def read_settings(model: type[M], environ: Mapping[str, str]) -> M:
    """Build `model` from `environ`: each field from its alias, or its name upper-cased.

    Raises:
        SettingsError: listing every variable that is missing or fails validation.
        TypeError: `model` is not a pydantic v2 model.
    """
    fields = getattr(model, "model_fields", None)
    validate = getattr(model, "model_validate", None)
    if not isinstance(fields, dict) or validate is None:
        raise TypeError(
            f"{model!r} is not a pydantic v2 model: settings need `model_fields` and "
            "`model_validate` (subclass pydantic.BaseModel)"
        )
    variables: dict[str, str] = {}  # the key pydantic validates -> the environment variable
    data: dict[str, str] = {}
    for name, field in fields.items():
        key, variable = _names(name, field)
        variables[key] = variable
        if variable in environ:
            data[key] = environ[variable]
    try:
        return validate(data)  # type: ignore[no-any-return]
    except Exception as error:
        errors = getattr(error, "errors", None)
        if not callable(errors):
            raise
        problems = _problems(errors(), variables)
        raise SettingsError(getattr(model, "__name__", repr(model)), problems) from None


def _names(name: str, field: Any) -> tuple[str, str]:
    """The key pydantic reads a field from and the variable that holds it: an alias is used
    verbatim (it is already the variable's name); otherwise the field's name upper-cased."""
    for attribute in ("validation_alias", "alias"):
        alias = getattr(field, attribute, None)
        if isinstance(alias, str):
            return alias, alias
    return name, name.upper()


def _problems(
    errors: list[dict[str, Any]], variables: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    """One line per variable, in the model's field order; values are never echoed (pydantic's
    `msg` does not contain the input, unlike its `str()`), since they may be secrets."""
    found: dict[str, list[str]] = {}
    for error in errors:
        location = error.get("loc") or ("",)
        key = str(location[0])
        variable = variables.get(key, key)
        message = "not set" if error.get("type") == "missing" else str(error.get("msg"))
        found.setdefault(variable, []).append(message)
    order = list(variables.values())
    ranked = sorted(found, key=lambda v: order.index(v) if v in order else len(order))
    return tuple((variable, "; ".join(found[variable])) for variable in ranked)
