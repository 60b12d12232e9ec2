"""The index-credential rule, in one place: which variables carry an index's user and password.

uv reads the credentials of the index it calls NAME from `UV_INDEX_<NAME>_USERNAME` and
`UV_INDEX_<NAME>_PASSWORD`; lambdapress reads its own from `LAMBDAPRESS_INDEX_<NAME>_USERNAME`
and `..._PASSWORD` (unless the index's configuration names other variables). In both, <NAME>
is the index's name with every character other than an ASCII letter or digit written `_`, then
upper-cased: uv's rule, which lambdapress follows so that one name gives both. So that one pair
of variables serves publishing, locking and installing, uv's are filled from lambdapress's
wherever uv's are not set already (`uv_credentials`).

Standard library only, and nothing of lambdapress: this repository's noxfile and the copier
migration `template/migrations/relock.py` (run from the template's clone by copier's Python)
load this file by its path, before the tool is installed or without it. A generated project's
noxfile cannot (its session installs the tool from the lock, and needs the credentials to do
so): it keeps a copy of `uv_credentials`, which a test keeps equal to this one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# What each index has: a user name and a password (or token).
PARTS = ("USERNAME", "PASSWORD")
_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9]")


def variable_key(index: str) -> str:
    """<NAME> in the variables of the index called `index`: `company-pypi` -> `COMPANY_PYPI`."""
    return _NOT_IN_A_NAME.sub("_", index).upper()


def lambdapress_variable(index: str, part: str) -> str:
    """`LAMBDAPRESS_INDEX_<NAME>_<PART>`: where lambdapress reads a credential by default."""
    return f"LAMBDAPRESS_INDEX_{variable_key(index)}_{part}"


def uv_variable(index: str, part: str) -> str:
    """`UV_INDEX_<NAME>_<PART>`: where uv reads a credential of the index it calls `index`."""
    return f"UV_INDEX_{variable_key(index)}_{part}"


def uv_auth(index: str, username: str, password: str) -> dict[str, str]:
    """The variables that hand uv a user name and password for the index it calls `index`."""
    return {uv_variable(index, "USERNAME"): username, uv_variable(index, "PASSWORD"): password}


def uv_credentials(indexes: Iterable[str], environ: Mapping[str, str]) -> dict[str, str]:
    """uv's variables for `indexes` (uv's names for them), from lambdapress's in `environ`.

    Only where uv's own variable is not set in `environ`; a credential that is empty or not set
    is left out, as is an index without a name.
    """
    credentials: dict[str, str] = {}
    for index in indexes:
        if not variable_key(index):
            continue
        for part in PARTS:
            value = environ.get(lambdapress_variable(index, part))
            target = uv_variable(index, part)
            if value and target not in environ:
                credentials[target] = value
    return credentials
