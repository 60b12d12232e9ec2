"""lambdapress: cut one Python monorepo into minimal AWS Lambda artifacts.

The public API is re-exported here so callers (noxfiles, other tools) depend on names that
stay put while modules are reorganised; anything not in `__all__` is internal. Names are
imported on first use, so `import lambdapress` stays cheap and loads no layer it does not need
(see the layer map in the tool's README).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdapress.support.lazy import lazy_getattr
from lambdapress.version import __version__

if TYPE_CHECKING:
    from lambdapress.bundle.pipeline import (
        PackageOptions,
        PackageResult,
        execute_plan,
        package,
        plan_package,
    )
    from lambdapress.bundle.plan import BundlePlan, FunctionPlan
    from lambdapress.config.answers import CopierAnswers, read_answers
    from lambdapress.config.pyproject import load_toml
    from lambdapress.config.settings import ServiceSettings, load_service_settings
    from lambdapress.config.workspace import Package, Service, Workspace, find_root, load_workspace
    from lambdapress.emulator import (
        ApiContext,
        Emulator,
        InvocationResult,
        Listeners,
        ServeOptions,
        WorkerOptions,
        http_api_event,
        rest_api_event,
        serve,
    )
    from lambdapress.errors import (
        BuildError,
        BundleError,
        CompatCheckError,
        ConfigError,
        DeployError,
        DistributionError,
        EmulatorError,
        IndexServerError,
        LambdapressError,
        ModelsError,
        PackageIndexError,
        PinError,
        PublishError,
        ScaffoldError,
        StorageError,
        ToolchainError,
        WorkspaceError,
    )
    from lambdapress.model.application import Application, Function
    from lambdapress.model.manifest import manifest_path, read_manifest
    from lambdapress.model.permissions import Permission
    from lambdapress.model.resources import Resource
    from lambdapress.model.triggers import HttpRoute, Trigger
    from lambdapress.scaffold import NewPlan, execute_new, plan_new, template_is_dirty

_EXPORTS = {
    "BuildError": "errors",
    "BundleError": "errors",
    "CompatCheckError": "errors",
    "ConfigError": "errors",
    "DeployError": "errors",
    "DistributionError": "errors",
    "EmulatorError": "errors",
    "IndexServerError": "errors",
    "LambdapressError": "errors",
    "ModelsError": "errors",
    "PackageIndexError": "errors",
    "PinError": "errors",
    "PublishError": "errors",
    "ScaffoldError": "errors",
    "StorageError": "errors",
    "ToolchainError": "errors",
    "WorkspaceError": "errors",
    "CopierAnswers": "config.answers",
    "read_answers": "config.answers",
    "load_toml": "config.pyproject",
    "ServiceSettings": "config.settings",
    "load_service_settings": "config.settings",
    "Package": "config.workspace",
    "Service": "config.workspace",
    "Workspace": "config.workspace",
    "find_root": "config.workspace",
    "load_workspace": "config.workspace",
    "Function": "model.application",
    "Application": "model.application",
    "HttpRoute": "model.triggers",
    "Trigger": "model.triggers",
    "Resource": "model.resources",
    "Permission": "model.permissions",
    "manifest_path": "model.manifest",
    "read_manifest": "model.manifest",
    "NewPlan": "scaffold",
    "execute_new": "scaffold",
    "plan_new": "scaffold",
    "template_is_dirty": "scaffold",
    "PackageOptions": "bundle.pipeline",
    "PackageResult": "bundle.pipeline",
    "execute_plan": "bundle.pipeline",
    "package": "bundle.pipeline",
    "plan_package": "bundle.pipeline",
    "BundlePlan": "bundle.plan",
    "FunctionPlan": "bundle.plan",
    "ApiContext": "emulator",
    "Emulator": "emulator",
    "InvocationResult": "emulator",
    "Listeners": "emulator",
    "ServeOptions": "emulator",
    "WorkerOptions": "emulator",
    "http_api_event": "emulator",
    "rest_api_event": "emulator",
    "serve": "emulator",
}

__all__ = [
    "ApiContext",
    "Application",
    "BuildError",
    "BundleError",
    "BundlePlan",
    "CompatCheckError",
    "ConfigError",
    "CopierAnswers",
    "DeployError",
    "DistributionError",
    "Emulator",
    "EmulatorError",
    "Function",
    "FunctionPlan",
    "HttpRoute",
    "IndexServerError",
    "InvocationResult",
    "LambdapressError",
    "Listeners",
    "ModelsError",
    "NewPlan",
    "Package",
    "PackageIndexError",
    "PackageOptions",
    "PackageResult",
    "Permission",
    "PinError",
    "PublishError",
    "Resource",
    "ScaffoldError",
    "ServeOptions",
    "Service",
    "ServiceSettings",
    "StorageError",
    "ToolchainError",
    "Trigger",
    "WorkerOptions",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "execute_new",
    "execute_plan",
    "find_root",
    "http_api_event",
    "load_service_settings",
    "load_toml",
    "load_workspace",
    "manifest_path",
    "package",
    "plan_new",
    "plan_package",
    "read_answers",
    "read_manifest",
    "rest_api_event",
    "serve",
    "template_is_dirty",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    """The public names, for completion and `help()`."""
    return list(__all__)
