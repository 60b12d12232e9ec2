"""lambdapress: cut one Python monorepo into minimal AWS Lambda artifacts.

The public API is re-exported here so callers (noxfiles, other tools) depend on names that
stay put while modules are reorganised; anything not in `__all__` is internal.
"""

from __future__ import annotations

from lambdapress.answers import CopierAnswers, read_answers
from lambdapress.errors import ConfigError, LambdapressError, ScaffoldError, WorkspaceError
from lambdapress.pyproject import load_toml
from lambdapress.scaffold import NewPlan, execute_new, plan_new, template_is_dirty
from lambdapress.settings import ServiceSettings, load_service_settings
from lambdapress.version import __version__
from lambdapress.workspace import Package, Service, Workspace, find_root, load_workspace

__all__ = [
    "ConfigError",
    "CopierAnswers",
    "LambdapressError",
    "NewPlan",
    "Package",
    "ScaffoldError",
    "Service",
    "ServiceSettings",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "execute_new",
    "find_root",
    "load_service_settings",
    "load_toml",
    "load_workspace",
    "plan_new",
    "read_answers",
    "template_is_dirty",
]
