"""The project's name: one fact that stack names, deployed tables and local tables share.

`[tool.lambdapress.deploy] project` in the root pyproject when set; else the copier answer
`project_name` of a rendered project; else the root folder's name, made a valid name. Local
DynamoDB tables (`lambdapress db`) and the deploy template name tables from the same value, so
a table seen under `serve` has the name it will have in the account, stage aside.
"""

from __future__ import annotations

import re
from pathlib import Path

from lambdapress.config.answers import ANSWERS_FILE, read_answers
from lambdapress.config.pyproject import PYPROJECT, get_table, load_toml

DEPLOY_TABLE = "tool.lambdapress.deploy"


def project_name(root: Path) -> str:
    """The configured project name, or `default_project(root)` when none is configured.

    Not validated here: `lambdapress.deploy.config` checks it with AWS's limits.
    """
    path = root / PYPROJECT
    table = get_table(load_toml(path), DEPLOY_TABLE, path) if path.is_file() else None
    configured = (table or {}).get("project")
    if isinstance(configured, str) and configured:
        return configured
    return default_project(root)


def default_project(root: Path) -> str:
    """The copier answer `project_name` when the project was rendered, else the folder's name.

    The folder's name is made a valid project name (lowercase, dashes); it is only a default,
    so a project that deploys from several checkouts should set `project` explicitly.
    """
    path = root / ANSWERS_FILE
    answers = read_answers(path) if path.is_file() else None
    named = answers.values.get("project_name") if answers is not None else None
    if isinstance(named, str) and named:
        return named
    return re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-") or "project"
